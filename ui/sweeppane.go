package ui

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"armbench/bench"
	"armbench/sweep"
)

// SweepPane shows a finished sweep over the screen's body, a benchmark at
// a time: its time per op against the knob's values (median and 95% CI;
// in a grid, a line per value of the second knob), the peak RSS of the
// rounds under it, then a row per value with its delta and p against
// the base. ←→ page through the benchmarks, E writes the SVG chart next
// to the run, esc closes.
type SweepPane struct {
	st     *Styles
	res    *sweep.Result
	page   int
	w, h   int
	notice string
	time   *Chart
	rss    *Chart
	legend string // a grid's series, in their colours
}

// NewSweepPane shows res.
func NewSweepPane(st *Styles, res *sweep.Result) *SweepPane {
	p := &SweepPane{st: st, res: res}
	p.build()
	return p
}

func (p *SweepPane) Title() string { return "Sweep" }

func (p *SweepPane) SetSize(w, h int) { p.w, p.h = w, h }

var (
	sweepPrevKey   = key.NewBinding(key.WithKeys("left", "h", "["), key.WithHelp("←→", "benchmark"))
	sweepNextKey   = key.NewBinding(key.WithKeys("right", "l", "]"))
	sweepExportKey = key.NewBinding(key.WithKeys("E"), key.WithHelp("E", "export svg"))
	sweepCloseKey  = key.NewBinding(key.WithKeys("esc", "q"), key.WithHelp("esc", "close"))
)

func (p *SweepPane) KeyMap() help.KeyMap {
	return overlayKeys{sweepPrevKey, sweepExportKey, sweepCloseKey}
}

func (p *SweepPane) Update(msg tea.Msg) (tea.Cmd, bool) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil, false
	}
	n := max(len(p.res.Benchmarks), 1)
	switch {
	case key.Matches(k, sweepCloseKey):
		return nil, true
	case key.Matches(k, sweepPrevKey):
		p.page = (p.page + n - 1) % n
		p.build()
	case key.Matches(k, sweepNextKey):
		p.page = (p.page + 1) % n
		p.build()
	case key.Matches(k, sweepExportKey):
		p.notice = p.export()
	}
	return nil, false
}

// export writes the SVG chart beside the run (or in the current
// directory for a run kept in memory) and says where.
func (p *SweepPane) export() string {
	var buf bytes.Buffer
	if err := p.res.WriteSVG(&buf); err != nil {
		return "export: " + err.Error()
	}
	dir := p.res.RunDir
	if dir == "" {
		dir = "."
	}
	path := filepath.Join(dir, "sweep.svg")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return "export: " + err.Error()
	}
	return "wrote " + relPath(path)
}

// xAxis lays the variants out as the charts draw them: the first knob's
// values along x (an added base first), a series per value of the second
// knob; at[i] is variant i's point and series.
func (p *SweepPane) xAxis() (xs, series []string, at [][2]int) {
	xIndex, sIndex := map[string]int{}, map[string]int{}
	for _, v := range p.res.Variants {
		x, s := v.Values[0], ""
		if len(v.Values) > 1 {
			s = p.res.Knobs[1].Name + "=" + v.Values[1]
		}
		if _, ok := xIndex[x]; !ok {
			xIndex[x] = len(xs)
			xs = append(xs, x)
		}
		if _, ok := sIndex[s]; !ok {
			sIndex[s] = len(series)
			series = append(series, s)
		}
		at = append(at, [2]int{xIndex[x], sIndex[s]})
	}
	return xs, series, at
}

// build makes the charts of the current benchmark.
func (p *SweepPane) build() {
	res := p.res
	xs, series, at := p.xAxis()
	p.time = NewChart(p.st, "time/op")
	p.time.Stretch, p.time.XLabels, p.time.Format = true, xs, sweep.FormatSeconds
	p.rss = NewChart(p.st, "peak RSS")
	p.rss.Stretch, p.rss.XLabels, p.rss.ZeroBase = true, xs, true
	p.rss.Format = func(v float64) string { return bench.FormatBytes(v) }
	nan := func() []float64 {
		vs := make([]float64, len(xs))
		for i := range vs {
			vs[i] = math.NaN()
		}
		return vs
	}
	var cells []bench.Cell
	if p.page < len(res.Benchmarks) {
		cells = res.Benchmarks[p.page].Cells
	}
	single := len(series) == 1
	for si, name := range series {
		label := name
		if single {
			label = "median"
		}
		med, lo, hi, rss := nan(), nan(), nan(), nan()
		for i, v := range res.Variants {
			if at[i][1] != si {
				continue
			}
			x := at[i][0]
			if i < len(cells) && cells[i].Present {
				med[x] = cells[i].Center
				lo[x], hi[x] = finiteOr(cells[i].Lo), finiteOr(cells[i].Hi)
			}
			if v.RSS.Present {
				rss[x] = v.RSS.Center
			}
		}
		i := p.time.AddSeries(label)
		p.time.Set(i, med)
		p.time.SetSeriesStyle(i, p.st.ChartSeries[si%len(p.st.ChartSeries)])
		if single {
			// The CI's ends as faint lines around the median.
			for _, b := range [][]float64{hi, lo} {
				j := p.time.AddSeries("95% CI")
				p.time.Set(j, b)
				p.time.SetSeriesStyle(j, p.st.Faint)
			}
		}
		j := p.rss.AddSeries(label)
		p.rss.Set(j, rss)
		p.rss.SetSeriesStyle(j, p.st.ChartSeries[si%len(p.st.ChartSeries)])
	}
	p.legend = ""
	if !single {
		// The chart's own legend shows each series' last value, which
		// means nothing here; the series' names do.
		var parts []string
		for si, name := range series {
			parts = append(parts, p.st.ChartSeries[si%len(p.st.ChartSeries)].Render("━ "+name))
		}
		p.legend = strings.Join(parts, "  ")
	}
}

