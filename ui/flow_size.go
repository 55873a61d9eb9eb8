package ui

import (
	"context"
	"fmt"
	"path/filepath"

	tea "charm.land/bubbletea/v2"

	"armbench/bench"
	"armbench/build"
	"armbench/profiles"
	binsize "armbench/size"
)

// z builds the ticked profiles' binaries (the build cache answers when
// they are current) and shows where their bytes go, package by package,
// side by side in the compare pane, as `armbench size` prints it. A
// stripped binary is measured with an unstripped twin built beside it.
func sizeAction() action {
	return action{key: newKey("z", "size by package"), ready: (*Model).planReady, start: (*Model).startSize}
}

// sizeTop is how many packages the pane lists before summing the rest.
const sizeTop = 15

// sizeMeasured is the end of a size task: one breakdown per plan.
type sizeMeasured struct {
	sizes []*binsize.Breakdown
	err   error
}

type sizeFlow struct{ plans []profiles.Plan }

func (m *Model) startSize() tea.Cmd {
	tg, plans, names, ok := m.chosenPlans()
	if !ok {
		return nil
	}
	return m.follow(m.startTask("size", tg.Name, names, &sizeFlow{plans: plans}))
}

func (f *sizeFlow) begin(m *Model, t *task) func(context.Context, func(any)) {
	m.main.log.Reset(t.profiles)
	m.showMain(paneLog)
	m.logf("size %d: %s", t.id, t.what())
	plans, resolve, outRoot := f.plans, m.env.resolve, m.env.outRoot
	pkg, dir := m.common.Pkg, m.common.Dir
	return func(ctx context.Context, emit func(any)) {
		var out []*binsize.Breakdown
		for i, plan := range plans {
			logTo := func(ev build.Event) { emit(buildEvent{i, ev}) }
			b, err := measureSize(ctx, plan, logTo, func(p profiles.Profile) (profiles.Plan, error) {
				root := filepath.Join(outRoot, "unstripped")
				if outRoot == "" {
					root = filepath.Join(dir, profiles.DefaultOutRoot, "unstripped")
				}
				return resolve(plan.Target, p, profiles.Options{Pkg: pkg, Dir: dir, OutRoot: root, Mode: profiles.ModeBinary})
			})
			if err != nil {
				emit(sizeMeasured{err: err})
				return
			}
			out = append(out, b)
		}
		emit(sizeMeasured{sizes: out})
	}
}

// measureSize builds plan (and, when it strips, its twin) and breaks the
// binary down.
func measureSize(ctx context.Context, plan profiles.Plan, logTo func(build.Event), twinPlan func(profiles.Profile) (profiles.Plan, error)) (*binsize.Breakdown, error) {
	r := build.Run(ctx, plan, logTo)
	if r.Err != nil {
		return nil, r.Err
	}
	if !r.Artifact.Stripped {
		return binsize.Analyze(r.Artifact.Path)
	}
	twin, ok := binsize.TwinProfile(plan.Profile)
	if !ok {
		return binsize.Analyze(r.Artifact.Path)
	}
	tp, err := twinPlan(twin)
	if err != nil {
		return nil, err
	}
	tr := build.Run(ctx, tp, logTo)
	if tr.Err != nil {
		return nil, fmt.Errorf("unstripped twin of %s: %w", plan.Profile.Name, tr.Err)
	}
	return binsize.AnalyzeTwin(r.Artifact.Path, tr.Artifact.Path)
}

func (f *sizeFlow) apply(m *Model, t *task, e any) {
	switch ev := e.(type) {
	case buildEvent:
		switch b := ev.ev.(type) {
		case build.Started:
			m.main.log.Append(ev.i, "$ "+b.Command)
		case build.Line:
			m.main.log.Append(ev.i, b.Text)
		case build.Finished:
			if b.Result.Err != nil {
				m.main.log.Append(ev.i, "armbench: "+b.Result.Err.Error())
				m.main.log.SetState(ev.i, stateFailed)
			}
		}
	case sizeMeasured:
		t.end = m.env.now()
		if ev.err != nil {
			t.err = ev.err
			t.summary = "size failed: " + firstLine(ev.err.Error())
			m.main.log.EndRunning(stateFailed)
			return
		}
		m.main.log.EndRunning(stateOK)
		m.main.compare.SetTable(binsize.Table(t.profiles, ev.sizes, sizeTop))
		m.main.compare.SetFooter("size by package")
		t.summary = fmt.Sprintf("size of %s: %s", t.what(), bench.FormatBytes(float64(ev.sizes[0].FileSize)))
		m.showMain(paneCompare)
	}
}

func (f *sizeFlow) stop(m *Model, _ *task, _ error) { m.main.log.EndRunning(stateCancelled) }

func (f *sizeFlow) finish(*Model, *task) tea.Cmd { return nil }

func (f *sizeFlow) status(m *Model, t *task) []string { return m.taskLine(t, "sizing", "") }
