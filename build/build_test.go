package build

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"armbench/internal/testenv"
	"armbench/profiles"
)

// TestBuildARMAndRun cross-compiles the sample workload for the four ARM
// levels armbench targets by default, checks what the files say about
// themselves, and runs each one under qemu-user.
func TestBuildARMAndRun(t *testing.T) {
	testenv.Tool(t, "go", "golang-go")
	specs := []spec{
		{name: "pi-zero", goarch: "arm", goarm: "6", release: true},
		{name: "armv7", goarch: "arm", goarm: "7", release: true},
		{name: "pi4", goarch: "arm64", goarm64: "v8.0", release: true},
		{name: "pi5", goarch: "arm64", goarm64: "v8.2"},
	}
	plans := make([]profiles.Plan, len(specs))
	recs := make([]recorder, len(specs))
	for i, s := range specs {
		plans[i] = handPlan(t, s)
	}
	results := RunAll(context.Background(), plans, 2, func(i int, ev Event) { recs[i].emit(ev) })
	if len(results) != len(plans) {
		t.Fatalf("RunAll returned %d results for %d plans", len(results), len(plans))
	}
	for i, s := range specs {
		t.Run(s.name, func(t *testing.T) {
			res := results[i]
			if fin := recs[i].checkShape(t); fin.Output != res.Output {
				t.Errorf("Finished event is for %s, result %d is for %s", fin.Output, i, res.Output)
			}
			if res.Err != nil {
				t.Fatalf("build failed: %v", res.Err)
			}
			if res.ExitCode != 0 || res.Duration <= 0 {
				t.Errorf("ExitCode %d Duration %v, want 0 and > 0", res.ExitCode, res.Duration)
			}
			a := res.Artifact
			if a == nil || a.Path != plans[i].Output {
				t.Fatalf("artifact %+v, want one at %s", a, plans[i].Output)
			}
			wantMachine, wantClass := "ARM", "ELF32"
			if s.goarch == "arm64" {
				wantMachine, wantClass = "AARCH64", "ELF64"
			}
			if a.Machine != wantMachine || a.Class != wantClass {
				t.Errorf("ELF %s %s, want %s %s", a.Class, a.Machine, wantClass, wantMachine)
			}
			if s.goarm != "" && a.Settings["GOARM"] != s.goarm {
				t.Errorf("buildinfo GOARM=%q, want %q", a.Settings["GOARM"], s.goarm)
			}
			if s.goarm64 != "" && a.Settings["GOARM64"] != s.goarm64 {
				t.Errorf("buildinfo GOARM64=%q, want %q", a.Settings["GOARM64"], s.goarm64)
			}
			if !a.Static {
				t.Error("CGO_ENABLED=0 artifact is dynamically linked")
			}
			if a.Stripped != s.release {
				t.Errorf("Stripped = %v, want %v (ldflags -s only in release)", a.Stripped, s.release)
			}
			if len(a.Checks) < 5 {
				t.Errorf("only %d checks: %+v", len(a.Checks), a.Checks)
			}
			st, err := os.Stat(a.Path)
			if err != nil || st.Size() != a.Size || st.Mode()&0o111 == 0 {
				t.Errorf("file at output: %v, %v; artifact size %d", st, err, a.Size)
			}
			if names := entries(t, filepath.Dir(a.Path)); !slices.Equal(names, []string{"build.log", "workload"}) {
				t.Errorf("output directory holds %q, want only the artifact and its log", names)
			}
			log, err := os.ReadFile(res.LogPath)
			if err != nil || !strings.HasPrefix(string(log), "$ ") || !strings.Contains(string(log), a.SHA256) {
				t.Errorf("build log %s: %v\n%s", res.LogPath, err, log)
			}

			out := runArtifact(t, s.goarch, a.Path, "-duration", "100ms", "-mode", "hash")
			if !strings.Contains(out, "linux/"+s.goarch) || !strings.Contains(out, "\nhash ") {
				t.Errorf("workload output does not show a linux/%s hash run:\n%s", s.goarch, out)
			}
			// The runner a target names when binfmt_misc is not set up.
			q := testenv.Tool(t, map[string]string{"arm": "qemu-arm-static", "arm64": "qemu-aarch64-static"}[s.goarch], "qemu-user-static")
			if out, err := exec.Command(q, a.Path, "-duration", "50ms", "-mode", "chan").CombinedOutput(); err != nil || !strings.Contains(string(out), "\nchan ") {
				t.Errorf("%s %s: %v\n%s", q, a.Path, err, out)
			}
		})
	}
}

