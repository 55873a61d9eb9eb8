//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"armbench/bench/probe/wire"
	"armbench/internal/testenv"
)

// TestMain lets the test binary act as the probe itself when re-executed
// with ARMBENCH_PROBE_MAIN=1, so tests can kill a real probe process.
func TestMain(m *testing.M) {
	if os.Getenv("ARMBENCH_PROBE_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func decode(t *testing.T, data []byte) []wire.Message {
	t.Helper()
	var msgs []wire.Message
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var m wire.Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q is not a message: %v", sc.Text(), err)
		}
		if m.Type == "" {
			t.Fatalf("line %q has no type", sc.Text())
		}
		msgs = append(msgs, m)
	}
	return msgs
}

func byType(msgs []wire.Message, typ string) []wire.Message {
	var out []wire.Message
	for _, m := range msgs {
		if m.Type == typ {
			out = append(out, m)
		}
	}
	return out
}

func TestProbeRunsAndWatches(t *testing.T) {
	var stdout, stderr bytes.Buffer
	script := `echo "out $PROBE_TEST"; echo "SCHED 0ms: gomaxprocs=1" >&2; i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; sleep 0.2; exit 7`
	code := run([]string{"-interval", "50ms", "-env", "PROBE_TEST=hello", "--", "sh", "-c", script}, &stdout, &stderr)
	if code != 7 {
		t.Fatalf("exit code %d, want the workload's 7; stderr: %s", code, stderr.String())
	}
	msgs := decode(t, stdout.Bytes())
	if msgs[0].Type != wire.TypeStart || msgs[0].Start.PID <= 0 {
		t.Errorf("first message %+v, want start with a pid", msgs[0])
	}
	last := msgs[len(msgs)-1]
	if last.Type != wire.TypeExit || last.Exit.Code != 7 {
		t.Fatalf("last message %+v, want exit 7", last)
	}
	ex := last.Exit
	if ex.WallNs < (200 * time.Millisecond).Nanoseconds() {
		t.Errorf("wall %v, want ≥ 200ms (the script sleeps)", time.Duration(ex.WallNs))
	}
	if ex.UserNs+ex.SysNs <= 0 || ex.MaxRSS <= 0 {
		t.Errorf("rusage missing: %+v", ex)
	}
	lines := byType(msgs, wire.TypeLine)
	var gotOut, gotErr bool
	for _, l := range lines {
		if l.Stream == "stdout" && l.Text == "out hello" {
			gotOut = true
		}
		if l.Stream == "stderr" && strings.HasPrefix(l.Text, "SCHED 0ms") {
			gotErr = true
		}
	}
	if !gotOut || !gotErr {
		t.Errorf("lines %+v: want stdout with the -env value and the stderr line", lines)
	}
	procs := byType(msgs, wire.TypeProc)
	if len(procs) < 3 || ex.Samples != len(procs) {
		t.Fatalf("%d proc samples (exit says %d), want ≥ 3 at 50ms", len(procs), ex.Samples)
	}
	var sawCPU bool
	for _, p := range procs {
		if p.Proc.RSS <= 0 || p.Proc.Threads < 1 || p.Proc.HWM < p.Proc.RSS {
			t.Errorf("sample %+v: want RSS, HWM ≥ RSS, threads", p.Proc)
		}
		if p.Proc.CPU > 0 {
			sawCPU = true
		}
		if p.Proc.Load[0] < 0 {
			t.Errorf("load %v", p.Proc.Load)
		}
	}
	if !sawCPU {
		t.Error("no sample saw the busy loop use CPU")
	}
	if len(procs[len(procs)-1].Proc.CPUBusy) != runtime.NumCPU() {
		t.Errorf("per-CPU busy %v for %d CPUs", procs[len(procs)-1].Proc.CPUBusy, runtime.NumCPU())
	}
	for i := 1; i < len(msgs); i++ {
		if msgs[i].T < 0 {
			t.Errorf("message %d has negative time", i)
		}
	}
	if os.Getenv("PROBE_TEST") != "" {
		t.Error("-env leaked into the probe's own environment")
	}
}

func TestProbeStartFailure(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"--", filepath.Join(t.TempDir(), "missing")}, &stdout, &stderr)
	if code != 125 {
		t.Errorf("code %d, want 125", code)
	}
	msgs := decode(t, stdout.Bytes())
	if len(msgs) != 1 || msgs[0].Type != wire.TypeError || !strings.Contains(msgs[0].Error, "missing") {
		t.Errorf("messages %+v, want one error naming the program", msgs)
	}
}

func TestProbeUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"-interval", "1ms", "--", "true"}, {"-env", "NOEQUALS", "--", "true"}, {"-bogus"}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 2 {
			t.Errorf("run(%q) = %d, want 2", args, code)
		}
		if stderr.Len() == 0 {
			t.Errorf("run(%q) said nothing", args)
		}
	}
}

