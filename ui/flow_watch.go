package ui

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"

	"armbench/build"
	"armbench/internal/shell"
	"armbench/live"
	"armbench/remote"
	"armbench/targets"
	"armbench/watch"
)

// w watches the package: every save rebuilds, redeploys and restarts the
// program on the device with the profile's runtime settings, as
// `armbench watch` does. The build log shows each cycle's build, the run
// pane the program's output; x stops watching (and the program). In the
// run pane, c and +/- turn a runtime knob as under g: the program restarts
// with the new value over watch's connection, and later cycles keep it.
func watchAction() action {
	return action{key: newKey("w", "watch: rebuild+restart on save"), ready: (*Model).planReady, start: (*Model).startWatch}
}

// watchEvent carries one engine event to the model.
type watchEvent struct{ ev watch.Event }

func (m *Model) startWatch() tea.Cmd {
	c, ok := m.runChoice("watching")
	if !ok {
		return nil
	}
	args, err := shell.Split(m.runArgs)
	if err != nil {
		m.notice = "watch: the run arguments (g sets them): " + err.Error()
		return nil
	}
	cmd := m.follow(m.startTask("watch", c.target.Name, []string{c.plan.Profile.Name}, &watchFlow{choice: c, args: args}))
	m.notice = c.note
	return cmd
}

// watchFlow follows one watch session; it runs until x (or quit).
type watchFlow struct {
	choice runChoice
	args   []string
	cycle  int
	stage  string // what the current cycle is doing, for the status line
	files  int

	// The knobs: want is what the run pane's knobs were last turned to,
	// change its words ("GOGC=200"); once the session took it (EnvSet),
	// applied holds them until the program restarts with it. overrides
	// are those in force, which every cycle keeps.
	want      live.Settings
	change    string
	applied   string
	overrides watch.Overrides
}

func (f *watchFlow) begin(m *Model, t *task) func(context.Context, func(any)) {
	c := f.choice
	m.main.log.Reset([]string{c.plan.Profile.Name})
	m.main.run.Reset([]string{c.name})
	// Short lines: the run pane does not wrap, and 80 columns cut them.
	m.main.run.Append(0, fmt.Sprintf("armbench: watching %s (x stops)", m.common.Pkg),
		fmt.Sprintf("armbench: a save rebuilds, redeploys, restarts %s on %s", c.name, c.target.Name))
	m.showMain(paneRun)
	m.logf("watch %d: %s on %s, args %q", t.id, c.name, c.target.Name, f.args)
	device := m.env.device
	ctl := watch.NewControl()
	opts := watch.Options{Plan: c.plan, Name: c.name, Args: f.args, History: m.env.history(), Control: ctl}
	f.want, f.change, f.applied, f.overrides = live.FromEnv(c.plan.RunEnvStrings()), "", "", nil
	m.main.run.StartKnobs(c.target, f.want, f.turn(t, ctl))
	// Connect first, so an unknown host key or a passphrase is asked as a
	// deploy asks it; watch then borrows the pool's connection.
	return onDevice(device, c.target, func(ctx context.Context, _ remote.Device, emit func(any)) {
		opts.Connect = func(ctx context.Context) (remote.Device, error) {
			d, err := device(ctx, c.target)
			if err != nil {
				return nil, err
			}
			return watch.Borrowed(d), nil
		}
		err := watch.Run(ctx, opts, func(ev watch.Event) { emit(watchEvent{ev}) })
		if err != nil && !errors.Is(err, context.Canceled) {
			emit(watchEvent{watch.Warning{Err: err}})
		}
	})
}

// turn is the run pane's knob: it hands the session the overrides that
// settings make of the profile's environment. SetEnv runs as a command,
// off Update: the session may be waiting for Update to take its events.
func (f *watchFlow) turn(t *task, ctl *watch.Control) func(live.Settings, string) tea.Cmd {
	return func(settings live.Settings, change string) tea.Cmd {
		f.want, f.change = settings, change
		o := knobOverrides(f.choice.plan.RunEnvStrings(), settings, f.choice.target)
		ctx := t.ctx
		return func() tea.Msg {
			err := ctl.SetEnv(ctx, o)
			if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, watch.ErrEnded) {
				return nil // a session that ended says so itself
			}
			return modelUpdate(func(m *Model) tea.Cmd {
				m.notice = "live knob: " + err.Error()
				return nil
			})
		}
	}
}

