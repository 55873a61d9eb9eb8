package ui

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"armbench/bench"
)

// feedSession pushes a short, deterministic session: two profiles, a
// warmup and a round each, samples with temperature and frequency.
func feedSession(p *BenchPane) {
	p.Reset([]string{"default", "single-core"})
	for _, ev := range sessionEvents() {
		p.Push(ev)
	}
}

// sessionEvents are feedSession's events, for feeding the root model too.
func sessionEvents() []bench.Event {
	var evs []bench.Event
	push := func(ev bench.Event) { evs = append(evs, ev) }
	push(bench.Phase{Name: "bench"})
	for round := 0; round < 2; round++ {
		for i, name := range []string{"default", "single-core"} {
			push(bench.RunStarted{Profile: name, Index: i, Round: round, Rounds: 7, Warmup: round == 0})
			for k := 0; k < 12; k++ {
				procs := 2 - i
				push(bench.Sched{Profile: name, Index: i, Round: round, Sample: bench.SchedSample{
					GOMAXPROCS: procs, IdleProcs: k % procs, Threads: 3 + k%3 + (1 - i), RunQueue: k % 4, LocalRunQueues: []int{k % 2},
				}})
				push(bench.Proc{Profile: name, Index: i, Round: round, Sample: bench.ProcSample{
					CPU: float64(90 + 10*k*(procs)), RSS: int64(20+k) << 20, Threads: 4,
					TempMilli: []int64{50000 + int64(k)*500}, FreqKHz: []int64{1500000, 1500000 - int64(k%2)*900000},
				}})
			}
			stats := bench.RoundStats{Profile: name, Round: round, Warmup: round == 0, Wall: 1500 * time.Millisecond, MeanCPU: 150, PeakRSS: 31 << 20, MeanRunQueue: 1.5}
			if name == "single-core" && round == 1 {
				stats.Flag = "CPU frequency changed (600–1500 MHz)"
			}
			push(bench.RunDone{Profile: name, Index: i, Round: round, Stats: stats})
		}
	}
	push(bench.RunStarted{Profile: "default", Round: 2, Rounds: 7})
	return evs
}

func TestBenchPaneGolden(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {200, 60}} {
		p := NewBenchPane(DefaultStyles())
		feedSession(p)
		out := unframed(p, size[0], size[1])
		assertSize(t, out, size[0], size[1])
		golden(t, fmt.Sprintf("benchpane_%dx%d", size[0], size[1]), out)
	}
}

func TestBenchPaneLayout(t *testing.T) {
	p := NewBenchPane(DefaultStyles())
	feedSession(p)
	// 80 columns: profiles stacked; 200: side by side on one line.
	narrow := plain(unframed(p, 80, 40))
	wide := plain(unframed(p, 200, 40))
	lineWith := func(s, a, b string) bool {
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, a) && strings.Contains(l, b) {
				return true
			}
		}
		return false
	}
	if lineWith(narrow, "default", "single-core  ") {
		t.Errorf("80 columns: profiles side by side:\n%s", narrow)
	}
	if !lineWith(wide, "default  round 3/7", "single-core  1 done") {
		t.Errorf("200 columns: profiles not side by side:\n%s", wide)
	}
	for _, want := range []string{"run queue", "threads", "idle Ps", "CPU", "RSS", "temp", "freq", "⚠ 1 flagged", "⚠ CPU frequency changed", "warmup 0 default"} {
		if !strings.Contains(wide, want) {
			t.Errorf("view lacks %q:\n%s", want, wide)
		}
	}
}

func TestBenchPaneScrollAndFailure(t *testing.T) {
	p := NewBenchPane(DefaultStyles())
	feedSession(p)
	p.Push(bench.RunDone{Profile: "default", Round: 2, Err: errors.New("bench pi/default round 2: workload.test exited with status 1:\n--- FAIL")})
	p.Push(bench.Finished{Err: errors.New("boom")})
	top := plain(unframed(p, 60, 6))
	if !strings.Contains(top, "bench: failed: boom") {
		t.Errorf("header:\n%s", top)
	}
	for i := 0; i < 200; i++ {
		p.Update(press("j"))
	}
	bottom := plain(unframed(p, 60, 6))
	assertSize(t, unframed(p, 60, 6), 60, 6)
	if bottom == top {
		t.Error("j did not scroll")
	}
	p.Update(press("k"))
	if plain(unframed(p, 60, 6)) == bottom {
		t.Error("k did not scroll back")
	}
	if all := plain(unframed(p, 120, 40)); !strings.Contains(all, "2 default failed: bench pi/default round 2: workload.test exited with status 1") || !strings.Contains(all, "default  failed") {
		t.Errorf("failure not shown:\n%s", all)
	}
}

func TestSparkline(t *testing.T) {
	tests := []struct {
		vs     []float64
		w      int
		lo, hi float64
		want   string
	}{
		{[]float64{0, 1, 2, 3, 4, 5, 6, 7}, 8, 0, 7, "▁▂▃▄▅▆▇█"},
		{[]float64{5, 5}, 4, 5, 5, "██  "},     // flat non-zero series: full
		{[]float64{0, 0}, 2, 0, 0, "▁▁"},       // all zero: floor
		{[]float64{1, 2, 3, 4}, 2, 0, 4, "▆█"}, // only the newest fit
		{nil, 3, 0, 0, "   "},
	}
	for _, tt := range tests {
		if got := benchSparkline(tt.vs, tt.w, tt.lo, tt.hi); got != tt.want {
			t.Errorf("sparkline(%v, %d) = %q, want %q", tt.vs, tt.w, got, tt.want)
		}
	}
}

func TestBenchPaneEmpty(t *testing.T) {
	p := NewBenchPane(DefaultStyles())
	if p.body() != "" {
		t.Error("zero size must draw nothing")
	}
	p.SetSize(50+2, 4+2)
	out := p.body()
	assertSize(t, out, 50, 4)
	if !strings.Contains(plain(out), "no session yet") {
		t.Errorf("empty pane:\n%s", out)
	}
}
