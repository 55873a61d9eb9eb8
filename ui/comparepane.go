package ui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"armbench/bench"
)

// ComparePane shows a bench.Table: profiles in columns, the first the
// baseline; per unit (time/op, B/op, allocs/op, custom units) each
// benchmark's median ± CI, and beside every other profile its delta,
// green when significantly better, red when significantly worse, dim "~"
// when not significant; then binary size, build and deploy time, peak RSS
// and mean run queue, flagged rounds and notes.
//
// The benchmark-name column stays put; when the profiles do not fit
// (80 columns) ←/→ scroll them one at a time. With room (200 columns) each
// delta also shows its p-value and sample counts.
type ComparePane struct {
	st      *Styles
	fw, fh  int // the frame
	w, h    int // inside the frame
	focused bool
	footer  string // where the compared run is stored
	table   *bench.Table
	top     int // first body line shown
	left    int // first profile column shown
	keys    ComparePaneKeys
	// exportDir is the stored run's folder, where E writes the exports
	// ("" for a run kept in memory); exportTitle heads them.
	exportDir, exportTitle string
}

// ComparePaneKeys scroll the table.
type ComparePaneKeys struct {
	Up, Down, PageUp, PageDown, Left, Right, Home key.Binding
	Sideways                                      key.Binding // help only: ←/→
	Export                                        key.Binding
}

// ShortHelp implements help.KeyMap.
func (k ComparePaneKeys) ShortHelp() []key.Binding {
	// One entry for ←/→ keeps ? in view at 80 columns.
	return []key.Binding{k.Up, k.Down, k.Sideways}
}

// FullHelp implements help.KeyMap.
func (k ComparePaneKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}, {k.Left, k.Right, k.Home}, {k.Export}}
}

// NewComparePane returns an empty pane.
func NewComparePane(st *Styles) *ComparePane {
	return &ComparePane{
		st: st,
		keys: ComparePaneKeys{
			Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
			Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
			PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
			PageDown: key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
			Left:     key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "profiles left")),
			Right:    key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→/l", "profiles right")),
			Home:     key.NewBinding(key.WithKeys("home"), key.WithHelp("home", "top left")),
			Sideways: key.NewBinding(key.WithKeys("left", "right"), key.WithHelp("←/→", "profiles")),
			Export:   key.NewBinding(key.WithKeys("E"), key.WithHelp("E", "export md/csv/svg"), key.WithDisabled()),
		},
	}
}

func (p *ComparePane) KeyMap() help.KeyMap { return p.keys }
func (p *ComparePane) Focus()              { p.focused = true }
func (p *ComparePane) Blur()               { p.focused = false }

// SetSize sets the size of the frame View draws.
func (p *ComparePane) SetSize(w, h int) {
	p.fw, p.fh = w, h
	p.w, p.h = max(w-2, 0), max(h-2, 0)
}

// SetFooter sets the text in the frame's bottom border.
func (p *ComparePane) SetFooter(s string) { p.footer = s }

// SetTable shows t (nil clears the pane) from its top left.
func (p *ComparePane) SetTable(t *bench.Table) {
	p.table, p.top, p.left = t, 0, 0
	p.SetExport("", "")
}

// SetExport says where E writes the table's exports (the stored run's
// folder) and their title; dir "" disables E.
func (p *ComparePane) SetExport(dir, title string) {
	p.exportDir, p.exportTitle = dir, title
	p.keys.Export.SetEnabled(dir != "" && p.table != nil)
}

// Update scrolls on key presses.
func (p *ComparePane) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		page := max(1, p.h-2)
		switch {
		case key.Matches(msg, p.keys.Up):
			p.top--
		case key.Matches(msg, p.keys.Down):
			p.top++
		case key.Matches(msg, p.keys.PageUp):
			p.top -= page
		case key.Matches(msg, p.keys.PageDown):
			p.top += page
		case key.Matches(msg, p.keys.Left):
			p.left--
		case key.Matches(msg, p.keys.Right):
			p.left++
		case key.Matches(msg, p.keys.Home):
			p.top, p.left = 0, 0
		case key.Matches(msg, p.keys.Export):
			return exportTable(p.table, p.exportDir, p.exportTitle)
		}
		// Clamped against the content in View.
		p.top, p.left = max(p.top, 0), max(p.left, 0)
	case tableExported:
		p.footer = msg.text()
	}
	return nil
}

// cmpLine is one line of the table: the name cell and, per profile
// column, its sub-cells (median, ±CI, delta, p-value), or a free text
// line across the width.
type cmpLine struct {
	name string
	cols [][cmpSubs]string
	text string
}

// Sub-cells of a profile column, and how each is aligned: medians and
// deltas right, so digits line up; CI and p-value left.
const (
	subCenter = iota
	subCI
	subDelta
	subP
	cmpSubs
)

var cmpRightAligned = [cmpSubs]bool{true, false, true, false}

