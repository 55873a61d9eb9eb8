// Package ui is armbench's terminal workbench: a root model composing one
// model per pane (targets, profiles, plan, and in the main area the build
// log, deploy, bench and compare panes), over the same engine packages the
// headless commands use.
package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"armbench/build"
	"armbench/profiles"
	"armbench/remote"
	"armbench/targets"
)

type helpKeyMap = help.KeyMap

// Options configure the TUI.
type Options struct {
	Config   *targets.Config
	Profiles []profiles.Profile
	Pkg      string // package to build, e.g. "./examples/workload"
	Dir      string // module root the go command runs in ("" = current directory)
	// LogFile receives debug logging. The TUI owns the terminal, so
	// nothing may go to stdout or stderr while it runs.
	LogFile string

	// Remote configures connections to devices (known_hosts, ssh_config,
	// timeouts). Passphrase, when nil, asks in the TUI.
	Remote remote.Options
	// Bench sets the bench session (count, benchtime, …).
	Bench BenchOptions
	// Reload reads the configuration again after a target was added; nil
	// re-reads the file the target was added to.
	Reload func() (*targets.Config, []profiles.Profile, error)
	// Embedded is the default targets.toml compiled into armbench. When
	// the workspace runs on it and a target is added, targets.toml is
	// started from it, so the default targets stay.
	Embedded []byte
}

// Common is the read-only context every pane shares: configuration, styles
// and the terminal size.
type Common struct {
	Config   *targets.Config
	Profiles []profiles.Profile
	Styles   *Styles
	Pkg      string
	Dir      string
	Width    int
	Height   int
}

// pane is what the root needs of a pane. Panes are pointers updated in
// place; each owns its keys and draws itself at the size it was given.
type pane interface {
	SetSize(w, h int)
	Update(tea.Msg) tea.Cmd
	View() string
	Focus()
	Blur()
	KeyMap() help.KeyMap
}

type paneID string

const (
	paneTargets  paneID = "targets"
	paneProfiles paneID = "profiles"
	panePlan     paneID = "plan"
	paneLog      paneID = "log"
)

// registered is one entry of the pane registry: the focus order, which the
// deploy, bench and compare panes join when they exist.
type registered struct {
	id   paneID
	pane pane
}

// Model is the root model.
type Model struct {
	common  *Common
	eng     engine
	ctx     context.Context
	keys    GlobalKeys
	help    help.Model
	spinner spinner.Model
	now     func() time.Time
	logger  *log.Logger
	logOut  io.Closer

	targets  *TargetList
	profiles *ProfileList
	plan     *PlanPane
	log      *LogPane
	status   *StatusBar

	panes []registered
	focus int

	job      *job
	pending  []*job // jobs whose goroutines may still be running
	lastID   int
	notice   string
	quitting bool
	lay      layout
	outRoot  string // "" = profiles.DefaultOutRoot; tests build into a temp dir

	// Deploy, bench and compare.
	deployPane  *DeployPane
	benchPane   *BenchPane
	comparePane *ComparePane
	runLog      *LogPane   // the Run pane: output of g
	run         *runChoice // what the last g or u acted on
	runArgs     string     // the argument line g offers next
	main        paneID     // what the main area shows
	act         *activity
	waits       []chan struct{} // done channels of activities that may still run
	afterBuild  func(*job) tea.Cmd
	deploy      *deployRecord
	retry       retry // starts the last deploy/bench again (after trusting a host key)
	pool        *remote.Pool
	device      func(context.Context, targets.Target) (remote.Device, error) // pool.Get; tests stub it
	remoteOpts  remote.Options
	asker       *passphraseAsker
	benchOpts   BenchOptions
	reload      func() (*targets.Config, []profiles.Profile, error)
	embedded    []byte

	// Overlays, topmost first.
	pass        *passphrasePrompt
	hostChanged *remote.HostKeyChangedError
	hostKey     *HostKeyPrompt
	addTarget   *AddTarget
	runPrompt   *runPrompt
	confirm     *rollbackConfirm
}

