package ui

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"armbench/fleet"
	"armbench/profiles"
	"armbench/remote"
	"armbench/targets"
)

// A rollout is d with a group chosen: after a confirmation that says how
// many devices and how many at a time, fleet.Rollout builds each distinct
// binary once, uploads beside the installed binaries, and installs in
// waves with a health check after each device. The rollout pane (6)
// draws one row per device.

// fleetDone is the end of a rollout.
type fleetDone struct {
	res fleet.Result
	err error
}

type fleetFlow struct {
	group          string
	profile        string
	plans          []profiles.Plan
	maxUnavailable int
	tabs           map[string]int // a shared build's log tab, by its devices
	res            fleet.Result
}

// groupReady is why d cannot roll out to the chosen group now.
func (m *Model) groupReady() string {
	if why := m.idle(); why != "" {
		return why
	}
	if len(m.profiles.Selected()) > 1 {
		return "a rollout deploys one profile: tick one (or none, for the one under the cursor)"
	}
	if _, focused := m.profiles.Focused(); len(m.profiles.Selected()) == 0 && !focused {
		return "no profile: tick one with space"
	}
	return ""
}

// groupPlans resolves the rollout's profile for every member of g.
func (m *Model) groupPlans(members []targets.Target) ([]profiles.Plan, string, error) {
	sel := m.profiles.Selected()
	if len(sel) == 0 {
		p, _ := m.profiles.Focused()
		sel = []profiles.Profile{p}
	}
	var plans []profiles.Plan
	for _, t := range members {
		plan, err := m.env.resolve(t, sel[0], profiles.Options{Pkg: m.common.Pkg, Dir: m.common.Dir, OutRoot: m.env.outRoot, Mode: profiles.ModeBinary})
		if err != nil {
			return nil, "", fmt.Errorf("plan %s for %s: %w", sel[0].Name, t.Name, err)
		}
		plans = append(plans, plan)
	}
	return plans, sel[0].Name, nil
}

// openRollout asks before a rollout to the chosen group.
func (m *Model) openRollout() tea.Cmd {
	g, members, ok := m.targets.ChosenGroup()
	if !ok {
		return nil
	}
	if why := m.groupReady(); why != "" {
		m.notice = why
		return nil
	}
	if len(members) == 0 {
		m.notice = g.Name + " has no devices"
		return nil
	}
	plans, profile, err := m.groupPlans(members)
	if err != nil {
		m.notice = err.Error()
		return nil
	}
	f := &fleetFlow{group: g.Name, profile: profile, plans: plans, maxUnavailable: 1}
	return m.push(&rolloutConfirm{st: m.common.Styles, flow: f, yes: func() tea.Cmd {
		m.notice = ""
		return m.follow(m.startTask("rollout", g.Name, []string{profile}, f))
	}, no: func() { m.notice = "rollout aborted: nothing deployed to " + g.Name }}, nil)
}

// healthLines say how the devices are checked: a device without a health
// check counts as up once its binary is installed.
func (f *fleetFlow) healthLines() []string {
	var checked, unchecked []string
	for _, p := range f.plans {
		if p.Health != nil {
			checked = append(checked, p.Target.Name)
		} else {
			unchecked = append(unchecked, p.Target.Name)
		}
	}
	var lines []string
	if len(checked) > 0 {
		lines = append(lines, fmt.Sprintf("After its install a device's health check runs (%s of %d have one);", plural(len(checked), "device"), len(f.plans)),
			"one that fails goes back to its previous binary and the rollout stops.")
	}
	if len(unchecked) > 0 {
		verb := "have"
		if len(unchecked) == 1 {
			verb = "has"
		}
		lines = append(lines, fmt.Sprintf("%s %s no health check: up once installed", plural(len(unchecked), "device"), verb),
			"(add [target.health] or [profile.health] to targets.toml).")
	}
	return lines
}

func (f *fleetFlow) begin(m *Model, t *task) func(context.Context, func(any)) {
	names := make([]string, len(f.plans))
	for i, p := range f.plans {
		names[i] = p.Target.Name
	}
	m.main.fleet.Start(f.group, f.profile, names, f.maxUnavailable)
	m.main.log.Reset(nil)
	f.tabs = map[string]int{}
	m.showMain(paneFleet)
	m.logf("rollout %d: %s to %s (%s), %d at a time", t.id, f.profile, f.group, strings.Join(names, " "), f.maxUnavailable)
	plans, opts := f.plans, fleet.Options{
		MaxUnavailable: f.maxUnavailable,
		Pool:           m.env.pool,
		History:        m.env.history(),
	}
	return func(ctx context.Context, emit func(any)) {
		res, err := fleet.Rollout(ctx, plans, opts, func(ev fleet.Event) { emit(ev) })
		emit(fleetDone{res, err})
	}
}