// lines lays the table out; withP adds p-values beside the deltas.
func (p *ComparePane) lines(withP bool) (head cmpLine, body []cmpLine) {
	t := p.table
	n := len(t.Columns)
	// A table of extras alone is a size breakdown (z): its rows are
	// packages, not benchmarks on a device.
	name, extras := "benchmark", "device"
	if len(t.Units) == 0 {
		name, extras = "package", "bytes in the file"
	}
	head.name = p.st.Strong.Render(name)
	for i, c := range t.Columns {
		board, label := splitColumn(c)
		if i == 0 {
			label += " (base)"
		}
		if len(t.Flagged[c]) > 0 {
			label += " " + p.st.Warn.Render("⚠")
		}
		// subCI holds the board line over the profile, when the columns
		// are boards (see body).
		col := [cmpSubs]string{subCenter: p.st.Strong.Render(label)}
		if board != "" {
			col[subCI] = p.st.Strong.Render(board)
		}
		head.cols = append(head.cols, col)
	}
	// What tells the boards apart: their goarch, cpu… lines.
	if len(t.ColumnConfig) == len(t.Columns) {
		for i, c := range t.Columns {
			body = append(body, cmpLine{text: p.st.Faint.Render(c + ": " + t.ColumnConfig[i])})
		}
		body = append(body, cmpLine{})
	}
	for _, ut := range t.Units {
		unit := cmpLine{name: p.st.Unit.Render(ut.Unit), cols: make([][cmpSubs]string, n)}
		if ut.Config != "" {
			body = append(body, cmpLine{text: p.st.Faint.Render(ut.Config)})
		}
		body = append(body, unit)
		for _, r := range ut.Rows {
			line := cmpLine{name: r.Name}
			for i, c := range r.Cells {
				line.cols = append(line.cols, p.cell(c, i, withP))
			}
			body = append(body, line)
		}
		if len(ut.Geomean) > 0 {
			line := cmpLine{name: p.st.Faint.Render("geomean")}
			for i, g := range ut.Geomean {
				var c [cmpSubs]string
				c[subCenter] = p.st.Faint.Render(g.Text)
				if i > 0 {
					c[subDelta] = p.st.Faint.Render(g.Delta)
				}
				line.cols = append(line.cols, c)
			}
			body = append(body, line)
		}
		body = append(body, cmpLine{})
	}
	if len(t.Extras) > 0 {
		body = append(body, cmpLine{name: p.st.Unit.Render(extras), cols: make([][cmpSubs]string, n)})
		for _, e := range t.Extras {
			line := cmpLine{name: e.Name}
			for i, v := range e.Values {
				c := [cmpSubs]string{subCenter: v}
				if i > 0 && i < len(e.Delta) {
					c[subDelta] = p.st.Faint.Render(e.Delta[i])
				}
				line.cols = append(line.cols, c)
			}
			body = append(body, line)
		}
		body = append(body, cmpLine{})
	}
	for _, c := range t.Columns {
		for _, f := range t.Flagged[c] {
			body = append(body, cmpLine{text: p.st.Warn.Render("⚠ "+c+": ") + f})
		}
	}
	for _, note := range t.Notes {
		body = append(body, cmpLine{text: p.st.Faint.Render("note: " + note)})
	}
	return head, body
}

// cell is "median ± CI" and, for columns after the baseline, the delta
// coloured by significance.
func (p *ComparePane) cell(c bench.Cell, col int, withP bool) [cmpSubs]string {
	var out [cmpSubs]string
	if !c.Present {
		out[subCenter] = p.st.Faint.Render("-")
		return out
	}
	out[subCenter], out[subCI] = c.Text, "±"+c.CI
	if col == 0 || !c.Compared {
		return out
	}
	delta := c.Delta
	var st lipgloss.Style
	switch {
	case !c.Significant:
		st = p.st.Faint
	case c.Better > 0:
		st = p.st.OK
	case c.Better < 0:
		st = p.st.Worse
	default:
		st = p.st.Warn
	}
	out[subDelta] = st.Render(delta)
	if withP {
		out[subP] = p.st.Faint.Render("(" + c.PText + ")")
	}
	return out
}

// View draws the pane in its frame at exactly the size SetSize gave.
func (p *ComparePane) View() string {
	return p.st.frame("Compare", p.footer, p.body(), p.fw, p.fh, p.focused)
}