// New builds the root model. It does not touch the terminal.
func New(opts Options) *Model {
	c := &Common{
		Config:   opts.Config,
		Profiles: opts.Profiles,
		Styles:   DefaultStyles(),
		Pkg:      opts.Pkg,
		Dir:      opts.Dir,
	}
	if c.Pkg == "" && c.Config != nil {
		c.Pkg = c.Config.Project.Pkg
	}
	if c.Pkg == "" {
		c.Pkg = "./examples/workload"
	}
	m := &Model{
		common:  c,
		eng:     defaultEngine(),
		ctx:     context.Background(),
		keys:    newGlobalKeys(),
		help:    help.New(),
		spinner: spinner.New(spinner.WithSpinner(spinner.Line)),
		now:     time.Now,
		logger:  log.New(io.Discard, "", 0),
	}
	m.help.Styles = c.Styles.Help
	if opts.LogFile != "" {
		if f, err := openLog(opts.LogFile); err == nil {
			m.logger = log.New(f, "", log.LstdFlags|log.Lmicroseconds)
			m.logOut = f
		} else {
			m.notice = fmt.Sprintf("no debug log: %v", err)
		}
	}
	m.targets = NewTargetList(c)
	m.profiles = NewProfileList(c)
	m.plan = NewPlanPane(c)
	m.log = NewLogPane(c, DefaultLogLines)
	m.status = NewStatusBar(c)
	m.deployPane = NewDeployPane(c.Styles)
	m.benchPane = NewBenchPane(c.Styles)
	m.comparePane = NewComparePane(c.Styles)
	m.runLog = newRunLog(c)
	m.runArgs = defaultRunArgs
	m.main = paneLog
	m.panes = []registered{
		{paneTargets, m.targets},
		{paneProfiles, m.profiles},
		{panePlan, m.plan},
		{paneLog, m.log},
		{paneDeploy, m.deployPane},
		{paneBench, m.benchPane},
		{paneCompare, m.comparePane},
		{paneRun, m.runLog},
	}
	m.asker = newPassphraseAsker()
	m.remoteOpts = opts.Remote
	if m.remoteOpts.Passphrase == nil {
		m.remoteOpts.Passphrase = m.asker.ask
	}
	m.pool = remote.NewPool(m.remoteOpts)
	m.device = m.pool.Get
	m.benchOpts = opts.Bench
	m.reload, m.embedded = opts.Reload, opts.Embedded
	m.panes[0].pane.Focus()
	m.refreshPlan()
	return m
}

// openLog opens the debug log for appending, making its directory first;
// the error names the step that failed.
func openLog(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
}

// Run runs the TUI on the terminal until the user quits or ctx is
// cancelled; builds still running are cancelled and waited for.
func Run(ctx context.Context, opts Options) error {
	m := New(opts)
	m.ctx = ctx
	defer m.close()
	popts := []tea.ProgramOption{tea.WithContext(ctx)}
	if noColor(os.Environ()) {
		popts = append(popts, tea.WithColorProfile(colorprofile.Ascii))
	}
	_, err := tea.NewProgram(m, popts...).Run()
	m.shutdown()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// noColor follows no-color.org: any non-empty NO_COLOR disables colour.
// colorprofile alone only honours values that parse as true.
func noColor(env []string) bool {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "NO_COLOR="); ok && v != "" {
			return true
		}
	}
	return false
}

func (m *Model) close() {
	m.asker.close()
	m.pool.Close()
	if m.logOut != nil {
		m.logOut.Close()
	}
}

// shutdown cancels every build, deploy and bench and waits (bounded) for
// their goroutines, so no go command or remote process outlives the TUI.
func (m *Model) shutdown() {
	m.asker.close() // a goroutine waiting for a passphrase gives up
	if m.act != nil {
		m.act.cancel()
	}
	stopAll(m.pending, m.waits)
}

// stopAll cancels the build jobs and waits for them and for the other
// activities' done channels, quitGrace at most in all.
func stopAll(pending []*job, waits []chan struct{}) {
	deadline := time.After(quitGrace)
	for _, j := range pending {
		j.cancel()
		select {
		case <-j.done:
		case <-deadline:
			return
		}
	}
	for _, done := range waits {
		select {
		case <-done:
		case <-deadline:
			return
		}
	}
}

// Init starts listening for passphrase requests from the SSH engine.
func (m *Model) Init() tea.Cmd { return m.asker.listen() }

// beginActivity makes a new activity the current one, remembers its done
// channel for shutdown, and sets retry as what starts it again (after a
// host key is trusted).
func (m *Model) beginActivity(kind activityKind, target string, profiles []string, retry func() tea.Cmd) *activity {
	m.lastID++
	a := newActivity(m.ctx, m.lastID, kind, target, profiles, m.now())
	m.act = a
	m.waits = append(liveWaits(m.waits), a.done)
	m.retry = retry
	return a
}

