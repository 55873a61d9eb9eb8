package bench

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"armbench/bench/probe/wire"
	"armbench/build"
	"armbench/profiles"
	"armbench/remote"
	"armbench/state"
	"armbench/targets"
)

// scriptDevice replays probe output: each Run call emits the next script
// as stdout lines, for tests of how the engine reads the probe.
type scriptDevice struct {
	raw     []string // stdout lines sent before the scripts' messages
	scripts [][]wire.Message
	stderr  []string
	code    int
	err     error
	calls   []remote.Command
}

func (d *scriptDevice) Deploy(ctx context.Context, f remote.File, name string, emit func(remote.Event)) (remote.Installed, error) {
	return remote.Installed{Path: "/dev/null/" + name}, nil
}
func (d *scriptDevice) Rollback(ctx context.Context, name string) error { return nil }
func (d *scriptDevice) Exec(ctx context.Context, script string) ([]byte, error) {
	return nil, errors.New("no exec")
}
func (d *scriptDevice) DeployDir() string { return "/dev/null" }
func (d *scriptDevice) Close() error      { return nil }
func (d *scriptDevice) Run(ctx context.Context, c remote.Command, emit func(remote.Event)) (remote.ExitStatus, error) {
	d.calls = append(d.calls, c)
	for _, l := range d.raw {
		emit(remote.Output{Text: l})
	}
	if len(d.scripts) > 0 {
		for _, m := range d.scripts[0] {
			b, _ := json.Marshal(m)
			emit(remote.Output{Stderr: false, Text: string(b)})
		}
		d.scripts = d.scripts[1:]
	}
	for _, s := range d.stderr {
		emit(remote.Output{Stderr: true, Text: s})
	}
	return remote.ExitStatus{Code: d.code}, d.err
}

func line(stream, text string, t time.Duration) wire.Message {
	return wire.Message{Type: wire.TypeLine, Stream: stream, Text: text, T: int64(t)}
}

func proc(p wire.Proc, t time.Duration) wire.Message {
	return wire.Message{Type: wire.TypeProc, Proc: &p, T: int64(t)}
}

func exitMsg(code int) wire.Message {
	return wire.Message{Type: wire.TypeExit, Exit: &wire.Exit{Code: code, WallNs: 2e9, UserNs: 1e9, SysNs: 1e8, MaxRSS: 30 << 20, ProbeUserNs: 1e6, ProbeSysNs: 1e6}}
}

