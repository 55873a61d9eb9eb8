package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"armbench/bench"
)

// compareTable is a fixed three-profile table: deterministic inputs
// through the real statistics.
func compareTable(t *testing.T) *bench.Table {
	t.Helper()
	text := func(procs string, ns, bop, gc float64) []byte {
		var b strings.Builder
		b.WriteString("goos: linux\ngoarch: arm64\npkg: armbench/examples/workload\n")
		for i := 0; i < 6; i++ {
			fmt.Fprintf(&b, "BenchmarkParallelHashRP%s \t 1000\t %.0f ns/op\t 0 B/op\t 0 allocs/op\n", procs, ns+float64(i*10))
			fmt.Fprintf(&b, "BenchmarkAllocGC%s \t 1000\t %.0f ns/op\t %.5f gc/op\t %.0f B/op\t 2044 allocs/op\n", procs, 550000+float64(i*1000), gc+float64(i)*0.0001, bop)
		}
		return []byte(b.String())
	}
	tab, err := bench.Stats([]bench.Input{
		{Label: "default", Data: text("-2", 16000, 49056, 0.0101)},
		{Label: "single-core", Data: text("", 31000, 49056, 0.0102)},
		{Label: "lowmem", Data: text("-2", 16005, 49060, 0.0262)},
	})
	if err != nil {
		t.Fatal(err)
	}
	tab.Extras = []bench.ExtraRow{
		{Name: "binary size", Values: []string{"4.09 MiB", "2.81 MiB", "2.81 MiB"}, Delta: []string{"", "-31.2%", "-31.2%"}},
		{Name: "peak RSS", Values: []string{"28.34 MiB", "27.70 MiB", "24.10 MiB"}, Delta: []string{"", "-2.3%", "-15.0%"}},
		{Name: "mean run queue", Values: []string{"0.36", "0.22", "0.30"}, Delta: []string{"", "-38.9%", "-16.7%"}},
	}
	tab.Flagged = map[string][]string{"lowmem": {"round 3: CPU frequency changed (600–1500 MHz)"}}
	tab.Notes = []string{"the device is emulated (qemu-user): timings show relative differences, not a real board's speed"}
	return tab
}

func TestComparePaneGolden(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {200, 60}} {
		p := NewComparePane(DefaultStyles())
		p.SetSize(size[0]+2, size[1]+2)
		p.SetTable(compareTable(t))
		out := p.body()
		assertSize(t, out, size[0], size[1])
		golden(t, fmt.Sprintf("compare_%dx%d", size[0], size[1]), out)
	}
}

func TestComparePaneScrolls(t *testing.T) {
	p := NewComparePane(DefaultStyles())
	p.SetSize(60+2, 12+2)
	p.SetTable(compareTable(t))
	first := plain(p.body())
	// At 60 columns the three profiles do not fit: → shows the last one.
	if strings.Contains(first, "lowmem") {
		t.Fatalf("all columns fit at 80; the test needs a narrower table:\n%s", first)
	}
	if !strings.Contains(strings.Split(first, "\n")[0], "→") {
		t.Errorf("no → marker for hidden columns:\n%s", first)
	}
	p.Update(press("right"))
	p.Update(press("right"))
	p.Update(press("right")) // clamped: stays at the last useful position
	right := plain(p.body())
	if !strings.Contains(right, "lowmem") || !strings.Contains(right, "ParallelHashRP") {
		t.Errorf("after →, want lowmem beside the frozen names:\n%s", right)
	}
	if !strings.Contains(strings.Split(right, "\n")[0], "←") {
		t.Errorf("no ← marker:\n%s", right)
	}
	// ↓ past the end stops at the last page; home returns.
	for i := 0; i < 100; i++ {
		p.Update(press("down"))
	}
	bottom := plain(p.body())
	if !strings.Contains(bottom, "note: the device is emulated") {
		t.Errorf("scrolled to the end, want the note:\n%s", bottom)
	}
	assertSize(t, p.body(), 60, 12)
	p.Update(press("home"))
	if got := plain(p.body()); got != first {
		t.Errorf("home did not return to the top left:\n%s", got)
	}
}

