package ui

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"armbench/bench"
	"armbench/internal/shell"
	"armbench/profiles"
	"armbench/remote"
	"armbench/targets"
)

// g runs the deployed binary of the previewed profile on the device, as
// `armbench run` does, and streams its output into the Run pane (the
// build log component: same ring, search and follow); u puts the
// previous deployed binary back, as `armbench rollback` does. Both go
// through the model's pool, so a host-key prompt or a passphrase is asked
// the way a deploy asks it.

const (
	paneRun     paneID       = "run"
	actRun      activityKind = "run"
	actRollback activityKind = "rollback"
)

// defaultRunArgs keep a first run short: the example workload otherwise
// runs for its own default.
const defaultRunArgs = "-duration 2s"

// Events of a run or rollback activity.
type (
	runOutput struct{ out remote.Output }
	runDone   struct {
		st  remote.ExitStatus
		err error
	}
	rollbackDone struct {
		path string
		err  error
	}
)

// runChoice is what g or u acts on: the chosen target and the first plan
// d would deploy.
type runChoice struct {
	target targets.Target
	plan   profiles.Plan
	name   string // the deployed file: bench.DeployName
	note   string // set when several profiles are ticked
}

func newRunLog(c *Common) *LogPane {
	// One program at a time: no profile tabs to switch between.
	return NewLogPane(c, DefaultLogLines, LogTitle("Run"), LogSingleTab(), LogStates(runStateLabel),
		LogEmpty("Nothing run yet: d deploys the previewed profile, g runs it on the device."))
}

func runStateLabel(s buildState) string {
	switch s {
	case stateRunning:
		return "running"
	case stateOK:
		return "exit 0"
	case stateFailed:
		return "FAILED"
	}
	return s.String()
}

// runChoice resolves the target and plan of g and u with the rule d uses.
func (m *Model) runChoice(verb string) (runChoice, bool) {
	t, ok := m.idleTarget()
	if !ok {
		return runChoice{}, false
	}
	plans, err := m.deployPlans()
	if err != nil {
		m.notice = err.Error()
		return runChoice{}, false
	}
	c := runChoice{target: t, plan: plans[0], name: bench.DeployName(plans[0])}
	if len(plans) > 1 {
		c.note = fmt.Sprintf("%d profiles ticked: %s %s, the first", len(plans), verb, plans[0].Profile.Name)
	}
	return c, true
}

// runPrompt asks for the program's arguments before g runs it.
type runPrompt struct {
	choice runChoice
	input  textinput.Model
	err    string // why the line cannot be split
}

func (m *Model) openRunPrompt() tea.Cmd {
	c, ok := m.runChoice("running")
	if !ok {
		return nil
	}
	in := textinput.New()
	in.Prompt = "args: "
	in.SetWidth(40)
	in.SetValue(m.runArgs)
	in.CursorEnd()
	m.runPrompt = &runPrompt{choice: c, input: in}
	return m.runPrompt.input.Focus()
}

func (p *runPrompt) view(st *Styles, w, h int) string {
	c := p.choice
	lines := []string{
		st.TitleFocus.Render("Run " + c.name + " on " + c.target.Name),
		"",
	}
	if env := c.plan.RunEnvStrings(); len(env) > 0 {
		lines = append(lines, st.Dim.Render("env "+strings.Join(env, " ")))
	}
	lines = append(lines, p.input.View(), "")
	if p.err != "" {
		lines = append(lines, st.Error.Render(p.err), "")
	}
	if c.note != "" {
		lines = append(lines, c.note, "")
	}
	lines = append(lines, st.Dim.Render("enter run · esc abort"))
	return overlayBox(st, "Run on device", lines, w, h)
}