// TestCompileError: the compiler's positions reach the caller as lines, the
// result is a failure, and nothing appears at the output path.
func TestCompileError(t *testing.T) {
	testenv.Tool(t, "go", "golang-go")
	plan := handPlan(t, spec{name: "broken", goarch: "arm64", goarm64: "v8.0", pkg: "./build/testdata/broken"})
	var rec recorder
	res := Run(context.Background(), plan, rec.emit)
	if fin := rec.checkShape(t); fin.Err == nil {
		t.Error("Finished event carries no error")
	}
	if res.Err == nil || res.Artifact != nil || res.ExitCode == 0 {
		t.Fatalf("Result{Err: %v, Artifact: %v, ExitCode: %d}, want a failure", res.Err, res.Artifact, res.ExitCode)
	}
	pos := regexp.MustCompile(`main\.go:6:2: undefined: undefinedThing`)
	found := false
	for _, l := range rec.lines() {
		if pos.MatchString(l.Text) {
			found = true
			if !l.Stderr || l.Time.IsZero() {
				t.Errorf("error line %+v: want Stderr and a timestamp", l)
			}
		}
	}
	if !found {
		t.Errorf("no line matches %s; lines: %+v", pos, rec.lines())
	}
	if _, err := os.Stat(plan.Output); !os.IsNotExist(err) {
		t.Errorf("file at output after a failed build: %v", err)
	}
	if names := entries(t, filepath.Dir(plan.Output)); !slices.Equal(names, []string{"build.log"}) {
		t.Errorf("output directory holds %q, want only the log", names)
	}
	log, _ := os.ReadFile(plan.LogPath)
	if !pos.Match(log) {
		t.Errorf("build log lacks the compiler error:\n%s", log)
	}
}

// TestCancel cancels a long build (-a rebuilds the standard library) as soon
// as it prints: no process of its group may remain, no file at the output.
func TestCancel(t *testing.T) {
	if runtime.GOOS != "linux" {
		// Stopping a process tree on each OS is internal/procgroup's test.
		t.Skip("counts the build's process group in /proc: Linux only")
	}
	testenv.Tool(t, "go", "golang-go")
	plan := handPlan(t, spec{name: "cancel", goarch: "arm64", goarm64: "v8.0", extra: []string{"-a", "-v"}})
	// A killed go command cannot remove its $WORK; Run must.
	tmpdir := t.TempDir()
	t.Setenv("TMPDIR", tmpdir)
	t.Setenv("GOTMPDIR", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var pgid int
	var rec recorder
	first := make(chan struct{})
	var once sync.Once
	emit := func(ev Event) {
		rec.emit(ev)
		if _, ok := ev.(Line); ok {
			once.Do(func() { close(first) })
		}
	}
	pgidc := make(chan int, 1)
	children := make(chan []int, 1)
	cancelled := make(chan time.Time, 1)
	// done: run returned. Should the go command never start, the canceller
	// must not wait for it forever (it did, a deadlock, where go is missing).
	done := make(chan struct{})
	go func() {
		select {
		case <-first:
		case <-time.After(300 * time.Millisecond):
		case <-done:
		}
		// Wait until the go command has children (compile, asm…), so the
		// cancel has a real process tree to take down.
		var g int
		select {
		case g = <-pgidc:
		case <-done:
			children <- nil
			cancelled <- time.Now()
			return
		}
		var pids []int
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if pids = groupMembers(t, g); len(pids) > 1 {
				break
			}
		}
		children <- pids
		cancelled <- time.Now()
		cancel()
	}()
	start := time.Now()
	res := run(ctx, plan, emit, hooks{started: func(pid int) { pgid = pid; pgidc <- pid }})
	close(done)
	t.Logf("build ran %v, returned %v after cancel", time.Since(start), time.Since(<-cancelled))
	rec.checkShape(t)
	if pgid == 0 {
		t.Fatal("the go command never started")
	}
	if before := <-children; len(before) < 2 {
		t.Errorf("group %d had processes %v when cancelled, want the go command and its children", pgid, before)
	} else {
		t.Logf("cancelled with %d processes in the group; %d lines of output", len(before), len(rec.lines()))
	}
	if !errors.Is(res.Err, context.Canceled) {
		t.Errorf("Err = %v, want context.Canceled", res.Err)
	}
	if res.Artifact != nil {
		t.Errorf("cancelled build has an artifact: %+v", res.Artifact)
	}
	if pids := groupMembers(t, pgid); len(pids) > 0 {
		t.Errorf("processes %v of the build's group %d are still there", pids, pgid)
	}
	if _, err := os.Stat(plan.Output); !os.IsNotExist(err) {
		t.Errorf("file at output after cancel: %v", err)
	}
	if names := entries(t, filepath.Dir(plan.Output)); !slices.Equal(names, []string{"build.log"}) {
		t.Errorf("output directory holds %q, want only the log", names)
	}
	if names := entries(t, tmpdir); len(names) > 0 {
		t.Errorf("temporary files left behind in TMPDIR: %q", names)
	}
}

