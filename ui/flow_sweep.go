package ui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"armbench/bench"
	"armbench/profiles"
	"armbench/remote"
	"armbench/state"
	"armbench/sweep"
)

// S sweeps a knob of the ticked profile (or the one under the cursor) on
// the chosen target, as `armbench sweep` does: a prompt for the knobs,
// the variants' rounds live in the bench pane, all their columns in the
// compare pane, then the sweep pane with the charts over the body.
func sweepAction() action {
	return action{key: newKey("S", "sweep a knob"), ready: (*Model).planReady, start: (*Model).openSweepPrompt}
}

// DefaultSweepKnob is what the sweep prompt starts with.
const DefaultSweepKnob = "GOGC=25,100,400"

// sweepDone is the analysed sweep, after the benchResult of its run.
type sweepDone struct{ res *sweep.Result }

type sweepFlow struct {
	benchFlow // the variants are a bench session; its events draw as r's do
	sw        *sweep.Sweep
}

// sweepProfile is the profile S sweeps: the first ticked, else the one
// under the cursor; note says so when several are ticked.
func (m *Model) sweepProfile() (p profiles.Profile, note string, ok bool) {
	sel := m.profiles.Selected()
	switch {
	case len(sel) > 1:
		return sel[0], fmt.Sprintf("%d profiles ticked: sweeping %s, the first", len(sel), sel[0].Name), true
	case len(sel) == 1:
		return sel[0], "", true
	}
	p, ok = m.profiles.Focused()
	return p, "", ok
}

func (m *Model) openSweepPrompt() tea.Cmd {
	tg, ok := m.idleTarget()
	if !ok {
		return nil
	}
	p, note, ok := m.sweepProfile()
	if !ok {
		m.notice = "sweep: tick a profile with space"
		return nil
	}
	prompt, init := newSweepPrompt(m.common.Styles, tg.Name, p.Name, note, m.sweepKnobs, func(line string, knobs []sweep.Knob) (tea.Cmd, error) {
		spec := sweep.Spec{Target: tg, Profile: p, Knobs: knobs, Pkg: m.common.Pkg, Dir: m.common.Dir, OutRoot: m.env.outRoot}
		spec.Bench = m.env.bench.spec(tg, nil)
		spec.Bench.History = state.History{Dir: m.env.remote.StateDir}
		sw, err := sweep.New(spec)
		if err != nil {
			return nil, err
		}
		if _, err := sw.Plans(); err != nil {
			return nil, err
		}
		m.sweepKnobs = line
		return m.startSweep(sw), nil
	})
	return m.push(prompt, init)
}

// startSweep runs sw as a task, its variants named in run order as the
// bench pane and the build log number them.
func (m *Model) startSweep(sw *sweep.Sweep) tea.Cmd {
	plans, _ := sw.Plans()
	names := make([]string, len(plans))
	for i, p := range plans {
		names[i] = p.Profile.Name
	}
	return m.follow(m.startTask("sweep", sw.Spec.Target.Name, names, &sweepFlow{benchFlow: benchFlow{spec: sw.Spec.Bench}, sw: sw}))
}

func (f *sweepFlow) begin(m *Model, t *task) func(context.Context, func(any)) {
	m.main.bench.Reset(t.profiles)
	m.main.log.Reset(t.profiles)
	m.showMain(paneBench)
	knobs := make([]string, len(f.sw.Spec.Knobs))
	for i, k := range f.sw.Spec.Knobs {
		knobs[i] = k.Name
	}
	m.logf("sweep %d: %s of %s, %d variants", t.id, strings.Join(knobs, " × "), f.sw.Spec.Profile.Name, len(f.sw.Variants))
	device, sw, obs := m.env.device, f.sw, m.observer(f.sw.Spec.Target.Name)
	return onDevice(device, sw.Spec.Target, func(ctx context.Context, dev remote.Device, emit func(any)) {
		res, err := sw.Run(ctx, dev, func(ev sweep.Event) {
			if b, ok := ev.(sweep.Benching); ok {
				if obs != nil {
					obs.Observe(b.Event)
				}
				emit(b.Event) // drawn by the bench flow
			}
		})
		if err != nil || res == nil {
			return // bench.Finished carried the error
		}
		tab, err := bench.Compare(res.Run)
		emit(benchResult{run: res.Run, tab: tab, err: err})
		emit(sweepDone{res: res})
	})
}