// statusShowsAct reports whether the status bar follows the activity
// rather than the build job: whichever of the two started last (they
// draw their ids from the same counter).
func (m *Model) statusShowsAct() bool {
	return m.act != nil && (m.job == nil || m.act.id > m.job.id)
}

// liveWaits drops done channels that are closed.
func liveWaits(ws []chan struct{}) []chan struct{} {
	var out []chan struct{}
	for _, d := range ws {
		select {
		case <-d:
		default:
			out = append(out, d)
		}
	}
	return out
}

func (m *Model) focused() registered { return m.panes[m.focus] }

func (m *Model) setFocus(id paneID) {
	for i, r := range m.panes {
		if r.id == id {
			m.panes[m.focus].pane.Blur()
			m.focus = i
			r.pane.Focus()
			return
		}
	}
}

// cycleFocus moves through the panes on screen: the main-area panes not
// shown are skipped.
func (m *Model) cycleFocus(delta int) {
	n := len(m.panes)
	i := m.focus
	for range n {
		i = (i + delta + n) % n
		if id := m.panes[i].id; !isMain(id) || id == m.main {
			break
		}
	}
	m.setFocus(m.panes[i].id)
}

func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	m.refreshKeys()
	m.layout()
	return m, cmd
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.common.Width, m.common.Height = msg.Width, msg.Height
		return nil
	case jobBatchMsg:
		return m.onBatch(msg)
	case activityMsg:
		return m.onActivity(msg)
	case spinner.TickMsg:
		var cmds []tea.Cmd
		if m.addTarget != nil {
			cmds = append(cmds, m.addTarget.Update(msg))
		}
		if msg.ID == m.spinner.ID() && m.busy() { // stop ticking when idle
			var cmd tea.Cmd
			m.spinner, cmd = m.spinner.Update(msg)
			cmds = append(cmds, cmd)
		}
		return tea.Batch(cmds...)
	case selectionChangedMsg:
		m.refreshPlan()
		return nil
	case passphraseRequestMsg:
		if m.quitting {
			msg.req.reply <- passphraseReply{err: errPassphraseDeclined}
			return nil
		}
		p, cmd := newPassphrasePrompt(msg.req)
		m.pass = p
		m.logger.Printf("passphrase asked for %s", msg.req.keyPath)
		return cmd
	case HostKeyTrustedMsg:
		return m.onHostTrusted(msg)
	case HostKeyDeclinedMsg:
		m.onHostDeclined(msg)
		return nil
	case TargetAddedMsg:
		return m.targetAdded(msg)
	case configReloadedMsg:
		m.configReloaded(msg)
		return nil
	case AddTargetClosedMsg:
		m.addTarget = nil
		return nil
	case tea.InterruptMsg:
		return m.quit()
	case tea.KeyPressMsg:
		return m.onKey(msg)
	}
	if m.pass != nil {
		cmd, _ := m.pass.update(msg)
		return cmd
	}
	if m.addTarget != nil {
		return m.addTarget.Update(msg)
	}
	if m.runPrompt != nil { // the cursor's blink
		var cmd tea.Cmd
		m.runPrompt.input, cmd = m.runPrompt.input.Update(msg)
		return cmd
	}
	return m.focused().pane.Update(msg)
}

// capturing reports whether the focused pane takes every key as text.
func (m *Model) capturing() bool {
	switch m.focused().id {
	case paneLog:
		return m.log.Capturing()
	case paneRun:
		return m.runLog.Capturing()
	}
	return false
}