func TestRunRoundReadsProbe(t *testing.T) {
	dev := &scriptDevice{scripts: [][]wire.Message{{
		{Type: wire.TypeStart, Start: &wire.Start{PID: 42}},
		line("stderr", "SCHED 0ms: gomaxprocs=2 idleprocs=1 threads=3 spinningthreads=0 needspinning=0 idlethreads=0 runqueue=1 [ 2 0 ] schedticks=[ 1 1 ]", 0),
		line("stdout", "goos: linux", time.Millisecond),
		line("stdout", "BenchmarkX-2 \t 10\t 100 ns/op", 2*time.Millisecond),
		line("stderr", "a warning from the program", 3*time.Millisecond),
		proc(wire.Proc{CPU: 150, RSS: 10 << 20, HWM: 40 << 20, Threads: 5, FreqKHz: []int64{1500000, 1500000}, TempMilli: []int64{55000}, Throttled: "0x0"}, 100*time.Millisecond),
		line("stderr", "SCHED 100ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 needspinning=0 idlethreads=1 runqueue=3 [ 1 1 ] schedticks=[ 5 6 ]", 100*time.Millisecond),
		proc(wire.Proc{CPU: 190, RSS: 12 << 20, HWM: 41 << 20, Threads: 6, FreqKHz: []int64{1500000, 1500000}, TempMilli: []int64{61000}, Throttled: "0x0"}, 200*time.Millisecond),
		exitMsg(0),
	}}}
	var events []Event
	rs, out, err := runRound(context.Background(), dev, "/p", []string{"--", "x"}, "default", 0, 3, false, func(e Event) { events = append(events, e) })
	if err != nil {
		t.Fatal(err)
	}
	want := RoundStats{
		Profile: "default", Round: 3,
		Wall: 2 * time.Second, User: time.Second, Sys: 100 * time.Millisecond, MaxRSS: 30 << 20, ProbeCPU: 2 * time.Millisecond,
		Samples: 2, SchedSamples: 2,
		MeanRunQueue: 4, MaxRunQueue: 5, MeanThreads: 4, MaxThreads: 5, MeanIdleProcs: 0.5, GOMAXPROCS: 2,
		MeanCPU: 170, PeakRSS: 41 << 20, FreqMinKHz: 1500000, FreqMaxKHz: 1500000, MaxTempMilli: 61000, Throttled: "0x0",
	}
	if !reflect.DeepEqual(rs, want) {
		t.Errorf("round stats\n got %+v\nwant %+v", rs, want)
	}
	if !reflect.DeepEqual(out.results, []string{"BenchmarkX-2 \t 10\t 100 ns/op"}) || !reflect.DeepEqual(out.config, []string{"goos: linux"}) {
		t.Errorf("results %q config %q", out.results, out.config)
	}
	if !reflect.DeepEqual(out.stderr, []string{"a warning from the program"}) {
		t.Errorf("stderr %q", out.stderr)
	}
	var kinds []string
	for _, e := range events {
		switch e := e.(type) {
		case Sched:
			kinds = append(kinds, "sched")
		case Proc:
			kinds = append(kinds, "proc")
		case Line:
			if e.Stderr {
				kinds = append(kinds, "stderr")
			} else {
				kinds = append(kinds, "stdout")
			}
		}
	}
	if got := strings.Join(kinds, " "); got != "sched stdout stdout stderr proc sched proc" {
		t.Errorf("events %s", got)
	}
	if len(out.samples) != 4 {
		t.Errorf("%d samples recorded, want 4", len(out.samples))
	}
}

func TestRoundFlags(t *testing.T) {
	tests := []struct {
		name  string
		procs []wire.Proc
		want  string
	}{
		{"clean", []wire.Proc{{FreqKHz: []int64{1800000}, Throttled: "0x0"}, {FreqKHz: []int64{1800000}, Throttled: "0x0"}}, ""},
		{"frequency", []wire.Proc{{FreqKHz: []int64{1800000, 1800000}}, {FreqKHz: []int64{600000, 1800000}}}, "CPU frequency changed (600–1800 MHz)"},
		{"throttled now", []wire.Proc{{Throttled: "0x0"}, {Throttled: "0x4"}}, "throttled (0x4)"},
		{"throttled during the round", []wire.Proc{{Throttled: "0x0"}, {Throttled: "0x20000"}}, "throttled (0x20000)"},
		{"throttled before the round only", []wire.Proc{{Throttled: "0x50000"}, {Throttled: "0x50000"}}, ""},
		{"both", []wire.Proc{{FreqKHz: []int64{1500000}, Throttled: "0x50005"}, {FreqKHz: []int64{1000000}, Throttled: "0x50005"}}, "throttled (0x50005), CPU frequency changed (1000–1500 MHz)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rs RoundStats
			summarizeRound(&rs, nil, tt.procs)
			if rs.Flag != tt.want {
				t.Errorf("flag %q, want %q", rs.Flag, tt.want)
			}
		})
	}
}

