package watch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"armbench/build"
	"armbench/internal/testdevice"
	"armbench/internal/testenv"
	"armbench/profiles"
	"armbench/remote"
	"armbench/state"
	"armbench/targets"
)

// serverSource is a long-running program, as most watched programs are:
// it says which version it is, then waits for SIGINT and says it got it
// (so a test sees the stop was graceful, not a SIGKILL).
func serverSource(version string) string {
	return `package main

import (
	"fmt"
	"os"
	"os/signal"
)

const version = "` + version + `"

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	fmt.Println("hello", version, os.Args[1:], os.Getenv("GOGC"))
	<-stop
	fmt.Println("stopped", version)
}
`
}

// module writes a scratch module holding the server at version.
func module(t *testing.T, version string) string {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "go.mod"), "module watchtest\n\ngo 1.26\n")
	write(t, filepath.Join(dir, "main.go"), serverSource(version))
	return dir
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// planFor builds the module in dir for target with a profile that sets
// GOGC, so the test sees the program gets the profile's run settings.
func planFor(t *testing.T, target targets.Target, dir string, extraArgs ...string) profiles.Plan {
	t.Helper()
	p, ok := profiles.Find(profiles.Builtins(), "speed")
	if !ok {
		t.Fatal("no built-in speed profile")
	}
	plan, err := profiles.Resolve(target, p, profiles.Options{Pkg: ".", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(extraArgs) > 0 {
		plan.Args = slices.Insert(plan.Args, 1, extraArgs...)
	}
	return plan
}

func localTarget(t *testing.T) targets.Target {
	t.Helper()
	return targets.Target{
		Name: "local-arm64", Host: targets.LocalHost, GOOS: "linux", GOARCH: "arm64",
		DeployDir: t.TempDir(), Runner: testenv.QemuRunner("arm64"),
	}
}

// testSession runs Run in the background and lets a test wait for events.
type testSession struct {
	t      *testing.T
	cancel context.CancelFunc
	done   chan error

	mu     sync.Mutex
	events []Event
	times  []time.Duration // since start, for the log of a failed test
	begin  time.Time
	signal chan struct{} // poked on every event
}

func start(t *testing.T, o Options) *testSession {
	t.Helper()
	testenv.Tool(t, "go", "golang-go") // a session builds
	testenv.Qemu(t, "arm64")
	ctx, cancel := context.WithCancel(context.Background())
	s := &testSession{t: t, cancel: cancel, done: make(chan error, 1), signal: make(chan struct{}, 1), begin: time.Now()}
	go func() {
		s.done <- Run(ctx, o, func(e Event) {
			s.mu.Lock()
			s.events = append(s.events, e)
			s.times = append(s.times, time.Since(s.begin))
			s.mu.Unlock()
			select {
			case s.signal <- struct{}{}:
			default:
			}
		})
	}()
	t.Cleanup(func() { s.stop() })
	return s
}

// stop ends the session and checks Run returned and sent nothing after.
func (s *testSession) stop() {
	s.cancel()
	select {
	case err := <-s.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			s.t.Errorf("Run: %v", err)
		}
		s.done <- err // stop is idempotent
	case <-time.After(30 * time.Second):
		s.t.Fatal("Run did not return after cancel")
	}
	s.mu.Lock()
	n := len(s.events)
	s.mu.Unlock()
	time.Sleep(50 * time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.events) != n {
		s.t.Errorf("%d events after Run returned", len(s.events)-n)
	}
}

// waitFor waits until some event since index from satisfies match, and
// returns its index. It fails the test with the event log on timeout.
func (s *testSession) waitFor(from int, what string, match func(Event) bool) int {
	s.t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		s.mu.Lock()
		for i := from; i < len(s.events); i++ {
			if match(s.events[i]) {
				s.mu.Unlock()
				return i
			}
		}
		s.mu.Unlock()
		select {
		case <-s.signal:
		case <-time.After(100 * time.Millisecond):
		case err := <-s.done:
			s.done <- err // for stop
			s.t.Fatalf("Run returned (%v) while waiting for %s; events:\n%s", err, what, s.log())
		case <-deadline:
			s.t.Fatalf("timed out waiting for %s; events:\n%s", what, s.log())
		}
	}
}