// TestTestBinary: ModeTest gives a runnable test binary whose benchmarks
// are listed and run on ARM.
func TestTestBinary(t *testing.T) {
	testenv.Tool(t, "go", "golang-go")
	plan := handPlan(t, spec{name: "bench", goarch: "arm64", goarm64: "v8.0", mode: profiles.ModeTest})
	res := Run(context.Background(), plan, nil)
	if res.Err != nil {
		t.Fatalf("go test -c failed: %v", res.Err)
	}
	list := runArtifact(t, "arm64", res.Artifact.Path, "-test.list=Bench")
	for _, b := range []string{"BenchmarkAllocTrees", "BenchmarkParallelHash", "BenchmarkSHA256", "BenchmarkChanPingPong"} {
		if !strings.Contains(list, b+"\n") {
			t.Errorf("-test.list=Bench does not list %s:\n%s", b, list)
		}
	}
	out := runArtifact(t, "arm64", res.Artifact.Path, "-test.run=^$", "-test.bench=SHA256", "-test.benchtime=20x")
	if !regexp.MustCompile(`BenchmarkSHA256\S*\s+20\s+\d+(\.\d+)? ns/op`).MatchString(out) {
		t.Errorf("benchmark output:\n%s", out)
	}
}

// TestTestModeNoTests: a package without tests makes go test -c succeed
// without writing anything; that must be a failed build, not a crash.
func TestTestModeNoTests(t *testing.T) {
	testenv.Tool(t, "go", "golang-go")
	plan := handPlan(t, spec{name: "notests", goarch: "arm64", mode: profiles.ModeTest, pkg: "./build/testdata/notests"})
	res := Run(context.Background(), plan, nil)
	if res.Err == nil || res.Artifact != nil {
		t.Fatalf("Result{Err: %v, Artifact: %v}, want a failure", res.Err, res.Artifact)
	}
	if _, err := os.Stat(plan.Output); !os.IsNotExist(err) {
		t.Errorf("file at output: %v", err)
	}
}

// TestRunAllIndependent: one failing plan does not stop the next, and
// results keep plan order.
func TestRunAllIndependent(t *testing.T) {
	testenv.Tool(t, "go", "golang-go")
	plans := []profiles.Plan{
		handPlan(t, spec{name: "broken", goarch: "arm", goarm: "7", pkg: "./build/testdata/broken"}),
		handPlan(t, spec{name: "good", goarch: "arm", goarm: "7"}),
		handPlan(t, spec{name: "broken2", goarch: "arm64", pkg: "./build/testdata/broken"}),
	}
	started := make([]int, len(plans))
	res := RunAll(context.Background(), plans, 1, func(i int, ev Event) {
		if _, ok := ev.(Started); ok {
			started[i]++
		}
	})
	if res[0].Err == nil || res[2].Err == nil {
		t.Errorf("broken plans succeeded: %v, %v", res[0].Err, res[2].Err)
	}
	if res[1].Err != nil || res[1].Artifact == nil || res[1].Target != "good" {
		t.Errorf("good plan: %+v", res[1])
	}
	for i, n := range started {
		if n != 1 {
			t.Errorf("plan %d started %d times", i, n)
		}
	}
}

// TestRunAllCancelled: a cancelled context ends every build with its error.
func TestRunAllCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	plans := []profiles.Plan{handPlan(t, spec{name: "a", goarch: "arm64"}), handPlan(t, spec{name: "b", goarch: "arm"})}
	for i, r := range RunAll(ctx, plans, 0, nil) {
		if !errors.Is(r.Err, context.Canceled) {
			t.Errorf("plan %d: Err = %v, want context.Canceled", i, r.Err)
		}
		if _, err := os.Stat(plans[i].Output); !os.IsNotExist(err) {
			t.Errorf("plan %d: file at output: %v", i, err)
		}
	}
}

