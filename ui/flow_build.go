package ui

import (
	"context"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"armbench/build"
	"armbench/profiles"
	"armbench/targets"
)

// b builds the ticked profiles (or, with none ticked, the one the plan
// pane previews) for the chosen target, streaming the go command's output
// into the build log, one tab per profile.
func buildAction() action {
	return action{key: newKey("b", "build"), short: true, ready: (*Model).idle, start: (*Model).startBuild}
}

// buildEvent is one build event of profile i.
type buildEvent struct {
	i  int
	ev build.Event
}

// buildFlow builds plans; then, when set, starts what follows a build
// where every profile succeeded (a deploy).
type buildFlow struct {
	target targets.Target
	plans  []profiles.Plan
	then   func(m *Model, b *buildFlow, t *task) tea.Cmd

	states   []buildState
	results  []*build.Result
	firstErr []string // each profile's first compile error line
}

func (m *Model) startBuild() tea.Cmd { return m.buildChosen(nil) }

// buildChosen starts the build of the chosen target, or puts in the
// notice why it cannot (and returns nil). With nothing ticked, b builds
// the profile the plan pane previews, as d deploys it: what is on screen
// is what runs.
func (m *Model) buildChosen(then func(*Model, *buildFlow, *task) tea.Cmd) tea.Cmd {
	tg, plans, names, ok := m.chosenPlans()
	if !ok {
		return nil
	}
	f := &buildFlow{target: tg, plans: plans, then: then}
	return m.follow(m.startTask("build", tg.Name, names, f))
}

// chosenPlans is the chosen target and the plans b, d and z act on (the
// ticked profiles, or the one under the cursor), with their profile
// names; or ok false with the notice saying why not.
func (m *Model) chosenPlans() (tg targets.Target, plans []profiles.Plan, names []string, ok bool) {
	if tg, ok = m.idleTarget(); !ok {
		return tg, nil, nil, false
	}
	plans, err := m.deployPlans()
	if err != nil {
		m.notice = err.Error()
		return tg, nil, nil, false
	}
	for _, p := range plans {
		names = append(names, p.Profile.Name)
	}
	return tg, plans, names, true
}

func (f *buildFlow) begin(m *Model, t *task) func(context.Context, func(any)) {
	n := len(f.plans)
	f.states, f.results, f.firstErr = make([]buildState, n), make([]*build.Result, n), make([]string, n)
	m.main.log.Reset(t.profiles)
	m.showMain(paneLog)
	m.logf("build %d: %s", t.id, t.what())
	runAll, plans := m.env.runAll, f.plans
	if f.then != nil && m.env.prewarm != nil {
		f.prewarm(m)
	}
	return func(ctx context.Context, emit func(any)) {
		runAll(ctx, plans, 0, func(i int, ev build.Event) { emit(buildEvent{i, ev}) })
	}
}

// prewarm connects to the device and asks the deploy's first question
// while the build runs, as `armbench deploy` does: the two are
// independent, and on a slow link the handshake is most of a small
// deploy. It runs in the background on the workbench's context; its error
// is the deploy's to report, when it meets it.
func (f *buildFlow) prewarm(m *Model) {
	names := make([]string, len(f.plans))
	for i, p := range f.plans {
		names[i] = p.DeployName()
	}
	prewarm, ctx, tg := m.env.prewarm, m.env.ctx, f.target
	go func() {
		if err := prewarm(ctx, tg, names...); err != nil {
			m.env.logger.Printf("prewarm %s: %v", tg.Name, err)
		}
	}()
}

func (f *buildFlow) apply(m *Model, t *task, e any) {
	be, ok := e.(buildEvent)
	if !ok {
		return
	}
	if l, ok := be.ev.(build.Line); ok && f.firstErr[be.i] == "" && errorLocation(l.Text) != "" {
		f.firstErr[be.i] = strings.TrimSpace(l.Text)
	}
	state, finished := logBuildEvent(m.main.log, be.i, be.ev)
	if !finished {
		return
	}
	r := be.ev.(build.Finished).Result
	f.results[be.i] = &r
	f.setState(m, be.i, state)
	m.logf("build %d: %s finished: %v", t.id, r.Profile, r.Err)
}

// logBuildEvent writes one build event into tab i of the log pane; once
// the build finished it says so, with the tab's new state.
func logBuildEvent(log *LogPane, i int, ev build.Event) (buildState, bool) {
	switch ev := ev.(type) {
	case build.Started:
		log.Append(i, "$ "+ev.Command)
	case build.Line:
		log.Append(i, ev.Text)
	case build.Finished:
		r := ev.Result
		state := stateOK
		if r.Err != nil || r.Artifact == nil {
			state = stateFailed
			if r.Err != nil {
				log.Append(i, "armbench: "+r.Err.Error())
			}
		} else {
			log.Append(i, fmt.Sprintf("armbench: built %s (%s)", r.Output, size(r.Artifact.Size)))
		}
		if r.LogPath != "" {
			log.Append(i, "armbench: full log in "+r.LogPath)
		}
		return state, true
	}
	return 0, false
}