func (s *testSession) output(from int, text string) int {
	s.t.Helper()
	return s.waitFor(from, fmt.Sprintf("program output %q", text), func(e Event) bool {
		p, ok := e.(Program)
		if !ok {
			return false
		}
		o, ok := p.Event.(remote.Output)
		return ok && strings.Contains(o.Text, text)
	})
}

// at is event i, which waitFor said is there.
func (s *testSession) at(i int) Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.events[i]
}

func (s *testSession) snapshot() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}

func (s *testSession) log() string {
	var b strings.Builder
	s.mu.Lock()
	times := slices.Clone(s.times)
	s.mu.Unlock()
	for i, e := range s.snapshot() {
		fmt.Fprintf(&b, "%6.2fs ", times[i].Seconds())
		switch e := e.(type) {
		case Build:
			if l, ok := e.Event.(build.Line); ok {
				fmt.Fprintf(&b, "%3d build %d: %s\n", i, e.Cycle, l.Text)
				continue
			}
			fmt.Fprintf(&b, "%3d build %d: %T\n", i, e.Cycle, e.Event)
		case Deploy:
			fmt.Fprintf(&b, "%3d deploy %d: %+v\n", i, e.Cycle, e.Event)
		case Program:
			fmt.Fprintf(&b, "%3d program %d: %+v\n", i, e.Cycle, e.Event)
		default:
			fmt.Fprintf(&b, "%3d %T %+v\n", i, e, e)
		}
	}
	return b.String()
}

// count is the number of events matching match.
func count[E Event](events []Event, match func(E) bool) int {
	n := 0
	for _, e := range events {
		if e, ok := e.(E); ok && match(e) {
			n++
		}
	}
	return n
}

func exitedOf(cycle int) func(Event) bool {
	return func(e Event) bool { x, ok := e.(Exited); return ok && x.Cycle == cycle }
}

func failedAt(cycle int, stage string) func(Event) bool {
	return func(e Event) bool { f, ok := e.(Failed); return ok && f.Cycle == cycle && f.Stage == stage }
}

// editRestartAndBreak is the loop a user goes through, on any device:
// start → edit → the new version runs and the old one got SIGINT; a
// broken edit → the build fails and the running version is untouched; a
// fix → the next version runs.
func editRestartAndBreak(t *testing.T, s *testSession, dir string) {
	i := s.output(0, "hello v1 [-x y] 200") // args and the speed profile's GOGC
	if !slices.ContainsFunc(s.snapshot(), func(e Event) bool { w, ok := e.(Watching); return ok && slices.Contains(w.Dirs, dir) && w.Files == 1 }) {
		t.Errorf("no Watching event for %s with one file; events:\n%s", dir, s.log())
	}

	write(t, filepath.Join(dir, "main.go"), serverSource("v2"))
	i = s.output(i, "hello v2")
	ev := s.snapshot()
	if !slices.ContainsFunc(ev, func(e Event) bool {
		c, ok := e.(Changed)
		return ok && c.Cycle == 2 && slices.Equal(c.Paths, []string{filepath.Join(dir, "main.go")})
	}) {
		t.Errorf("no Changed for cycle 2 naming main.go; events:\n%s", s.log())
	}
	if !slices.ContainsFunc(ev, func(e Event) bool {
		p, ok := e.(Program)
		return ok && p.Cycle == 1 && p.Event.(remote.Output).Text == "stopped v1"
	}) {
		t.Errorf("v1 did not stop on SIGINT; events:\n%s", s.log())
	}
	x := s.at(s.waitFor(0, "cycle 1 exit", exitedOf(1))).(Exited)
	if !x.Stopped || x.Err != nil || x.Status.Code != 0 {
		t.Errorf("cycle 1 exit %+v, want a clean stop", x)
	}

	write(t, filepath.Join(dir, "main.go"), serverSource("v3")+"\nfunc broken() { undefined() }\n")
	f := s.waitFor(i, "a failed build", failedAt(3, StageBuild))
	if err := s.at(f).(Failed).Err; err == nil || !strings.Contains(s.log(), "undefined") {
		t.Errorf("the build error is not reported: %v; events:\n%s", err, s.log())
	}
	write(t, filepath.Join(dir, "main.go"), serverSource("v4"))
	s.output(f, "hello v4")
	ev = s.snapshot()
	// v2 ran through the broken build and was stopped only for v4.
	stop := slices.IndexFunc(ev, func(e Event) bool { st, ok := e.(Stopping); return ok && st.Cycle == 2 })
	if stop < f || count(ev, func(e Exited) bool { return e.Cycle == 2 }) != 1 || count(ev, func(e Started) bool { return e.Cycle == 3 }) != 0 {
		t.Errorf("v2 should run until v4 replaces it; events:\n%s", s.log())
	}
}

