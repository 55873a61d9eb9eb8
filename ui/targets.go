package ui

import (
	"charm.land/bubbles/v2/help"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"armbench/targets"
)

// TargetList is the targets pane: every target of targets.toml with its
// architecture and host, then its groups; enter chooses the one to build
// for, or the group d rolls out to; space ticks targets (a group's row
// ticks its members) for r to bench on each of them side by side.
type TargetList struct {
	common  *Common
	keys    ListKeys
	width   int
	height  int
	focused bool

	cursor int
	chosen int // a row: Config.Targets, then Config.Groups; -1 when there are none
	offset int // first visible row
	ticked map[string]bool
}

// NewTargetList starts with the first target chosen, so a build is one
// key away on a fresh start.
func NewTargetList(c *Common) *TargetList {
	p := &TargetList{common: c, keys: newTargetKeys(), chosen: -1, ticked: map[string]bool{}}
	if len(p.list()) > 0 {
		p.chosen = 0
	}
	return p
}

func (p *TargetList) list() []targets.Target {
	if p.common.Config == nil {
		return nil
	}
	return p.common.Config.Targets
}

func (p *TargetList) groups() []targets.Group {
	if p.common.Config == nil {
		return nil
	}
	return p.common.Config.Groups
}

func (p *TargetList) rows() int { return len(p.list()) + len(p.groups()) }

func (p *TargetList) SetSize(w, h int)    { p.width, p.height = w, h }
func (p *TargetList) Focus()              { p.focused = true }
func (p *TargetList) Blur()               { p.focused = false }
func (p *TargetList) Title() string       { return "Targets" }
func (p *TargetList) KeyMap() help.KeyMap { return targetHelp{p.keys} }

// targetHelp leaves space out of the short help, which at 80 columns
// must keep the action keys and ? in view; a tick shows itself in the
// row and the pane's footer says what r does with the ticked targets.
type targetHelp struct{ ListKeys }

func (k targetHelp) ShortHelp() []key.Binding { return []key.Binding{k.Up, k.Down, k.Select} }

// Chosen returns the target builds go to.
func (p *TargetList) Chosen() (targets.Target, bool) {
	ts := p.list()
	if p.chosen < 0 || p.chosen >= len(ts) {
		return targets.Target{}, false
	}
	return ts[p.chosen], true
}

// ChosenGroup returns the group a rollout goes to, with its members.
func (p *TargetList) ChosenGroup() (targets.Group, []targets.Target, bool) {
	i := p.chosen - len(p.list())
	gs := p.groups()
	if i < 0 || i >= len(gs) {
		return targets.Group{}, nil, false
	}
	members, _, _ := p.common.Config.Resolve(gs[i].Name)
	return gs[i], members, true
}

// Ticked returns the ticked targets in list order; the first is the
// base of comparisons.
func (p *TargetList) Ticked() []targets.Target {
	var out []targets.Target
	for _, t := range p.list() {
		if p.ticked[t.Name] {
			out = append(out, t)
		}
	}
	return out
}

// Tick ticks or unticks the target named name, or, for a group, all its
// members (ticked unless all already were); it reports whether it exists.
func (p *TargetList) Tick(name string) bool {
	if _, ok := p.common.Config.Lookup(name); ok {
		p.ticked[name] = !p.ticked[name]
		return true
	}
	members, group, ok := p.common.Config.Resolve(name)
	if !ok || group == "" {
		return false
	}
	all := true
	for _, t := range members {
		all = all && p.ticked[t.Name]
	}
	for _, t := range members {
		p.ticked[t.Name] = !all
	}
	return true
}

// Choose selects the target or group named name; it reports whether it
// exists.
func (p *TargetList) Choose(name string) bool {
	for i, t := range p.list() {
		if t.Name == name {
			p.chosen, p.cursor = i, i
			return true
		}
	}
	for i, g := range p.groups() {
		if g.Name == name {
			p.chosen = len(p.list()) + i
			p.cursor = p.chosen
			return true
		}
	}
	return false
}

// Update moves the cursor and chooses; it reports a choice as a message so
// the root can refresh the plan.
func (p *TargetList) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	n := p.rows()
	switch {
	case n == 0:
	case key.Matches(km, p.keys.Up):
		p.cursor = max(p.cursor-1, 0)
	case key.Matches(km, p.keys.Down):
		p.cursor = min(p.cursor+1, n-1)
	case key.Matches(km, p.keys.Select):
		p.chosen = p.cursor
		return func() tea.Msg { return selectionChangedMsg{} }
	case key.Matches(km, p.keys.Toggle):
		name, _, _ := p.row(p.cursor)
		p.Tick(name)
		return func() tea.Msg { return selectionChangedMsg{} }
	}
	return nil
}

// selectionChangedMsg tells the root that the target or the set of
// profiles changed, so the plan is out of date.
type selectionChangedMsg struct{}