func TestComparePaneColoursBySignificance(t *testing.T) {
	p := NewComparePane(DefaultStyles())
	tab := compareTable(t)
	var rp, gc bench.Row
	for _, ut := range tab.Units {
		for _, r := range ut.Rows {
			if ut.Unit == "sec/op" && r.Name == "ParallelHashRP" {
				rp = r
			}
			if ut.Unit == "gc/op" {
				gc = r
			}
		}
	}
	slower := rp.Cells[1] // single-core: significantly slower
	if !slower.Significant || slower.Better != -1 {
		t.Fatalf("fixture: %+v", slower)
	}
	if got := cellText(p.cell(slower, 1, false)); !strings.Contains(got, p.st.Worse.Render(slower.Delta)) {
		t.Errorf("a regression is not drawn as worse: %q", got)
	}
	same := rp.Cells[2] // lowmem: +0.03%, not significant
	if same.Significant {
		t.Fatalf("fixture: %+v", same)
	}
	if got := cellText(p.cell(same, 2, false)); !strings.Contains(got, p.st.Faint.Render("~")) {
		t.Errorf("not significant is not drawn as ~: %q", got)
	}
	more := gc.Cells[2] // lowmem: more GC, direction unknown for a custom unit
	if !more.Significant || more.Better != 0 {
		t.Fatalf("fixture: %+v", more)
	}
	if got := cellText(p.cell(more, 2, true)); !strings.Contains(got, p.st.Warn.Render(more.Delta)) || !strings.Contains(ansi.Strip(got), "(p=0.002 n=6)") {
		t.Errorf("a significant change of unknown direction: %q", got)
	}
	if got := strings.TrimSpace(ansi.Strip(cellText(p.cell(bench.Cell{}, 1, true)))); got != "-" {
		t.Errorf("missing cell %q", got)
	}
}

func TestComparePaneEmpty(t *testing.T) {
	p := NewComparePane(DefaultStyles())
	p.SetSize(40+2, 3+2)
	out := p.body()
	assertSize(t, out, 40, 3)
	if !strings.Contains(plain(out), "no results yet") {
		t.Errorf("empty pane:\n%s", out)
	}
	p.SetTable(compareTable(t))
	if !strings.Contains(plain(p.body()), "benchmark") {
		t.Error("SetTable did not set the table")
	}
}

func cellText(c [cmpSubs]string) string { return strings.Join(c[:], " ") }

// TestComparePaneExportsNextToTheRun: E writes the table as Markdown,
// CSV and SVG into the stored run's folder and says so in the footer; a
// run kept in memory has nowhere to export to, so E is off.
func TestComparePaneExportsNextToTheRun(t *testing.T) {
	p := NewComparePane(DefaultStyles())
	p.SetSize(100, 20)
	p.SetTable(compareTable(t))
	if cmd := p.Update(tea.KeyPressMsg{Code: 'E', Text: "E"}); cmd != nil || p.keys.Export.Enabled() {
		t.Fatal("E is on for a run kept in memory")
	}
	dir := t.TempDir()
	p.SetExport(dir, "local-arm64 · release vs lowmem")
	cmd := p.Update(tea.KeyPressMsg{Code: 'E', Text: "E"})
	if cmd == nil {
		t.Fatal("E did nothing with a stored run")
	}
	p.Update(cmd())
	for _, name := range []string{"compare.md", "compare.csv", "compare.svg"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %v (%d bytes)", name, err, len(b))
		}
		if !strings.Contains(p.footer, name) {
			t.Errorf("footer %q does not name %s", p.footer, name)
		}
	}
	if md, _ := os.ReadFile(filepath.Join(dir, "compare.md")); !strings.HasPrefix(string(md), "## local-arm64 · release vs lowmem") {
		t.Errorf("markdown lacks its title:\n%s", md)
	}

	// A folder that cannot be written says why in the footer.
	p.SetExport(filepath.Join(dir, "missing", "run"), "x")
	p.Update(p.Update(tea.KeyPressMsg{Code: 'E', Text: "E"})())
	if !strings.HasPrefix(p.footer, "export failed:") {
		t.Errorf("footer after a failed export: %q", p.footer)
	}
}