func TestWatchLocalEditBreakFix(t *testing.T) {
	dir := module(t, "v1")
	tg := localTarget(t)
	s := start(t, Options{
		Plan:     planFor(t, tg, dir),
		Connect:  func(ctx context.Context) (remote.Device, error) { return remote.Open(ctx, tg, remote.Options{}) },
		Args:     []string{"-x", "y"},
		Debounce: 50 * time.Millisecond,
	})
	editRestartAndBreak(t, s, dir)
}

func TestWatchSSHEditBreakFixAndReconnect(t *testing.T) {
	td := testdevice.Start(t, testdevice.WithProxy())
	td.Target.Runner = testdevice.Runner("arm64")
	dir := module(t, "v1")
	o := remote.Options{NoAgent: true, NoDefaultKeys: true}
	hist := state.History{Dir: t.TempDir()}
	plan := planFor(t, td.Target, dir)
	s := start(t, Options{
		Plan:     plan,
		Connect:  func(ctx context.Context) (remote.Device, error) { return remote.Open(ctx, td.Target, o) },
		Args:     []string{"-x", "y"},
		Debounce: 50 * time.Millisecond,
		History:  hist,
	})
	editRestartAndBreak(t, s, dir)
	// Every install is recorded, so status names its profile and time.
	deployed := 0
	for _, e := range s.snapshot() {
		d, ok := e.(Deployed)
		if !ok || d.Installed.Skipped {
			continue
		}
		deployed++
		if r, ok := hist.Find(td.Target.Name, d.Installed.SHA256); !ok || r.Profile != plan.Profile.Name || r.Name != plan.DeployName() {
			t.Errorf("cycle %d's install is not recorded: %+v, %v", d.Cycle, r, ok)
		}
	}
	if deployed == 0 {
		t.Fatalf("no install; events:\n%s", s.log())
	}

	// A cut link ends the running program's session: reported, and the
	// next save reconnects.
	before := len(s.snapshot())
	if td.Sever() == 0 {
		t.Fatal("no connection to sever")
	}
	x := s.at(s.waitFor(before, "the run to end with the link", exitedOf(4))).(Exited)
	if x.Err == nil || !errors.Is(x.Err, remote.ErrDisconnected) {
		t.Errorf("exit after the link dropped: %+v, want ErrDisconnected", x)
	}
	write(t, filepath.Join(dir, "main.go"), serverSource("v5"))
	s.output(before, "hello v5")
	if !slices.ContainsFunc(s.snapshot()[before:], func(e Event) bool { d, ok := e.(Deploy); _, re := d.Event.(remote.Reconnected); return ok && re }) {
		t.Errorf("no Reconnected event in the deploy after the drop; events:\n%s", s.log())
	}
	// v4 outlived its session (it writes nothing, so no SIGPIPE ended it):
	// it is found by its PID file and stopped before v5 starts.
	ev := s.snapshot()[before:]
	left := slices.IndexFunc(ev, func(e Event) bool { st, ok := e.(Stopping); return ok && st.Leftover && st.Cycle == 4 })
	started := slices.IndexFunc(ev, func(e Event) bool { st, ok := e.(Started); return ok && st.Cycle == 5 })
	if left < 0 || left > started {
		t.Errorf("v4 left running on the device was not stopped before v5 started; events:\n%s", s.log())
	}
}