// runPromptKey handles a key while the argument prompt is open.
func (m *Model) runPromptKey(msg tea.KeyPressMsg) tea.Cmd {
	p := m.runPrompt
	switch msg.String() {
	case "enter":
		line := strings.TrimSpace(p.input.Value())
		args, err := splitArgs(line)
		if err != nil {
			p.err = err.Error() // the prompt stays open to fix the line
			return nil
		}
		m.runPrompt = nil
		m.runArgs = line
		cmd := m.runOnDevice(p.choice, args)
		m.notice = p.choice.note
		return cmd
	case "esc":
		m.runPrompt = nil
		m.notice = "run aborted"
		return nil
	}
	p.err = ""
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	return cmd
}

// runOnDevice runs c's deployed binary with args; x cancels it, which
// stops the process on the device.
func (m *Model) runOnDevice(c runChoice, args []string) tea.Cmd {
	a := m.beginActivity(actRun, c.target.Name, []string{c.plan.Profile.Name}, func() tea.Cmd { return m.runOnDevice(c, args) })
	m.run = &c
	cmd := remote.Command{Path: c.name, Args: args, Env: c.plan.RunEnvStrings()}
	m.runLog.Reset([]string{c.name})
	words := append([]string(nil), cmd.Env...)
	if len(words) > 0 {
		words = append([]string{"env"}, words...)
	}
	m.runLog.Append(0, "$ "+shell.Join(append(append(words, c.name), args...)...))
	m.showMain(paneRun)
	m.logger.Printf("run %d: %s on %s, args %q", a.id, c.name, c.target.Name, args)
	device, t := m.device, c.target
	a.run(func(ctx context.Context, emit func(any)) {
		dev, err := device(ctx, t)
		if err != nil {
			emit(connectFailed{err: err})
			return
		}
		st, err := dev.Run(ctx, cmd, func(ev remote.Event) {
			if o, ok := ev.(remote.Output); ok {
				emit(runOutput{o})
			}
		})
		emit(runDone{st: st, err: err})
	})
	return tea.Batch(a.waitCmd(), m.spinner.Tick)
}

// runFinished turns the program's exit into the status line and the tab's
// state. A missing binary is found as `armbench run` finds it: the
// shell's 127 over SSH, a failed start on the local target.
func (m *Model) runFinished(a *activity, ev runDone) {
	a.end = m.now()
	c := m.run
	dur := ev.st.Duration
	if dur == 0 {
		dur = a.end.Sub(a.start)
	}
	state := stateFailed
	switch {
	case ev.err != nil && errors.Is(ev.err, context.Canceled):
		state = stateCancelled
		a.summary = fmt.Sprintf("cancelled %s on %s after %s", c.name, c.target.Name, seconds(dur))
	case errors.Is(ev.err, fs.ErrNotExist) || (ev.err == nil && ev.st.Code == 127):
		a.err = errNotDeployed
		a.summary = fmt.Sprintf("not deployed: press d first (%s on %s)", c.name, c.target.Name)
	case ev.err != nil:
		a.err = ev.err
		a.summary = "run failed: " + connectErrorText(ev.err)
	case ev.st.Signal != "":
		a.err = fmt.Errorf("signal %s", ev.st.Signal)
		a.summary = fmt.Sprintf("%s on %s: killed by signal %s after %s", c.name, c.target.Name, ev.st.Signal, seconds(dur))
	case ev.st.Code != 0:
		a.err = fmt.Errorf("exit status %d", ev.st.Code)
		a.summary = fmt.Sprintf("%s on %s: exit %d after %s", c.name, c.target.Name, ev.st.Code, seconds(dur))
	default:
		state = stateOK
		a.summary = fmt.Sprintf("ran %s on %s: exit 0 in %s", c.name, c.target.Name, seconds(dur))
	}
	if ev.err != nil {
		m.runLog.Append(0, "armbench: "+firstLine(ev.err.Error()))
	}
	m.runLog.Append(0, "armbench: "+a.summary)
	m.runLog.SetState(0, state)
	m.logger.Printf("run %d: %s: code %d signal %q in %s: %v", a.id, c.name, ev.st.Code, ev.st.Signal, dur, ev.err)
}

var errNotDeployed = errors.New("not deployed")

// rollbackConfirm asks before u replaces the binary on the device.
type rollbackConfirm struct{ choice runChoice }

