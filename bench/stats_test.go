package bench

import (
	"armbench/internal/testenv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// benchText writes `go test -bench` output: for each benchmark, count
// lines of ns/op, B/op and allocs/op drawn around the given medians.
func benchText(rng *rand.Rand, procs int, count int, benches map[string][3]float64, order []string, noise float64, extra string) string {
	var b strings.Builder
	b.WriteString("goos: linux\ngoarch: arm64\npkg: armbench/examples/workload\n")
	suffix := ""
	if procs > 1 {
		suffix = fmt.Sprintf("-%d", procs)
	}
	for i := 0; i < count; i++ {
		for _, name := range order {
			m := benches[name]
			ns := m[0] * (1 + noise*(rng.Float64()-0.5))
			fmt.Fprintf(&b, "Benchmark%s%s \t %d\t %.1f ns/op\t %.0f B/op\t %.0f allocs/op%s\n",
				name, suffix, 1000+rng.IntN(50), ns, m[1], m[2], extra)
		}
	}
	b.WriteString("PASS\n")
	return b.String()
}

func statsCases() map[string][]Input {
	rng := rand.New(rand.NewPCG(1, 2))
	order := []string{"AllocTrees", "ParallelHash", "SHA256", "Sub/size=64"}
	base := map[string][3]float64{
		"AllocTrees": {52000, 17000, 511}, "ParallelHash": {81000, 900, 12},
		"SHA256": {15000, 0, 0}, "Sub/size=64": {300, 64, 1},
	}
	slower := map[string][3]float64{
		"AllocTrees": {52300, 17000, 511}, "ParallelHash": {160000, 850, 11},
		"SHA256": {15100, 0, 0}, "Sub/size=64": {200, 64, 1},
	}
	cases := map[string][]Input{
		"two profiles, procs differ": {
			{"default", []byte(benchText(rng, 4, 6, base, order, 0.02, ""))},
			{"single-core", []byte(benchText(rng, 1, 6, slower, order, 0.02, ""))},
		},
		"three profiles, custom unit": {
			{"release", []byte(benchText(rng, 2, 8, base, order, 0.1, "\t 3.000 gc/op"))},
			{"lowmem", []byte(benchText(rng, 2, 8, slower, order, 0.1, "\t 9.000 gc/op"))},
			{"speed", []byte(benchText(rng, 2, 7, base, order, 0.1, "\t 3.000 gc/op"))},
		},
		"few rounds": {
			{"a", []byte(benchText(rng, 2, 3, base, order, 0.05, ""))},
			{"b", []byte(benchText(rng, 2, 3, slower, order, 0.05, ""))},
		},
		"missing benchmark": {
			{"a", []byte(benchText(rng, 2, 6, base, order, 0.05, ""))},
			{"b", []byte(benchText(rng, 2, 6, slower, order[:2], 0.05, ""))},
		},
	}
	// A real capture: the sample workload under qemu-user.
	if data, err := os.ReadFile(filepath.Join("testdata", "bench-default.txt")); err == nil {
		if data2, err := os.ReadFile(filepath.Join("testdata", "bench-single-core.txt")); err == nil {
			cases["captured"] = []Input{{"default", data}, {"single-core", data2}}
		}
	}
	return cases
}

var benchstatOnce struct {
	sync.Once
	path string
	err  error
}

// benchstatBinary builds golang.org/x/perf/cmd/benchstat at the version in
// go.mod, so the comparison is against the real tool.
func benchstatBinary(t *testing.T) string {
	t.Helper()
	benchstatOnce.Do(func() {
		dir, err := os.MkdirTemp("", "benchstat")
		if err != nil {
			benchstatOnce.err = err
			return
		}
		benchstatOnce.path = filepath.Join(dir, "benchstat")
		out, err := exec.Command("go", "build", "-o", benchstatOnce.path, "golang.org/x/perf/cmd/benchstat").CombinedOutput()
		if err != nil {
			benchstatOnce.err = fmt.Errorf("go build benchstat: %v\n%s", err, out)
		}
	})
	if benchstatOnce.err != nil {
		testenv.Missing(t, "cannot build benchstat: %v", benchstatOnce.err)
	}
	return benchstatOnce.path
}

// bsTable is one table of benchstat's text output.
type bsTable struct {
	unit string
	rows map[string][]string // row label → tokens after it
}

// parseBenchstat reads benchstat's text tables: the unit line (second "│"
// line) and the rows after it, as whitespace tokens without footnotes.
func parseBenchstat(out string) []bsTable {
	var tables []bsTable
	var cur *bsTable
	bars := 0
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.TrimSpace(line) == "":
			cur, bars = nil, 0
		case strings.Contains(line, "│"):
			bars++
			if bars == 2 {
				f := strings.Fields(strings.ReplaceAll(line, "│", " "))
				tables = append(tables, bsTable{unit: f[0], rows: map[string][]string{}})
				cur = &tables[len(tables)-1]
			}
		case cur != nil && !isFootnote(line):
			f := strings.Fields(line)
			var toks []string
			for _, tok := range f[1:] {
				if !isFootnote(tok) {
					toks = append(toks, tok)
				}
			}
			cur.rows[f[0]] = toks
		}
	}
	return tables
}