// finiteOr is v, or NaN (not drawn) for the ±MaxFloat64 bench writes for
// an unbounded confidence interval.
func finiteOr(v float64) float64 {
	if math.IsInf(v, 0) || math.Abs(v) >= math.MaxFloat64/2 {
		return math.NaN()
	}
	return v
}

func (p *SweepPane) View() string {
	res, st := p.res, p.st
	w, h := max(p.w, 20), max(p.h, 8)
	knobs := make([]string, len(res.Knobs))
	for i, k := range res.Knobs {
		knobs[i] = k.Name
	}
	head := st.TitleFocus.Render(strings.Join(knobs, " × ")+" sweep") + " " + st.Dim.Render(res.Target+" / "+res.Profile)
	if res.RunID != "" {
		head += st.Dim.Render(" · run " + res.RunID)
	}
	lines := []string{fit(head, w)}
	bname := "no " + sweep.TimeUnit + " results"
	if p.page < len(res.Benchmarks) {
		bname = res.Benchmarks[p.page].Name
	}
	sub := st.Strong.Render(bname)
	if n := len(res.Benchmarks); n > 1 {
		sub += st.Dim.Render(fmt.Sprintf("  %d/%d ←→", p.page+1, n))
	}
	if p.legend != "" {
		sub += "  " + p.legend
	}
	lines = append(lines, fit(sub, w))

	table := p.table(w)
	foot := p.footer(w)
	room := h - len(lines) - len(table) - len(foot)
	if room >= 6 {
		rssH := max(3, room/3)
		p.time.SetSize(w, room-rssH)
		p.rss.SetSize(w, rssH)
		lines = append(lines, strings.Split(p.time.View(), "\n")...)
		lines = append(lines, strings.Split(p.rss.View(), "\n")...)
	} else if room >= 3 {
		p.time.SetSize(w, room)
		lines = append(lines, strings.Split(p.time.View(), "\n")...)
	}
	lines = append(lines, table...)
	lines = append(lines, foot...)
	if len(lines) > h {
		lines = lines[:h]
	}
	return strings.Join(lines, "\n")
}

// table is a row per variant: its values, time ± CI, the change from the
// base with p, and the peak RSS with its change.
func (p *SweepPane) table(w int) []string {
	res, st := p.res, p.st
	var cells []bench.Cell
	if p.page < len(res.Benchmarks) {
		cells = res.Benchmarks[p.page].Cells
	}
	labelW := 6
	for _, v := range res.Variants {
		labelW = max(labelW, len([]rune(strings.Join(v.Values, " ")))+5)
	}
	rows := []string{fit(st.Faint.Render(fmt.Sprintf("%-*s %-16s %-24s %s", labelW, strings.Join(knobNamesOf(res), " "), "time ± CI", "vs base", "peak RSS")), w)}
	for i, v := range res.Variants {
		label := strings.Join(v.Values, " ")
		if v.Base {
			label += " base"
		}
		t, d := "-", ""
		if i < len(cells) && cells[i].Present {
			t = cells[i].Text + " ± " + cells[i].CI
			d = deltaCell(st, cells[i])
		}
		r := "-"
		if v.RSS.Present {
			r = bench.FormatBytes(v.RSS.Center)
			if v.RSS.Compared {
				r += " " + deltaCell(st, v.RSS)
			}
		}
		lab := padRight(label, labelW)
		if v.Base {
			lab = st.Strong.Render(lab)
		}
		rows = append(rows, fit(lab+" "+padRight(t, 16)+" "+padRight(d, 24)+" "+r, w))
	}
	return rows
}

func knobNamesOf(res *sweep.Result) []string {
	out := make([]string, len(res.Knobs))
	for i, k := range res.Knobs {
		out[i] = k.Name
	}
	return out
}

// deltaCell is a cell's change with its p, styled by its direction.
func deltaCell(st *Styles, c bench.Cell) string {
	if !c.Compared {
		return ""
	}
	p := c.PText
	if i := strings.IndexByte(p, ' '); i > 0 {
		p = p[:i]
	}
	d := c.Delta
	if d == "~" {
		d = fmt.Sprintf("~%+.1f%%", c.DeltaPct)
	}
	text := d + " " + p
	switch {
	case c.Better > 0:
		return st.Good.Render(text)
	case c.Better < 0:
		return st.Worse.Render(text)
	}
	return text
}

func padRight(s string, n int) string {
	if w := ansi.StringWidth(s); w < n {
		return s + strings.Repeat(" ", n-w)
	}
	return s
}

// footer is the best variants, notes and what was exported.
func (p *SweepPane) footer(w int) []string {
	res, st := p.res, p.st
	var best []string
	for _, goal := range []string{sweep.GoalTime, sweep.GoalMemory} {
		if i, err := res.Best(goal); err == nil {
			s := "by " + goal + ": " + res.Variants[i].Label
			if res.Variants[i].Base {
				s += " (base)"
			}
			best = append(best, s)
		}
	}
	var out []string
	if len(best) > 0 {
		out = append(out, fit(st.Strong.Render("best ")+strings.Join(best, " · "), w))
	}
	if p.notice != "" {
		out = append(out, fit(st.Good.Render(p.notice), w))
	} else if len(res.Notes) > 0 {
		out = append(out, fit(st.Faint.Render("note: "+res.Notes[len(res.Notes)-1]), w))
	}
	return out
}