func (f *fleetFlow) apply(m *Model, t *task, e any) {
	switch ev := e.(type) {
	case fleet.BuildEvent:
		m.main.fleet.Push(ev)
		f.buildLog(m, ev)
	case fleet.Event:
		m.main.fleet.Push(ev)
	case fleetDone:
		f.res = ev.res
		t.end = m.env.now()
		m.main.fleet.Done(ev.res, ev.err)
		err := ev.err
		if err == nil {
			err = ev.res.Err()
		}
		if err != nil {
			t.err = err
			t.summary = "rollout to " + f.group + " failed: " + firstLine(err.Error())
		}
		m.logf("rollout %d: %v", t.id, err)
		if n := f.askUnknownHosts(m); n > 0 {
			t.summary = fmt.Sprintf("rollout to %s: %s not trusted yet: answer the prompts, then d again", f.group, plural(n, "host key"))
		}
	}
}

// askUnknownHosts stacks the host-key prompt of every device whose key
// is not trusted yet, the first device's on top, as d on one target asks
// for its own; it returns how many it asked. Nothing is restarted: once
// they are answered, d rolls out again.
func (f *fleetFlow) askUnknownHosts(m *Model) int {
	n := 0
	for i := len(f.res.Devices) - 1; i >= 0; i-- {
		var unknown *remote.UnknownHostError
		if !errors.As(f.res.Devices[i].Err, &unknown) {
			continue
		}
		tg, _ := m.common.Config.Lookup(f.res.Devices[i].Target)
		m.push(NewHostKeyPrompt(m.common.Styles, tg, unknown, m.env.remote), nil)
		n++
	}
	return n
}

// buildLog puts a shared build's output in its own tab of the log pane.
func (f *fleetFlow) buildLog(m *Model, ev fleet.BuildEvent) {
	who := strings.Join(ev.Targets, " ")
	i, ok := f.tabs[who]
	if !ok {
		name := ev.Profile + " " + ev.Targets[0]
		if len(ev.Targets) > 1 {
			name += "+" + strconv.Itoa(len(ev.Targets)-1)
		}
		i = m.main.log.Add(name)
		f.tabs[who] = i
	}
	if state, finished := logBuildEvent(m.main.log, i, ev.Event); finished {
		m.main.log.SetState(i, state)
	}
}

// stop: the engine leaves every device with a complete binary; the pane
// says the rollout was cut short.
func (f *fleetFlow) stop(m *Model, _ *task, err error) { m.main.fleet.Done(f.res, err) }

func (f *fleetFlow) finish(m *Model, t *task) tea.Cmd {
	if t.err != nil {
		return nil
	}
	deployed, unchanged := 0, 0
	for _, d := range f.res.Devices {
		switch d.State {
		case fleet.StateDeployed:
			deployed++
		case fleet.StateUnchanged:
			unchanged++
		}
	}
	t.summary = fmt.Sprintf("rolled out %s to %s in %s: %s", f.profile, f.group, seconds(t.end.Sub(t.start)), plural(deployed, "device"))
	if unchanged > 0 {
		t.summary += fmt.Sprintf(", %d unchanged", unchanged)
	}
	return nil
}

func (f *fleetFlow) status(m *Model, t *task) []string {
	return m.taskLine(t, "rolling out", "")
}

// rolloutConfirm asks before a rollout, and sets how many devices may be
// down at once: + and - change it, y starts, anything else aborts.
type rolloutConfirm struct {
	st   *Styles
	flow *fleetFlow
	yes  func() tea.Cmd
	no   func()
}

func (p *rolloutConfirm) Title() string    { return "Roll out" }
func (p *rolloutConfirm) SetSize(int, int) {}

func (p *rolloutConfirm) KeyMap() help.KeyMap {
	return overlayKeys{
		key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "roll out")),
		key.NewBinding(key.WithKeys("+", "-"), key.WithHelp("+/-", "devices at a time")),
		key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "abort")),
	}
}

func (p *rolloutConfirm) Update(msg tea.Msg) (tea.Cmd, bool) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil, false
	}
	f := p.flow
	switch k.String() {
	case "+", "=":
		f.maxUnavailable = min(f.maxUnavailable+1, len(f.plans))
		return nil, false
	case "-":
		f.maxUnavailable = max(f.maxUnavailable-1, 1)
		return nil, false
	case "y", "Y":
		return p.yes(), true
	}
	p.no()
	return nil, true
}

func (p *rolloutConfirm) View() string {
	st, f := p.st, p.flow
	waves := (len(f.plans) + f.maxUnavailable - 1) / f.maxUnavailable
	lines := []string{
		st.TitleFocus.Render(fmt.Sprintf("roll out %s to %s (%s)? y/N", f.profile, f.group, plural(len(f.plans), "device"))),
		"",
		fmt.Sprintf("%d at a time, in %s: + and - change it.", f.maxUnavailable, plural(waves, "wave")),
	}
	lines = append(lines, f.healthLines()...)
	lines = append(lines, "",
		st.Dim.Render("y roll out · +/- devices at a time · n/esc abort"))
	return strings.Join(lines, "\n")
}
