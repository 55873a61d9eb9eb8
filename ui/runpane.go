package ui

import (
	"fmt"
	"math"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"armbench/bench"
	"armbench/live"
	"armbench/targets"
)

// RunPane is the run pane: the program's output (a LogPane), and while a
// live session runs it, charts of what the probe samples (CPU, RSS, GCs
// per second, run queue, threads) over a bar of the runtime knobs. c
// picks a knob and +/- turn it: the program restarts on the device with
// the new value, every chart gets a marker labelled with it, and a
// verdict compares the samples since with those before.
//
// PresentView draws the same charts and verdict large, and nothing else.
//
// Under watch (StartKnobs) the program runs without the probe: the pane
// has the knob bar over the log, no charts, and PresentView shows the
// knobs over the program's latest output.
type RunPane struct {
	*LogPane
	st     *Styles
	keys   runKeys
	charts [rmCount]*Chart

	target   targets.Target
	settings live.Settings
	knob     live.Knob
	set      func(live.Settings, string) tea.Cmd // restarts the program with other settings; nil when none runs
	knobs    bool                                // the knob bar alone, no charts (watch)
	status   string                              // "restarted with GOGC=200"
	samples  int
	w, h     int
	logTop   int // rows of the live part above the log, 0 without one
}

type runMetric int

const (
	rmCPU runMetric = iota
	rmRSS
	rmGC
	rmRunQueue
	rmThreads
	rmCount
)

var runMetricTitle = [rmCount]string{"CPU", "RSS", "GC/s", "run queue", "threads"}

type runKeys struct {
	Knob, Up, Down key.Binding
	log            help.KeyMap
}

func (k runKeys) ShortHelp() []key.Binding {
	return append([]key.Binding{k.Knob, k.Up}, k.log.ShortHelp()...)
}

func (k runKeys) FullHelp() [][]key.Binding {
	return append([][]key.Binding{{k.Knob, k.Up, k.Down}}, k.log.FullHelp()...)
}

func newRunPane(c *Common) *RunPane {
	p := &RunPane{LogPane: newRunLog(c), st: c.Styles}
	p.keys = runKeys{
		Knob: key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "choose knob"), key.WithDisabled()),
		Up:   key.NewBinding(key.WithKeys("+", "="), key.WithHelp("+/-", "turn knob: restart"), key.WithDisabled()),
		Down: key.NewBinding(key.WithKeys("-", "_"), key.WithDisabled()),
		log:  p.LogPane.KeyMap(),
	}
	for m := range rmCount {
		ch := NewChart(c.Styles, runMetricTitle[m])
		ch.Kind, ch.Legend, ch.ZeroBase, ch.Keep, ch.Fit = Bars, true, true, 2000, true
		ch.AddSeries(runMetricTitle[m])
		ch.Format = runMetricFormat(m)
		p.charts[m] = ch
	}
	return p
}

func runMetricFormat(m runMetric) func(float64) string {
	switch m {
	case rmCPU:
		return func(v float64) string { return fmt.Sprintf("%.0f%%", v) }
	case rmRSS:
		return bench.FormatBytes
	case rmGC:
		return func(v float64) string {
			if v != 0 && v < 10 {
				return fmt.Sprintf("%.1f", v)
			}
			return fmt.Sprintf("%.0f", v)
		}
	}
	return func(v float64) string { return fmt.Sprintf("%.0f", v) }
}

func (p *RunPane) KeyMap() help.KeyMap { return p.keys }

// StartLive begins a live session's charts for a program on t with the
// knobs at settings; set restarts the program with others.
func (p *RunPane) StartLive(t targets.Target, settings live.Settings, set func(live.Settings, string) tea.Cmd) {
	p.start(t, settings, set, false)
}

// StartKnobs shows the knob bar alone, no charts, for a program on t
// with the knobs at settings (watch's, which runs without the probe);
// set restarts the program with others.
func (p *RunPane) StartKnobs(t targets.Target, settings live.Settings, set func(live.Settings, string) tea.Cmd) {
	p.start(t, settings, set, true)
}

func (p *RunPane) start(t targets.Target, settings live.Settings, set func(live.Settings, string) tea.Cmd, knobs bool) {
	p.target, p.settings, p.set, p.status, p.samples, p.knobs = t, settings, set, "", 0, knobs
	for _, ch := range p.charts {
		ch.Reset()
	}
	p.enableKeys(true)
	p.SetSize(p.w, p.h)
}

// EndLive says the program ended: the charts stay, the knobs rest.
func (p *RunPane) EndLive() {
	p.set = nil
	p.enableKeys(false)
}

func (p *RunPane) enableKeys(on bool) {
	p.keys.Knob.SetEnabled(on)
	p.keys.Up.SetEnabled(on)
	p.keys.Down.SetEnabled(on)
}

// Live reports whether the pane shows a live session's charts, or
// (StartKnobs) its knob bar.
func (p *RunPane) Live() bool { return p.samples > 0 || p.set != nil }