func (m *Model) onKey(msg tea.KeyPressMsg) tea.Cmd {
	if msg.String() == "ctrl+c" {
		return m.quit()
	}
	if m.quitting {
		return nil
	}
	if cmd, ok := m.overlayKey(msg); ok {
		return cmd
	}
	if m.capturing() {
		return m.focused().pane.Update(msg)
	}
	m.notice = ""
	switch {
	case key.Matches(msg, m.keys.Quit):
		return m.quit()
	case key.Matches(msg, m.keys.Help):
		m.help.ShowAll = !m.help.ShowAll
	case key.Matches(msg, m.keys.Next):
		m.cycleFocus(+1)
	case key.Matches(msg, m.keys.Prev):
		m.cycleFocus(-1)
	case key.Matches(msg, m.keys.Build):
		return m.startBuild()
	case key.Matches(msg, m.keys.Deploy):
		return m.startDeploy()
	case key.Matches(msg, m.keys.Bench):
		return m.startBench()
	case key.Matches(msg, m.keys.Run):
		return m.openRunPrompt()
	case key.Matches(msg, m.keys.Rollback):
		m.openRollback()
	case key.Matches(msg, m.keys.AddTarget):
		return m.openAddTarget()
	case key.Matches(msg, m.keys.Cancel):
		m.cancelBuild()
		m.cancelActivity()
	case key.Matches(msg, m.keys.ShowLog):
		m.showMain(paneLog)
	case key.Matches(msg, m.keys.ShowDep):
		m.showMain(paneDeploy)
	case key.Matches(msg, m.keys.ShowBench):
		m.showMain(paneBench)
	case key.Matches(msg, m.keys.ShowCmp):
		m.showMain(paneCompare)
	case key.Matches(msg, m.keys.ShowRun):
		m.showMain(paneRun)
	case strings.Contains("bdrgu", msg.String()) && len(msg.String()) == 1:
		m.notice = m.whyDisabled(msg.String())
	default:
		return m.focused().pane.Update(msg)
	}
	return nil
}

// plans resolves the chosen target with every ticked profile (or, with
// none ticked, the one under the cursor as a preview).
func (m *Model) plans() (entries []planEntry, preview bool) {
	t, ok := m.targets.Chosen()
	if !ok {
		return nil, false
	}
	sel := m.profiles.Selected()
	if len(sel) == 0 {
		if p, ok := m.profiles.Focused(); ok {
			sel, preview = []profiles.Profile{p}, true
		}
	}
	for _, p := range sel {
		plan, err := m.eng.resolve(t, p, profiles.Options{Pkg: m.common.Pkg, Dir: m.common.Dir, OutRoot: m.outRoot, Mode: profiles.ModeBinary})
		entries = append(entries, planEntry{Profile: p.Name, Plan: plan, Err: err})
	}
	return entries, preview
}

func (m *Model) refreshPlan() {
	m.plan.SetPlans(m.plans())
}

func (m *Model) startBuild() tea.Cmd {
	_, cmd := m.buildChosen()
	return cmd
}

// buildChosen starts the build of the chosen target and returns it, or
// puts in the notice why it cannot (and a nil Cmd).
func (m *Model) buildChosen() (targets.Target, tea.Cmd) {
	t, ok := m.idleTarget()
	if !ok {
		return t, nil
	}
	// With nothing ticked, b builds the profile the plan pane previews,
	// as d deploys it: what is on screen is what runs.
	plans, err := m.deployPlans()
	if err != nil {
		m.notice = err.Error()
		return t, nil
	}
	return t, m.startBuildPlans(t, plans)
}

// startBuildPlans starts the build job; a deploy then sets afterBuild.
func (m *Model) startBuildPlans(t targets.Target, plans []profiles.Plan) tea.Cmd {
	m.afterBuild = nil
	m.lastID++
	ctx, cancel := context.WithCancel(m.ctx)
	j := newJob(m.lastID, t.Name, plans, m.now())
	j.ctx, j.cancel = ctx, cancel
	m.job = j
	m.pending = append(livePending(m.pending), j)
	m.log.Reset(j.profiles)
	m.showMain(paneLog)
	m.logger.Printf("build %d: %s × %s", j.id, j.target, strings.Join(j.profiles, ","))
	j.run(m.eng.runAll)
	return tea.Batch(j.waitCmd(), m.spinner.Tick)
}

// livePending drops jobs whose goroutines have returned.
func livePending(js []*job) []*job {
	var out []*job
	for _, j := range js {
		select {
		case <-j.done:
		default:
			out = append(out, j)
		}
	}
	return out
}

func (m *Model) cancelBuild() {
	j := m.job
	if !j.running() {
		return
	}
	j.cancel()
	j.cancelled, j.live, j.end = true, false, m.now()
	m.afterBuild = nil
	for i, s := range j.states {
		if s == stateRunning {
			j.states[i] = stateCancelled
			m.log.SetState(i, stateCancelled)
		}
	}
	m.logger.Printf("build %d: cancelled after %s", j.id, j.end.Sub(j.start))
}

