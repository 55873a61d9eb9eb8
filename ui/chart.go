package ui

import (
	"fmt"
	"math"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Chart is the TUI's one chart component: one or more series of numbers
// drawn over a labelled value axis, with their history, and vertical
// markers with labels ("GOGC=200") at chosen points. It draws exactly the
// size SetSize gave, from a one-line sparkline to a full presentation
// screen, and has no keys of its own: the pane that owns it scrolls it.
//
// Two ways of laying points out on the x axis:
//   - a time series (the default): one point per column, newest on the
//     right, the oldest scrolling off the left edge; at most Keep points
//     are kept, so ScrollBy can look back in the history;
//   - Stretch: every point spread over the whole width, for a handful of
//     points such as the values of a knob, each with its XLabels entry
//     under it.
//
// Points are numbered from the first one ever pushed (x = 0, 1, …), the
// same numbering for every series, so a marker stays with the points it
// was put between while older points are dropped.
//
// Lines draws every series in braille dots (2×4 per cell), one colour per
// series; Bars draws the series as filled columns with eighth-cell steps,
// which reads better from afar and at one row tall is the sparkline the
// bench pane has always drawn.
type Chart struct {
	st    *Styles
	Title string

	// Kind is Lines (the default) or Bars.
	Kind ChartKind
	// Format turns a value into text for the axis and the legend; nil is
	// a short %g.
	Format func(float64) string
	// ZeroBase keeps 0 on the axis when every value is above it, so
	// heights compare as proportions (CPU, RSS); without it the axis spans
	// the values shown, so small changes show.
	ZeroBase bool
	// Stretch spreads all kept points over the width (see the type doc).
	Stretch bool
	// XLabels names the points in Stretch mode, by point number.
	XLabels []string
	// Keep bounds each series' history; 0 is 1000.
	Keep int
	// Legend shows the latest value of each series after the title.
	Legend bool
	// Fit squeezes a time series longer than the width into it, several
	// points a column (the newest of them drawn), instead of scrolling the
	// oldest off: the whole kept history, markers included, on one screen.
	Fit bool

	w, h     int
	fixed    bool
	flo, fhi float64
	scroll   int // points back from the newest, time series only
	series   []chartSeries
	markers  []chartMarker
}

// ChartKind is how a Chart draws its series.
type ChartKind int

const (
	// Lines draws each series as a line of braille dots.
	Lines ChartKind = iota
	// Bars draws each series as filled columns, later series in front.
	Bars
)

type chartSeries struct {
	name  string
	style lipgloss.Style
	first int // point number of vs[0]
	vs    []float64
}

// chartMarkCol is a marker in view: its plot column and label.
type chartMarkCol struct {
	col   int
	label string
}

type chartMarker struct {
	x     int // the marker sits just before point x
	label string
}

// NewChart returns an empty chart titled title, drawn with st.
func NewChart(st *Styles, title string) *Chart {
	return &Chart{st: st, Title: title}
}

// SetSize sets the size View draws, in cells.
func (c *Chart) SetSize(w, h int) { c.w, c.h = max(w, 0), max(h, 0) }

// Size is the size View draws.
func (c *Chart) Size() (w, h int) { return c.w, c.h }

// AddSeries adds a series named name and returns its index. Its colour is
// the next one of the chart palette.
func (c *Chart) AddSeries(name string) int {
	pal := c.st.ChartSeries
	style := c.st.Spark
	if len(pal) > 0 {
		style = pal[len(c.series)%len(pal)]
	}
	c.series = append(c.series, chartSeries{name: name, style: style})
	return len(c.series) - 1
}

// SetSeriesStyle draws series i in style (a CI bound in Faint, say).
func (c *Chart) SetSeriesStyle(i int, style lipgloss.Style) {
	if i >= 0 && i < len(c.series) {
		c.series[i].style = style
	}
}

// Series is how many series the chart has.
func (c *Chart) Series() int { return len(c.series) }

func (c *Chart) keep() int {
	if c.Keep > 0 {
		return c.Keep
	}
	return 1000
}

// Push appends v to series i as its next point, dropping the oldest point
// beyond Keep.
func (c *Chart) Push(i int, v float64) {
	if i < 0 || i >= len(c.series) {
		return
	}
	s := &c.series[i]
	s.vs = append(s.vs, v)
	if k := c.keep(); len(s.vs) > k {
		drop := len(s.vs) - k
		s.vs = append(s.vs[:0], s.vs[drop:]...)
		s.first += drop
	}
	c.dropMarkers()
}

// Set replaces the points of series i with vs (numbered from 0).
func (c *Chart) Set(i int, vs []float64) {
	if i < 0 || i >= len(c.series) {
		return
	}
	c.series[i].vs = append(c.series[i].vs[:0], vs...)
	c.series[i].first = 0
}

// Values are the points of series i still kept, and the point number of
// the first of them.
func (c *Chart) Values(i int) (vs []float64, first int) {
	if i < 0 || i >= len(c.series) {
		return nil, 0
	}
	return c.series[i].vs, c.series[i].first
}

// Last is the newest point of series i.
func (c *Chart) Last(i int) (float64, bool) {
	if i < 0 || i >= len(c.series) || len(c.series[i].vs) == 0 {
		return 0, false
	}
	vs := c.series[i].vs
	return vs[len(vs)-1], true
}

// End is one past the newest point number of any series: where the next
// point, and a marker put now, go.
func (c *Chart) End() int {
	end := 0
	for _, s := range c.series {
		end = max(end, s.first+len(s.vs))
	}
	return end
}

// start is the oldest point number still kept.
func (c *Chart) start() int {
	st, any := 0, false
	for _, s := range c.series {
		if len(s.vs) == 0 {
			continue
		}
		if !any || s.first < st {
			st, any = s.first, true
		}
	}
	return st
}

// Mark puts a marker labelled label before the next point to come.
func (c *Chart) Mark(label string) { c.MarkAt(c.End(), label) }

// MarkAt puts a marker labelled label just before point x.
func (c *Chart) MarkAt(x int, label string) {
	c.markers = append(c.markers, chartMarker{x: x, label: label})
	c.dropMarkers()
}

// Markers are the markers still in the history, oldest first: the point
// each sits before, and its label.
func (c *Chart) Markers() (xs []int, labels []string) {
	for _, m := range c.markers {
		xs, labels = append(xs, m.x), append(labels, m.label)
	}
	return xs, labels
}

// dropMarkers forgets markers before every kept point, bounding them as
// the points are.
func (c *Chart) dropMarkers() {
	st := c.start()
	i := 0
	for i < len(c.markers) && c.markers[i].x < st {
		i++
	}
	if i > 0 {
		c.markers = append(c.markers[:0], c.markers[i:]...)
	}
}

// SetRange fixes the value axis to lo…hi instead of following the data.
func (c *Chart) SetRange(lo, hi float64) { c.fixed, c.flo, c.fhi = true, lo, hi }

// AutoRange lets the value axis follow the data again.
func (c *Chart) AutoRange() { c.fixed = false }

// ScrollBy moves the view n points back into the history (negative: toward
// the newest). It is clamped when drawn.
func (c *Chart) ScrollBy(n int) { c.scroll = max(0, c.scroll+n) }

// Scrolled is how many points back from the newest the view ends.
func (c *Chart) Scrolled() int { return c.scroll }

// Reset drops every point and marker, keeping the series and options.
func (c *Chart) Reset() {
	for i := range c.series {
		c.series[i].vs, c.series[i].first = nil, 0
	}
	c.markers, c.scroll = nil, 0
}

func (c *Chart) format(v float64) string {
	if c.Format != nil {
		return c.Format(v)
	}
	return fmt.Sprintf("%.3g", v)
}

// window is the span of point numbers drawn in plot width pw: [from, to).
func (c *Chart) window(pw int) (from, to int) {
	st, end := c.start(), c.End()
	if c.spread(pw) {
		return st, end
	}
	c.scroll = min(c.scroll, max(0, end-st-pw))
	to = end - c.scroll
	from = max(st, to-pw)
	return from, to
}

// spread reports whether points are spread over (or squeezed into) the
// plot width pw rather than drawn one a column.
func (c *Chart) spread(pw int) bool {
	return c.Stretch || c.Fit && c.End()-c.start() > pw
}

// col is the plot column of point x in a window [from, to) of width pw.
func (c *Chart) col(x, from, to, pw int) int {
	if !c.spread(pw) {
		return x - from
	}
	n := to - from
	if n <= 1 {
		return 0
	}
	return int(math.Round(float64(x-from) * float64(pw-1) / float64(n-1)))
}

// scale is the value axis for the points in [from, to).
func (c *Chart) scale(from, to int) (lo, hi float64, ok bool) {
	if c.fixed {
		return c.flo, c.fhi, true
	}
	for _, s := range c.series {
		for j, v := range s.vs {
			x := s.first + j
			if x < from || x >= to || math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			if !ok {
				lo, hi, ok = v, v, true
			}
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if ok && c.ZeroBase {
		lo, hi = min(lo, 0), max(hi, 0)
	}
	return lo, hi, ok
}

// legend is the title row: the title, then each series' newest value.
func (c *Chart) legend(w int) string {
	var b strings.Builder
	b.WriteString(c.st.Strong.Render(c.Title))
	if c.Legend {
		for _, s := range c.series {
			if len(s.vs) == 0 {
				continue
			}
			v := s.vs[len(s.vs)-1]
			if b.Len() > 0 {
				b.WriteString("  ")
			}
			if len(c.series) > 1 || s.name != "" && s.name != c.Title {
				b.WriteString(s.style.Render("━ "+s.name) + " ")
			}
			b.WriteString(c.format(v))
		}
	}
	if c.scroll > 0 && !c.Stretch {
		b.WriteString(c.st.Faint.Render(fmt.Sprintf("  (%d back)", c.scroll)))
	}
	return fit(b.String(), w)
}

// View draws the chart: a title row when there are at least 3 rows, a row
// for marker labels when a marker is in view and the plot keeps 2 rows,
// the plot with its axis, and a row of x labels in Stretch mode.
func (c *Chart) View() string {
	w, h := c.w, c.h
	if w <= 0 || h <= 0 {
		return ""
	}
	if h < 3 && c.Title != "" && w >= 24 {
		return c.inlineTitled()
	}
	var rows []string
	if h >= 3 && (c.Title != "" || c.Legend) {
		rows = append(rows, c.legend(w))
	}
	xRow := c.Stretch && len(c.XLabels) > 0 && h-len(rows) >= 3
	plotH := h - len(rows)
	if xRow {
		plotH--
	}

	// The axis: labels right-aligned, then a tick, when it leaves room.
	from, to := c.window(w)
	lo, hi, ok := c.scale(from, to)
	axisW := 0
	var top, bottom string
	if ok && w >= 16 && plotH >= 2 {
		top, bottom = c.format(hi), c.format(lo)
		axisW = min(max(ansi.StringWidth(top), ansi.StringWidth(bottom))+1, w/3)
	}
	pw := w - axisW
	from, to = c.window(pw)
	if axisW > 0 {
		lo, hi, ok = c.scale(from, to)
		top, bottom = c.format(hi), c.format(lo)
	}

	// Markers in view, and the row for their labels.
	var marks []chartMarkCol
	for _, m := range c.markers {
		if m.x < from || m.x > to || (m.x == to && !c.spread(pw) && to-from >= pw) {
			continue
		}
		col := c.col(m.x, from, to, pw)
		if c.spread(pw) && m.x == to {
			col = pw - 1
		}
		if col >= 0 && col < pw {
			marks = append(marks, chartMarkCol{col, m.label})
		}
	}
	labelRow := len(marks) > 0 && plotH >= 3
	if labelRow {
		plotH--
	}

	g := newChartGrid(pw, plotH)
	for _, m := range marks {
		g.marker[m.col] = true
	}
	if ok {
		for si, s := range c.series {
			if c.Kind == Bars {
				c.drawBars(g, si, s, from, to, lo, hi)
			} else {
				c.drawLine(g, si, s, from, to, pw, lo, hi)
			}
		}
	}

	if labelRow {
		rows = append(rows, c.markerLabels(marks, axisW, pw))
	}
	styles := make([]span, len(c.series))
	for i, s := range c.series {
		styles[i] = spanOf(s.style)
	}
	mark, axis := spanOf(c.st.Warn), spanOf(c.st.Faint)
	for r := 0; r < plotH; r++ {
		var b strings.Builder
		if axisW > 0 {
			label, tick := "", "│"
			switch r {
			case 0:
				label, tick = top, "┤"
			case plotH - 1:
				label, tick = bottom, "┤"
			}
			b.WriteString(axis.wrap(fmt.Sprintf("%*s", axisW-1, ansi.Truncate(label, axisW-1, "")) + tick))
		}
		g.row(&b, r, styles, mark)
		rows = append(rows, b.String())
	}
	if xRow {
		rows = append(rows, c.xLabels(from, to, axisW, pw))
	}
	for len(rows) < h {
		rows = append(rows, "")
	}
	for i := range rows {
		rows[i] = fit(rows[i], w)
	}
	return strings.Join(rows[:h], "\n")
}

// inlineTitled draws a chart too short for a title row with its title
// (and legend) in a column at the left instead.
func (c *Chart) inlineTitled() string {
	lw := min(ansi.StringWidth(c.Title)+12, c.w/3)
	head := c.legend(lw - 1)
	inner := *c
	inner.Title, inner.Legend, inner.w = "", false, c.w-lw
	body := strings.Split(inner.View(), "\n")
	c.scroll = inner.scroll
	pad := strings.Repeat(" ", lw)
	for i := range body {
		if i == 0 {
			body[i] = head + " " + body[i]
		} else {
			body[i] = pad + body[i]
		}
	}
	return strings.Join(body, "\n")
}

// markerLabels is the row above the plot: each marker's label starting at
// its column, cut short before the next marker.
func (c *Chart) markerLabels(marks []chartMarkCol, axisW, pw int) string {
	line := []rune(strings.Repeat(" ", pw))
	for i, m := range marks {
		end := pw
		if i+1 < len(marks) {
			end = marks[i+1].col
		}
		text := []rune("┃" + m.label)
		if room := end - m.col - 1; room < len(text) && room >= 1 {
			text = append(text[:room], '…')
		}
		for j, r := range text {
			if m.col+j < end && m.col+j < pw {
				line[m.col+j] = r
			}
		}
	}
	return strings.Repeat(" ", axisW) + c.st.Warn.Render(string(line))
}

// xLabels is the row under a Stretch plot: each point's label centred on
// its column where it does not run into the one before.
func (c *Chart) xLabels(from, to, axisW, pw int) string {
	line := []rune(strings.Repeat(" ", pw))
	next := 0
	for x := from; x < to && x < len(c.XLabels); x++ {
		label := []rune(c.XLabels[x])
		at := c.col(x, from, to, pw) - len(label)/2
		at = min(max(at, next), pw-len(label))
		if at < next || at < 0 {
			continue
		}
		copy(line[at:], label)
		next = at + len(label) + 1
	}
	return strings.Repeat(" ", axisW) + c.st.Faint.Render(string(line))
}

// level maps v to 0…steps-1 between lo and hi. When all values are equal
// a positive one is drawn full and others at the bottom, as the bench
// pane's sparklines always did.
func level(v, lo, hi float64, steps int) int {
	i := 0
	switch {
	case hi > lo:
		i = int((v - lo) / (hi - lo) * float64(steps-1))
	case hi > 0:
		i = steps - 1
	}
	return min(max(i, 0), steps-1)
}

func (c *Chart) drawBars(g *chartGrid, si int, s chartSeries, from, to int, lo, hi float64) {
	steps := g.h * 8
	for j, v := range s.vs {
		x := s.first + j
		if x < from || x >= to || math.IsNaN(v) {
			continue
		}
		col := c.col(x, from, to, g.w)
		eighths := level(v, lo, hi, steps) + 1
		for r := g.h - 1; r >= 0 && eighths > 0; r-- {
			n := min(eighths, 8)
			g.set(r, col, si, barRunes[n-1])
			eighths -= n
		}
	}
}

func (c *Chart) drawLine(g *chartGrid, si int, s chartSeries, from, to, pw int, lo, hi float64) {
	dotsH := g.h * 4
	dotY := func(v float64) int {
		if hi <= lo {
			return dotsH / 2 // a flat line in the middle
		}
		return level(v, lo, hi, dotsH)
	}
	px, py, have := 0, 0, false
	for j, v := range s.vs {
		x := s.first + j
		if x < from || x >= to || math.IsNaN(v) {
			have = false
			continue
		}
		cx, cy := 2*c.col(x, from, to, pw)+1, dotY(v)
		if !c.spread(pw) {
			cx-- // one point per column: the left dot column
		}
		if !have {
			g.dot(cx, cy, si)
		} else {
			// Join the previous point: at each dot column up to this one,
			// fill from the height reached so far to the next one.
			y := py
			for dx := px + 1; dx <= cx; dx++ {
				ny := py + int(math.Round(float64(cy-py)*float64(dx-px)/float64(cx-px)))
				for yy := min(y, ny); yy <= max(y, ny); yy++ {
					g.dot(dx, yy, si)
				}
				y = ny
			}
		}
		px, py, have = cx, cy, true
	}
}

// sparkline draws the last width values of vs between lo and hi in one row
// of eighth blocks, padded to width with spaces: a one-row Bars chart
// with a fixed range, for tables of many small rows.
func sparkline(vs []float64, width int, lo, hi float64) string {
	if width <= 0 {
		return ""
	}
	if len(vs) > width {
		vs = vs[len(vs)-width:]
	}
	var b strings.Builder
	for _, v := range vs {
		b.WriteRune(barRunes[level(v, lo, hi, len(barRunes))])
	}
	return b.String() + strings.Repeat(" ", width-len(vs))
}

var barRunes = []rune("▁▂▃▄▅▆▇█")

// chartGrid is the plot as cells: either a rune (a bar) or braille dots,
// each cell owned by the series drawn last into it.
type chartGrid struct {
	w, h   int
	runes  []rune
	dots   []uint8
	owner  []int8
	marker []bool // per column
}

func newChartGrid(w, h int) *chartGrid {
	g := &chartGrid{w: max(w, 0), h: max(h, 0)}
	n := g.w * g.h
	g.runes, g.dots, g.owner, g.marker = make([]rune, n), make([]uint8, n), make([]int8, n), make([]bool, g.w)
	for i := range g.owner {
		g.owner[i] = -1
	}
	return g
}

func (g *chartGrid) set(r, col, si int, ru rune) {
	if r < 0 || r >= g.h || col < 0 || col >= g.w {
		return
	}
	i := r*g.w + col
	g.runes[i], g.owner[i] = ru, int8(min(si, 127))
}

// braille dot bits by [column within cell][row within cell, top first].
var brailleBit = [2][4]uint8{{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}}

// dot sets the braille dot at dot column x and dot row y counted from the
// bottom.
func (g *chartGrid) dot(x, y, si int) {
	col, r := x/2, g.h-1-y/4
	if x < 0 || y < 0 || col >= g.w || r < 0 {
		return
	}
	i := r*g.w + col
	g.dots[i] |= brailleBit[x%2][3-y%4]
	g.owner[i] = int8(min(si, 127))
}

// row writes plot row r, grouping runs of one style into one escape.
func (g *chartGrid) row(b *strings.Builder, r int, styles []span, mark span) {
	cur := -2 // -1 marker, ≥0 series, -2 plain
	open := func(s int) {
		if s == cur {
			return
		}
		switch {
		case cur == -1:
			b.WriteString(mark.post)
		case cur >= 0:
			b.WriteString(styles[cur].post)
		}
		switch {
		case s == -1:
			b.WriteString(mark.pre)
		case s >= 0:
			b.WriteString(styles[s].pre)
		}
		cur = s
	}
	for col := 0; col < g.w; col++ {
		i := r*g.w + col
		switch {
		case g.runes[i] != 0:
			open(int(g.owner[i]))
			b.WriteRune(g.runes[i])
		case g.dots[i] != 0:
			open(int(g.owner[i]))
			b.WriteRune(rune(0x2800) + rune(g.dots[i]))
		case g.marker[col]:
			open(-1)
			b.WriteRune('┊')
		default:
			open(-2)
			b.WriteByte(' ')
		}
	}
	open(-2)
}
