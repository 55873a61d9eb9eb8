package sweep

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"armbench/bench"
	"armbench/profiles"
	"armbench/targets"
)

// benchText is count rounds of two benchmarks whose time is scale times
// a base, with a little spread so the statistics have something to do.
func benchText(scale float64, count int) []byte {
	var b strings.Builder
	b.WriteString("goos: linux\ngoarch: arm64\npkg: example\n")
	for i := 0; i < count; i++ {
		jitter := 1 + float64(i%3)*0.004
		fmt.Fprintf(&b, "BenchmarkA-4\t1000\t%.0f ns/op\n", 1000*scale*jitter)
		fmt.Fprintf(&b, "BenchmarkB-4\t1000\t%.0f ns/op\n", 5000*scale*jitter)
	}
	return []byte(b.String())
}

func rssText(mib float64, count int) []byte {
	var b strings.Builder
	for i := 0; i < count; i++ {
		fmt.Fprintf(&b, "BenchmarkPeakRSS\t1\t%.0f peak-RSS-B\n", mib*(1<<20)*(1+float64(i%2)*0.01))
	}
	return []byte(b.String())
}

// gogcSweep is a GOGC=25,100,400 sweep of release where 400 is 20%
// faster and uses twice the memory, 25 is 30% slower and uses less.
func gogcSweep(t *testing.T, count int) (*Sweep, *Result) {
	t.Helper()
	s, err := New(Spec{Target: testTarget, Profile: builtin(t, "release"), Knobs: []Knob{mustKnob(t, "GOGC=25,100,400")}})
	if err != nil {
		t.Fatal(err)
	}
	// Run order: base (100), 25, 400.
	scale := map[string]float64{"release": 1, "release.gogc-25": 1.3, "release.gogc-400": 0.8}
	mem := map[string]float64{"release": 40, "release.gogc-25": 30, "release.gogc-400": 80}
	var ti, mi []bench.Input
	for _, i := range s.runOrder() {
		name := s.Variants[i].Name
		ti = append(ti, bench.Input{Label: name, Data: benchText(scale[name], count)})
		mi = append(mi, bench.Input{Label: name, Data: rssText(mem[name], count)})
	}
	tab, err := bench.Stats(ti)
	if err != nil {
		t.Fatal(err)
	}
	mtab, err := bench.Stats(mi)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.analyze(tab, mtab)
	if err != nil {
		t.Fatal(err)
	}
	res.RunID, res.Count = "20260101-000000-board", count
	return s, res
}

func TestAnalyzeRowsPointsAndP(t *testing.T) {
	_, res := gogcSweep(t, 6)
	if len(res.Variants) != 3 || res.Base != 1 || len(res.Benchmarks) != 2 {
		t.Fatalf("result %+v", res)
	}
	for _, b := range res.Benchmarks {
		for i, c := range b.Cells {
			if !c.Present {
				t.Errorf("%s at %s: no point", b.Name, res.Variants[i].Label)
			}
			if i != res.Base && (!c.Compared || c.P <= 0 || c.P >= 0.05 || !strings.Contains(c.PText, "p=")) {
				t.Errorf("%s at %s: compared %v p %v %q", b.Name, res.Variants[i].Label, c.Compared, c.P, c.PText)
			}
		}
		if b.Cells[0].DeltaPct < 25 || b.Cells[2].DeltaPct > -15 {
			t.Errorf("%s deltas %v %v: want about +30%% and -20%%", b.Name, b.Cells[0].DeltaPct, b.Cells[2].DeltaPct)
		}
	}
	if d := res.Variants[2].TimeDeltaPct; math.Abs(d+20) > 1 {
		t.Errorf("geomean delta of GOGC=400: %v, want about -20%%", d)
	}
	if r := res.Variants[2].RSS; !r.Present || !r.Compared || r.DeltaPct < 90 || r.P >= 0.05 {
		t.Errorf("peak RSS of GOGC=400: %+v", r)
	}
	if i, err := res.Best(GoalTime); err != nil || res.Variants[i].Label != "GOGC=400" {
		t.Errorf("best by time: %d %v", i, err)
	}
	if i, err := res.Best(GoalMemory); err != nil || res.Variants[i].Label != "GOGC=25" {
		t.Errorf("best by memory: %d %v", i, err)
	}
	if _, err := res.Best("speed"); err == nil {
		t.Error("goal speed accepted")
	}

	var out bytes.Buffer
	if err := res.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"sweep of GOGC on board, profile release, run 20260101-000000-board", "A · sec/op", "B · sec/op",
		"best by time: GOGC=400", "best by memory: GOGC=25", "p=0.002 n=6", "runtime's default, 100"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if !regexp.MustCompile(`\n  100 +base +1004\.0n`).MatchString(text) {
		t.Errorf("the base row is not marked:\n%s", text)
	}
	// A row per value in each table, in the order given.
	for _, b := range []string{"A · sec/op", "all benchmarks"} {
		block := text[strings.Index(text, b):]
		i25, i100, i400 := strings.Index(block, "\n  25 "), strings.Index(block, "\n  100 "), strings.Index(block, "\n  400 ")
		if i25 < 0 || i100 < i25 || i400 < i100 {
			t.Errorf("%s: rows not 25, 100, 400:\n%s", b, block)
		}
	}
}