func TestWatchDebounceCoalescesSaves(t *testing.T) {
	dir := module(t, "v1")
	tg := localTarget(t)
	s := start(t, Options{
		Plan:     planFor(t, tg, dir),
		Connect:  func(ctx context.Context) (remote.Device, error) { return remote.Open(ctx, tg, remote.Options{}) },
		Debounce: 400 * time.Millisecond,
	})
	i := s.output(0, "hello v1")
	// Five saves 50 ms apart, each well inside the debounce window of the
	// one before, and an editor's scratch file that must not count.
	for v := 2; v <= 6; v++ {
		write(t, filepath.Join(dir, "main.go"), serverSource(fmt.Sprintf("v%d", v)))
		write(t, filepath.Join(dir, ".main.go.swp"), "x")
		time.Sleep(50 * time.Millisecond)
	}
	s.output(i, "hello v6")
	ev := s.snapshot()
	if n := count(ev, func(e Changed) bool { return true }); n != 2 {
		t.Errorf("%d cycles, want 2 (start + one for the burst); events:\n%s", n, s.log())
	}
	if n := count(ev, func(e Build) bool { _, ok := e.Event.(build.Started); return ok }); n != 2 {
		t.Errorf("%d builds, want 2; events:\n%s", n, s.log())
	}
}