func TestProbeInfo(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-info"}, &stdout, &stderr); code != 0 {
		t.Fatalf("code %d: %s", code, stderr.String())
	}
	msgs := decode(t, stdout.Bytes())
	if len(msgs) != 1 || msgs[0].Info == nil {
		t.Fatalf("messages %+v", msgs)
	}
	in := msgs[0].Info
	if in.Cores != runtime.NumCPU() || in.MemTotal <= 0 || in.Machine == "" || !strings.HasPrefix(in.Uname, "Linux") {
		t.Errorf("info %+v", in)
	}
}

// TestProbeStopsWorkloadWhenHostGoes: a closed stdout (ssh gone) must not
// leave the workload running.
func TestProbeStopsWorkloadWhenHostGoes(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close() // nobody reads: the first write fails
	done := make(chan int, 1)
	start := time.Now()
	go func() { done <- run([]string{"-interval", "20ms", "--", "sleep", "30"}, w, &bytes.Buffer{}) }()
	select {
	case code := <-done:
		if code == 0 {
			t.Errorf("code 0 after the workload was stopped")
		}
		if time.Since(start) > 10*time.Second {
			t.Errorf("took %v", time.Since(start))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the probe kept the workload running after its output broke")
	}
	w.Close()
}

// TestKilledProbeTakesWorkloadAlong: SIGKILL cannot be forwarded, so the
// workload must die with the probe by itself (Pdeathsig).
func TestKilledProbeTakesWorkloadAlong(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "--", "sleep", "60")
	cmd.Env = append(os.Environ(), "ARMBENCH_PROBE_MAIN=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var start wire.Message
	if err := json.NewDecoder(stdout).Decode(&start); err != nil || start.Start == nil {
		cmd.Process.Kill()
		t.Fatalf("first message %+v, %v", start, err)
	}
	pid := start.Start.PID
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("workload %d not running: %v", pid, err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		// Gone, or a zombie waiting for init to reap it.
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("workload %d still running after its probe was killed: %s", pid, stat)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestProbeUnderQemu runs the arm64 probe on an arm64 Go workload through
// qemu-user: /proc/<pid> of the emulated child must still be readable.
func TestProbeUnderQemu(t *testing.T) {
	testenv.Slow(t, "cross-builds and runs under qemu")
	runner := testenv.Qemu(t, "arm64")
	dir := t.TempDir()
	probe := filepath.Join(dir, "probe")
	build := exec.Command("go", "build", "-o", probe, ".")
	build.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build probe: %v\n%s", err, out)
	}
	src := "package main\nimport (\"fmt\"; \"time\")\nfunc main() { s := time.Now(); x := 0; for time.Since(s) < 600*time.Millisecond { x++ }; fmt.Println(\"done\", x > 0) }\n"
	wdir := filepath.Join(dir, "w")
	os.Mkdir(wdir, 0o755)
	os.WriteFile(filepath.Join(wdir, "main.go"), []byte(src), 0o644)
	os.WriteFile(filepath.Join(wdir, "go.mod"), []byte("module w\ngo 1.26\n"), 0o644)
	workload := filepath.Join(dir, "workload")
	build = exec.Command("go", "build", "-o", workload, ".")
	build.Dir = wdir
	build.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build workload: %v\n%s", err, out)
	}
	argv := []string{probe, "-interval", "100ms", "-env", "GODEBUG=schedtrace=100", "--", workload}
	if runner != "" {
		argv = append([]string{runner}, argv...)
	}
	out, err := exec.Command(argv[0], argv[1:]...).Output()
	if err != nil {
		t.Fatalf("probe under qemu: %v\n%s", err, out)
	}
	msgs := decode(t, out)
	procs := byType(msgs, wire.TypeProc)
	if len(procs) < 3 {
		t.Fatalf("%d samples of a 600ms workload", len(procs))
	}
	busy := false
	for _, p := range procs {
		if p.Proc.RSS <= 0 || p.Proc.Threads < 2 {
			t.Errorf("emulated child sample %+v: want RSS and Go's threads", p.Proc)
		}
		busy = busy || p.Proc.CPU > 20
	}
	if !busy {
		t.Error("no sample saw the emulated busy loop's CPU use")
	}
	var sched, done bool
	for _, l := range byType(msgs, wire.TypeLine) {
		sched = sched || (l.Stream == "stderr" && strings.HasPrefix(l.Text, "SCHED "))
		done = done || (l.Stream == "stdout" && l.Text == "done true")
	}
	if !sched || !done {
		t.Errorf("schedtrace seen %v, stdout seen %v", sched, done)
	}
	var info bytes.Buffer
	cmd := exec.Command(argv[0], append(argv[1:len(argv)-6], "-info")...)
	cmd.Stdout = &info
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if m := decode(t, info.Bytes()); len(m) != 1 || m[0].Info.Machine != "aarch64" {
		t.Errorf("info under qemu: %s", info.String())
	}
}

// BenchmarkSample is the probe's cost per sample; at 10 Hz the share of
// one core is ns/op × 10 / 1e9 (e.g. 300µs/op → 0.3%).
func BenchmarkSample(b *testing.B) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer cmd.Process.Kill()
	s := newSampler(cmd.Process.Pid)
	n := 0
	for b.Loop() {
		if _, ok := s.sample(n); !ok {
			b.Fatal("sample failed")
		}
		n++
	}
}