func (f *buildFlow) setState(m *Model, i int, s buildState) {
	f.states[i] = s
	m.main.log.SetState(i, s)
}

// endRunning gives the profiles still building state s.
func (f *buildFlow) endRunning(m *Model, s buildState) {
	for i, st := range f.states {
		if st == stateRunning {
			f.setState(m, i, s)
		}
	}
}

func (f *buildFlow) stop(m *Model, _ *task, _ error) { f.endRunning(m, stateCancelled) }

func (f *buildFlow) finish(m *Model, t *task) tea.Cmd {
	f.endRunning(m, stateFailed) // no Finished event: the build never reported back
	if f.then == nil {
		return nil
	}
	return f.then(m, f, t)
}

// maxStatusProfiles caps the per-profile status lines; the log tabs show
// the rest.
const maxStatusProfiles = 3

// status is what the build is doing, then each profile's outcome with its
// artifact summary.
func (f *buildFlow) status(m *Model, t *task) []string {
	st, w, now := m.common.Styles, m.common.Width, m.env.now()
	var out []string
	add := func(l string) { out = append(out, fit(l, w)) }
	what := t.what()
	switch {
	case t.running():
		add(st.Running.Render(m.spinner.View()+" building "+what) + st.Dim.Render(" · "+seconds(now.Sub(t.start))+" · x cancels"))
	case t.cancelled:
		add(st.Cancelled.Render("cancelled ") + what + st.Dim.Render(" after "+seconds(t.end.Sub(t.start))))
	default:
		ok := 0
		for _, s := range f.states {
			if s == stateOK {
				ok++
			}
		}
		label := st.OK.Render("built ")
		if ok < len(f.states) {
			label = st.Fail.Render(fmt.Sprintf("%d of %d failed ", len(f.states)-ok, len(f.states)))
		}
		add(label + what + st.Dim.Render(" in "+seconds(t.end.Sub(t.start))))
	}
	nameW := 0
	for _, p := range t.profiles {
		nameW = max(nameW, len(p))
	}
	for i := range t.profiles {
		if i == maxStatusProfiles && len(t.profiles) > maxStatusProfiles+1 {
			add(st.Dim.Render(fmt.Sprintf("  … %d more: [ and ] switch log tabs", len(t.profiles)-i)))
			break
		}
		add("  " + pad(t.profiles[i], nameW) + "  " + f.profileLine(m, t, i))
	}
	return out
}

func (f *buildFlow) profileLine(m *Model, t *task, i int) string {
	st := m.common.Styles
	r := f.results[i]
	switch f.states[i] {
	case stateRunning:
		return st.Running.Render("building") + " " + seconds(m.env.now().Sub(t.start))
	case stateCancelled:
		return st.Cancelled.Render("cancelled")
	case stateFailed:
		return st.Fail.Render("FAILED") + f.failure(st, i)
	}
	msg := st.OK.Render("ok") + " "
	if r == nil {
		return msg
	}
	return msg + artifactSummary(r)
}

// failure is what follows FAILED: how long, the exit code, and the
// compiler's words or the failed checks.
func (f *buildFlow) failure(st *Styles, i int) string {
	r := f.results[i]
	if r == nil {
		return ""
	}
	msg := " " + seconds(r.Duration)
	if r.ExitCode > 0 {
		msg += fmt.Sprintf(" exit %d", r.ExitCode)
	}
	if r.Artifact != nil {
		if bad := failedChecks(r.Artifact); bad != "" {
			return msg + " checks: " + bad
		}
	}
	switch {
	case f.firstErr[i] != "":
		// The compiler's words beat "exit status 1"; e finds the line.
		msg += " " + f.firstErr[i] + st.Dim.Render(" (e)")
	case r.Err != nil:
		msg += " " + st.Dim.Render(firstLine(r.Err.Error()))
	}
	return msg
}

func artifactSummary(r *build.Result) string {
	msg := seconds(r.Duration)
	a := r.Artifact
	if a == nil {
		return msg
	}
	link := "dynamic"
	if a.Static {
		link = "static"
	}
	strip := "not stripped"
	if a.Stripped {
		strip = "stripped"
	}
	passed := 0
	for _, c := range a.Checks {
		if c.OK {
			passed++
		}
	}
	return fmt.Sprintf("%s  %s  sha256 %s  %s %s  checks %d/%d", msg, size(a.Size), shortSum(a.SHA256), link, strip, passed, len(a.Checks))
}

func failedChecks(a *build.Artifact) string {
	var bad []string
	for _, c := range a.Checks {
		if !c.OK {
			bad = append(bad, fmt.Sprintf("%s want %s got %s", c.Name, c.Want, c.Got))
		}
	}
	return strings.Join(bad, "; ")
}
