package live

import (
	"errors"
	"io/fs"
	"slices"
	"testing"
	"time"

	"armbench/bench"
	"armbench/targets"
)

func TestSteps(t *testing.T) {
	pi := targets.Target{Cores: 4, Memory: 1 << 30}
	if got := Steps(GOMAXPROCS, pi); !slices.Equal(got, []string{"1", "2", "3", "4"}) {
		t.Errorf("GOMAXPROCS steps %v", got)
	}
	if got := Steps(GOMEMLIMIT, pi); !slices.Equal(got, []string{"16MiB", "32MiB", "64MiB", "128MiB", "256MiB", "512MiB", "1GiB", "off"}) {
		t.Errorf("GOMEMLIMIT steps %v", got)
	}
	for _, tt := range []struct {
		k        Knob
		cur      string
		dir      int
		want     string
		explains string
	}{
		{GOGC, "100", +1, "200", "next step"},
		{GOGC, "400", +1, "800", ""},
		{GOGC, "800", +1, "off", "off is the top"},
		{GOGC, "off", +1, "off", "stops at the end"},
		{GOGC, "25", -1, "25", "stops at the bottom"},
		{GOGC, "150", +1, "200", "between steps: the next one up"},
		{GOGC, "150", -1, "100", "between steps: the next one down"},
		{GOMAXPROCS, "4", +1, "4", "no more cores than the device has"},
		{GOMAXPROCS, "2", -1, "1", ""},
		{GOMEMLIMIT, "off", -1, "1GiB", "down from off: the device's memory"},
		{GOMEMLIMIT, "100MiB", -1, "64MiB", ""},
	} {
		if got := Step(tt.k, pi, tt.cur, tt.dir); got != tt.want {
			t.Errorf("Step(%v, %q, %+d) = %q, want %q (%s)", tt.k, tt.cur, tt.dir, got, tt.want, tt.explains)
		}
	}
}

func TestSettingsApply(t *testing.T) {
	env := []string{"GOGC=50", "FOO=1", "GODEBUG=madvdontneed=1"}
	s := FromEnv(env)
	if s[GOGC] != "50" || s[GOMAXPROCS] != "" {
		t.Fatalf("FromEnv %v", s)
	}
	if v := s.Value(GOMAXPROCS, targets.Target{Cores: 2}); v != "2" {
		t.Errorf("default GOMAXPROCS %q", v)
	}
	if v := s.Value(GOMAXPROCS, targets.Target{Host: "pi.local"}); v != "auto" {
		t.Errorf("default GOMAXPROCS on a device of unknown cores %q", v)
	}
	if v := Step(GOMAXPROCS, targets.Target{Host: "pi.local"}, "auto", -1); v != "1" {
		t.Errorf("down from auto: %q", v)
	}
	s[GOGC], s[GOMEMLIMIT] = "200", "off"
	got := withGCTrace(s.Apply(env))
	want := []string{"GOGC=200", "FOO=1", "GODEBUG=madvdontneed=1,gctrace=1", "GOMEMLIMIT=9223372036854775807"}
	if !slices.Equal(got, want) {
		t.Errorf("env %q, want %q", got, want)
	}
	if got := withGCTrace([]string{"A=b"}); !slices.Equal(got, []string{"A=b", "GODEBUG=gctrace=1"}) {
		t.Errorf("gctrace added %q", got)
	}
}

// The reader counts the runtime's gctrace lines into GCs per second and
// passes the program's own lines on.
func TestReaderGCPerSecond(t *testing.T) {
	var got []Event
	r := &reader{send: func(e Event) { got = append(got, e) }}
	r.handle(bench.Line{Stderr: true, Text: "gc 1 @0.010s 2%: 0.01+0.2+0.01 ms clock, 4->4->0 MB, 4 MB goal, 4 P"})
	r.handle(bench.Line{Stderr: true, Text: "gc 2 @0.210s 2%: 0.01+0.2+0.01 ms clock, 4->4->0 MB, 4 MB goal, 4 P"})
	r.handle(bench.Line{Text: "hash 100 steps"})
	r.handle(bench.Proc{T: 500 * time.Millisecond, Sample: bench.ProcSample{CPU: 90, RSS: 8 << 20, Threads: 5}})
	r.handle(bench.Proc{T: time.Second, Sample: bench.ProcSample{CPU: 95}})
	var samples []Sample
	var lines []Line
	for _, e := range got {
		switch e := e.(type) {
		case Sample:
			samples = append(samples, e)
		case Line:
			lines = append(lines, e)
		}
	}
	if len(lines) != 1 || lines[0].Text != "hash 100 steps" {
		t.Errorf("lines %v: gctrace must not show, the program's own must", lines)
	}
	if len(samples) != 2 || samples[0].GCPerSec != 4 || samples[1].GCPerSec != 0 || samples[0].RSS != 8<<20 || samples[0].Threads != 5 {
		t.Errorf("samples %+v", samples)
	}
}

func TestNotDeployed(t *testing.T) {
	err := notDeployed("/d/w", errors.New("probe: start /d/w: fork/exec /d/w: no such file or directory"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%v", err)
	}
	if err := notDeployed("/d/w", errors.New("exit status 2")); errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%v", err)
	}
}