// knobOverrides is what settings change in the profile's environment
// base: a knob set to the profile's own value, or to the runtime's
// default when the profile leaves it unset, is no override.
func knobOverrides(base []string, settings live.Settings, t targets.Target) watch.Overrides {
	own := live.FromEnv(base)
	o := watch.Overrides{}
	for _, k := range live.Knobs {
		v := settings[k]
		if v == "" || v == own[k] || (own[k] == "" && v == live.Default(k, t)) {
			continue
		}
		var one live.Settings
		one[k] = v
		name, val, _ := strings.Cut(one.Apply(nil)[0], "=") // GOMEMLIMIT=off as the runtime reads it
		o[name] = val
	}
	return o
}

func (f *watchFlow) apply(m *Model, t *task, e any) {
	we, ok := e.(watchEvent)
	if !ok {
		return
	}
	run := m.main.run
	switch ev := we.ev.(type) {
	case watch.Watching:
		f.files = ev.Files
	case watch.Changed:
		f.cycle, f.stage = ev.Cycle, "building"
		if ev.Cycle > 1 {
			run.Append(0, fmt.Sprintf("armbench: cycle %d: %s changed", ev.Cycle, changedNames(ev.Paths)))
		}
		m.main.log.Reset([]string{f.choice.plan.Profile.Name})
	case watch.Build:
		f.applyBuild(m, ev.Event)
	case watch.Deploy:
		if s, ok := ev.Event.(remote.Step); ok && !s.Done {
			f.stage = s.Name
		}
	case watch.Deployed:
		f.stage = "restarting"
		run.Append(0, "armbench: "+installedWords(ev.Installed))
	case watch.EnvSet:
		f.envSet(m, ev)
	default:
		f.applyProgram(m, t, we.ev)
	}
}

// applyBuild draws a cycle's build in the log pane; a failed build shows
// there and leaves the program running.
func (f *watchFlow) applyBuild(m *Model, ev build.Event) {
	log := m.main.log
	switch ev := ev.(type) {
	case build.Started:
		log.Append(0, "$ "+ev.Command)
	case build.Line:
		log.Append(0, ev.Text)
	case build.Finished:
		if r := ev.Result; r.Err != nil {
			log.Append(0, "armbench: "+r.Err.Error())
			log.SetState(0, stateFailed)
			return
		}
		log.SetState(0, stateOK)
		f.stage = "deploying"
	}
}

func (f *watchFlow) applyProgram(m *Model, t *task, e watch.Event) {
	run := m.main.run
	switch ev := e.(type) {
	case watch.Stopping:
		run.Append(0, fmt.Sprintf("armbench: stopping cycle %d's program: SIG%s, SIGKILL after %s", ev.Cycle, ev.Signal, ev.KillDelay))
	case watch.Started:
		f.stage = "running"
		what := shell.Join(append([]string{ev.Command.Path}, ev.Command.Args...)...)
		if ev.Service != "" {
			what += " (unit " + ev.Service + ")"
		}
		if len(f.overrides) > 0 && f.applied == "" {
			what += " · kept " + overrideWords(f.overrides)
		}
		run.Append(0, fmt.Sprintf("armbench: cycle %d running: %s", ev.Cycle, what))
		run.SetState(0, stateRunning)
		if f.applied != "" {
			run.Started(live.Started{Settings: f.want, Env: ev.Command.Env, Change: f.applied, Restart: true})
			m.notice = "restarted with " + f.applied
			m.logf("watch %d: cycle %d restarted with %s", t.id, ev.Cycle, f.applied)
			f.applied = ""
		}
	case watch.Program:
		if o, ok := ev.Event.(remote.Output); ok {
			run.Append(0, o.Text)
		}
	case watch.Exited:
		f.exited(m, ev)
	case watch.Failed:
		f.stage = ev.Stage + " failed"
		t.err = ev.Err
		run.Append(0, fmt.Sprintf("armbench: cycle %d: %s failed, old program kept: %s", ev.Cycle, ev.Stage, firstLine(connectErrorText(ev.Err))))
		if ev.Stage == watch.StageBuild {
			m.notice = "build failed: the log pane (1) has the errors; the program keeps running"
		}
	case watch.Superseded:
		run.Append(0, fmt.Sprintf("armbench: cycle %d: newer saves during its %s: starting again", ev.Cycle, ev.Stage))
	case watch.Warning:
		run.Append(0, "armbench: warning: "+firstLine(ev.Err.Error()))
	}
}

