package ui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"armbench/bench"
	"armbench/sweep"
)

// testSweep is a GOGC=25,100,400 sweep of release with two benchmarks:
// 400 is 20% faster with twice the RSS, 25 is 30% slower with less.
func testSweep(t *testing.T, runDir string) *sweep.Result {
	t.Helper()
	k, err := sweep.ParseKnob("GOGC=25,100,400")
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"release.gogc-25", "release", "release.gogc-400"}
	scale := []float64{1.3, 1, 0.8}
	mem := []float64{30, 40, 80}
	// bench's statistics, the base (100) first as a session runs it.
	order := []int{1, 0, 2}
	var ti, mi []bench.Input
	for _, i := range order {
		var tb, mb strings.Builder
		for r := 0; r < 6; r++ {
			j := 1 + float64(r%3)*0.004
			fmt.Fprintf(&tb, "BenchmarkAllocGC-4\t100\t%.0f ns/op\nBenchmarkAllocMaps-4\t100\t%.0f ns/op\n", 1e6*scale[i]*j, 4e5*scale[i]*j)
			fmt.Fprintf(&mb, "BenchmarkPeakRSS\t1\t%.0f peak-RSS-B\n", mem[i]*(1<<20)*j)
		}
		ti = append(ti, bench.Input{Label: names[i], Data: []byte(tb.String())})
		mi = append(mi, bench.Input{Label: names[i], Data: []byte(mb.String())})
	}
	tab, err := bench.Stats(ti)
	if err != nil {
		t.Fatal(err)
	}
	mtab, err := bench.Stats(mi)
	if err != nil {
		t.Fatal(err)
	}
	res := &sweep.Result{Target: "local-arm64", Profile: "release", Knobs: []sweep.Knob{k}, Base: 1, RunID: "20260101-000000-local-arm64", RunDir: runDir, Count: 6}
	for i, v := range k.Values {
		res.Variants = append(res.Variants, sweep.VariantResult{
			Variant: sweep.Variant{Name: names[i], Values: []string{v}, Base: i == 1},
			Label:   "GOGC=" + v, HasTime: true, GeoTime: scale[i], TimeDeltaPct: (scale[i] - 1) * 100,
		})
	}
	back := map[int]int{0: 1, 1: 0, 2: 2} // column → variant
	for _, row := range tab.Units[0].Rows {
		cells := make([]bench.Cell, 3)
		for j, c := range row.Cells {
			cells[back[j]] = c
		}
		res.Benchmarks = append(res.Benchmarks, sweep.Series{Name: row.Name, Unit: sweep.TimeUnit, Cells: cells})
	}
	for j, c := range mtab.Units[0].Rows[0].Cells {
		res.Variants[back[j]].RSS = c
	}
	return res
}

func TestSweepPaneView(t *testing.T) {
	for _, size := range [][2]int{{77, 17}, {197, 53}} {
		w, h := size[0], size[1]
		p := NewSweepPane(DefaultStyles(), testSweep(t, ""))
		p.SetSize(w, h)
		view := p.View()
		lines := strings.Split(view, "\n")
		if len(lines) > h {
			t.Errorf("%dx%d: %d lines", w, h, len(lines))
		}
		for i, l := range lines {
			if ansi.StringWidth(l) > w {
				t.Errorf("%dx%d: line %d is %d wide: %q", w, h, i, ansi.StringWidth(l), ansi.Strip(l))
			}
		}
		text := ansi.Strip(view)
		// A row per value, each compared one with its delta and p.
		for _, want := range []string{"GOGC sweep", "AllocGC", "1/2", "time/op", "peak RSS", "100 base", "+30.00% p=0.002", "-20.00% p=0.002", "best by time: GOGC=400", "by memory: GOGC=25"} {
			if !strings.Contains(text, want) {
				t.Errorf("%dx%d: view lacks %q:\n%s", w, h, want, text)
			}
		}
		// The chart's x axis has the three values.
		if !strings.Contains(text, "25") || !strings.Contains(text, "400") || !strings.ContainsAny(text, "⠁⠂⠄⡀⠈⠐⠠⢀") {
			t.Errorf("%dx%d: no chart:\n%s", w, h, text)
		}
	}
}