func (m *Model) onBatch(msg jobBatchMsg) tea.Cmd {
	j := m.job
	if j == nil || msg.id != j.id || !j.live {
		// A cancelled or superseded job: its goroutine exits on its
		// own once its context is done; nothing more to draw.
		return nil
	}
	for _, e := range msg.events {
		switch ev := e.ev.(type) {
		case build.Started:
			m.log.Append(e.i, "$ "+ev.Command)
		case build.Line:
			m.log.Append(e.i, ev.Text)
			if j.firstErr[e.i] == "" && errorLocation(ev.Text) != "" {
				j.firstErr[e.i] = strings.TrimSpace(ev.Text)
			}
		case build.Finished:
			r := ev.Result
			j.results[e.i] = &r
			state := stateOK
			if r.Err != nil || r.Artifact == nil {
				state = stateFailed
				if r.Err != nil {
					m.log.Append(e.i, "armbench: "+r.Err.Error())
				}
			} else {
				m.log.Append(e.i, fmt.Sprintf("armbench: built %s (%s)", r.Output, size(r.Artifact.Size)))
			}
			if r.LogPath != "" {
				m.log.Append(e.i, "armbench: full log in "+r.LogPath)
			}
			j.states[e.i] = state
			m.log.SetState(e.i, state)
			m.logger.Printf("build %d: %s finished: %v", j.id, r.Profile, r.Err)
		}
	}
	if !msg.closed {
		return j.waitCmd()
	}
	j.end, j.live = m.now(), false
	j.cancel()
	for i, s := range j.states {
		if s == stateRunning { // no Finished event: the build never reported back
			j.states[i] = stateFailed
			m.log.SetState(i, stateFailed)
		}
	}
	if then := m.afterBuild; then != nil {
		m.afterBuild = nil
		return then(j)
	}
	return nil
}

func (m *Model) quit() tea.Cmd {
	if m.quitting {
		return nil
	}
	m.quitting = true
	m.cancelBuild()
	m.cancelActivity()
	m.asker.close()
	m.pending = livePending(m.pending)
	waits := liveWaits(m.waits)
	if len(m.pending) == 0 && len(waits) == 0 {
		return tea.Quit
	}
	m.notice = "stopping…"
	pending := m.pending
	return func() tea.Msg {
		stopAll(pending, waits)
		return tea.QuitMsg{}
	}
}

// layout is where each pane goes in the current window.
type layout struct {
	mode    layoutMode
	bodyH   int
	leftW   int // wide: the targets/profiles column; narrow: the targets box
	topH    int // narrow: the targets/profiles row
	targetH int // wide: the targets box
	planH   int // wide: the plan box
	help    string
}

type layoutMode int

const (
	layoutTooSmall layoutMode = iota
	layoutWide                // selectors left, plan over log right
	layoutNarrow              // selectors on top, plan below; the log alone when focused
)

const (
	minWidth  = 40
	minHeight = 10
	wideWidth = 120
)

func (m *Model) statusHeight() int {
	if m.statusShowsAct() {
		return m.activityHeight()
	}
	if m.job == nil {
		return 1
	}
	n := len(m.job.profiles)
	if n > maxStatusProfiles+1 {
		n = maxStatusProfiles + 1
	}
	return 1 + n
}

func (m *Model) helpView() string {
	m.help.SetWidth(m.common.Width)
	if km, ok := m.overlayKeyMap(); ok {
		return m.help.View(km)
	}
	return m.help.View(helpKeys{pane: m.focused().pane.KeyMap(), global: m.keys})
}

// layout sizes every pane for the window; it runs after each Update so
// View only draws.
func (m *Model) layout() {
	w, h := m.common.Width, m.common.Height
	m.status.SetSize(w)
	helpText := m.helpView()
	body := h - 1 - m.statusHeight() - (strings.Count(helpText, "\n") + 1)
	l := layout{bodyH: body, help: helpText}
	switch {
	case w < minWidth || body < minHeight-4:
		l.mode = layoutTooSmall
	case w >= wideWidth && body >= 16:
		l.mode = layoutWide
		l.leftW = min(max(m.targets.ContentWidth(), 34), w/3)
		nT := len(m.targets.list())
		l.targetH = min(nT+2, max(body/3, 4))
		l.planH = min(max(m.plan.ContentHeight(), 5), body*2/5)
		m.targets.SetSize(l.leftW, l.targetH)
		m.profiles.SetSize(l.leftW, body-l.targetH)
		m.plan.SetSize(w-l.leftW, l.planH)
		m.sizeMain(w-l.leftW, body-l.planH)
	default:
		l.mode = layoutNarrow
		l.leftW = w - w*2/5 // targets rows are wider than profile rows
		nT, nP := len(m.targets.list()), len(m.common.Profiles)
		// The selectors get what they need unless the plan would be
		// squeezed below its own needs (or half the body, if less).
		need := max(nT+2, nP+2+descLines)
		planNeed := max(min(m.plan.ContentHeight(), body/2), 5)
		l.topH = max(min(need, body-planNeed), 4)
		m.targets.SetSize(l.leftW, l.topH)
		m.profiles.SetSize(w-l.leftW, l.topH)
		m.plan.SetSize(w, body-l.topH)
		m.sizeMain(w, body)
	}
	m.sizeOverlays(w, body)
	m.lay = l
}

