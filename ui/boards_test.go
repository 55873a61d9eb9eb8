package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"armbench/bench"
)

// space in the targets pane ticks the target under the cursor, visibly,
// and the pane's footer says what r does with the ticked targets.
func TestTargetsTick(t *testing.T) {
	m := newTestModel(t, 80, 24)
	row := func(name string) string {
		for _, l := range strings.Split(plain(screen(m)), "\n") {
			if strings.HasPrefix(l, "│") && strings.Contains(l, name) {
				return l
			}
		}
		t.Fatalf("no row of %s:\n%s", name, plain(screen(m)))
		return ""
	}
	if strings.Contains(row("local-arm64"), "✓") {
		t.Fatalf("ticked before space: %q", row("local-arm64"))
	}
	keys(m, "space")
	if !strings.Contains(row("local-arm64"), "✓") || !strings.Contains(plain(screen(m)), "1 ticked: r benches on it") {
		t.Errorf("space did not tick local-arm64 visibly:\n%s", plain(screen(m)))
	}
	keys(m, "j", "space")
	if !strings.Contains(row("local-armv7"), "✓") || !strings.Contains(plain(screen(m)), "2 ticked: r benches on each") {
		t.Errorf("space did not tick local-armv7:\n%s", plain(screen(m)))
	}
	if got := m.targets.Ticked(); len(got) != 2 || got[0].Name != "local-arm64" || got[1].Name != "local-armv7" {
		t.Errorf("ticked %v", got)
	}
	keys(m, "space")
	if strings.Contains(row("local-armv7"), "✓") || len(m.targets.Ticked()) != 1 {
		t.Errorf("second space did not untick: %q", row("local-armv7"))
	}
	// The chosen target is still the one enter chose.
	if tg, ok := m.targets.Chosen(); !ok || tg.Name != "local-arm64" {
		t.Errorf("chosen %v %v", tg, ok)
	}
}

// boardsTable is one profile on two boards, their config lines apart.
func boardsTable(t *testing.T) *bench.Table {
	t.Helper()
	text := func(goarch, cpu string, ns float64) []byte {
		var b strings.Builder
		fmt.Fprintf(&b, "goos: linux\ngoarch: %s\npkg: armbench/examples/workload\ncpu: %s\n", goarch, cpu)
		for i := range 6 {
			fmt.Fprintf(&b, "BenchmarkSHA256-2 \t 1000\t %.0f ns/op\t 0 B/op\t 0 allocs/op\n", ns+float64(i*10))
			fmt.Fprintf(&b, "BenchmarkAllocTrees-2 \t 1000\t %.0f ns/op\t 17000 B/op\t 511 allocs/op\n", 3*ns+float64(i*30))
		}
		return []byte(b.String())
	}
	tab, err := bench.Stats([]bench.Input{
		{Label: "local-arm64/default", Data: text("arm64", "Cortex-A72", 15000)},
		{Label: "local-armv7/default", Data: text("arm", "ARMv7 Processor rev 3 (v7l)", 61000)},
	})
	if err != nil {
		t.Fatal(err)
	}
	tab.Extras = []bench.ExtraRow{
		{Name: "binary size", Values: []string{"4.09 MiB", "3.81 MiB"}, Delta: []string{"", "-6.8%"}},
	}
	tab.Notes = []string{"local-arm64, local-armv7 ran at the same time on this machine's 2 CPUs: each slowed the other"}
	return tab
}

