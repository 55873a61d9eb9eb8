package sweep

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"armbench/bench"
)

// Goals a sweep's best variant is chosen by.
const (
	GoalTime   = "time"   // the lowest geomean time per op over the benchmarks
	GoalMemory = "memory" // the lowest peak RSS (median over the rounds)
)

// TimeUnit is the unit of the time charts and the time goal.
const TimeUnit = "sec/op"

// Result is an analysed sweep: per variant (display order) its time and
// peak RSS, and per benchmark its time at each variant, each compared
// with the base by bench's statistics (median, 95% CI, Mann–Whitney U).
type Result struct {
	Target     string          `json:"target"`
	Profile    string          `json:"profile"`
	Knobs      []Knob          `json:"knobs"`
	Variants   []VariantResult `json:"variants"`
	Base       int             `json:"base"`
	RunID      string          `json:"run_id,omitempty"`
	RunDir     string          `json:"run_dir,omitempty"`
	Count      int             `json:"count"`
	Benchmarks []Series        `json:"benchmarks"`
	Notes      []string        `json:"notes,omitempty"`
	// Run is the bench session the result comes from (nil when the
	// result was read back from sweep.json).
	Run *bench.Run `json:"-"`
}

// VariantResult is one variant's summary.
type VariantResult struct {
	Variant
	Label string `json:"label"` // "GOGC=400"
	// GeoTime is the geometric mean, over the benchmarks every variant
	// ran, of the median sec/op; TimeDeltaPct its change from the base
	// in percent. HasTime is false when there was nothing to average.
	GeoTime      float64 `json:"geomean_sec_per_op,omitempty"`
	TimeDeltaPct float64 `json:"time_delta_pct,omitempty"`
	HasTime      bool    `json:"has_time"`
	// RSS is the peak RSS of the rounds (bytes; every benchmark of a
	// round runs in one process): median, 95% CI, and delta and p
	// against the base. RSS.Present is false without samples.
	RSS bench.Cell `json:"peak_rss"`
	// Flagged counts rounds that ran throttled or at a changing CPU
	// frequency.
	Flagged int `json:"flagged,omitempty"`
}

// Series is one benchmark's time at every variant (display order).
type Series struct {
	Name  string       `json:"name"`
	Unit  string       `json:"unit"`
	Cells []bench.Cell `json:"cells"`
}

// Analyze compares the variants of a finished run (its profiles in run
// order: the base first).
func (s *Sweep) Analyze(run *bench.Run) (*Result, error) {
	if run == nil {
		return nil, errors.New("sweep: no run")
	}
	if len(run.Profiles) != len(s.Variants) {
		return nil, fmt.Errorf("sweep: run %s has %d profiles, the sweep %d variants", run.ID, len(run.Profiles), len(s.Variants))
	}
	tab, err := bench.Compare(run)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	mem, err := peakRSSTable(run)
	if err != nil {
		return nil, err
	}
	res, err := s.analyze(tab, mem)
	if err != nil {
		return nil, err
	}
	res.RunID, res.RunDir, res.Count, res.Run = run.ID, run.Dir, run.Count, run
	for j, p := range run.Profiles {
		i := s.runOrder()[j]
		for _, r := range p.Rounds {
			if !r.Warmup && r.Flag != "" {
				res.Variants[i].Flagged++
			}
		}
	}
	return res, nil
}

// peakRSSTable is the peak RSS of every counted round, per variant, in
// bench's statistics (nil when no round has one): one benchmark
// "PeakRSS" in the unit peak-RSS-B, as command runs record it.
func peakRSSTable(run *bench.Run) (*bench.Table, error) {
	var inputs []bench.Input
	found := false
	for _, p := range run.Profiles {
		var b strings.Builder
		for _, r := range p.Rounds {
			if !r.Warmup && r.PeakRSS > 0 {
				fmt.Fprintf(&b, "BenchmarkPeakRSS\t1\t%d peak-RSS-B\n", r.PeakRSS)
				found = true
			}
		}
		inputs = append(inputs, bench.Input{Label: p.Name, Data: []byte(b.String())})
	}
	if !found {
		return nil, nil
	}
	t, err := bench.Stats(inputs)
	if err != nil {
		return nil, fmt.Errorf("sweep: peak RSS: %w", err)
	}
	return t, nil
}