func TestWatchSaveDuringBuildCancelsIt(t *testing.T) {
	dir := module(t, "v1")
	// The link step waits for a gate file, so the test can save while a
	// build is surely running, however fast the machine.
	gate := filepath.Join(t.TempDir(), "gate")
	slow := filepath.Join(t.TempDir(), "slowlink")
	if err := os.WriteFile(slow, []byte(`#!/bin/sh
case "$1" in
*/link) if [ -e "$ARMBENCH_TEST_GATE" ]; then while [ -e "$ARMBENCH_TEST_GATE" ]; do sleep 0.02; done; fi ;;
esac
exec "$@"
`), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ARMBENCH_TEST_GATE", gate)
	tg := localTarget(t)
	plan := planFor(t, tg, dir, "-toolexec="+slow)
	s := start(t, Options{
		Plan:     plan,
		Connect:  func(ctx context.Context) (remote.Device, error) { return remote.Open(ctx, tg, remote.Options{}) },
		Debounce: 50 * time.Millisecond,
	})
	i := s.output(0, "hello v1")

	write(t, gate, "")
	write(t, filepath.Join(dir, "main.go"), serverSource("v2"))
	s.waitFor(i, "cycle 2's build", func(e Event) bool {
		b, ok := e.(Build)
		_, st := b.Event.(build.Started)
		return ok && b.Cycle == 2 && st
	})
	time.Sleep(300 * time.Millisecond) // the go command is compiling or waiting at the gate
	write(t, filepath.Join(dir, "main.go"), serverSource("v3"))
	s.waitFor(i, "cycle 2 superseded", func(e Event) bool { x, ok := e.(Superseded); return ok && x.Cycle == 2 && x.Stage == StageBuild })
	os.Remove(gate)
	s.output(i, "hello v3")
	ev := s.snapshot()
	if n := count(ev, func(e Started) bool { return e.Cycle == 2 }); n != 0 {
		t.Errorf("the cancelled cycle started a program; events:\n%s", s.log())
	}
	if slices.ContainsFunc(ev, func(e Event) bool {
		p, ok := e.(Program)
		o, _ := p.Event.(remote.Output)
		return ok && strings.Contains(o.Text, "v2")
	}) {
		t.Errorf("v2 ran; events:\n%s", s.log())
	}
	// v1 kept running until v3 replaced it.
	if x := s.at(s.waitFor(0, "v1's exit", exitedOf(1))).(Exited); !x.Stopped {
		t.Errorf("v1 exit %+v", x)
	}
}

// stubbornSource ignores SIGINT, so only the SIGKILL after the kill delay
// ends it.
func stubbornSource(version string) string {
	return `package main

import (
	"fmt"
	"os"
	"os/signal"
	"time"
)

func main() {
	signal.Ignore(os.Interrupt)
	fmt.Println("hello", "` + version + `")
	for {
		time.Sleep(time.Hour)
	}
}
`
}

// A device that cannot be reached fails the cycle and is tried again at
// the next save; a program that ignores SIGINT is killed after the delay.
func TestWatchConnectRetryAndKillDelay(t *testing.T) {
	dir := module(t, "v1")
	tg := localTarget(t)
	var calls int
	var mu sync.Mutex
	s := start(t, Options{
		Plan: planFor(t, tg, dir),
		Connect: func(ctx context.Context) (remote.Device, error) {
			mu.Lock()
			defer mu.Unlock()
			if calls++; calls == 1 {
				return nil, errors.New("device asleep")
			}
			return remote.Open(ctx, tg, remote.Options{})
		},
		Debounce:  50 * time.Millisecond,
		KillDelay: 300 * time.Millisecond,
	})
	f := s.waitFor(0, "a failed connect", failedAt(1, StageConnect))
	if err := s.at(f).(Failed).Err; err == nil || !strings.Contains(err.Error(), "device asleep") {
		t.Errorf("connect failure %v", err)
	}
	write(t, filepath.Join(dir, "main.go"), stubbornSource("v2"))
	i := s.output(f, "hello v2")
	write(t, filepath.Join(dir, "main.go"), serverSource("v3"))
	s.output(i, "hello v3")
	x := s.at(s.waitFor(0, "v2's exit", exitedOf(2))).(Exited)
	if x.Status.Signal != "KILL" || !x.Stopped || x.Err != nil {
		t.Errorf("v2 ignoring SIGINT ended %+v, want SIGKILL after the kill delay", x)
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	testenv.Tool(t, "go", "golang-go") // Run lists the files with go list first
	plan := planFor(t, localTarget(t), module(t, "v1"))
	connect := func(context.Context) (remote.Device, error) { return nil, errors.New("unused") }
	test := plan
	test.Mode = profiles.ModeTest
	// A cancelled context ends a valid session at once, with its error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Run(ctx, Options{Plan: plan, Connect: connect}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("valid options: %v, want context.Canceled", err)
	}
	for name, o := range map[string]Options{
		"no Connect":      {Plan: plan},
		"a test binary":   {Plan: test, Connect: connect},
		"negative delay":  {Plan: plan, Connect: connect, KillDelay: -time.Second},
		"unknown signal":  {Plan: plan, Connect: connect, StopSignal: "NOPE"},
		"negative bounce": {Plan: plan, Connect: connect, Debounce: -time.Second},
	} {
		if err := Run(ctx, o, nil); err == nil || errors.Is(err, context.Canceled) {
			t.Errorf("%s: %v, want an error about the options", name, err)
		}
	}
}

// closeCounter is a Device whose Close is counted; nothing else is used.
type closeCounter struct {
	remote.Device
	closed int
}

func (c *closeCounter) Close() error { c.closed++; return nil }

func TestBorrowedDeviceIsNotClosed(t *testing.T) {
	dev := &closeCounter{}
	s := &session{dev: Borrowed(dev)}
	s.closeDevice()
	if dev.closed != 0 {
		t.Errorf("a borrowed device was closed %d times", dev.closed)
	}
	s = &session{dev: dev}
	s.closeDevice()
	if dev.closed != 1 {
		t.Errorf("an owned device was closed %d times, want 1", dev.closed)
	}
}
