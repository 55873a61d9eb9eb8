package ui

import (
	"fmt"
	"strings"

	"armbench/bench"
)

// BenchPane shows a bench session live: per profile, sparklines of the
// scheduler and system samples the probe streams back (run queue, threads,
// idle Ps, CPU, RSS, and temperature and frequency where the device has
// them), the round it is in, and a log of finished rounds with their
// throttling / frequency flags.
//
// Feed it bench.Events (Push) and draw it with View. Profile blocks sit
// side by side when the width allows (≥ 2 × 50 columns) and stack
// otherwise; ↑/↓ scroll when they do not fit.
type BenchPane struct {
	scrollFrame
	footer   string // where the session's run is stored
	profiles []*benchProfile
	byName   map[string]*benchProfile
	phase    string
	log      []string // finished rounds, newest last
}

// benchMetric is one sparkline row.
type benchMetric int

const (
	bmRunQueue benchMetric = iota
	bmThreads
	bmIdleP
	bmCPU
	bmRSS
	bmTemp
	bmFreq
	bmCount
)

var benchMetricLabel = [bmCount]string{"run queue", "threads", "idle Ps", "CPU", "RSS", "temp", "freq"}

// benchSparkKeep bounds each series: wider than any terminal.
const benchSparkKeep = 400

type benchProfile struct {
	name          string
	round, rounds int
	warmup        bool
	running       bool
	done, flagged int
	failed        bool
	series        [bmCount][]float64
}

func (p *benchProfile) add(m benchMetric, v float64) {
	s := append(p.series[m], v)
	if len(s) > benchSparkKeep {
		s = append(s[:0], s[len(s)-benchSparkKeep:]...)
	}
	p.series[m] = s
}

// NewBenchPane returns an empty pane.
func NewBenchPane(st *Styles) *BenchPane {
	return &BenchPane{scrollFrame: newScrollFrame(st), byName: map[string]*benchProfile{}}
}

// SetFooter sets the text in the frame's bottom border.
func (p *BenchPane) SetFooter(s string) { p.footer = s }

// Reset starts a new session with these profiles (the first the baseline).
func (p *BenchPane) Reset(profiles []string) {
	p.profiles, p.byName, p.log, p.scroll, p.phase, p.footer = nil, map[string]*benchProfile{}, nil, 0, "", ""
	for _, name := range profiles {
		p.profile(name)
	}
}

func (p *BenchPane) profile(name string) *benchProfile {
	if bp, ok := p.byName[name]; ok {
		return bp
	}
	bp := &benchProfile{name: name}
	p.byName[name] = bp
	p.profiles = append(p.profiles, bp)
	return bp
}

// Push records one event of the session.
func (p *BenchPane) Push(ev bench.Event) {
	switch ev := ev.(type) {
	case bench.Phase:
		switch {
		case ev.Err != nil:
			p.phase = ev.Name + " failed"
		case ev.Done:
			p.phase = ev.Name + " done"
		default:
			p.phase = benchPhaseDoing(ev.Name)
		}
	case bench.RunStarted:
		bp := p.profile(ev.Profile)
		bp.round, bp.rounds, bp.warmup, bp.running = ev.Round, ev.Rounds, ev.Warmup, true
	case bench.Sched:
		bp := p.profile(ev.Profile)
		s := ev.Sample
		bp.add(bmRunQueue, float64(s.RunQueue+s.LocalRunQueueTotal()))
		bp.add(bmThreads, float64(s.Threads))
		bp.add(bmIdleP, float64(s.IdleProcs))
	case bench.Proc:
		bp := p.profile(ev.Profile)
		s := ev.Sample
		bp.add(bmCPU, s.CPU)
		bp.add(bmRSS, float64(s.RSS))
		if len(s.TempMilli) > 0 {
			t := s.TempMilli[0]
			for _, v := range s.TempMilli {
				t = max(t, v)
			}
			bp.add(bmTemp, float64(t)/1000)
		}
		if len(s.FreqKHz) > 0 {
			var sum int64
			for _, f := range s.FreqKHz {
				sum += f
			}
			bp.add(bmFreq, float64(sum)/float64(len(s.FreqKHz))/1000)
		}
	case bench.RunDone:
		bp := p.profile(ev.Profile)
		bp.running = false
		kind := "round "
		if ev.Stats.Warmup {
			kind = "warmup"
		}
		if ev.Err != nil {
			bp.failed = true
			p.addLog(p.st.Fail.Render(fmt.Sprintf("%s %d %s failed: %s", kind, ev.Round, ev.Profile, firstLine(ev.Err.Error()))))
			return
		}
		if !ev.Stats.Warmup {
			bp.done++
		}
		s := ev.Stats
		line := fmt.Sprintf("%s %d %-12s %6.2fs  cpu %4.0f%%  rss %-10s  runq %.2f", kind, ev.Round, ev.Profile,
			s.Wall.Seconds(), s.MeanCPU, bench.FormatBytes(float64(s.PeakRSS)), s.MeanRunQueue)
		if s.Flag != "" {
			if !s.Warmup {
				bp.flagged++
			}
			line += "  " + p.st.Warn.Render("⚠ "+s.Flag)
		}
		p.addLog(line)
	case bench.Finished:
		if ev.Err != nil {
			p.phase = "failed: " + firstLine(ev.Err.Error())
		} else {
			p.phase = "finished"
		}
	}
}

// Phase says what the session is doing, in words ("" before it began).
func (p *BenchPane) Phase() string { return p.phase }

