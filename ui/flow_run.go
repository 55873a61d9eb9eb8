package ui

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	tea "charm.land/bubbletea/v2"

	"armbench/bench"
	"armbench/internal/shell"
	"armbench/live"
	"armbench/profiles"
	"armbench/remote"
	"armbench/targets"
)

// g asks for the program's arguments, then runs the deployed binary of
// the previewed profile on the device, as `armbench run` does, streaming
// its output into the run pane. It goes through the model's pool, so a
// host-key prompt or a passphrase is asked the way a deploy asks it.
func runAction() action {
	return action{key: newKey("g", "run on device"), ready: (*Model).planReady, start: (*Model).openRunPrompt}
}

// defaultRunArgs keep a first run short: the example workload otherwise
// runs for its own default.
const defaultRunArgs = "-duration 2s"

// Events of a run task.
type (
	runOutput struct{ out remote.Output }
	runDone   struct {
		st  remote.ExitStatus
		err error
	}
)

var errNotDeployed = errors.New("not deployed")

// runChoice is what g or u acts on: the chosen target and the first plan
// d would deploy.
type runChoice struct {
	target targets.Target
	plan   profiles.Plan
	name   string // the deployed file: Plan.DeployName
	note   string // set when several profiles are ticked
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
	c := runChoice{target: t, plan: plans[0], name: plans[0].DeployName()}
	if len(plans) > 1 {
		c.note = fmt.Sprintf("%d profiles ticked: %s %s, the first", len(plans), verb, plans[0].Profile.Name)
	}
	return c, true
}

func (m *Model) openRunPrompt() tea.Cmd {
	c, ok := m.runChoice("running")
	if !ok {
		return nil
	}
	return m.push(newRunPrompt(m.common.Styles, c, m.runArgs, func(line string, args []string) tea.Cmd {
		m.runArgs = line
		cmd := m.follow(m.startTask("run", c.target.Name, []string{c.plan.Profile.Name}, &runFlow{choice: c, args: args}))
		m.notice = c.note
		return cmd
	}, func() { m.notice = "run aborted" }))
}

// runFlow runs the chosen binary with args; x cancels it, which stops the
// process on the device.
type runFlow struct {
	choice  runChoice
	args    []string
	probing bool
}

func (f *runFlow) begin(m *Model, t *task) func(context.Context, func(any)) {
	c := f.choice
	cmd := remote.Command{Path: c.name, Args: f.args, Env: c.plan.RunEnvStrings()}
	m.main.run.Reset([]string{c.name})
	words := append([]string(nil), cmd.Env...)
	if len(words) > 0 {
		words = append([]string{"env"}, words...)
	}
	m.main.run.Append(0, "$ "+shell.Join(append(append(words, c.name), f.args...)...))
	m.showMain(paneRun)
	m.logf("run %d: %s on %s, args %q", t.id, c.name, c.target.Name, f.args)
	device, obs, outRoot := m.env.device, m.observer(c.target.Name), m.env.outRoot
	if obs != nil {
		m.main.run.Append(0, "armbench: under the probe, for metrics on "+m.env.metrics.url)
	}
	settings := live.FromEnv(c.plan.RunEnvStrings())
	return onDevice(device, c.target, func(ctx context.Context, dev remote.Device, emit func(any)) {
		// One session for every restart: it keeps dev, so turning a knob
		// costs no new connection.
		s := live.New(dev, c.plan, outRoot, f.args, bench.DefaultInterval)
		emit(liveReady{session: s, settings: settings})
		probing := false
		rs, err := s.Run(ctx, settings, func(ev live.Event) {
			switch ev := ev.(type) {
			case live.Observed:
				if obs != nil {
					obs.Observe(ev.Event)
				}
				if b, ok := ev.Event.(bench.Building); ok && b.Index < 0 && !probing {
					probing = true
					emit(liveProbe{})
				}
			case live.Line:
				emit(runOutput{remote.Output{Stderr: ev.Stderr, Text: ev.Text}})
			default:
				emit(liveEvent{ev})
			}
		})
		emit(runDone{st: remote.ExitStatus{Code: rs.ExitCode, Signal: rs.Signal, Duration: rs.Wall}, err: err})
	})
}

