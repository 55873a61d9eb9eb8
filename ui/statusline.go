package ui

import (
	"fmt"
	"strings"
)

// statusLines is the status bar under the panes: the latest task's
// lines, or before any, what the keys would do; the notice rides along.
func (m *Model) statusLines() []string {
	st, w := m.common.Styles, m.common.Width
	t := m.tasks.latest()
	if t == nil {
		if m.notice != "" {
			return []string{fit(st.Error.Render(m.notice), w)}
		}
		return []string{fit(st.Dim.Render(m.idleHint()), w)}
	}
	lines := t.flow.status(m, t)
	if m.notice != "" {
		lines[0] = fit(lines[0]+st.Error.Render("  "+m.notice), w)
	}
	return lines
}

// taskLine is the one status line of a task: spinner, verb and elapsed
// time while it runs (extra says more), its summary once it ended.
func (m *Model) taskLine(t *task, verb, extra string) []string {
	st := m.common.Styles
	var line string
	switch {
	case t.running():
		line = st.Running.Render(m.spinner.View()+" "+verb+" "+t.what()) +
			st.Dim.Render(extra+" · "+seconds(m.env.now().Sub(t.start))+" · x cancels")
	case t.cancelled:
		line = st.Cancelled.Render(t.summary)
	case t.err != nil:
		line = st.Fail.Render(firstLine(t.summary))
	default:
		line = st.OK.Render(t.summary)
	}
	return []string{fit(line, m.common.Width)}
}

// benchTaskLine is the status line of a task whose rounds show in the
// bench pane (bench, PGO, sweep): taskLine with the bench's phase.
func (m *Model) benchTaskLine(t *task, verb string) []string {
	extra := ""
	if phase := m.main.bench.Phase(); phase != "" {
		extra = " · " + phase
	}
	return m.taskLine(t, verb, extra)
}

func (m *Model) idleHint() string {
	t, ok := m.targets.Chosen()
	sel := m.profiles.Selected()
	if g, members, isGroup := m.targets.ChosenGroup(); isGroup {
		if why := m.groupReady(); why != "" {
			return why
		}
		return fmt.Sprintf("ready: d rolls out to %s (%s), device by device", g.Name, plural(len(members), "device"))
	}
	switch {
	case !ok:
		return "no target"
	case len(sel) == 0:
		return "tick profiles with space, then b builds, d deploys, r benches"
	}
	names := make([]string, len(sel))
	for i, p := range sel {
		names[i] = p.Name
	}
	hint := fmt.Sprintf("ready: b builds %s × %s", t.Name, strings.Join(names, ","))
	if len(sel) >= 2 {
		return hint + " · d deploys · r compares"
	}
	return hint + " · d deploys · r benches"
}