func TestRunRoundFailures(t *testing.T) {
	t.Run("probe error", func(t *testing.T) {
		dev := &scriptDevice{scripts: [][]wire.Message{{{Type: wire.TypeError, Error: "start x: no such file"}}}, code: 125}
		_, _, err := runRound(context.Background(), dev, "/p", nil, "a", 0, 0, false, func(Event) {})
		if err == nil || !strings.Contains(err.Error(), "no such file") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("no exit record", func(t *testing.T) {
		dev := &scriptDevice{scripts: [][]wire.Message{{line("stdout", "x", 0)}}, code: 126, stderr: []string{"exec format error"}}
		_, _, err := runRound(context.Background(), dev, "/p", nil, "a", 0, 0, false, func(Event) {})
		if err == nil || !strings.Contains(err.Error(), "status 126") || !strings.Contains(err.Error(), "exec format error") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("device error", func(t *testing.T) {
		dev := &scriptDevice{err: errors.New("connection lost")}
		_, _, err := runRound(context.Background(), dev, "/p", nil, "a", 0, 0, false, func(Event) {})
		if err == nil || !strings.Contains(err.Error(), "connection lost") {
			t.Errorf("err %v", err)
		}
	})
}

// TestMeasureFailingBenchmark: a benchmark that fails stops the session
// with its output in the error.
func TestMeasureFailingBenchmark(t *testing.T) {
	dev := &scriptDevice{scripts: [][]wire.Message{{
		line("stdout", "--- FAIL: BenchmarkX", 0),
		line("stderr", "boom", 0),
		exitMsg(1),
	}}}
	run := &Run{Kind: KindGoTest, Profiles: []ProfileRun{{Name: "default", Artifact: Artifact{Installed: "/d/w-default.test"}}}}
	var done []RunDone
	err := measure(context.Background(), Spec{Target: targets.Target{Name: "pi"}, Count: 6}.withDefaults(), dev, run, func(e Event) {
		if d, ok := e.(RunDone); ok {
			done = append(done, d)
		}
	})
	if err == nil || !strings.Contains(err.Error(), "exited with status 1") || !strings.Contains(err.Error(), "--- FAIL: BenchmarkX") || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err %v", err)
	}
	if len(done) != 1 || done[0].Err == nil {
		t.Errorf("RunDone events %+v", done)
	}
}

func TestMeasureCommandLineAndInterleaving(t *testing.T) {
	var scripts [][]wire.Message
	for i := 0; i < 6; i++ {
		scripts = append(scripts, []wire.Message{line("stdout", "BenchmarkX-2 \t 10\t 100 ns/op", 0), exitMsg(0)})
	}
	dev := &scriptDevice{scripts: scripts}
	run := &Run{Kind: KindGoTest, Profiles: []ProfileRun{
		{Name: "a", Artifact: Artifact{Installed: "/d/w-a.test"}, Plan: profiles.Plan{RunEnv: []profiles.EnvVar{{Key: "GODEBUG", Value: "madvdontneed=1"}}}},
		{Name: "b", Artifact: Artifact{Installed: "/d/w b.test"}, Plan: profiles.Plan{RunEnv: []profiles.EnvVar{{Key: "GOMAXPROCS", Value: "1"}}}},
	}, Probe: Artifact{Installed: "/d/armbench-probe"}}
	spec := Spec{Target: targets.Target{Name: "pi", GOARCH: "arm64", Runner: "qemu-aarch64-static"}, Count: 2, Warmup: 1, Bench: "X", Benchtime: "100ms"}
	if err := measure(context.Background(), spec.withDefaults(), dev, run, nil); err != nil {
		t.Fatal(err)
	}
	if len(dev.calls) != 6 {
		t.Fatalf("%d runs, want (1 warmup + 2) × 2", len(dev.calls))
	}
	var order []string
	for _, c := range dev.calls {
		order = append(order, filepath.Base(c.Args[len(c.Args)-6]))
	}
	if got := strings.Join(order, ","); got != "w-a.test,w b.test,w-a.test,w b.test,w-a.test,w b.test" {
		t.Errorf("order %s", got)
	}
	a := strings.Join(dev.calls[0].Args, " ")
	for _, want := range []string{"-runner qemu-aarch64-static", "-env GODEBUG=madvdontneed=1,schedtrace=100", "-- /d/w-a.test -test.run=^$ -test.bench=X -test.benchmem -test.count=1 -test.benchtime=100ms"} {
		if !strings.Contains(a, want) {
			t.Errorf("probe args %q lack %q", a, want)
		}
	}
	if b := strings.Join(dev.calls[1].Args, " "); !strings.Contains(b, "-env GOMAXPROCS=1 -env GODEBUG=schedtrace=100") {
		t.Errorf("probe args %q", b)
	}
	// Warmups are not in the benchmark text; counted rounds are.
	for _, p := range run.Profiles {
		if n := strings.Count(string(p.text), "BenchmarkX"); n != 2 {
			t.Errorf("%s: %d results in\n%s", p.Name, n, p.text)
		}
		if len(p.Rounds) != 3 || !p.Rounds[0].Warmup || p.Summary.Rounds != 2 {
			t.Errorf("%s rounds %+v", p.Name, p.Rounds)
		}
	}
	tab, err := Stats([]Input{{"a", run.Profiles[0].text}, {"b", run.Profiles[1].text}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Notes) != 1 || !strings.Contains(tab.Notes[0], "only 2 rounds") {
		t.Errorf("notes %q, want one warning about 2 rounds", tab.Notes)
	}
}

func TestMergeGODEBUG(t *testing.T) {
	tests := []struct{ in, want []string }{
		{nil, []string{"GODEBUG=schedtrace=100"}},
		{[]string{"GOGC=50"}, []string{"GOGC=50", "GODEBUG=schedtrace=100"}},
		{[]string{"GODEBUG=madvdontneed=1"}, []string{"GODEBUG=madvdontneed=1,schedtrace=100"}},
		{[]string{"GODEBUG=schedtrace=1000,scheddetail=1"}, []string{"GODEBUG=schedtrace=1000,scheddetail=1"}},
		{[]string{"GODEBUG="}, []string{"GODEBUG=schedtrace=100"}},
	}
	for _, tt := range tests {
		if got := mergeGODEBUG(tt.in, "schedtrace=100"); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("mergeGODEBUG(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The deployed names are tested with profiles.Plan.DeployName.
func TestConfigLines(t *testing.T) {
	for s, want := range map[string]bool{"goos: linux": true, "cpu: Cortex-A72": true, "pkg: a/b": true, "PASS": false, "ok  \tx": false, "Benchmark: x": false, "some text: here": false} {
		if isConfigLine(s) != want {
			t.Errorf("isConfigLine(%q) = %v", s, !want)
		}
	}
}

func TestProbePlanBuildsEmbeddedSource(t *testing.T) {
	out := t.TempDir()
	plan, err := ProbePlan(targets.Target{Name: "pi", GOARCH: "arm", GOARM: "6", Tags: []string{"x"}, CC: "gcc"}, out)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"go.mod", "bench/probe/main.go", "bench/probe/wire/wire.go"} {
		if _, err := os.Stat(filepath.Join(plan.Dir, f)); err != nil {
			t.Errorf("probe source: %v", err)
		}
	}
	env := strings.Join(plan.BuildEnvStrings(), " ")
	for _, want := range []string{"CGO_ENABLED=0", "GOARCH=arm", "GOARM=6", "GOWORK=off"} {
		if !strings.Contains(env, want) {
			t.Errorf("build env %q lacks %s", env, want)
		}
	}
	if args := strings.Join(plan.Args, " "); !strings.Contains(args, "-trimpath") || !strings.Contains(args, "-ldflags=-s -w") || strings.Contains(args, "-tags") {
		t.Errorf("args %q", args)
	}
	// Writing again leaves unchanged files alone (the build cache keys on them).
	st1, _ := os.Stat(filepath.Join(plan.Dir, "bench/probe/main.go"))
	time.Sleep(10 * time.Millisecond)
	if _, err := ProbePlan(targets.Target{Name: "pi", GOARCH: "arm64"}, out); err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(filepath.Join(plan.Dir, "bench/probe/main.go"))
	if !st1.ModTime().Equal(st2.ModTime()) {
		t.Error("probe source rewritten although unchanged")
	}
}

func TestSpecCheck(t *testing.T) {
	tgt := targets.Target{Name: "pi"}
	p := func(name string, mode profiles.Mode) profiles.Plan {
		return profiles.Plan{Target: tgt, Profile: profiles.Profile{Name: name}, Mode: mode}
	}
	bad := []Spec{
		{Target: tgt},
		{Target: tgt, Plans: []profiles.Plan{p("a", profiles.ModeTest), p("a", profiles.ModeTest)}},
		{Target: tgt, Plans: []profiles.Plan{p("a", profiles.ModeTest), p("b", profiles.ModeBinary)}},
		{Target: targets.Target{Name: "other"}, Plans: []profiles.Plan{p("a", profiles.ModeTest)}},
		{Target: tgt, Plans: []profiles.Plan{p("a", profiles.ModeTest)}, Count: -1},
	}
	for i, s := range bad {
		if err := s.check(); err == nil {
			t.Errorf("spec %d: want an error", i)
		}
	}
	good := Spec{Target: tgt, Plans: []profiles.Plan{p("a", profiles.ModeBinary)}}
	if err := good.check(); err != nil || good.kind() != KindCommand {
		t.Errorf("good spec: %v, kind %s", err, good.kind())
	}
}

// FuzzProbeOutput: whatever a device prints where probe JSON is expected,
// reading it must not panic, and a round that succeeds has its exit.
func FuzzProbeOutput(f *testing.F) {
	for _, msgs := range [][]wire.Message{
		{line("stderr", "SCHED 0ms: gomaxprocs=2 idleprocs=1 threads=3 spinningthreads=0 needspinning=0 idlethreads=0 runqueue=1 [ 2 0 ] schedticks=[ 1 1 ]", 0), line("stdout", "BenchmarkX-2 \t 10\t 100 ns/op", 1), proc(wire.Proc{CPU: 50, Throttled: "0x50005", FreqKHz: []int64{1, 2}}, 2), exitMsg(0)},
		{{Type: wire.TypeError, Error: "x"}},
		{line("stderr", "SCHED 0ms: gomaxprocs=1 idleprocs=0 threads=2 spinningthreads=0 idlethreads=0 runqueue=0 gcwaiting=0 nmidlelocked=0 stopwait=0 sysmonwait=0", 0), line("stderr", "  P0: status=1 schedtick=1 syscalltick=0 m=0 runqsize=0 gfreecnt=0 timerslen=0", 0), exitMsg(2)},
	} {
		var b strings.Builder
		for _, m := range msgs {
			data, _ := json.Marshal(m)
			b.Write(data)
			b.WriteByte('\n')
		}
		f.Add(b.String())
	}
	f.Add("not json\n{\"type\":\"proc\"}\n{\"type\":\"exit\"}\n")
	f.Add(`{"type":"exit","exit":{"code":0,"wall_ns":-5}}`)
	f.Fuzz(func(t *testing.T, out string) {
		dev := &scriptDevice{raw: strings.Split(out, "\n")}
		rs, _, err := runRound(context.Background(), dev, "/p", nil, "a", 0, 0, false, func(Event) {})
		if err == nil && (rs.Wall < 0 || rs.User < 0 || rs.Sys < 0 || rs.PeakRSS < 0) {
			t.Errorf("a round with negative measurements: %+v", rs)
		}
	})
}

// A zero Warmup means no warmup round wherever it appears; the defaults
// of `armbench bench` come from NewSpec, and withDefaults fills only the
// settings whose zero would mean nothing.
func TestSpecDefaults(t *testing.T) {
	tgt := targets.Target{Name: "pi"}
	plans := []profiles.Plan{{Target: tgt, Profile: profiles.Profile{Name: "a"}, Mode: profiles.ModeTest, Dir: "mod"}}
	s := NewSpec(tgt, plans)
	if s.Count != DefaultCount || s.Warmup != DefaultWarmup || s.Bench != "." || s.Interval != DefaultInterval || s.SchedTrace != DefaultSchedTrace {
		t.Errorf("NewSpec = %+v", s)
	}
	if err := s.check(); err != nil {
		t.Errorf("NewSpec fails its own check: %v", err)
	}
	s.Warmup = 0
	d := s.withDefaults()
	if d.Warmup != 0 {
		t.Errorf("withDefaults turned Warmup 0 into %d", d.Warmup)
	}
	zero := Spec{Target: tgt, Plans: plans}.withDefaults()
	if zero.Count != DefaultCount || zero.Warmup != 0 || zero.Bench != "." || zero.Interval != DefaultInterval || zero.SchedTrace != DefaultSchedTrace ||
		zero.OutRoot != filepath.Join("mod", profiles.DefaultOutRoot) || zero.RunsDir != filepath.Join("mod", DefaultRunsDir) {
		t.Errorf("zero Spec with defaults = %+v", zero)
	}
	off := Spec{Target: tgt, Plans: plans, SchedTrace: -1, Count: 3}.withDefaults()
	if off.SchedTrace != -1 || off.Count != 3 {
		t.Errorf("withDefaults overrode settings: %+v", off)
	}
	cmd := Spec{Target: tgt, Plans: []profiles.Plan{{Target: tgt, Profile: profiles.Profile{Name: "a"}, Mode: profiles.ModeBinary}}}.withDefaults()
	if cmd.Bench != "" {
		t.Errorf("a command run got -test.bench %q", cmd.Bench)
	}
}

// hashDevice reports every file installed with the sha256 it was sent,
// as a real device does after verifying it.
type hashDevice struct {
	scriptDevice
	names []string
}

func (d *hashDevice) Deploy(ctx context.Context, f remote.File, name string, emit func(remote.Event)) (remote.Installed, error) {
	d.names = append(d.names, name)
	emit(remote.Progress{Sent: f.Size, Total: f.Size})
	return remote.Installed{Path: "/dev/null/" + name, SHA256: f.SHA256, Duration: time.Millisecond}, nil
}

// TestDeployAllRecordsProfiles: a session's profiles are recorded for
// status under their deploy names; the probe, armbench's own tool, is not.
func TestDeployAllRecordsProfiles(t *testing.T) {
	tgt := targets.Target{Name: "t1", Host: "local", GOARCH: "arm64"}
	plans := []profiles.Plan{
		{Target: tgt, Profile: profiles.Profile{Name: ProbeName}, Output: "out/armbench-probe"},
		{Target: tgt, Profile: profiles.Profile{Name: "release"}, Output: "out/workload.test"},
		{Target: tgt, Profile: profiles.Profile{Name: "lowmem"}, Output: "out/workload.test"},
	}
	results := make([]build.Result, len(plans))
	for i := range plans {
		results[i] = build.Result{Duration: time.Duration(i+1) * time.Second, Artifact: &build.Artifact{
			Path: "out/" + plans[i].Profile.Name, SHA256: strings.Repeat(string(rune('a'+i)), 64), Size: int64(100 + i), GoVersion: "go1.26",
		}}
	}
	h := state.History{Dir: t.TempDir()}
	dev := &hashDevice{}
	var deploying []int
	arts, warnings, err := deployAll(context.Background(), tgt, dev, h, plans, results, func(ev Event) {
		if d, ok := ev.(Deploying); ok {
			deploying = append(deploying, d.Index)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{ProbeName, "workload-release.test", "workload-lowmem.test"}; !reflect.DeepEqual(dev.names, want) {
		t.Errorf("installed %v, want %v", dev.names, want)
	}
	for i, a := range arts {
		r, ra := results[i], results[i].Artifact
		want := Artifact{Path: ra.Path, Installed: "/dev/null/" + dev.names[i], Size: ra.Size, SHA256: ra.SHA256, GoVersion: "go1.26", BuildTime: r.Duration, DeployTime: time.Millisecond}
		if a != want {
			t.Errorf("artifact %d: %+v, want %+v", i, a, want)
		}
	}
	if _, ok := h.Find(tgt.Name, results[0].Artifact.SHA256); ok {
		t.Error("the probe's install was recorded")
	}
	for i, p := range plans[1:] {
		rec, ok := h.Find(tgt.Name, results[i+1].Artifact.SHA256)
		if !ok || rec.Profile != p.Profile.Name || rec.Name != p.DeployName() {
			t.Errorf("%s: record %+v, found %v", p.Profile.Name, rec, ok)
		}
	}
	if want := []int{-1, 0, 1}; !reflect.DeepEqual(deploying, want) {
		t.Errorf("Deploying events for indexes %v, want %v", deploying, want)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings %q from installs that were recorded", warnings)
	}

	// A history that cannot be written: the session goes on, and says so
	// for each profile.
	blocked := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(blocked, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, warnings, err = deployAll(context.Background(), tgt, &hashDevice{}, state.History{Dir: blocked}, plans, results, func(Event) {})
	if err != nil || len(warnings) != 2 || !strings.HasPrefix(warnings[0], "workload-release.test: record") {
		t.Errorf("unwritable history: %v, warnings %q", err, warnings)
	}
}