// Cancel marks the session stopped by the user: no round is running.
func (p *BenchPane) Cancel() {
	p.phase = "cancelled"
	for _, bp := range p.profiles {
		bp.running = false
	}
}

func (p *BenchPane) addLog(line string) {
	p.log = append(p.log, line)
	if len(p.log) > 200 {
		p.log = p.log[len(p.log)-200:]
	}
}

// shown is which metrics have data in any profile.
func (p *BenchPane) shown() []benchMetric {
	var out []benchMetric
	for m := benchMetric(0); m < bmCount; m++ {
		for _, bp := range p.profiles {
			if len(bp.series[m]) > 0 {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// scale is the top of each metric's sparklines, shared by all profiles
// so their heights compare.
func (p *BenchPane) scale(m benchMetric) (lo, hi float64) {
	first := true
	for _, bp := range p.profiles {
		for _, v := range bp.series[m] {
			if first {
				lo, hi, first = v, v, false
			}
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	switch m {
	case bmTemp, bmFreq:
		return lo, hi // these never sit near zero: show their changes
	}
	return 0, hi
}

// benchSparkline draws the last width values of vs between lo and hi: the
// chart component's one-row sparkline (see Chart).
func benchSparkline(vs []float64, width int, lo, hi float64) string {
	return sparkline(vs, width, lo, hi)
}

func benchMetricValue(m benchMetric, v float64) string {
	switch m {
	case bmCPU:
		return fmt.Sprintf("%.0f%%", v)
	case bmRSS:
		return bench.FormatBytes(v)
	case bmTemp:
		return fmt.Sprintf("%.1f°C", v)
	case bmFreq:
		return fmt.Sprintf("%.0f MHz", v)
	case bmRunQueue:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// block draws one profile in width columns.
func (p *BenchPane) block(bp *benchProfile, width int, metrics []benchMetric) []string {
	const labelW, valueW = 10, 10
	status := p.st.Faint.Render("waiting")
	switch {
	case bp.failed:
		status = p.st.Fail.Render("failed")
	case bp.running && bp.warmup:
		status = fmt.Sprintf("warmup %d/%d", bp.round+1, bp.rounds)
	case bp.running:
		status = fmt.Sprintf("round %d/%d", bp.round+1, bp.rounds)
	case bp.rounds > 0:
		status = p.st.Good.Render(fmt.Sprintf("%d done", bp.done))
	}
	if bp.flagged > 0 {
		status += " " + p.st.Warn.Render(fmt.Sprintf("⚠ %d flagged", bp.flagged))
	}
	lines := []string{fit(p.st.Strong.Render(bp.name)+"  "+status, width)}
	sw := max(width-labelW-valueW-2, 1)
	for _, m := range metrics {
		lo, hi := p.scale(m)
		vs := bp.series[m]
		val := "-"
		if len(vs) > 0 {
			val = benchMetricValue(m, vs[len(vs)-1])
		}
		line := fmt.Sprintf("%-*s", labelW, benchMetricLabel[m]) + p.st.Spark.Render(benchSparkline(vs, sw, lo, hi)) + " " + fmt.Sprintf("%*s", valueW, val)
		lines = append(lines, fit(line, width))
	}
	return lines
}

// benchPhaseDoing says what a session is doing in a phase, in words.
func benchPhaseDoing(name string) string {
	switch name {
	case "build":
		return "building…"
	case "deploy":
		return "deploying…"
	case "device":
		return "probing device…"
	case "bench":
		return "measuring…"
	}
	return name + "…"
}

// View draws the pane in its frame at exactly the size SetSize gave.
func (p *BenchPane) View() string {
	return p.st.frame("Bench", p.footer, p.body(), p.fw, p.fh, p.focused)
}

// body is the pane inside its frame.
func (p *BenchPane) body() string {
	if p.w == 0 || p.h == 0 {
		return ""
	}
	var lines []string
	head := "bench"
	if p.phase != "" {
		head += ": " + p.phase
	}
	lines = append(lines, fit(p.st.Strong.Render(head), p.w))
	if len(p.profiles) == 0 {
		lines = append(lines, fit(p.st.Faint.Render("no session yet: tick profiles and press r to bench them"), p.w))
	}
	metrics := p.shown()
	const minBlock = 50
	cols := max(1, min(len(p.profiles), p.w/minBlock))
	colW := p.w / cols
	for i := 0; i < len(p.profiles); i += cols {
		var blocks [][]string
		for j := i; j < min(i+cols, len(p.profiles)); j++ {
			blocks = append(blocks, p.block(p.profiles[j], colW-1, metrics))
		}
		for r := 0; r < len(blocks[0]); r++ {
			var row strings.Builder
			for c, b := range blocks {
				if c > 0 {
					row.WriteString(" ")
				}
				row.WriteString(b[r])
			}
			lines = append(lines, fit(row.String(), p.w))
		}
		lines = append(lines, fit("", p.w))
	}
	if len(p.log) > 0 {
		lines = append(lines, fit(p.st.Faint.Render("finished rounds"), p.w))
		// Newest first, so the latest result is in view without scrolling.
		for i := len(p.log) - 1; i >= 0; i-- {
			lines = append(lines, fit(p.log[i], p.w))
		}
	}
	return scrollView(lines, &p.scroll, p.w, p.h)
}

// scrollView is the h lines of lines from *scroll on, padded to w×h;
// *scroll is clamped first so that the last screen is a full one.
func scrollView(lines []string, scroll *int, w, h int) string {
	*scroll = min(*scroll, max(0, len(lines)-h))
	lines = lines[*scroll:]
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, strings.Repeat(" ", w))
	}
	return strings.Join(lines, "\n")
}