func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "armbench"
	return v
}

func (m *Model) render() string {
	w, h := m.common.Width, m.common.Height
	if w == 0 || h == 0 {
		return ""
	}
	if m.lay.mode == layoutTooSmall {
		return fit(fmt.Sprintf("armbench needs at least %d×%d (now %d×%d)", minWidth, minHeight, w, h), w)
	}
	var blocks []string
	blocks = append(blocks, m.header())
	switch {
	case m.overlayOpen():
		blocks = append(blocks, m.overlayView(w, m.lay.bodyH))
	case m.lay.mode == layoutWide:
		left := m.targets.View() + "\n" + m.profiles.View()
		right := m.plan.View() + "\n" + m.mainPane().View()
		blocks = append(blocks, beside(left, right))
	case m.lay.mode == layoutNarrow:
		if isMain(m.focused().id) {
			blocks = append(blocks, m.mainPane().View())
		} else {
			top := beside(m.targets.View(), m.profiles.View())
			blocks = append(blocks, top, m.plan.View())
		}
	}
	if m.statusShowsAct() {
		blocks = append(blocks, m.activityLines()...)
	} else {
		blocks = append(blocks, m.status.Lines(m.job, m.now(), m.spinner.View(), m.notice, m.idleHint())...)
	}
	for _, l := range strings.Split(m.lay.help, "\n") {
		blocks = append(blocks, fit(l, w))
	}
	return strings.Join(blocks, "\n")
}

func (m *Model) header() string {
	st := m.common.Styles
	path := "targets.toml"
	if m.common.Config != nil && m.common.Config.Path != "" {
		path = m.common.Config.Path
	}
	info := " " + path + " · pkg " + m.common.Pkg
	if t, ok := m.targets.Chosen(); ok {
		info += " · target " + t.Name
	}
	return fit(st.Header.Render("armbench")+st.HeaderDim.Render(info), m.common.Width)
}

func (m *Model) idleHint() string {
	t, ok := m.targets.Chosen()
	sel := m.profiles.Selected()
	switch {
	case !ok:
		return "no target"
	case len(sel) == 0:
		return "tick profiles with space, then b builds, d deploys, r benches"
	}
	names := make([]string, len(sel))
	for i, p := range sel {
		names[i] = p.Name
	}
	hint := fmt.Sprintf("ready: b builds %s × %s", t.Name, strings.Join(names, ","))
	if len(sel) >= 2 {
		return hint + " · d deploys · r compares"
	}
	return hint + " · d deploys · r benches"
}

// beside puts two blocks of equal height side by side. Every pane draws
// exactly its size, so this is line-wise concatenation; lipgloss's
// JoinHorizontal would measure every cell again, which cost more than
// drawing the whole log.
func beside(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var sb strings.Builder
	sb.Grow(len(a) + len(b) + len(al))
	for i := 0; i < max(len(al), len(bl)); i++ {
		if i > 0 {
			sb.WriteByte('\n')
		}
		if i < len(al) {
			sb.WriteString(al[i])
		}
		if i < len(bl) {
			sb.WriteString(bl[i])
		}
	}
	return sb.String()
}

// helpKeys merges the focused pane's keys with the global ones.
type helpKeys struct {
	pane   help.KeyMap
	global GlobalKeys
}

func (k helpKeys) ShortHelp() []key.Binding {
	return append(append([]key.Binding(nil), k.pane.ShortHelp()...), k.global.bindings()...)
}

func (k helpKeys) FullHelp() [][]key.Binding {
	return append(append([][]key.Binding(nil), k.pane.FullHelp()...), k.global.full())
}
