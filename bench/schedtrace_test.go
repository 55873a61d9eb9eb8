package bench

import (
	"armbench/internal/testenv"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestParseSchedLineFormats(t *testing.T) {
	tests := []struct {
		name string
		line string
		want SchedSample
	}{
		{
			name: "go1.24",
			line: "SCHED 1004ms: gomaxprocs=4 idleprocs=4 threads=6 spinningthreads=0 needspinning=0 idlethreads=3 runqueue=0 [0 0 0 0]",
			want: SchedSample{At: 1004 * time.Millisecond, GOMAXPROCS: 4, IdleProcs: 4, Threads: 6, IdleThreads: 3,
				LocalRunQueues: []int{0, 0, 0, 0}, HasNeedSpinning: true},
		},
		{
			name: "go1.25",
			line: "SCHED 110ms: gomaxprocs=2 idleprocs=0 threads=4 spinningthreads=0 needspinning=1 idlethreads=1 runqueue=3 [ 3 0 ] schedticks=[ 7 8 ]",
			want: SchedSample{At: 110 * time.Millisecond, GOMAXPROCS: 2, Threads: 4, NeedSpinning: 1, IdleThreads: 1, RunQueue: 3,
				LocalRunQueues: []int{3, 0}, SchedTicks: []int64{7, 8}, HasNeedSpinning: true, Bracketed: true},
		},
		{
			name: "go1.19 without needspinning",
			line: "SCHED 100ms: gomaxprocs=2 idleprocs=0 threads=4 spinningthreads=2 idlethreads=1 runqueue=3 [2 1]",
			want: SchedSample{At: 100 * time.Millisecond, GOMAXPROCS: 2, Threads: 4, SpinningThreads: 2, IdleThreads: 1, RunQueue: 3,
				LocalRunQueues: []int{2, 1}},
		},
		{
			name: "interleaved with program output",
			line: "partial writeSCHED 5ms: gomaxprocs=1 idleprocs=0 threads=2 spinningthreads=0 needspinning=0 idlethreads=0 runqueue=0 [ 9 ] schedticks=[ 1 ]",
			want: SchedSample{At: 5 * time.Millisecond, GOMAXPROCS: 1, Threads: 2, LocalRunQueues: []int{9}, SchedTicks: []int64{1},
				HasNeedSpinning: true, Bracketed: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSchedLine(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseSchedLine:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseSchedLineRejects(t *testing.T) {
	for _, line := range []string{
		"",
		"BenchmarkX-4 100 12 ns/op",
		"SCHED",
		"SCHED xms: gomaxprocs=1",
		"SCHED 5ms: idleprocs=1",               // no gomaxprocs
		"SCHED 5ms: gomaxprocs=x",              // bad number
		"SCHED 5ms: gomaxprocs=1 gomaxprocs=2", // twice
		"SCHED 5ms: gomaxprocs=1 runqueue=0 [ 1 2",              // unterminated
		"SCHED 5ms: gomaxprocs=1 runqueue=0 [1] [2]",            // two lists
		"SCHED 5ms: gomaxprocs=1 runqueue=0 [a]",                // bad list item
		"SCHED 5ms: gomaxprocs=1 schedticks=[ 1 ] schedticks=[", // twice
		"SCHED 5ms: gomaxprocs=1 stray",
	} {
		if s, err := ParseSchedLine(line); err == nil {
			t.Errorf("ParseSchedLine(%q) = %+v, want an error", line, s)
		}
	}
}

func TestSchedParserDetail(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "scheddetail-go119.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var p SchedParser
	var samples []SchedSample
	var passed []string
	data, _ := os.ReadFile(f.Name())
	for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		done, consumed := p.Line(line)
		samples = append(samples, done...)
		if !consumed {
			passed = append(passed, line)
		}
	}
	if _, ok := p.Flush(); ok {
		t.Error("a sample was still pending after a non-schedtrace line")
	}
	if len(samples) != 1 {
		t.Fatalf("got %d samples, want 1", len(samples))
	}
	if !reflect.DeepEqual(passed, []string{"plain stderr line from the program"}) {
		t.Errorf("lines passed through: %q", passed)
	}
	d := samples[0].Detail
	if d == nil {
		t.Fatal("no detail")
	}
	want := &SchedDetail{
		Ps: []PState{
			{ID: 0, Status: 1, SchedTick: 3, M: 0},
			{ID: 1, Status: 0, SchedTick: 1, M: -1},
		},
		Ms: []MState{
			{ID: 1, P: -1, CurG: -1, Locks: 1, LockedG: -1},
			{ID: 0, P: 0, CurG: 1, PreemptOff: "GC worker init", LockedG: 1},
		},
		Gs: []GState{
			{ID: 1, Status: 2, M: 0, LockedM: 0},
			{ID: 2, Status: 4, WaitReason: "force gc (idle)", M: -1, LockedM: -1},
		},
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("detail:\n got %+v\nwant %+v", d, want)
	}
	if samples[0].GOMAXPROCS != 2 || samples[0].IdleThreads != 1 {
		t.Errorf("summary = %+v", samples[0])
	}
}

func TestParseSchedtraceFiles(t *testing.T) {
	tests := []struct {
		file        string
		min         int
		detail      bool
		ticks       bool
		needSpin    bool
		firstProcs  int
		lastRunqSum int // -1: don't check
	}{
		{"schedtrace-go124.txt", 3, false, false, true, 4, 10},
		{"schedtrace-go119.txt", 2, false, false, false, 2, 3},
		{"schedtrace-go126.txt", 3, false, true, true, 2, -1},
		{"scheddetail-go126-arm64.txt", 3, true, false, true, 2, -1},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := ParseSchedtrace(f)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) < tt.min {
				t.Fatalf("%d samples, want at least %d", len(got), tt.min)
			}
			for i, s := range got {
				if (s.Detail != nil) != tt.detail {
					t.Errorf("sample %d: detail = %v, want %v", i, s.Detail != nil, tt.detail)
				}
				if (s.SchedTicks != nil) != tt.ticks {
					t.Errorf("sample %d: schedticks = %v", i, s.SchedTicks)
				}
				if s.HasNeedSpinning != tt.needSpin {
					t.Errorf("sample %d: needspinning present = %v", i, s.HasNeedSpinning)
				}
				if tt.detail && len(s.Detail.Ps) != s.GOMAXPROCS {
					t.Errorf("sample %d: %d P lines for gomaxprocs=%d", i, len(s.Detail.Ps), s.GOMAXPROCS)
				}
				if !tt.detail && len(s.LocalRunQueues) != s.GOMAXPROCS {
					t.Errorf("sample %d: %d per-P queues for gomaxprocs=%d", i, len(s.LocalRunQueues), s.GOMAXPROCS)
				}
				if i > 0 && s.At < got[i-1].At {
					t.Errorf("sample %d goes back in time: %v after %v", i, s.At, got[i-1].At)
				}
			}
			if got[0].GOMAXPROCS != tt.firstProcs {
				t.Errorf("gomaxprocs = %d, want %d", got[0].GOMAXPROCS, tt.firstProcs)
			}
			if tt.lastRunqSum >= 0 {
				if n := got[len(got)-1].LocalRunQueueTotal(); n != tt.lastRunqSum {
					t.Errorf("last per-P total = %d, want %d", n, tt.lastRunqSum)
				}
			}
		})
	}
}

// TestSchedtraceLive runs a program built by this Go with schedtrace and
// scheddetail, so a change of the runtime's format shows up here first.
func TestSchedtraceLive(t *testing.T) {
	testenv.Slow(t, "builds and runs a program")
	dir := t.TempDir()
	src := `package main
import ("sync"; "time")
func main() {
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); t := time.Now(); for time.Since(t) < 250*time.Millisecond {} }()
	}
	wg.Wait()
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module live\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "live")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, godebug := range []string{"schedtrace=50", "schedtrace=50,scheddetail=1"} {
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), "GODEBUG="+godebug, "GOMAXPROCS=2")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v", godebug, err)
		}
		var p SchedParser
		var n int
		for _, line := range strings.Split(stderr.String(), "\n") {
			done, consumed := p.Line(line)
			n += len(done)
			if !consumed && line != "" {
				t.Errorf("%s: line not recognised: %q", godebug, line)
			}
			for _, s := range done {
				if s.GOMAXPROCS != 2 {
					t.Errorf("%s: gomaxprocs=%d, want 2", godebug, s.GOMAXPROCS)
				}
				if strings.Contains(godebug, "detail") {
					if s.Detail == nil || len(s.Detail.Ps) != 2 || len(s.Detail.Ms) == 0 || len(s.Detail.Gs) == 0 {
						t.Errorf("%s: incomplete detail %+v", godebug, s.Detail)
					}
				} else if len(s.SchedTicks) != 2 || len(s.LocalRunQueues) != 2 {
					t.Errorf("%s (%s): want Go ≥ 1.25 format with 2 Ps: %+v", godebug, runtime.Version(), s)
				}
			}
		}
		if _, ok := p.Flush(); ok {
			n++
		}
		if n < 3 {
			t.Errorf("%s: %d samples in 250ms at 50ms, want ≥ 3:\n%s", godebug, n, stderr.String())
		}
		if p.Errors != 0 {
			t.Errorf("%s: %d damaged lines", godebug, p.Errors)
		}
	}
}

func TestSchedSampleStringRoundTrip(t *testing.T) {
	for _, file := range []string{"schedtrace-go124.txt", "schedtrace-go119.txt", "schedtrace-go126.txt", "scheddetail-go126-arm64.txt", "scheddetail-go119.txt"} {
		f, err := os.Open(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		samples, err := ParseSchedtrace(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range samples {
			back, err := ParseSchedtrace(strings.NewReader(s.String()))
			if err != nil || len(back) != 1 || !reflect.DeepEqual(back[0], s) {
				t.Errorf("%s: round trip of\n%s\ngave %+v (%v)", file, s, back, err)
			}
		}
	}
}

// FuzzSchedtrace feeds arbitrary stderr through the parser: it must not
// panic, and whatever it accepts must print and parse back to itself.
func FuzzSchedtrace(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "sched*.txt"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Fuzz(func(t *testing.T, in string) {
		var p SchedParser
		var samples []SchedSample
		for _, line := range strings.Split(in, "\n") {
			done, _ := p.Line(line)
			samples = append(samples, done...)
		}
		if s, ok := p.Flush(); ok {
			samples = append(samples, s)
		}
		for _, s := range samples {
			text := s.String()
			back, err := ParseSchedtrace(strings.NewReader(text))
			if err != nil || len(back) != 1 {
				t.Fatalf("reparse of %q: %d samples, %v", text, len(back), err)
			}
			if !reflect.DeepEqual(back[0], s) {
				t.Fatalf("round trip:\n in %+v\nout %+v\ntext %q", s, back[0], text)
			}
		}
	})
}