// Events of a live run, besides runOutput and runDone.
type (
	liveReady struct {
		session  *live.Session
		settings live.Settings
	}
	liveEvent struct{ ev live.Event }
	liveProbe struct{} // the probe is being built: the first run waits for it
)

func (f *runFlow) apply(m *Model, t *task, e any) {
	switch ev := e.(type) {
	case runOutput:
		m.main.run.Append(0, ev.out.Text)
	case liveReady:
		m.main.run.StartLive(f.choice.target, ev.settings, func(s live.Settings, change string) tea.Cmd {
			ev.session.Set(s, change)
			return nil
		})
	case liveProbe:
		if !f.probing {
			f.probing = true
			m.main.run.Append(0, "armbench: building the probe that samples the program…")
		}
	case liveEvent:
		switch lv := ev.ev.(type) {
		case live.Started:
			m.main.run.Started(lv)
			if lv.Restart {
				m.notice = "restarted with " + lv.Change
				m.logf("run %d: restarted with %s", t.id, lv.Change)
			}
		case live.Sample:
			m.main.run.Sample(lv)
		}
	case runDone:
		m.main.run.EndLive()
		f.done(m, t, ev)
	}
}

// done turns the program's exit into the status line and the tab's
// state. A missing binary is found as `armbench run` finds it: the
// shell's 127 over SSH, a failed start on the local target.
func (f *runFlow) done(m *Model, t *task, ev runDone) {
	t.end = m.env.now()
	c := f.choice
	dur := ev.st.Duration
	if dur == 0 {
		dur = t.end.Sub(t.start)
	}
	state := stateFailed
	switch {
	case ev.err != nil && errors.Is(ev.err, context.Canceled):
		state = stateCancelled
		t.summary = fmt.Sprintf("cancelled %s on %s after %s", c.name, c.target.Name, seconds(dur))
	case errors.Is(ev.err, fs.ErrNotExist) || (ev.err == nil && ev.st.Code == 127):
		t.err = errNotDeployed
		t.summary = fmt.Sprintf("not deployed: press d first (%s on %s)", c.name, c.target.Name)
	case ev.err != nil:
		t.err = ev.err
		t.summary = "run failed: " + connectErrorText(ev.err)
	case ev.st.Signal != "":
		t.err = fmt.Errorf("signal %s", ev.st.Signal)
		t.summary = fmt.Sprintf("%s on %s: killed by signal %s after %s", c.name, c.target.Name, ev.st.Signal, seconds(dur))
	case ev.st.Code != 0:
		t.err = fmt.Errorf("exit status %d", ev.st.Code)
		t.summary = fmt.Sprintf("%s on %s: exit %d after %s", c.name, c.target.Name, ev.st.Code, seconds(dur))
	default:
		state = stateOK
		t.summary = fmt.Sprintf("ran %s on %s: exit 0 in %s", c.name, c.target.Name, seconds(dur))
	}
	if ev.err != nil {
		m.main.run.Append(0, "armbench: "+firstLine(ev.err.Error()))
	}
	m.main.run.Append(0, "armbench: "+t.summary)
	m.main.run.SetState(0, state)
	m.logf("run %d: %s: code %d signal %q in %s: %v", t.id, c.name, ev.st.Code, ev.st.Signal, dur, ev.err)
}

func (f *runFlow) stop(m *Model, _ *task, err error) {
	m.main.run.EndLive()
	if errors.Is(err, context.Canceled) {
		// The engine stops the process on the device once ctx is done.
		m.main.run.Append(0, "armbench: cancelled: the process on the device is stopped")
		m.main.run.SetState(0, stateCancelled)
		return
	}
	m.main.run.Append(0, "armbench: "+connectErrorText(err))
	m.main.run.SetState(0, stateFailed)
}

func (f *runFlow) finish(*Model, *task) tea.Cmd { return nil }

func (f *runFlow) status(m *Model, t *task) []string { return m.taskLine(t, "running", "") }

// newRunLog is the run pane: the log pane over one program's output.
func newRunLog(c *Common) *LogPane {
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