// boardEvents are the first rounds of default on two boards.
func boardEvents() []any {
	var evs []any
	for b, target := range []string{"local-arm64", "local-armv7"} {
		push := func(ev bench.Event) {
			evs = append(evs, bench.BoardEvent{Board: b, Target: target, Column: b, Event: ev})
		}
		push(bench.Phase{Name: "bench"})
		for round := range 2 {
			push(bench.RunStarted{Profile: "default", Round: round, Rounds: 7})
			for k := range 8 {
				push(bench.Sched{Profile: "default", Round: round, Sample: bench.SchedSample{GOMAXPROCS: 2, Threads: 4 + k%2, RunQueue: k % 3}})
				push(bench.Proc{Profile: "default", Round: round, Sample: bench.ProcSample{CPU: float64(100 + 10*k), RSS: int64(20+k+b) << 20}})
			}
			push(bench.RunDone{Profile: "default", Round: round, Stats: bench.RoundStats{Profile: "default", Round: round, Wall: time.Duration(1+b) * time.Second, MeanCPU: 150, PeakRSS: 31 << 20}})
		}
	}
	return evs
}

// r with two targets ticked benches on both: a block per board in the
// bench pane, then one comparison with a column per board.
func TestBenchBoardsScreens(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {200, 60}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			m := newFlowModel(t, sz[0], sz[1])
			keys(m, "space", "j", "space")
			tickProfiles(t, m, "default")
			keys(m, "r")
			a := actTask(m)
			if a == nil || a.kind != "bench" {
				t.Fatalf("r did not start a bench; notice %q", m.notice)
			}
			f, ok := a.flow.(*boardsFlow)
			if !ok || len(f.specs) != 2 || f.specs[0].Target.Name != "local-arm64" || f.specs[1].Target.Name != "local-armv7" {
				t.Fatalf("flow %#v: want a session on local-arm64 and local-armv7", a.flow)
			}
			if f.specs[1].Plans[0].Target.GOARCH != "arm" {
				t.Errorf("the armv7 board's plan is for %s", f.specs[1].Plans[0].Target.GOARCH)
			}
			send(m, taskMsg{id: a.id, events: boardEvents()})
			s := plain(screen(m))
			for _, want := range []string{"local-arm64/default", "local-armv7/default"} {
				if !strings.Contains(s, want) {
					t.Errorf("bench pane lacks %q:\n%s", want, s)
				}
			}
			runs := []*bench.Run{
				{ID: "20261127-120000-local-arm64", Dir: ".armbench/runs/20261127-120000-local-arm64"},
				{ID: "20261127-120000-local-armv7", Dir: ".armbench/runs/20261127-120000-local-armv7"},
			}
			send(m, taskMsg{id: a.id, events: []any{boardsResult{runs: runs, tab: boardsTable(t)}}, closed: true})
			if m.main.shown != paneCompare {
				t.Errorf("main area shows %s after the bench", m.main.shown)
			}
			golden(t, fmt.Sprintf("bench_boards_%dx%d", sz[0], sz[1]), screen(m))
			s = plain(screen(m))
			for _, want := range []string{"local-arm64", "local-armv7", "default (base)", "goarch: arm cpu: ARMv7"} {
				if !strings.Contains(s, want) {
					t.Errorf("compare screen lacks %q:\n%s", want, s)
				}
			}
			if a.err != nil {
				t.Errorf("task failed: %v", a.err)
			}
		})
	}
}

// The compare pane heads board columns with the board over the profile,
// and shows numbers for both boards in every row.
func TestComparePaneBoards(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {200, 60}} {
		p := NewComparePane(DefaultStyles())
		p.SetSize(size[0]+2, size[1]+2)
		p.SetTable(boardsTable(t))
		out := p.body()
		assertSize(t, out, size[0], size[1])
		golden(t, fmt.Sprintf("compare_boards_%dx%d", size[0], size[1]), out)
		lines := strings.Split(plain(out), "\n")
		if !strings.Contains(lines[0], "local-arm64") || !strings.Contains(lines[0], "local-armv7") || !strings.Contains(lines[1], "default (base)") {
			t.Errorf("%dx%d header:\n%s\n%s", size[0], size[1], lines[0], lines[1])
		}
		for _, l := range lines {
			if strings.HasPrefix(l, "SHA256") && (strings.Count(l, "±") != 2 || strings.Contains(l, "→")) {
				t.Errorf("%dx%d: both boards' numbers should be in view: %q", size[0], size[1], l)
			}
		}
	}
}
