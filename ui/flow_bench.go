package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"armbench/bench"
	"armbench/build"
	"armbench/profiles"
	"armbench/remote"
	"armbench/state"
	"armbench/targets"
)

// r runs a bench session over the ticked profiles with the same Spec
// `armbench bench` builds: the live samples in the bench pane, the
// comparison of the profiles in the compare pane.
func benchAction() action {
	return action{key: newKey("r", "bench"), short: true, ready: (*Model).tickedReady, start: (*Model).startBench}
}

// BenchOptions are the TUI's bench session settings; zero values take the
// same defaults as `armbench bench`.
type BenchOptions struct {
	Count     int    // rounds that count (default bench.DefaultCount)
	Warmup    *int   // rounds run first and discarded (nil = bench.DefaultWarmup; 0 = none)
	Bench     string // -test.bench regexp (default ".")
	Benchtime string // -test.benchtime ("" = the go default)
	RunsDir   string // where runs are stored ("" = .armbench/runs in the module root)
}

// benchResult is the comparison table of a finished session.
type benchResult struct {
	run *bench.Run
	tab *bench.Table
	err error
}

type benchFlow struct{ spec bench.Spec }

func (m *Model) startBench() tea.Cmd {
	tg, ok := m.idleTarget()
	if !ok {
		return nil
	}
	sel := m.profiles.Selected()
	if len(sel) == 0 {
		m.notice = m.tickedReady()
		return nil
	}
	var plans []profiles.Plan
	for _, p := range sel {
		plan, err := m.env.resolve(tg, p, profiles.Options{Pkg: m.common.Pkg, Dir: m.common.Dir, OutRoot: m.env.outRoot, Mode: profiles.ModeTest})
		if err != nil {
			m.notice = fmt.Sprintf("plan %s: %v", p.Name, err)
			return nil
		}
		plans = append(plans, plan)
	}
	spec := m.env.bench.spec(tg, plans)
	spec.OutRoot = m.env.outRoot
	spec.History = state.History{Dir: m.env.remote.StateDir}
	if len(plans) == 1 {
		m.notice = "one profile: a comparison needs two or more ticked"
	}
	names := make([]string, len(plans))
	for i, p := range plans {
		names[i] = p.Profile.Name
	}
	return m.follow(m.startTask("bench", tg.Name, names, &benchFlow{spec: spec}))
}

// spec is the session the options describe: `armbench bench`'s defaults
// (bench.NewSpec) with what the options set on top.
func (o BenchOptions) spec(t targets.Target, plans []profiles.Plan) bench.Spec {
	s := bench.NewSpec(t, plans)
	s.Benchtime, s.RunsDir = o.Benchtime, o.RunsDir
	if o.Bench != "" {
		s.Bench = o.Bench
	}
	if o.Count != 0 {
		s.Count = o.Count
	}
	if o.Warmup != nil {
		s.Warmup = *o.Warmup
	}
	return s
}

func (f *benchFlow) begin(m *Model, t *task) func(context.Context, func(any)) {
	m.main.bench.Reset(t.profiles)
	m.main.log.Reset(t.profiles)
	m.showMain(paneBench)
	m.logf("bench %d: %s, count %d", t.id, t.what(), f.spec.Count)
	device, spec, obs := m.env.device, f.spec, m.observer(f.spec.Target.Name)
	return onDevice(device, spec.Target, func(ctx context.Context, dev remote.Device, emit func(any)) {
		run, err := bench.Execute(ctx, spec, dev, func(ev bench.Event) {
			if obs != nil {
				obs.Observe(ev)
			}
			emit(ev)
		})
		if err != nil {
			return // Finished carried the error
		}
		tab, err := bench.Compare(run)
		emit(benchResult{run: run, tab: tab, err: err})
	})
}

func (f *benchFlow) apply(m *Model, t *task, e any) {
	switch ev := e.(type) {
	case bench.Event:
		m.main.bench.Push(ev)
		f.applyBench(m, t, ev)
	case benchResult:
		if ev.err != nil {
			t.err = ev.err
			t.summary = "bench ran, but comparing the results failed: " + firstLine(ev.err.Error())
			return
		}
		m.main.compare.SetTable(ev.tab)
		where := "kept in memory"
		if ev.run.Dir != "" {
			where = "stored in " + relPath(ev.run.Dir)
		}
		// The path first: at 80 columns the rest may be cut.
		m.main.compare.SetFooter(where)
		m.main.compare.SetExport(ev.run.Dir, t.target+" · "+strings.Join(ev.tab.Columns, " vs ")+" · run "+ev.run.ID)
		t.summary = fmt.Sprintf("bench %s · %s in %s", where, t.what(), seconds(t.end.Sub(t.start)))
		m.logf("bench %d: %s", t.id, where)
		m.showMain(paneCompare)
	}
}

// applyBench puts the session's build output in the build log, its tabs
// ending as the builds do, and notes how the session ended.
func (f *benchFlow) applyBench(m *Model, t *task, ev bench.Event) {
	switch ev := ev.(type) {
	case bench.Building:
		if ev.Index < 0 {
			return
		}
		switch b := ev.Event.(type) {
		case build.Started:
			m.main.log.Append(ev.Index, "$ "+b.Command)
		case build.Line:
			m.main.log.Append(ev.Index, b.Text)
		case build.Finished:
			state := stateOK
			if b.Result.Err != nil {
				state = stateFailed
				m.main.log.Append(ev.Index, "armbench: "+b.Result.Err.Error())
			}
			m.main.log.SetState(ev.Index, state)
		}
	case bench.Finished:
		t.end = m.env.now()
		if ev.Err != nil {
			m.main.log.EndRunning(stateFailed)
			t.err = ev.Err
			if !errors.Is(ev.Err, context.Canceled) {
				t.summary = "bench failed: " + firstLine(ev.Err.Error())
			}
			m.logf("bench %d: %v", t.id, ev.Err)
		} else if ev.Run != nil && ev.Run.Dir != "" {
			m.main.bench.SetFooter("stored in " + relPath(ev.Run.Dir))
		}
	}
}

func (f *benchFlow) stop(m *Model, _ *task, err error) {
	if errors.Is(err, context.Canceled) {
		m.main.log.EndRunning(stateCancelled)
		m.main.bench.Cancel()
		return
	}
	m.main.log.EndRunning(stateFailed)
	m.main.bench.Push(bench.Finished{Err: err})
}

func (f *benchFlow) finish(*Model, *task) tea.Cmd { return nil }

func (f *benchFlow) status(m *Model, t *task) []string {
	extra := ""
	if phase := m.main.bench.Phase(); phase != "" {
		extra = " · " + phase
	}
	return m.taskLine(t, "benching", extra)
}