func TestSweepPaneKeys(t *testing.T) {
	dir := t.TempDir()
	p := NewSweepPane(DefaultStyles(), testSweep(t, dir))
	p.SetSize(100, 30)
	if _, done := p.Update(press("right")); done || !strings.Contains(ansi.Strip(p.View()), "AllocMaps") {
		t.Errorf("→ does not show the second benchmark:\n%s", ansi.Strip(p.View()))
	}
	if _, done := p.Update(press("right")); done || !strings.Contains(ansi.Strip(p.View()), "AllocGC") {
		t.Error("→ does not wrap round")
	}
	p.Update(press("E"))
	if b, err := os.ReadFile(filepath.Join(dir, "sweep.svg")); err != nil || !strings.Contains(string(b), "<svg") {
		t.Errorf("E did not write sweep.svg: %v", err)
	}
	if !strings.Contains(ansi.Strip(p.View()), "wrote ") {
		t.Error("E does not say where it wrote")
	}
	if _, done := p.Update(press("esc")); !done {
		t.Error("esc does not close")
	}
}

func TestSweepPrompt(t *testing.T) {
	var got []sweep.Knob
	var gotLine string
	refuse := errors.New("")
	p, _ := newSweepPrompt(DefaultStyles(), "local-arm64", "release", "", "", func(line string, ks []sweep.Knob) (tea.Cmd, error) {
		if len(ks) == 2 && ks[1].Name == "GOMAXPROCS" && ks[1].Values[0] == "9" {
			return nil, refuse
		}
		got, gotLine = ks, line
		return nil, nil
	})
	if v := ansi.Strip(p.View()); !strings.Contains(v, DefaultSweepKnob) || !strings.Contains(v, "release on local-arm64") {
		t.Errorf("prompt:\n%s", v)
	}
	// A bad knob keeps the prompt open, naming the knob and the value.
	p.input.SetValue("GOGC=25,lots")
	if _, done := p.Update(press("enter")); done || got != nil || !strings.Contains(ansi.Strip(p.View()), `knob GOGC: value "lots"`) {
		t.Errorf("bad knob: done %v, got %v:\n%s", done, got, ansi.Strip(p.View()))
	}
	refuse = errors.New("sweep: refused by New")
	p.input.SetValue("GOGC=25,100; GOMAXPROCS=9")
	if _, done := p.Update(press("enter")); done || !strings.Contains(ansi.Strip(p.View()), "refused by New") {
		t.Error("an error from starting the sweep does not keep the prompt open")
	}
	p.input.SetValue("GOGC=25,100 ; GOMAXPROCS=1,2")
	if _, done := p.Update(press("enter")); !done || len(got) != 2 || got[1].Name != "GOMAXPROCS" || gotLine != "GOGC=25,100 ; GOMAXPROCS=1,2" {
		t.Errorf("grid: done %v, knobs %+v", done, got)
	}
	if _, done := p.Update(press("esc")); !done {
		t.Error("esc does not close")
	}
}

// In a grid the second knob's values are the series, named in a legend
// (the chart's own legend would show each series' last value, NaN here).
func TestSweepPaneGrid(t *testing.T) {
	res := testSweep(t, "")
	k2, err := sweep.ParseKnob("GOMAXPROCS=1,2")
	if err != nil {
		t.Fatal(err)
	}
	res.Knobs = append(res.Knobs, k2)
	for i, v := range []string{"1", "unset", "2"} {
		res.Variants[i].Values = append(res.Variants[i].Values, v)
	}
	p := NewSweepPane(DefaultStyles(), res)
	p.SetSize(120, 30)
	text := ansi.Strip(p.View())
	for _, want := range []string{"━ GOMAXPROCS=1", "━ GOMAXPROCS=unset", "━ GOMAXPROCS=2", "GOGC GOMAXPROCS", "100 unset base"} {
		if !strings.Contains(text, want) {
			t.Errorf("grid view lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "NaN") {
		t.Errorf("grid view shows NaN:\n%s", text)
	}
}