func (m *Model) openRollback() {
	c, ok := m.runChoice("rolling back")
	if !ok {
		return
	}
	m.confirm = &rollbackConfirm{choice: c}
}

func (p *rollbackConfirm) view(st *Styles, w, h int) string {
	c := p.choice
	lines := []string{
		st.TitleFocus.Render("roll back " + c.name + " on " + c.target.Name + " to the previous binary? y/N"),
		"",
		"The current one becomes " + c.name + ".prev, so u again undoes this.",
	}
	if c.note != "" {
		lines = append(lines, "", c.note)
	}
	lines = append(lines, "", st.Dim.Render("y roll back · n/esc keep it"))
	return overlayBox(st, "Roll back", lines, w, h)
}

// confirmKey answers the rollback question: only y rolls back.
func (m *Model) confirmKey(msg tea.KeyPressMsg) tea.Cmd {
	c := m.confirm.choice
	m.confirm = nil
	if msg.String() != "y" && msg.String() != "Y" {
		m.notice = "rollback aborted: " + c.name + " unchanged"
		return nil
	}
	m.notice = ""
	return m.runRollback(c)
}

func (m *Model) runRollback(c runChoice) tea.Cmd {
	a := m.beginActivity(actRollback, c.target.Name, []string{c.plan.Profile.Name}, func() tea.Cmd { return m.runRollback(c) })
	m.run = &c
	m.logger.Printf("rollback %d: %s on %s", a.id, c.name, c.target.Name)
	device, t, name := m.device, c.target, c.name
	a.run(func(ctx context.Context, emit func(any)) {
		dev, err := device(ctx, t)
		if err != nil {
			emit(connectFailed{err: err})
			return
		}
		err = dev.Rollback(ctx, name)
		emit(rollbackDone{path: strings.TrimSuffix(dev.DeployDir(), "/") + "/" + name, err: err})
	})
	return tea.Batch(a.waitCmd(), m.spinner.Tick)
}

func (m *Model) rollbackFinished(a *activity, ev rollbackDone) {
	a.end = m.now()
	c := m.run
	switch {
	case errors.Is(ev.err, remote.ErrNoPrevious):
		a.err = ev.err
		a.summary = fmt.Sprintf("nothing to roll back to: %s on %s has no previous binary", c.name, c.target.Name)
	case ev.err != nil:
		a.err = ev.err
		a.summary = "rollback failed: " + connectErrorText(ev.err)
	default:
		a.summary = fmt.Sprintf("rolled back %s (u again swaps back)", ev.path)
	}
	m.logger.Printf("rollback %d: %s: %v", a.id, ev.path, ev.err)
}

// connectFailedRun reports a failed connection of a run or rollback.
func (m *Model) connectFailedRun(a *activity, err error) {
	if a.kind == actRun {
		m.runLog.Append(0, "armbench: "+connectErrorText(err))
		m.runLog.SetState(0, stateFailed)
	}
}

func (m *Model) runOverlayKeyMap() (help.KeyMap, bool) {
	switch {
	case m.runPrompt != nil:
		return overlayKeys{
			key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "run")),
			key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "abort")),
		}, true
	case m.confirm != nil:
		return overlayKeys{
			key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "roll back")),
			key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "keep")),
		}, true
	}
	return nil, false
}

// splitArgs splits the argument line as sh would split a simple command's
// words: blanks separate, '…' and "…" quote, a backslash escapes the next
// character (inside "…" only before " \ $ `). The words are sent quoted,
// so what the user typed is what the program gets; no expansion happens.
func splitArgs(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("args: unterminated ' at column %d", i+1)
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			start := i
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) && strings.IndexByte("\"\\$`", line[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(line[i])
			}
			if i >= len(line) {
				return nil, fmt.Errorf("args: unterminated \" at column %d", start+1)
			}
			inWord = true
		case c == '\\':
			if i+1 >= len(line) {
				return nil, fmt.Errorf("args: \\ at the end of the line escapes nothing")
			}
			i++
			cur.WriteByte(line[i])
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
