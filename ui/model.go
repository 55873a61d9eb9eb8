// Package ui is armbench's terminal workbench: a root model composing one
// model per pane (targets, profiles, plan, and in the main area the build
// log, deploy, bench, compare and run panes), over the same engine
// packages the headless commands use. Long work runs as tasks (task.go),
// dialogs stack over the panes (overlay.go), and the keys that start
// something are actions (actions.go).
package ui

import (
	"fmt"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"armbench/profiles"
	"armbench/remote"
	"armbench/targets"
)

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
	// MetricsAddr is where M serves metrics ("" = DefaultMetricsAddr).
	MetricsAddr string
	// Reload reads the configuration again after a target was added; nil
	// re-reads the file the target was added to.
	Reload func() (*targets.Config, []profiles.Profile, error)
	// Present starts in the presentation layout (p toggles it).
	Present bool
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
// place; each owns its keys and draws itself, frame included, at the size
// it was given.
type pane interface {
	SetSize(w, h int)
	Update(tea.Msg) tea.Cmd
	View() string
	Focus()
	Blur()
	KeyMap() help.KeyMap
}

// capturer is a pane that can take every key as text (a search prompt).
type capturer interface{ Capturing() bool }

type paneID string

const (
	paneTargets  paneID = "targets"
	paneProfiles paneID = "profiles"
	panePlan     paneID = "plan"
)

// registered is one entry of the focus order.
type registered struct {
	id   paneID
	pane pane
}

// modelUpdate is a message that changes the model: what a command found
// out off the Update loop (a reloaded configuration), applied on it.
type modelUpdate func(m *Model) tea.Cmd

// Model is the root model.
type Model struct {
	common  *Common
	env     env
	keys    GlobalKeys
	actions []action
	help    help.Model
	spinner spinner.Model

	targets  *TargetList
	profiles *ProfileList
	plan     *PlanPane
	main     mainArea
	panes    []registered // the focus order
	focus    int

	tasks    taskList
	overlays []overlay // dialogs, the top one last
	notice   string    // one-shot message on the status line
	quitting bool
	runArgs  string // the argument line g offers next
	present  bool   // the presentation layout: the run pane's charts alone (p)
	lay      layout

	sweepKnobs string // the knobs S offers next
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
		common:   c,
		env:      newEnv(opts),
		keys:     newGlobalKeys(),
		actions:  newActions(),
		help:     help.New(),
		spinner:  spinner.New(spinner.WithSpinner(spinner.Line)),
		targets:  NewTargetList(c),
		profiles: NewProfileList(c),
		plan:     NewPlanPane(c),
		main:     newMainArea(c),
		runArgs:  defaultRunArgs,
	}
	m.help.Styles = c.Styles.Help
	if err := m.env.openLog(opts.LogFile); err != nil {
		m.notice = fmt.Sprintf("no debug log: %v", err)
	}
	m.panes = append([]registered{
		{paneTargets, m.targets},
		{paneProfiles, m.profiles},
		{panePlan, m.plan},
	}, m.main.registered()...)
	m.panes[0].pane.Focus()
	m.refreshPlan()
	if opts.Present {
		m.setPresent(true)
	}
	return m
}

// Init starts listening for passphrase requests from the SSH engine.
func (m *Model) Init() tea.Cmd { return m.env.asker.listen() }

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
	case taskMsg:
		return m.onTask(msg)
	case modelUpdate:
		return msg(m)
	case spinner.TickMsg:
		if msg.ID != m.spinner.ID() {
			break // a dialog's own spinner
		}
		if !m.busy() {
			return nil // stop ticking when idle
		}
		var cmd tea.Cmd
		m.spinner, cmd = m.spinner.Update(msg)
		return cmd
	case selectionChangedMsg:
		m.refreshPlan()
		return nil
	case passphraseRequestMsg:
		return m.askPassphrase(msg.req)
	case HostKeyTrustedMsg:
		return m.onHostTrusted(msg)
	case HostKeyDeclinedMsg:
		m.onHostDeclined(msg)
		return nil
	case tea.InterruptMsg:
		return m.quit()
	case tea.KeyPressMsg:
		return m.onKey(msg)
	}
	if len(m.overlays) > 0 {
		return m.overlaysUpdate(msg)
	}
	return m.focused().pane.Update(msg)
}

// askPassphrase opens a prompt for the SSH engine's request and listens
// for the next one.
func (m *Model) askPassphrase(req passphraseRequest) tea.Cmd {
	if m.quitting {
		req.reply <- passphraseReply{err: remote.ErrNoPassphrase}
		return nil
	}
	m.logf("passphrase asked for %s", req.keyPath)
	return tea.Batch(m.push(newPassphrasePrompt(m.common.Styles, req)), m.env.asker.listen())
}

func (m *Model) onKey(msg tea.KeyPressMsg) tea.Cmd {
	if msg.String() == "ctrl+c" {
		return m.quit()
	}
	if m.quitting {
		return nil
	}
	if len(m.overlays) > 0 {
		return m.overlayKey(msg)
	}
	focused := m.focused().pane
	if c, ok := focused.(capturer); ok && c.Capturing() {
		return focused.Update(msg)
	}
	m.notice = ""
	if cmd, ok := m.globalKey(msg); ok {
		return cmd
	}
	if cmd, ok := m.actionKey(msg); ok {
		return cmd
	}
	return focused.Update(msg)
}

// globalKey handles the keys that move around, cancel and quit.
func (m *Model) globalKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit(), true
	case key.Matches(msg, k.Help):
		m.help.ShowAll = !m.help.ShowAll
	case key.Matches(msg, k.Next):
		m.cycleFocus(+1)
	case key.Matches(msg, k.Prev):
		m.cycleFocus(-1)
	case key.Matches(msg, k.Cancel):
		m.cancelRunning()
	default:
		for i, show := range []key.Binding{k.ShowLog, k.ShowDep, k.ShowBench, k.ShowCmp, k.ShowRun, k.ShowFleet} {
			if key.Matches(msg, show) {
				m.showMain(mainIDs[i])
				return nil, true
			}
		}
		return nil, false
	}
	return nil, true
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
		if id := m.panes[i].id; !isMain(id) || id == m.main.shown {
			break
		}
	}
	m.setFocus(m.panes[i].id)
}