// analyze lays the comparison tables (columns in run order) out by
// variant.
func (s *Sweep) analyze(tab, mem *bench.Table) (*Result, error) {
	order := s.runOrder()
	n := len(s.Variants)
	if len(tab.Columns) != n {
		return nil, fmt.Errorf("sweep: the comparison has %d columns, the sweep %d variants", len(tab.Columns), n)
	}
	for j, c := range tab.Columns {
		if c != s.Variants[order[j]].Name {
			return nil, fmt.Errorf("sweep: column %d is %s, want %s", j, c, s.Variants[order[j]].Name)
		}
	}
	res := &Result{
		Target: s.Spec.Target.Name, Profile: s.Spec.Profile.Name, Knobs: s.Spec.Knobs, Base: s.Base,
		Notes: append(append([]string(nil), s.Notes...), tab.Notes...),
	}
	for _, v := range s.Variants {
		res.Variants = append(res.Variants, VariantResult{Variant: v, Label: Label(s.Spec.Knobs, v.Values)})
	}
	reorder := func(cells []bench.Cell) []bench.Cell {
		out := make([]bench.Cell, n)
		for j, c := range cells {
			if j < n {
				out[order[j]] = c
			}
		}
		return out
	}
	for _, ut := range tab.Units {
		if ut.Unit != TimeUnit {
			continue
		}
		for _, r := range ut.Rows {
			name := r.Name
			if ut.Config != "" {
				name = r.Name + " [" + ut.Config + "]"
			}
			res.Benchmarks = append(res.Benchmarks, Series{Name: name, Unit: ut.Unit, Cells: reorder(r.Cells)})
		}
	}
	if len(res.Benchmarks) == 0 {
		res.Notes = append(res.Notes, "no "+TimeUnit+" results: nothing to compare times by")
	}
	// Geomean over the benchmarks every variant has, so the means are
	// of the same things.
	logs := make([]float64, n)
	used := 0
	for _, b := range res.Benchmarks {
		all := true
		for _, c := range b.Cells {
			all = all && c.Present && c.Center > 0
		}
		if !all {
			continue
		}
		used++
		for i, c := range b.Cells {
			logs[i] += math.Log(c.Center)
		}
	}
	if used > 0 {
		for i := range res.Variants {
			res.Variants[i].GeoTime = math.Exp(logs[i] / float64(used))
			res.Variants[i].HasTime = true
		}
		base := res.Variants[s.Base].GeoTime
		for i := range res.Variants {
			res.Variants[i].TimeDeltaPct = (res.Variants[i].GeoTime/base - 1) * 100
		}
	}
	if mem != nil {
		for _, ut := range mem.Units {
			if len(ut.Rows) == 1 {
				for i, c := range reorder(ut.Rows[0].Cells) {
					res.Variants[i].RSS = c
				}
			}
		}
	}
	return res, nil
}

// Best is the index of the best variant by goal (GoalTime or
// GoalMemory); the base is a candidate like the others.
func (r *Result) Best(goal string) (int, error) {
	best, bestV := -1, math.Inf(1)
	for i, v := range r.Variants {
		var x float64
		switch goal {
		case GoalTime, "":
			if !v.HasTime {
				continue
			}
			x = v.GeoTime
		case GoalMemory:
			if !v.RSS.Present {
				continue
			}
			x = v.RSS.Center
		default:
			return -1, fmt.Errorf("sweep: goal %q: want %s or %s", goal, GoalTime, GoalMemory)
		}
		if x < bestV {
			best, bestV = i, x
		}
	}
	if best < 0 {
		what := "times"
		if goal == GoalMemory {
			what = "peak RSS samples"
		}
		return -1, fmt.Errorf("sweep: no %s to choose the best variant by", what)
	}
	return best, nil
}