func isFootnote(s string) bool {
	r := []rune(strings.TrimSpace(s))
	return len(r) > 0 && strings.ContainsRune("⁰¹²³⁴⁵⁶⁷⁸⁹", r[0])
}

// ourTokens renders a row of t the way benchstat's tokens read.
func ourTokens(r Row) []string {
	var toks []string
	for j, c := range r.Cells {
		if !c.Present {
			continue
		}
		toks = append(toks, c.Text, "±", c.CI)
		if j > 0 && c.Compared {
			toks = append(toks, c.Delta)
			toks = append(toks, strings.Fields("("+c.PText+")")...)
		}
	}
	return toks
}

func geoTokens(ut UnitTable) []string {
	var toks []string
	for j, g := range ut.Geomean {
		if g.Present {
			toks = append(toks, g.Text)
		}
		if j > 0 {
			toks = append(toks, g.Delta)
		}
	}
	return toks
}

// TestStatsMatchesBenchstat runs benchstat on the same files and checks
// every number it prints: medians, CIs, deltas, "~", p-values, n, geomeans.
func TestStatsMatchesBenchstat(t *testing.T) {
	bin := benchstatBinary(t)
	for name, inputs := range statsCases() {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			args := strings.Fields(BenchstatFlags)
			for _, in := range inputs {
				p := filepath.Join(dir, in.Label+".txt")
				if err := os.WriteFile(p, in.Data, 0o644); err != nil {
					t.Fatal(err)
				}
				args = append(args, in.Label+"="+p)
			}
			out, err := exec.Command(bin, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("benchstat: %v\n%s", err, out)
			}
			want := parseBenchstat(string(out))
			got, err := Stats(inputs)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Units) != len(want) {
				t.Fatalf("%d unit tables, benchstat printed %d:\n%s", len(got.Units), len(want), out)
			}
			checked := 0
			for i, ut := range got.Units {
				if ut.Unit != want[i].unit {
					t.Errorf("table %d: unit %q, benchstat %q", i, ut.Unit, want[i].unit)
				}
				if len(ut.Rows) != len(want[i].rows)-boolInt(len(ut.Geomean) > 0) {
					t.Errorf("%s: %d rows, benchstat %d", ut.Unit, len(ut.Rows), len(want[i].rows))
				}
				for _, r := range ut.Rows {
					w, ok := want[i].rows[r.Name]
					if !ok {
						t.Errorf("%s: row %q not in benchstat's output", ut.Unit, r.Name)
						continue
					}
					if g := ourTokens(r); strings.Join(g, " ") != strings.Join(w, " ") {
						t.Errorf("%s %s:\n ours      %q\n benchstat %q", ut.Unit, r.Name, g, w)
					}
					checked++
				}
				if len(ut.Geomean) > 0 {
					if g, w := geoTokens(ut), want[i].rows["geomean"]; strings.Join(g, " ") != strings.Join(w, " ") {
						t.Errorf("%s geomean:\n ours      %q\n benchstat %q", ut.Unit, g, w)
					}
				}
			}
			if checked == 0 {
				t.Fatal("no rows compared")
			}
			if t.Failed() {
				t.Logf("benchstat output:\n%s", out)
			}
			// The table must survive JSON (no NaN or Inf).
			if _, err := json.Marshal(got); err != nil {
				t.Errorf("json: %v", err)
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestStatsSignificance(t *testing.T) {
	inputs := statsCases()["two profiles, procs differ"]
	tab, err := Stats(inputs)
	if err != nil {
		t.Fatal(err)
	}
	var sec *UnitTable
	for i := range tab.Units {
		if tab.Units[i].Unit == "sec/op" {
			sec = &tab.Units[i]
		}
	}
	if sec == nil {
		t.Fatalf("no sec/op table in %+v", tab.Units)
	}
	byName := map[string]Row{}
	for _, r := range sec.Rows {
		byName[r.Name] = r
	}
	// ParallelHash-4 and ParallelHash (GOMAXPROCS=1) must share a row.
	ph, ok := byName["ParallelHash"]
	if !ok {
		t.Fatalf("rows %v: want ParallelHash matched across GOMAXPROCS", sec.Rows)
	}
	c := ph.Cells[1]
	if !c.Significant || c.P >= Alpha || c.DeltaPct < 80 || c.Better != -1 {
		t.Errorf("ParallelHash 2× slower: got %+v", c)
	}
	// A 0.6% change inside ±1% noise is not significant.
	if c := byName["AllocTrees"].Cells[1]; c.Delta != "~" && c.Significant {
		t.Logf("AllocTrees: %+v (noise made it significant; acceptable but unexpected)", c)
	}
	if c := byName["Sub/size=64"].Cells[1]; !c.Significant || c.Better != 1 {
		t.Errorf("Sub/size=64 faster: %+v", c)
	}
	if len(tab.Notes) != 0 {
		t.Errorf("notes for count 6: %q", tab.Notes)
	}

	few, err := Stats(statsCases()["few rounds"])
	if err != nil {
		t.Fatal(err)
	}
	if len(few.Notes) == 0 || !strings.Contains(few.Notes[0], "only 3 rounds") {
		t.Errorf("count 3 gave notes %q, want a warning", few.Notes)
	}
	if c := few.Units[0].Rows[0].Cells[0]; c.CI != "∞" {
		t.Errorf("CI with 3 samples = %q, want ∞", c.CI)
	}
}

func TestStatsErrors(t *testing.T) {
	if _, err := Stats(nil); err == nil {
		t.Error("no inputs: want an error")
	}
	if _, err := Stats([]Input{{"a", nil}, {"a", nil}}); err == nil {
		t.Error("duplicate labels: want an error")
	}
	tab, err := Stats([]Input{{"a", []byte("BenchmarkX 10 5 ns/op\nBenchmarkY x ns/op\n")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Notes) == 0 {
		t.Error("a malformed line should be noted")
	}
}

func TestWriteText(t *testing.T) {
	tab, err := Stats(statsCases()["two profiles, procs differ"])
	if err != nil {
		t.Fatal(err)
	}
	tab.Flagged = map[string][]string{"single-core": {"round 3: throttled"}}
	tab.Extras = []ExtraRow{{Name: "binary size", Values: []string{"1.0 MiB", "1.1 MiB"}, Delta: []string{"", "+10.0%"}}}
	var b strings.Builder
	if err := tab.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"sec/op", "B/op", "allocs/op", "vs base", "ParallelHash", "geomean", "single-core ⚠", "round 3: throttled", "binary size", "+10.0%"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
}

// A round whose system time rounded down to 0 is one more sample of
// sys-sec/op, not a unit of its own (benchfmt leaves a zero's unit
// untidied, since tidying does not change its value).
func TestStatsZeroIsASampleOfItsUnit(t *testing.T) {
	var a, b strings.Builder
	for i := range 6 {
		sys := 20000000 + i
		fmt.Fprintf(&a, "BenchmarkRun \t 1\t %d ns/op\t %d sys-ns/op\n", 150000000+i, sys)
		if i == 3 {
			sys = 0
		}
		fmt.Fprintf(&b, "BenchmarkRun \t 1\t %d ns/op\t %d sys-ns/op\n", 150000000+i, sys)
	}
	tab, err := Stats([]Input{{"a", []byte(a.String())}, {"b", []byte(b.String())}})
	if err != nil {
		t.Fatal(err)
	}
	var units []string
	for _, u := range tab.Units {
		units = append(units, u.Unit)
		for _, r := range u.Rows {
			for i, c := range r.Cells {
				if c.N != 6 {
					t.Errorf("%s %s column %d: N = %d, want 6", u.Unit, r.Name, i, c.N)
				}
			}
		}
	}
	if strings.Join(units, " ") != "sec/op sys-sec/op" {
		t.Errorf("units %q, want sec/op and sys-sec/op only", units)
	}
}

// boardText is benchText as a board prints it: its own goarch and cpu
// lines.
func boardText(rng *rand.Rand, goarch, cpu string, benches map[string][3]float64, order []string) string {
	text := benchText(rng, 2, 6, benches, order, 0.02, "")
	text = strings.Replace(text, "goarch: arm64\n", "goarch: "+goarch+"\ncpu: "+cpu+"\n", 1)
	return text
}

// Two boards: the same benchmarks with other goarch and cpu lines share
// one table per unit, a column per board, each cell compared with the
// first board's, with the same numbers benchstat gives when told to
// ignore those keys.
func TestStatsBoardsShareATable(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	order := []string{"AllocTrees", "SHA256"}
	arm64 := map[string][3]float64{"AllocTrees": {52000, 17000, 511}, "SHA256": {15000, 0, 0}}
	armv7 := map[string][3]float64{"AllocTrees": {91000, 12000, 511}, "SHA256": {61000, 0, 0}}
	inputs := []Input{
		{"local-arm64/default", []byte(boardText(rng, "arm64", "Cortex-A72", arm64, order))},
		{"local-armv7/default", []byte(boardText(rng, "arm", "ARMv7 Processor rev 3 (v7l)", armv7, order))},
	}
	tab, err := Stats(inputs)
	if err != nil {
		t.Fatal(err)
	}
	var units []string
	for _, ut := range tab.Units {
		units = append(units, ut.Unit)
		if ut.Config != "" {
			t.Errorf("%s: config %q splits the table", ut.Unit, ut.Config)
		}
		for _, r := range ut.Rows {
			if len(r.Cells) != 2 || !r.Cells[0].Present || !r.Cells[1].Present || !r.Cells[1].Compared {
				t.Errorf("%s %s: cells %+v, want both boards, the second compared", ut.Unit, r.Name, r.Cells)
			}
		}
	}
	if strings.Join(units, " ") != "sec/op B/op allocs/op" {
		t.Errorf("units %q: want one table per unit", units)
	}
	want := []string{"goarch: arm64 cpu: Cortex-A72", "goarch: arm cpu: ARMv7 Processor rev 3 (v7l)"}
	if strings.Join(tab.ColumnConfig, "|") != strings.Join(want, "|") {
		t.Errorf("column config %q, want %q", tab.ColumnConfig, want)
	}
	sec := tab.Units[0]
	if c := sec.Rows[1].Cells[1]; sec.Rows[1].Name != "SHA256" || !c.Significant || c.DeltaPct < 200 || c.Better != -1 {
		t.Errorf("SHA256 4× slower on armv7: %+v", c)
	}
	var b strings.Builder
	if err := tab.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"local-arm64/default  goarch: arm64 cpu: Cortex-A72", "local-armv7/default  goarch: arm cpu: ARMv7"} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("text lacks %q:\n%s", line, b.String())
		}
	}
	if strings.Contains(b.String(), " -  ") {
		t.Errorf("a board without numbers:\n%s", b.String())
	}

	// The profiles of one board keep today's table: no column config.
	same, err := Stats([]Input{inputs[0], {"other", inputs[0].Data}})
	if err != nil {
		t.Fatal(err)
	}
	if same.ColumnConfig != nil {
		t.Errorf("one board: column config %q", same.ColumnConfig)
	}

	// benchstat, told to ignore the board's keys, prints the same numbers.
	bin := benchstatBinary(t)
	dir := t.TempDir()
	args := []string{"-ignore", "/gomaxprocs,goarch,cpu"}
	for i, in := range inputs {
		p := filepath.Join(dir, fmt.Sprintf("%d.txt", i))
		if err := os.WriteFile(p, in.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, fmt.Sprintf("b%d=%s", i, p))
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("benchstat: %v\n%s", err, out)
	}
	bs := parseBenchstat(string(out))
	if len(bs) != len(tab.Units) {
		t.Fatalf("benchstat printed %d tables, we %d:\n%s", len(bs), len(tab.Units), out)
	}
	for i, ut := range tab.Units {
		for _, r := range ut.Rows {
			if g, w := strings.Join(ourTokens(r), " "), strings.Join(bs[i].rows[r.Name], " "); g != w {
				t.Errorf("%s %s:\n ours      %q\n benchstat %q", ut.Unit, r.Name, g, w)
			}
		}
	}
}