// host is how a target is reached, as a user would type it for ssh.
func host(t targets.Target) string {
	if t.IsLocal() {
		return "local"
	}
	h := t.Host
	if t.User != "" {
		h = t.User + "@" + h
	}
	if t.Port != 0 && t.Port != 22 {
		h = fmt.Sprintf("%s:%d", h, t.Port)
	}
	return h
}

// ContentWidth is the width the pane needs to show every row whole.
func (p *TargetList) ContentWidth() int {
	nameW, archW, hostW := p.columns()
	for _, g := range p.groups() {
		hostW = max(hostW, len(members(g)))
	}
	return 2 + 4 + nameW + 2 + archW + 2 + hostW + 1
}

// columns are the widths of the name and arch columns of every row, and
// of the host column of the target rows.
func (p *TargetList) columns() (nameW, archW, hostW int) {
	for _, t := range p.list() {
		nameW = max(nameW, len(t.Name))
		archW = max(archW, len(t.Arch()))
		hostW = max(hostW, len(host(t)))
	}
	for _, g := range p.groups() {
		nameW = max(nameW, len(g.Name))
		archW = max(archW, len(groupArch(g)))
	}
	return nameW, archW, hostW
}

// groupArch fills a group row's arch column.
func groupArch(g targets.Group) string {
	if len(g.Targets) == 1 {
		return "group of 1"
	}
	return fmt.Sprintf("group of %d", len(g.Targets))
}

// members fills a group row's host column.
func members(g targets.Group) string {
	return strings.Join(g.Targets, " ")
}

func (p *TargetList) View() string {
	var b strings.Builder
	st := p.common.Styles
	inner := p.width - 2
	body := max(p.height-2, 0)
	ts := p.list()
	var lines []string
	if len(ts) == 0 {
		lines = append(lines, fit(st.Error.Render("no targets in "+p.configPath()+": a adds one"), inner))
	}
	// Keep the cursor in view when the list is taller than the pane.
	p.offset = scrollTo(p.cursor, p.offset, body)
	nameW, archW, _ := p.columns()
	for i := p.offset; i < p.rows() && len(lines) < body; i++ {
		cur, mark := " ", " "
		if i == p.cursor && p.focused {
			cur = ">"
		}
		if i == p.chosen {
			mark = "*"
		}
		name, arch, where := p.row(i)
		tick := p.tick(i)
		row := fit(fmt.Sprintf("%s%s%s %-*s  %-*s  %s", cur, tick, mark, nameW, name, archW, arch, where), inner)
		switch {
		case i == p.cursor && p.focused:
			row = st.Cursor.Render(row)
		case i == p.chosen || tick == "✓":
			row = st.Selected.Render(row)
		}
		lines = append(lines, row)
	}
	footer := p.footer()
	st.box(&b, p.Title(), footer, lines, p.width, p.height, p.focused)
	return b.String()
}

// tick is row i's mark: "✓" for a ticked target, and for a group all
// of whose members are ticked; "-" for a group some of whose members
// are. One column, so hosts stay whole at 80 columns.
func (p *TargetList) tick(i int) string {
	ts := p.list()
	if i < len(ts) {
		if p.ticked[ts[i].Name] {
			return "✓"
		}
		return " "
	}
	members, _, _ := p.common.Config.Resolve(p.groups()[i-len(ts)].Name)
	n := 0
	for _, t := range members {
		if p.ticked[t.Name] {
			n++
		}
	}
	switch {
	case n > 0 && n == len(members):
		return "✓"
	case n > 0:
		return "-"
	}
	return " "
}

// row is row i's name, arch and host columns: a target's, or a group's
// size and members.
func (p *TargetList) row(i int) (name, arch, where string) {
	ts := p.list()
	if i < len(ts) {
		return ts[i].Name, ts[i].Arch(), host(ts[i])
	}
	g := p.groups()[i-len(ts)]
	return g.Name, groupArch(g), members(g)
}

// footer describes the row under the cursor, or, with targets ticked,
// what r does with them.
func (p *TargetList) footer() string {
	ts := p.list()
	if n := len(p.Ticked()); n > 0 {
		if n == 1 {
			return "1 ticked: r benches on it"
		}
		return fmt.Sprintf("%d ticked: r benches on each", n)
	}
	switch {
	case p.cursor < len(ts):
		return ts[p.cursor].Description
	case p.cursor < p.rows():
		g := p.groups()[p.cursor-len(ts)]
		if g.Description != "" {
			return g.Description
		}
		return "d rolls out to " + g.Name + " device by device"
	}
	return ""
}

// scrollTo is the first row to show of a list scrolled to offset, so that
// row cursor is among the rows shown.
func scrollTo(cursor, offset, rows int) int {
	if cursor < offset {
		return cursor
	}
	if rows > 0 && cursor >= offset+rows {
		return cursor - rows + 1
	}
	return offset
}

func (p *TargetList) configPath() string {
	if p.common.Config == nil || p.common.Config.Path == "" {
		return "targets.toml"
	}
	return p.common.Config.Path
}