// Started records a start of the program: after a knob change, the
// markers and the pane's word for it.
func (p *RunPane) Started(ev live.Started) {
	p.settings = ev.Settings
	if !ev.Restart {
		return
	}
	for _, ch := range p.charts {
		ch.Mark(ev.Change)
	}
	p.status = "restarted with " + ev.Change
	line := "armbench: restarted with " + ev.Change
	if len(ev.Env) > 0 {
		line += " (" + strings.Join(ev.Env, " ") + ")"
	}
	p.Append(0, line)
}

// Sample adds one probe sample to the charts.
func (p *RunPane) Sample(s live.Sample) {
	vals := [rmCount]float64{s.CPU, float64(s.RSS), s.GCPerSec, float64(s.RunQueue), float64(s.Threads)}
	for m, v := range vals {
		p.charts[m].Push(0, v)
	}
	if p.samples == 0 {
		p.samples = 1
		p.SetSize(p.w, p.h) // the charts take their room
	}
	p.samples++
}

// turn moves the chosen knob one step and asks for the restart.
func (p *RunPane) turn(dir int) tea.Cmd {
	if p.set == nil {
		return nil
	}
	cur := p.settings.Value(p.knob, p.target)
	next := live.Step(p.knob, p.target, cur, dir)
	if next == cur {
		p.status = fmt.Sprintf("%s is already at %s", p.knob, cur)
		return nil
	}
	s := p.settings
	s[p.knob] = next
	change := p.knob.String() + "=" + next
	p.status = "restarting with " + change + "…"
	return p.set(s, change)
}

func (p *RunPane) Update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyPressMsg); ok && !p.Capturing() {
		switch {
		case key.Matches(k, p.keys.Knob):
			p.knob = live.Knobs[(int(p.knob)+1)%len(live.Knobs)]
			return nil
		case key.Matches(k, p.keys.Up):
			return p.turn(+1)
		case key.Matches(k, p.keys.Down):
			return p.turn(-1)
		}
	}
	return p.LogPane.Update(msg)
}

// SetSize gives the live part the top of the pane while it has charts,
// the log the rest.
func (p *RunPane) SetSize(w, h int) {
	p.w, p.h = w, h
	p.logTop = 0
	switch {
	case p.knobs && p.set != nil && h >= 8:
		p.logTop = 3 // the knob bar in a frame
	case !p.knobs && p.Live() && h >= 12:
		p.logTop = max(h*3/5, 8)
	}
	p.LogPane.SetSize(w, h-p.logTop)
}

func (p *RunPane) View() string {
	if p.logTop == 0 {
		return p.LogPane.View()
	}
	inner := p.w - 2
	if p.knobs {
		return p.st.frame("Knobs", "", p.knobBar(inner), p.w, p.logTop, p.focused) + "\n" + p.LogPane.View()
	}
	lines := []string{p.knobBar(inner), p.verdict(inner)}
	lines = append(lines, p.chartGrid(inner, p.logTop-2-len(lines), 0)...)
	return p.st.frame("Live", "", strings.Join(lines, "\n"), p.w, p.logTop, p.focused) + "\n" + p.LogPane.View()
}

// PresentView is the presentation layout at w×h: the knobs, the verdict
// and the charts, large, and nothing else.
func (p *RunPane) PresentView(w, h int) string {
	if w <= 0 || h <= 0 {
		return ""
	}
	var lines []string
	lines = append(lines, fit(p.st.Big.Render(p.knobLine()), w))
	if p.status != "" {
		lines[0] = fit(p.st.Big.Render(p.knobLine())+"   "+p.st.Warn.Render(p.status), w)
	}
	// The verdict wraps at its parts rather than lose one.
	line := ""
	for _, part := range strings.Split(p.verdictLine(true), "   ") {
		switch {
		case line == "":
			line = part
		case ansi.StringWidth(line)+3+ansi.StringWidth(part) <= w:
			line += "   " + part
		default:
			lines = append(lines, fit(line, w))
			line = "  " + part
		}
	}
	lines = append(lines, fit(line, w))
	if !p.Live() {
		lines = append(lines, fit(p.st.Faint.Render("nothing running: g runs the program live"), w))
	}
	lines = append(lines, "")
	if p.knobs {
		// No probe under watch: the program's latest output instead.
		lines = append(lines, p.tail(h-len(lines))...)
		for len(lines) < h {
			lines = append(lines, "")
		}
		for i := range lines {
			lines[i] = fit(lines[i], w)
		}
		return strings.Join(lines[:h], "\n")
	}
	cols := 1
	if w >= 80 {
		cols = 2 + min(w/180, 1)
	}
	lines = append(lines, p.chartGrid(w, h-len(lines), cols)...)
	for len(lines) < h {
		lines = append(lines, "")
	}
	for i := range lines {
		lines[i] = fit(lines[i], w)
	}
	return strings.Join(lines[:h], "\n")
}

