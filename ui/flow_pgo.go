package ui

import (
	"context"
	"errors"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"armbench/bench"
	"armbench/build"
	"armbench/pgo"
	"armbench/profiles"
	"armbench/remote"
	"armbench/state"
)

// P profiles the benchmarks on the device, writes the package's
// default.pgo and benchmarks speed without and with it, as `armbench pgo`
// does: the live rounds in the bench pane, the result in the compare
// pane. A default.pgo already there is merged only after y.
func pgoAction() action {
	return action{key: newKey("P", "PGO from the device"), ready: (*Model).blocked, start: func(m *Model) tea.Cmd { return m.startPGO(false) }}
}

// pgoRefused is the event of a run that stopped before building because
// the package has a default.pgo and merging was not agreed to.
type pgoRefused struct{}

type pgoFlow struct {
	benchFlow // the comparison is a bench session; its events draw as r's do
	spec      pgo.Spec
}

func (m *Model) startPGO(merge bool) tea.Cmd {
	tg, ok := m.idleTarget()
	if !ok {
		return nil
	}
	speed, ok := profiles.Find(m.common.Profiles, "speed")
	if !ok {
		m.notice = "PGO needs the speed profile, which this workspace does not have"
		return nil
	}
	cmp := m.env.bench.spec(tg, nil)
	cmp.History = state.History{Dir: m.env.remote.StateDir}
	spec := pgo.Spec{
		Target: tg, Profile: speed, Pkg: m.common.Pkg, Dir: m.common.Dir, OutRoot: m.env.outRoot,
		Bench: cmp.Bench, Merge: merge, Compare: cmp,
	}
	names := []string{speed.Name + "-nopgo", speed.Name + "-pgo"}
	if merge {
		names[0] = speed.Name + "-oldpgo"
	}
	return m.follow(m.startTask("pgo", tg.Name, names, &pgoFlow{spec: spec}))
}

func (f *pgoFlow) begin(m *Model, t *task) func(context.Context, func(any)) {
	m.main.bench.Reset(t.profiles)
	m.main.log.Reset([]string{"profiling"})
	m.showMain(paneLog)
	m.logf("pgo %d: %s, merge %v", t.id, t.what(), f.spec.Merge)
	device, spec, obs := m.env.device, f.spec, m.observer(f.spec.Target.Name)
	return onDevice(device, spec.Target, func(ctx context.Context, dev remote.Device, emit func(any)) {
		res, err := pgo.Run(ctx, spec, dev, func(ev pgo.Event) {
			if b, ok := ev.(pgo.Benching); ok {
				if obs != nil {
					obs.Observe(b.Event)
				}
				emit(b.Event) // drawn by the bench flow
				return
			}
			emit(ev)
		})
		switch {
		case errors.Is(err, pgo.ErrExists):
			emit(pgoRefused{})
			return
		case err != nil:
			emit(bench.Finished{Err: err})
			return
		}
		tab, err := bench.Compare(res.Run)
		emit(benchResult{run: res.Run, tab: tab, err: err})
	})
}

func (f *pgoFlow) apply(m *Model, t *task, e any) {
	log := m.main.log
	switch ev := e.(type) {
	case pgo.Step:
		f.step(m, ev)
	case pgo.Building:
		switch b := ev.Event.(type) {
		case build.Started:
			log.Append(0, "$ "+b.Command)
		case build.Line:
			log.Append(0, b.Text)
		}
	case pgo.Output:
		log.Append(0, ev.Event.Text)
	case pgoRefused:
		t.end = m.env.now()
		t.summary = "PGO: the package already has default.pgo"
		m.push(newPGOMergeConfirm(m.common.Styles, func() tea.Cmd { return m.startPGO(true) }))
	default:
		f.benchFlow.apply(m, t, e)
		if _, done := e.(benchResult); done && t.err == nil {
			t.summary = "PGO: default.pgo written; " + strings.TrimPrefix(t.summary, "bench ")
		}
	}
}

// step notes the PGO stages in the log pane, where the profiling run's
// output goes; the comparison then moves to the bench pane.
func (f *pgoFlow) step(m *Model, s pgo.Step) {
	log := m.main.log
	switch {
	case s.Err != nil:
		log.Append(0, "armbench: "+s.Name+" failed: "+firstLine(s.Err.Error()))
		log.SetState(0, stateFailed)
	case s.Name == "collect" && !s.Done:
		log.Append(0, "armbench: profiling on the device: "+s.Detail)
	case s.Name == "write" && s.Done:
		log.Append(0, "armbench: wrote "+relPath(s.Detail))
		log.SetState(0, stateOK)
	case s.Name == "compare" && !s.Done:
		m.showMain(paneBench)
	}
}

func (f *pgoFlow) status(m *Model, t *task) []string { return m.benchTaskLine(t, "PGO") }

// pgoMergeConfirm asks before P merges into a default.pgo the user has:
// only y merges (the old file is kept as default.pgo.prev).
type pgoMergeConfirm struct {
	st  *Styles
	yes func() tea.Cmd
}

func newPGOMergeConfirm(st *Styles, yes func() tea.Cmd) (*pgoMergeConfirm, tea.Cmd) {
	return &pgoMergeConfirm{st: st, yes: yes}, nil
}

func (p *pgoMergeConfirm) Title() string    { return "PGO" }
func (p *pgoMergeConfirm) SetSize(int, int) {}

func (p *pgoMergeConfirm) KeyMap() help.KeyMap {
	return overlayKeys{
		key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "merge")),
		key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "leave it")),
	}
}

func (p *pgoMergeConfirm) Update(msg tea.Msg) (tea.Cmd, bool) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil, false
	}
	if k.String() != "y" && k.String() != "Y" {
		return nil, true
	}
	return p.yes(), true
}

func (p *pgoMergeConfirm) View() string {
	return strings.Join([]string{
		p.st.TitleFocus.Render("the package already has a default.pgo: merge the device's profile into it? y/N"),
		"",
		"The old file is kept as default.pgo.prev, and the comparison runs",
		"speed with the old profile against speed with the merged one.",
		"",
		p.st.Dim.Render("y merge · n/esc leave default.pgo as it is"),
	}, "\n")
}