// body is the pane inside its frame.
func (p *ComparePane) body() string {
	if p.w == 0 || p.h == 0 {
		return ""
	}
	if p.table == nil || len(p.table.Columns) == 0 {
		out := []string{fit(p.st.Faint.Render("no results yet: tick two or more profiles and press r to bench them"), p.w)}
		for len(out) < p.h {
			out = append(out, strings.Repeat(" ", p.w))
		}
		return strings.Join(out, "\n")
	}
	// p-values only when every column fits with them.
	head, body := p.lines(true)
	nameW, subW, colW := p.widths(head, body)
	if nameW+sumWidths(colW, 0)+2*len(colW) > p.w {
		head, body = p.lines(false)
		nameW, subW, colW = p.widths(head, body)
	}
	nameW = min(nameW, max(12, p.w/3))
	cols := p.visibleColumns(nameW, colW)
	more := len(cols) > 0 && cols[len(cols)-1] < len(colW)-1
	render := func(l cmpLine) string {
		if l.text != "" {
			return fit(l.text, p.w)
		}
		var b strings.Builder
		b.WriteString(fit(l.name, nameW))
		for _, i := range cols {
			var cell [cmpSubs]string
			if i < len(l.cols) {
				cell = l.cols[i]
			}
			b.WriteString("  ")
			b.WriteString(renderSubs(cell, subW[i], colW[i]))
		}
		return fit(b.String(), p.w)
	}
	// The header's profile names sit over their columns, right-aligned;
	// when the columns are boards ("pi4/default"), the board on a line
	// above its profile, so a column is as narrow as its longer half.
	var hb, bb strings.Builder
	boards := false
	hb.WriteString(fit(head.name, nameW))
	bb.WriteString(strings.Repeat(" ", nameW))
	for _, i := range cols {
		hb.WriteString("  " + cmpPadLeft(head.cols[i][subCenter], colW[i]))
		bb.WriteString("  " + cmpPadLeft(head.cols[i][subCI], colW[i]))
		boards = boards || head.cols[i][subCI] != ""
	}
	hl := fit(hb.String(), p.w)
	if boards {
		hl = fit(bb.String(), p.w)
	}
	if p.left > 0 || more {
		marks := ""
		if p.left > 0 {
			marks += "←"
		}
		if more {
			marks += "→"
		}
		hl = fit(ansi.Truncate(hl, p.w-len([]rune(marks))-1, "")+" "+p.st.Faint.Render(marks), p.w)
	}
	out := []string{hl}
	if boards {
		out = append(out, fit(hb.String(), p.w))
	}
	rows := p.h - len(out)
	p.top = min(p.top, max(0, len(body)-rows))
	for i := p.top; i < len(body) && len(out) < p.h; i++ {
		out = append(out, render(body[i]))
	}
	for len(out) < p.h {
		out = append(out, strings.Repeat(" ", p.w))
	}
	return strings.Join(out, "\n")
}

// visibleColumns is the profile columns that fit beside a name column of
// nameW from p.left on; the leftmost scroll position that still shows
// the last column bounds p.left.
func (p *ComparePane) visibleColumns(nameW int, colW []int) []int {
	maxLeft := len(colW) - 1
	for l := len(colW) - 1; l >= 0; l-- {
		if nameW+sumWidths(colW[l:], 0)+2*len(colW[l:]) <= p.w {
			maxLeft = l
		} else {
			break
		}
	}
	p.left = min(p.left, maxLeft)
	var cols []int
	used := nameW
	for i := p.left; i < len(colW); i++ {
		if used+2+colW[i] > p.w && len(cols) > 0 {
			break
		}
		cols = append(cols, i)
		used += 2 + colW[i]
	}
	return cols
}

// widths measures the name column, each profile column's sub-cells, and
// each profile column in all (the header label may be wider than its
// sub-cells together).
func (p *ComparePane) widths(head cmpLine, body []cmpLine) (int, [][cmpSubs]int, []int) {
	nameW := ansi.StringWidth(head.name)
	subW := make([][cmpSubs]int, len(head.cols))
	for _, l := range body {
		if l.text != "" {
			continue
		}
		nameW = max(nameW, ansi.StringWidth(l.name))
		for i, c := range l.cols {
			for k, sub := range c {
				if i < len(subW) {
					subW[i][k] = max(subW[i][k], ansi.StringWidth(sub))
				}
			}
		}
	}
	colW := make([]int, len(head.cols))
	for i := range colW {
		colW[i] = max(subsWidth(subW[i]), ansi.StringWidth(head.cols[i][subCenter]), ansi.StringWidth(head.cols[i][subCI]))
	}
	return nameW, subW, colW
}

// subsWidth is a column's sub-cells with one space between non-empty ones.
func subsWidth(w [cmpSubs]int) int {
	n, parts := 0, 0
	for _, x := range w {
		if x > 0 {
			n += x
			parts++
		}
	}
	return n + max(parts-1, 0)
}

// renderSubs lays a column's sub-cells out in width w.
func renderSubs(c [cmpSubs]string, subW [cmpSubs]int, w int) string {
	var b strings.Builder
	first := true
	for k := 0; k < cmpSubs; k++ {
		if subW[k] == 0 {
			continue
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		if cmpRightAligned[k] {
			b.WriteString(cmpPadLeft(c[k], subW[k]))
		} else {
			b.WriteString(fit(c[k], subW[k]))
		}
	}
	return cmpPadLeft(b.String(), w)
}

// splitColumn splits a column label "board/profile" (or "run/profile")
// into its two parts; a plain profile has no board.
func splitColumn(label string) (board, profile string) {
	if i := strings.LastIndexByte(label, '/'); i > 0 {
		return label[:i], label[i+1:]
	}
	return "", label
}

func sumWidths(ws []int, from int) int {
	n := 0
	for _, w := range ws[from:] {
		n += w
	}
	return n
}

func cmpPadLeft(s string, w int) string {
	sw := ansi.StringWidth(s)
	if sw >= w {
		return s
	}
	return strings.Repeat(" ", w-sw) + s
}