// envSet says where a knob's new value goes: a restart now, or the start
// of the cycle in flight (or of the first program).
func (f *watchFlow) envSet(m *Model, ev watch.EnvSet) {
	f.overrides = ev.Overrides
	what := f.change // the knob's words: "GOGC=100" where the engine says "GOGC unset"
	if what == "" {
		what = ev.Change
	}
	if what == "" {
		what = "the profile's settings"
	}
	f.applied = what
	switch {
	case ev.Restart:
		f.cycle, f.stage = ev.Cycle, "restarting"
		m.main.run.Append(0, fmt.Sprintf("armbench: cycle %d: restarting with %s, no rebuild", ev.Cycle, what))
	case ev.Cycle > 0:
		m.main.run.Append(0, fmt.Sprintf("armbench: %s: taken once cycle %d is done", what, ev.Cycle))
	default:
		m.main.run.Append(0, fmt.Sprintf("armbench: %s: the first program starts with it", what))
	}
}

// overrideWords is the overrides in force: "GOGC=200 GOMAXPROCS=1".
func overrideWords(o watch.Overrides) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(o)) {
		parts = append(parts, k+"="+o[k])
	}
	return strings.Join(parts, " ")
}

func (f *watchFlow) exited(m *Model, ev watch.Exited) {
	run := m.main.run
	switch {
	case ev.Stopped:
		run.Append(0, fmt.Sprintf("armbench: cycle %d's program stopped", ev.Cycle))
	case ev.Err != nil:
		run.Append(0, fmt.Sprintf("armbench: cycle %d's program: %s", ev.Cycle, firstLine(connectErrorText(ev.Err))))
		run.SetState(0, stateFailed)
	default:
		run.Append(0, fmt.Sprintf("armbench: cycle %d's program exited %d after %s; a save restarts it", ev.Cycle, ev.Status.Code, seconds(ev.Status.Duration)))
		if ev.Status.Code == 0 {
			run.SetState(0, stateOK)
		} else {
			run.SetState(0, stateFailed)
		}
	}
	if !ev.Stopped {
		f.stage = "waiting for a save"
	}
}

func (f *watchFlow) stop(m *Model, _ *task, err error) {
	m.main.run.EndLive()
	if errors.Is(err, context.Canceled) {
		m.main.run.Append(0, "armbench: stopped watching and the program on the device")
		m.main.run.SetState(0, stateCancelled)
		return
	}
	m.main.run.Append(0, "armbench: "+connectErrorText(err))
	m.main.run.SetState(0, stateFailed)
}

func (f *watchFlow) finish(m *Model, _ *task) tea.Cmd {
	m.main.run.EndLive()
	return nil
}

func (f *watchFlow) status(m *Model, t *task) []string {
	extra := ""
	if f.cycle > 0 {
		extra = fmt.Sprintf(" · cycle %d %s · %d files watched", f.cycle, f.stage, f.files)
	}
	return m.taskLine(t, "watching", extra)
}

// changedNames lists the saved files by base name, at most three.
func changedNames(paths []string) string {
	var names []string
	for i, p := range paths {
		if i == 3 {
			names = append(names, fmt.Sprintf("and %d more", len(paths)-3))
			break
		}
		names = append(names, filepath.Base(p))
	}
	return strings.Join(names, ", ")
}

func installedWords(in remote.Installed) string {
	if in.Skipped {
		return "deployed: unchanged on the device"
	}
	sent := size(in.WireBytes) + " sent" // in 80 columns with the rest
	if kind := deltaWords(in); kind != "" {
		sent += ", " + kind
	}
	return fmt.Sprintf("deployed %s (%s) in %s", filepath.Base(in.Path), sent, seconds(in.Duration))
}