func TestSaveBestProfile(t *testing.T) {
	_, res := gogcSweep(t, 6)
	path := filepath.Join(t.TempDir(), "targets.toml")
	orig := "# mine\n[[target]]\nname = \"board\"\nhost = \"local\"\ngoarch = \"arm64\"\n"
	if err := os.WriteFile(path, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	load := func(c *targets.Config) error { _, err := profiles.Load(c); return err }
	i, err := res.Save(path, nil, "release-gc", GoalTime, load)
	if err != nil || res.Variants[i].Label != "GOGC=400" {
		t.Fatalf("save: %d %v", i, err)
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), orig) {
		t.Fatalf("file changed before the new block:\n%s", data)
	}
	for _, want := range []string{"run 20260101-000000-board", "GOGC=400, best by time", "geomean time -20", "(p=0.002 n=6)", `extends = "release"`, `gogc = "400"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("saved block lacks %q:\n%s", want, data)
		}
	}
	cfg, err := targets.Parse(path, data)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := profiles.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := profiles.Find(ps, "release-gc")
	if !ok || p.Run.GOGC != "400" || p.Build.Ldflags != "-s -w" {
		t.Errorf("loaded %+v", p)
	}
	// The memory goal picks GOGC=25; the name is taken now.
	if _, err := res.Save(path, nil, "release-gc", GoalMemory, load); err == nil || !strings.Contains(err.Error(), "already has a profile named") {
		t.Errorf("second save under the same name: %v", err)
	}
	if _, err := res.Save(path, nil, "release", GoalMemory, load); err == nil || !strings.Contains(err.Error(), "built-in") {
		t.Errorf("save under a built-in name: %v", err)
	}
}

func TestProfileSpecRefusesTargetKnobs(t *testing.T) {
	s, err := New(Spec{Target: testTarget, Profile: builtin(t, "release"), Knobs: []Knob{mustKnob(t, "goarm64=v8.0,v8.2")}})
	if err != nil {
		t.Fatal(err)
	}
	res := &Result{Target: "board", Profile: "release", Knobs: s.Spec.Knobs, Base: s.Base}
	for _, v := range s.Variants {
		res.Variants = append(res.Variants, VariantResult{Variant: v, Label: Label(s.Spec.Knobs, v.Values)})
	}
	if _, _, err := res.ProfileSpec(1, "fast", GoalTime); err == nil || !strings.Contains(err.Error(), `set goarm64 = "v8.2" on target board`) {
		t.Errorf("goarm64 saved as a profile: %v", err)
	}
	if spec, _, err := res.ProfileSpec(0, "same", GoalTime); err != nil || spec.Extends != "release" || spec.Run.GOGC != nil {
		t.Errorf("the base saved: %+v %v", spec, err)
	}
}

func TestWriteSVG(t *testing.T) {
	_, res := gogcSweep(t, 6)
	var out bytes.Buffer
	if err := res.WriteSVG(&out); err != nil {
		t.Fatal(err)
	}
	svg := out.String()
	checkXML(t, svg)
	// A point per value for each benchmark, each compared one with p.
	if n := strings.Count(svg, `class="point"`); n != 3*len(res.Benchmarks) {
		t.Errorf("%d time points, want %d", n, 3*len(res.Benchmarks))
	}
	if n := strings.Count(svg, `class="rss-point"`); n != 3*len(res.Benchmarks) {
		t.Errorf("%d RSS points, want %d", n, 3*len(res.Benchmarks))
	}
	if n := strings.Count(svg, ">p=0.002<"); n != 2*len(res.Benchmarks) {
		t.Errorf("%d p labels, want %d:\n%s", n, 2*len(res.Benchmarks), svg)
	}
	for _, want := range []string{">25<", ">100<", ">400<", "GOGC sweep", `class="delta better">-20.02%`, `class="ci"`} {
		if !strings.Contains(svg, want) {
			t.Errorf("svg lacks %q", want)
		}
	}
	if strings.Contains(svg, "NaN") || strings.Contains(svg, "http://fonts") || strings.Contains(svg, "@import") {
		t.Error("svg has NaN or fetches fonts")
	}

	// Too few rounds: the CI is unbounded, drawn as such, never as NaN.
	_, few := gogcSweep(t, 3)
	out.Reset()
	if err := few.WriteSVG(&out); err != nil {
		t.Fatal(err)
	}
	checkXML(t, out.String())
	if !strings.Contains(out.String(), "CI ∞") || strings.Contains(out.String(), "NaN") || strings.Contains(out.String(), "Inf") {
		t.Errorf("svg with count 3:\n%s", out.String())
	}
}

func TestWriteSVGGrid(t *testing.T) {
	s, err := New(Spec{Target: testTarget, Profile: builtin(t, "release"), Knobs: []Knob{mustKnob(t, "GOGC=50,100"), mustKnob(t, "GOMAXPROCS=1,2")}})
	if err != nil {
		t.Fatal(err)
	}
	var ti []bench.Input
	for k, i := range s.runOrder() {
		ti = append(ti, bench.Input{Label: s.Variants[i].Name, Data: benchText(1+float64(k)/10, 6)})
	}
	tab, err := bench.Stats(ti)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.analyze(tab, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := res.WriteSVG(&out); err != nil {
		t.Fatal(err)
	}
	svg := out.String()
	checkXML(t, svg)
	// The base (unset GOMAXPROCS) is added first; then the grid: a line
	// per GOMAXPROCS value, plus the base's own.
	if len(res.Variants) != 5 || !res.Variants[0].Added {
		t.Fatalf("variants %+v", res.Variants)
	}
	for _, want := range []string{"GOMAXPROCS=1", "GOMAXPROCS=2", "GOMAXPROCS=unset"} {
		if !strings.Contains(svg, want) {
			t.Errorf("grid svg lacks the series %q", want)
		}
	}
	if n := strings.Count(svg, `class="point"`); n != 5*2 {
		t.Errorf("%d points, want 10", n)
	}
}

func checkXML(t *testing.T, s string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
	}
}