func (f *sweepFlow) apply(m *Model, t *task, e any) {
	done, ok := e.(sweepDone)
	if !ok {
		f.benchFlow.apply(m, t, e)
		return
	}
	res := done.res
	summary := "sweep"
	if i, err := res.Best(sweep.GoalTime); err == nil {
		v := res.Variants[i]
		summary = fmt.Sprintf("sweep: best by time %s", v.Label)
		if !v.Base {
			summary += fmt.Sprintf(" (%+.1f%% geomean)", v.TimeDeltaPct)
		}
	}
	if t.err == nil {
		t.summary = summary + " · " + t.summary
	}
	m.push(NewSweepPane(m.common.Styles, res), nil)
}

func (f *sweepFlow) status(m *Model, t *task) []string { return m.benchTaskLine(t, "sweeping") }

// sweepPrompt asks for the knobs of S: one, or two separated by ; for a
// grid. enter starts (the prompt stays open, saying why, while the knobs
// do not parse), esc aborts.
type sweepPrompt struct {
	st              *Styles
	target, profile string
	note            string
	input           textinput.Model
	err             string
	start           func(line string, knobs []sweep.Knob) (tea.Cmd, error)
}

func newSweepPrompt(st *Styles, target, profile, note, line string, start func(string, []sweep.Knob) (tea.Cmd, error)) (*sweepPrompt, tea.Cmd) {
	in := textinput.New()
	in.Prompt = "knob: "
	in.SetWidth(44)
	if line == "" {
		line = DefaultSweepKnob
	}
	in.SetValue(line)
	in.CursorEnd()
	p := &sweepPrompt{st: st, target: target, profile: profile, note: note, input: in, start: start}
	return p, p.input.Focus()
}

func (p *sweepPrompt) Title() string    { return "Sweep" }
func (p *sweepPrompt) SetSize(int, int) {}

func (p *sweepPrompt) KeyMap() help.KeyMap {
	return overlayKeys{
		key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "sweep")),
		key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "abort")),
	}
}

// parseKnobs reads the prompt's line: knobs separated by ;.
func parseKnobs(line string) ([]sweep.Knob, error) {
	var knobs []sweep.Knob
	for _, part := range strings.Split(line, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		k, err := sweep.ParseKnob(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		knobs = append(knobs, k)
	}
	if len(knobs) == 0 {
		return nil, fmt.Errorf("write a knob: NAME=V1,V2,… (e.g. %s)", DefaultSweepKnob)
	}
	return knobs, nil
}

func (p *sweepPrompt) Update(msg tea.Msg) (tea.Cmd, bool) {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch k.String() {
		case "enter":
			line := strings.TrimSpace(p.input.Value())
			knobs, err := parseKnobs(line)
			if err == nil {
				var cmd tea.Cmd
				if cmd, err = p.start(line, knobs); err == nil {
					return cmd, true
				}
			}
			p.err = err.Error() // the prompt stays open to fix the line
			return nil, false
		case "esc":
			return nil, true
		}
		p.err = ""
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	return cmd, false
}

func (p *sweepPrompt) View() string {
	st := p.st
	lines := []string{
		st.TitleFocus.Render("Sweep a knob of " + p.profile + " on " + p.target),
		"",
		p.input.View(),
		"",
	}
	if p.err != "" {
		lines = append(lines, st.Error.Render(p.err), "")
	}
	if p.note != "" {
		lines = append(lines, p.note, "")
	}
	lines = append(lines,
		st.Dim.Render("knobs: "+strings.Join(sweep.KnobNames, " ")),
		st.Dim.Render("two knobs, separated by ;, give a grid; the profile's own value is the base"),
		"",
		st.Dim.Render("enter sweep · esc abort"))
	return strings.Join(lines, "\n")
}