// TestFailedBuildKeepsPreviousArtifact: a good artifact from an earlier
// build survives a later failed one untouched.
func TestFailedBuildKeepsPreviousArtifact(t *testing.T) {
	testenv.Tool(t, "go", "golang-go")
	good := handPlan(t, spec{name: "keep", goarch: "arm64"})
	first := Run(context.Background(), good, nil)
	if first.Err != nil {
		t.Fatal(first.Err)
	}
	broken := good
	broken.Pkg = "./build/testdata/broken"
	broken.Args = slices.Clone(good.Args)
	broken.Args[len(broken.Args)-1] = broken.Pkg
	second := Run(context.Background(), broken, nil)
	if second.Err == nil {
		t.Fatal("broken build succeeded")
	}
	again, err := Verify(good.Output, good)
	if err != nil {
		t.Fatalf("previous artifact no longer verifies: %v", err)
	}
	if again.SHA256 != first.Artifact.SHA256 {
		t.Errorf("previous artifact changed: sha256 %s, was %s", again.SHA256, first.Artifact.SHA256)
	}
	if names := entries(t, filepath.Dir(good.Output)); !slices.Equal(names, []string{"build.log", "workload"}) {
		t.Errorf("output directory holds %q", names)
	}
}

// TestRebuildSameOutput: building again into the same output, unchanged
// or with another GOARM64 level, leaves exactly one correct artifact.
func TestRebuildSameOutput(t *testing.T) {
	testenv.Tool(t, "go", "golang-go")
	plan := handPlan(t, spec{name: "again", goarch: "arm64", goarm64: "v8.0"})
	first := Run(context.Background(), plan, nil)
	if first.Err != nil {
		t.Fatal(first.Err)
	}
	// -x shows the commands the go command runs; it does not change what
	// is built, so the previous artifact is still up to date.
	traced := plan
	traced.Args = append([]string{"build", "-x"}, plan.Args[1:]...)
	var rec recorder
	same := Run(context.Background(), traced, rec.emit)
	if same.Err != nil || same.Artifact.SHA256 != first.Artifact.SHA256 {
		t.Fatalf("unchanged rebuild: %v, sha256 %v vs %s", same.Err, same.Artifact, first.Artifact.SHA256)
	}
	for _, l := range rec.lines() {
		if strings.Contains(l.Text, "/link ") || strings.Contains(l.Text, "/link\n") {
			t.Errorf("an up-to-date artifact was linked again: %s", l.Text)
			break
		}
	}
	v82 := plan
	v82.BuildEnv = slices.Clone(plan.BuildEnv)
	for i, e := range v82.BuildEnv {
		if e.Key == "GOARM64" {
			v82.BuildEnv[i].Value = "v8.2"
		}
	}
	v82.Expect = map[string]string{"GOARCH": "arm64", "GOARM64": "v8.2"}
	next := Run(context.Background(), v82, nil)
	if next.Err != nil {
		t.Fatal(next.Err)
	}
	if next.Artifact.SHA256 == first.Artifact.SHA256 {
		t.Error("v8.2 build produced the v8.0 file")
	}
	if _, err := Verify(plan.Output, v82); err != nil {
		t.Errorf("output after the v8.2 build: %v", err)
	}
	if names := entries(t, filepath.Dir(plan.Output)); !slices.Equal(names, []string{"build.log", "workload"}) {
		t.Errorf("output directory holds %q", names)
	}
}

// TestCheckCCUnknownCompiler: a compiler armbench has no package for still
// gets an error that names it and says what to do.
func TestCheckCCUnknownCompiler(t *testing.T) {
	err := checkCC([]string{"CGO_ENABLED=1", "CC=armbench-no-such-gcc -O2"}, "arm64")
	if err == nil || !strings.Contains(err.Error(), "armbench-no-such-gcc not found") || !strings.Contains(err.Error(), "set cc in the target") {
		t.Errorf("checkCC = %v, want it to name armbench-no-such-gcc and say to set cc", err)
	}
	if err := checkCC([]string{"CGO_ENABLED=0", "CC=armbench-no-such-gcc"}, "arm64"); err != nil {
		t.Errorf("checkCC without cgo = %v, want nil", err)
	}
}