// Summary is one line on variant i against the base: its geomean time
// and peak RSS deltas, and each benchmark's delta with p.
func (r *Result) Summary(i int) []string {
	v := r.Variants[i]
	var lines []string
	var head []string
	if v.HasTime {
		head = append(head, fmt.Sprintf("geomean time %+.1f%%", v.TimeDeltaPct))
	}
	if v.RSS.Present {
		rss := "peak RSS " + bench.FormatBytes(v.RSS.Center)
		if v.RSS.Compared {
			rss += " " + deltaText(v.RSS)
		}
		head = append(head, rss)
	}
	if len(head) > 0 {
		lines = append(lines, strings.Join(head, "; "))
	}
	for _, b := range r.Benchmarks {
		if c := b.Cells[i]; c.Present && c.Compared {
			lines = append(lines, fmt.Sprintf("%s %s", b.Name, deltaText(c)))
		}
	}
	return lines
}

// deltaText is a cell's change from the base with its p: "-14.20% (p=0.002 n=6)",
// or "~ +1.2% (p=0.310 n=6)" when it is not significant.
func deltaText(c bench.Cell) string {
	if !c.Compared {
		return ""
	}
	d := c.Delta
	if d == "~" {
		d = fmt.Sprintf("~ %+.1f%%", c.DeltaPct)
	}
	if c.PText != "" {
		d += " (" + c.PText + ")"
	}
	return d
}

// WriteText writes the result as tables: for each benchmark a row per
// variant with its time (median ± 95% CI) and its change from the base
// with p; then a row per variant with the geomean time and peak RSS.
func (r *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	names := knobNames(r.Knobs)
	fmt.Fprintf(&b, "sweep of %s on %s, profile %s", strings.Join(names, " × "), r.Target, r.Profile)
	if r.RunID != "" {
		fmt.Fprintf(&b, ", run %s", r.RunID)
	}
	if r.Count > 0 {
		fmt.Fprintf(&b, ", count %d", r.Count)
	}
	b.WriteString("\n")
	for _, n := range r.Notes {
		b.WriteString("note: " + n + "\n")
	}
	head := strings.Join(names, "\t")
	for _, s := range r.Benchmarks {
		fmt.Fprintf(&b, "\n%s · %s\n", s.Name, s.Unit)
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  %s\t\tmedian ± CI\tvs base\n", head)
		for i, v := range r.Variants {
			c := s.Cells[i]
			val := "-"
			if c.Present {
				val = c.Text + " ± " + c.CI
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", strings.Join(v.Values, "\t"), baseMark(v.Base), val, deltaText(c))
		}
		tw.Flush()
	}
	fmt.Fprintf(&b, "\nall benchmarks · geomean %s and peak RSS of a round\n", TimeUnit)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  %s\t\tgeomean\tvs base\tpeak RSS ± CI\tvs base\n", head)
	for _, v := range r.Variants {
		geo, gd, rss := "-", "", "-"
		if v.HasTime {
			geo = FormatSeconds(v.GeoTime)
			if !v.Base {
				gd = fmt.Sprintf("%+.2f%%", v.TimeDeltaPct)
			}
		}
		if v.RSS.Present {
			rss = bench.FormatBytes(v.RSS.Center) + " ± " + v.RSS.CI
		}
		flag := ""
		if v.Flagged > 0 {
			flag = fmt.Sprintf("  ⚠ %d rounds throttled or at a changing frequency", v.Flagged)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s%s\n", strings.Join(v.Values, "\t"), baseMark(v.Base), geo, gd, rss, deltaText(v.RSS), flag)
	}
	tw.Flush()
	for _, goal := range []string{GoalTime, GoalMemory} {
		if i, err := r.Best(goal); err == nil {
			fmt.Fprintf(&b, "best by %s: %s", goal, r.Variants[i].Label)
			if r.Variants[i].Base {
				b.WriteString(" (the base)")
			}
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func baseMark(base bool) string {
	if base {
		return "base"
	}
	return ""
}

// FormatSeconds writes s with an SI prefix: 1.23ms, 456µs, 2.1s (the
// table, the charts' axes and the TUI's).
func FormatSeconds(s float64) string {
	switch a := math.Abs(s); {
	case a == 0:
		return "0s"
	case a < 1e-6:
		return fmt.Sprintf("%.3gns", s*1e9)
	case a < 1e-3:
		return fmt.Sprintf("%.3gµs", s*1e6)
	case a < 1:
		return fmt.Sprintf("%.3gms", s*1e3)
	}
	return fmt.Sprintf("%.3gs", s)
}