// chartGrid lays the charts out in h rows of w columns, cols charts
// side by side (0: as many as keep each at least 60 columns wide).
func (p *RunPane) chartGrid(w, h, cols int) []string {
	if h <= 0 {
		return nil
	}
	n := int(rmCount)
	if cols <= 0 {
		cols = min(max(w/60, 1), 3)
	}
	rows := (n + cols - 1) / cols
	var out []string
	for r := range rows {
		rh := h / rows
		if r == rows-1 {
			rh = h - rh*(rows-1)
		}
		var blocks []string
		for c := range cols {
			i := r*cols + c
			cw := w / cols
			if c == cols-1 {
				cw = w - cw*(cols-1)
			}
			if i >= n {
				blocks = append(blocks, blankBlock(cw, rh))
				continue
			}
			ch := p.charts[i]
			gap := 0
			if c < cols-1 {
				gap = 1
			}
			ch.SetSize(cw-gap, rh)
			b := ch.View()
			if gap > 0 {
				b = beside(b, blankBlock(gap, rh))
			}
			blocks = append(blocks, b)
		}
		row := blocks[0]
		for _, b := range blocks[1:] {
			row = beside(row, b)
		}
		out = append(out, strings.Split(row, "\n")...)
	}
	return out
}

// tail is the last n lines of the output, oldest first.
func (p *RunPane) tail(n int) []string {
	v := p.activeView()
	if v == nil || n <= 0 {
		return nil
	}
	var out []string
	for abs := max(v.lines.first(), v.lines.end()-n); abs < v.lines.end(); abs++ {
		if l, ok := v.lines.at(abs); ok {
			out = append(out, l.text)
		}
	}
	return out
}

func blankBlock(w, h int) string {
	line := strings.Repeat(" ", max(w, 0))
	lines := make([]string, max(h, 0))
	for i := range lines {
		lines[i] = line
	}
	return strings.Join(lines, "\n")
}

// knobLine is the knobs' values, the chosen one in brackets.
func (p *RunPane) knobLine() string {
	var parts []string
	for _, k := range live.Knobs {
		s := k.String() + "=" + p.settings.Value(k, p.target)
		if k == p.knob && p.set != nil {
			s = "[" + s + "]"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "  ")
}

func (p *RunPane) knobBar(w int) string {
	line := p.st.Strong.Render(p.knobLine())
	if p.status != "" {
		line += "  " + p.st.Warn.Render(p.status)
	}
	if p.set != nil {
		line += p.st.Faint.Render("  c knob · +/- turn")
	}
	return fit(line, w)
}

func (p *RunPane) verdict(w int) string { return fit(p.verdictLine(false), w) }

// verdictLine compares the samples since the last knob change with those
// between it and the change before: "GOGC=200 vs before: RSS +35% ·
// GC/s −48% · CPU −3%".
func (p *RunPane) verdictLine(big bool) string {
	if p.knobs {
		if p.set != nil {
			return p.st.Faint.Render("watching: a save rebuilds and restarts with these knobs; c picks one, +/- turns it")
		}
		return ""
	}
	xs, labels := p.charts[rmCPU].Markers()
	if len(xs) == 0 {
		if p.Live() {
			return p.st.Faint.Render("turn a knob to compare: c picks one, +/- turns it")
		}
		return ""
	}
	at := xs[len(xs)-1]
	from := 0
	if len(xs) > 1 {
		from = xs[len(xs)-2]
	}
	var parts []string
	for _, m := range []runMetric{rmRSS, rmGC, rmCPU, rmRunQueue} {
		before, nb := p.mean(m, from, at)
		after, na := p.mean(m, at, math.MaxInt)
		if nb == 0 || na == 0 {
			continue
		}
		f := p.charts[m].Format
		d := "±0%"
		switch {
		case before != 0:
			d = fmt.Sprintf("%+.0f%%", (after-before)/before*100)
		case after != 0:
			d = "from 0"
		}
		d = strings.Replace(d, "-", "−", 1)
		parts = append(parts, fmt.Sprintf("%s %s (%s→%s)", runMetricTitle[m], d, f(before), f(after)))
	}
	head := labels[len(labels)-1] + " vs before: "
	if len(parts) == 0 {
		return p.st.Strong.Render(head) + p.st.Faint.Render("measuring…")
	}
	sep := " · "
	if big {
		sep = "   "
	}
	return p.st.Strong.Render(head) + strings.Join(parts, sep)
}

// mean is the mean of metric m over points [from, to), and how many.
func (p *RunPane) mean(m runMetric, from, to int) (float64, int) {
	vs, first := p.charts[m].Values(0)
	var sum float64
	n := 0
	for i, v := range vs {
		if x := first + i; x >= from && x < to {
			sum += v
			n++
		}
	}
	if n == 0 {
		return 0, 0
	}
	return sum / float64(n), n
}
