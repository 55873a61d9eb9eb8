package ui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
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
	if why := m.blocked(); why != "" {
		m.notice = why
		return nil
	}
	boards := m.benchTargets()
	if len(boards) == 0 {
		return nil
	}
	sel := m.profiles.Selected()
	if len(sel) == 0 {
		m.notice = m.tickedReady()
		return nil
	}
	var specs []bench.Spec
	for _, tg := range boards {
		var plans []profiles.Plan
		for _, p := range sel {
			plan, err := m.env.resolve(tg, p, profiles.Options{Pkg: m.common.Pkg, Dir: m.common.Dir, OutRoot: m.env.outRoot, Mode: profiles.ModeTest})
			if err != nil {
				m.notice = fmt.Sprintf("plan %s/%s: %v", tg.Name, p.Name, err)
				return nil
			}
			plans = append(plans, plan)
		}
		spec := m.env.bench.spec(tg, plans)
		spec.OutRoot = m.env.outRoot
		spec.History = state.History{Dir: m.env.remote.StateDir}
		specs = append(specs, spec)
	}
	names := make([]string, len(sel))
	for i, p := range sel {
		names[i] = p.Name
	}
	if len(specs) > 1 {
		var boardNames, labels []string
		for _, s := range specs {
			boardNames = append(boardNames, s.Target.Name)
			for _, p := range names {
				labels = append(labels, bench.ColumnLabel(s.Target.Name, p))
			}
		}
		return m.follow(m.startTask("bench", strings.Join(boardNames, ","), names, &boardsFlow{specs: specs, labels: labels}))
	}
	if len(names) == 1 {
		m.notice = "one profile: a comparison needs two or more ticked (or two targets)"
	}
	return m.follow(m.startTask("bench", specs[0].Target.Name, names, &benchFlow{spec: specs[0]}))
}

// benchTargets are the boards r benches on: the ticked targets; with none
// ticked, the chosen target, or the chosen group's members.
func (m *Model) benchTargets() []targets.Target {
	if ts := m.targets.Ticked(); len(ts) > 0 {
		return ts
	}
	if _, members, ok := m.targets.ChosenGroup(); ok {
		return members
	}
	if t, ok := m.targets.Chosen(); ok {
		return []targets.Target{t}
	}
	m.notice = "bench: choose a target with enter, or tick targets with space"
	return nil
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

func (f *benchFlow) status(m *Model, t *task) []string { return m.benchTaskLine(t, "benching") }

// boardsFlow benches the ticked profiles on several boards at once, as
// `armbench bench --target A,B`: the bench pane and the build log have a
// block and a tab per board × profile ("pi4/default"), and the compare
// pane one column each, the first board's first profile the base.
type boardsFlow struct {
	specs  []bench.Spec
	labels []string // the columns, board by board
}

// boardConnectFailed is a board that could not be reached; the task's
// connection failure handling (host key prompts) is the board's.
type boardConnectFailed struct {
	target string
	err    error
}

// boardsResult is the comparison of the boards that finished, and how
// the others failed.
type boardsResult struct {
	runs []*bench.Run
	tab  *bench.Table
	err  error
}

func (f *boardsFlow) begin(m *Model, t *task) func(context.Context, func(any)) {
	m.main.bench.Reset(f.labels)
	m.main.log.Reset(f.labels)
	m.showMain(paneBench)
	m.logf("bench %d: %s on %d boards, count %d", t.id, t.what(), len(f.specs), f.specs[0].Count)
	// The metrics exporter serves one target's samples: the base board's.
	connect, specs, obs := m.env.device, f.specs, m.observer(f.specs[0].Target.Name)
	return func(ctx context.Context, emit func(any)) {
		devs := make([]remote.Device, len(specs))
		for i, s := range specs {
			dev, err := connect(ctx, s.Target)
			if err != nil {
				emit(boardConnectFailed{target: s.Target.Name, err: err})
				return
			}
			devs[i] = dev
		}
		runs, err := bench.ExecuteBoards(ctx, specs, devs, func(ev bench.Event) {
			if b, ok := ev.(bench.BoardEvent); ok && b.Board == 0 && obs != nil {
				obs.Observe(b.Event)
			}
			emit(ev)
		})
		var done []*bench.Run
		for _, r := range runs {
			if r != nil {
				done = append(done, r)
			}
		}
		res := boardsResult{runs: done, err: err}
		if len(done) > 0 {
			tab, cerr := bench.Compare(done...)
			res.tab, res.err = tab, errors.Join(err, cerr)
		}
		emit(res)
	}
}

func (f *boardsFlow) apply(m *Model, t *task, e any) {
	switch ev := e.(type) {
	case boardConnectFailed:
		// The host key prompt and its retry look the board up by the
		// task's target.
		all := t.target
		t.target = ev.target
		m.connectFailed(t, ev.err)
		t.target = all
	case bench.BoardEvent:
		flat := ev.Flat()
		if fin, ok := flat.(bench.Finished); ok {
			// One board is done; the session ends with boardsResult.
			if fin.Err != nil && !errors.Is(fin.Err, context.Canceled) {
				m.logf("bench %d: %s: %v", t.id, ev.Target, fin.Err)
			}
			return
		}
		m.main.bench.Push(flat)
		(&benchFlow{}).applyBench(m, t, flat)
	case boardsResult:
		t.end = m.env.now()
		state := stateOK
		if ev.err != nil {
			t.err, state = ev.err, stateFailed
		}
		m.main.log.EndRunning(state)
		m.main.bench.Push(bench.Finished{Err: ev.err})
		if ev.tab == nil {
			if ev.err != nil && !errors.Is(ev.err, context.Canceled) {
				t.summary = "bench failed: " + firstLine(ev.err.Error())
			}
			return
		}
		where, ids := storedWhere(ev.runs)
		m.main.compare.SetTable(ev.tab)
		m.main.compare.SetFooter(where)
		if ev.runs[0].Dir != "" {
			// The exports go with the base board's run.
			m.main.compare.SetExport(ev.runs[0].Dir, t.target+" · "+strings.Join(ev.tab.Columns, " vs ")+" · runs "+strings.Join(ids, ", "))
		}
		switch {
		case ev.err != nil:
			t.summary = "bench: some boards failed: " + firstLine(ev.err.Error())
		default:
			t.summary = fmt.Sprintf("bench %s · %s in %s", where, t.what(), seconds(t.end.Sub(t.start)))
		}
		m.logf("bench %d: %s", t.id, where)
		m.showMain(paneCompare)
	}
}

func (f *boardsFlow) stop(m *Model, t *task, err error) { (&benchFlow{}).stop(m, t, err) }

func (f *boardsFlow) finish(*Model, *task) tea.Cmd { return nil }

func (f *boardsFlow) status(m *Model, t *task) []string {
	return (&benchFlow{}).status(m, t)
}

// storedWhere says where runs are stored, the folder first so that 80
// columns show it: "stored in .armbench/runs (ID, ID)".
func storedWhere(runs []*bench.Run) (where string, ids []string) {
	parents := map[string]bool{}
	var dirs []string
	for _, r := range runs {
		ids = append(ids, r.ID)
		if r.Dir != "" {
			dirs = append(dirs, relPath(r.Dir))
			parents[filepath.Dir(r.Dir)] = true
		}
	}
	switch {
	case len(dirs) == 0:
		return "kept in memory", ids
	case len(parents) == 1 && len(dirs) == len(runs):
		return "stored in " + relPath(filepath.Dir(runs[0].Dir)) + " (" + strings.Join(ids, ", ") + ")", ids
	}
	return "stored in " + strings.Join(dirs, ", "), ids
}
