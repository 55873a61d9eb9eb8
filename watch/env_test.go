package watch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"armbench/profiles"
	"armbench/remote"
)

func TestOverridesApply(t *testing.T) {
	base := []string{"GOMAXPROCS=2", "GOGC=50", "GODEBUG=a=1"}
	for _, tc := range []struct {
		o      Overrides
		want   []string
		change string
	}{
		{nil, base, ""},
		{Overrides{"GOGC": "200"}, []string{"GOMAXPROCS=2", "GOGC=200", "GODEBUG=a=1"}, "GOGC=200"},
		{Overrides{"GOMEMLIMIT": "64MiB", "GOGC": "off"}, []string{"GOMAXPROCS=2", "GOGC=off", "GODEBUG=a=1", "GOMEMLIMIT=64MiB"}, "GOGC=off GOMEMLIMIT=64MiB"},
		{Overrides{"GOGC": "50"}, base, ""},
	} {
		got := tc.o.apply(base)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%v.apply = %q, want %q", tc.o, got, tc.want)
		}
		if c := envChange(base, got); c != tc.change {
			t.Errorf("%v: change %q, want %q", tc.o, c, tc.change)
		}
	}
	if c := envChange([]string{"GOGC=200", "X=1"}, []string{"X=1"}); c != "GOGC unset" {
		t.Errorf("a dropped override: change %q", c)
	}
	for _, bad := range []Overrides{{"": "1"}, {"A=B": "1"}, {"GOGC": "1\n2"}} {
		if err := bad.validate(); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestControlOutsideASession(t *testing.T) {
	c := NewControl()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := c.SetEnv(ctx, Overrides{"GOGC": "200"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("SetEnv with no session: %v, want the deadline", err)
	}
	if err := c.SetEnv(context.Background(), Overrides{"A\nB": "1"}); err == nil || errors.Is(err, ErrEnded) {
		t.Errorf("a bad name: %v", err)
	}
}

// envSource is a long-running program that says its version, its PID and
// its GOGC, then waits for SIGINT.
func envSource(version string) string {
	return `package main

import (
	"fmt"
	"os"
	"os/signal"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	fmt.Printf("hello ` + version + ` pid=%d GOGC=%q\n", os.Getpid(), os.Getenv("GOGC"))
	<-stop
}
`
}

var pidGOGC = regexp.MustCompile(`pid=(\d+) GOGC="([^"]*)"`)

// running is the PID and GOGC the program printed in output event i.
func (s *testSession) running(i int) (pid, gogc string) {
	s.t.Helper()
	o := s.at(i).(Program).Event.(remote.Output)
	m := pidGOGC.FindStringSubmatch(o.Text)
	if m == nil {
		s.t.Fatalf("no pid in %q", o.Text)
	}
	return m[1], m[2]
}

// environ is the GO variables of process pid's environment as the kernel holds it.
func environ(t *testing.T, pid string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", pid, "environ"))
	if err != nil {
		t.Fatalf("the program's environment: %v", err)
	}
	var goEnv []string // the Go runtime's, not the whole environment, for a failure's message
	for _, kv := range strings.Split(strings.TrimRight(string(b), "\x00"), "\x00") {
		if strings.HasPrefix(kv, "GO") {
			goEnv = append(goEnv, kv)
		}
	}
	return goEnv
}

// A knob turned while the program runs on local-arm64 (qemu-user):
// SetEnv(GOGC=200) restarts it with GOGC=200 in its environment, with no
// build, no deploy and no new connection; a save keeps the override; an
// empty set turns it back to the profile's (release: no GOGC).
func TestWatchLocalSetEnvRestartsAndSticks(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "go.mod"), "module watchtest\n\ngo 1.26\n")
	write(t, filepath.Join(dir, "main.go"), envSource("v1"))
	tg := localTarget(t)
	p, ok := profiles.Find(profiles.Builtins(), "release")
	if !ok {
		t.Fatal("no built-in release profile")
	}
	plan, err := profiles.Resolve(tg, p, profiles.Options{Pkg: ".", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var connects atomic.Int32
	ctl := NewControl()
	s := start(t, Options{
		Plan: plan,
		Connect: func(ctx context.Context) (remote.Device, error) {
			connects.Add(1)
			return remote.Open(ctx, tg, remote.Options{})
		},
		Debounce: 50 * time.Millisecond,
		Control:  ctl,
	})
	i := s.output(0, "hello v1")
	pid1, gogc := s.running(i)
	if gogc != "" {
		t.Fatalf("release sets no GOGC, the program has %q", gogc)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ctl.SetEnv(ctx, Overrides{"GOGC": "200"}); err != nil {
		t.Fatalf("SetEnv: %v", err)
	}
	set := s.waitFor(i, "EnvSet", func(e Event) bool { _, ok := e.(EnvSet); return ok })
	es := s.at(set).(EnvSet)
	// Cycle 1 may still be refreshing its file list: then the restart
	// follows it, as cycle 2 all the same.
	if es.Cycle != map[bool]int{true: 2, false: 1}[es.Restart] || es.Change != "GOGC=200" || !slices.Contains(es.Env, "GOGC=200") || es.Overrides["GOGC"] != "200" {
		t.Errorf("EnvSet %+v, want a restart as cycle 2 with GOGC=200", es)
	}
	j := s.output(set, "hello v1")
	pid2, gogc := s.running(j)
	if gogc != "200" || pid2 == pid1 {
		t.Errorf("after SetEnv: pid %s (was %s), GOGC %q; events:\n%s", pid2, pid1, gogc, s.log())
	}
	if env := environ(t, pid2); !slices.Contains(env, "GOGC=200") {
		t.Errorf("process %s's environment lacks GOGC=200: %q", pid2, env)
	}
	ev := s.snapshot()
	st := s.at(s.waitFor(set, "cycle 2 Started", func(e Event) bool { x, ok := e.(Started); return ok && x.Cycle == 2 })).(Started)
	if !slices.Contains(st.Command.Env, "GOGC=200") {
		t.Errorf("Started %+v lacks GOGC=200", st)
	}
	if n := count(ev, func(e Build) bool { return e.Cycle == 2 }) + count(ev, func(e Deploy) bool { return e.Cycle == 2 }) +
		count(ev, func(e Deployed) bool { return e.Cycle == 2 }); n != 0 {
		t.Errorf("the restart rebuilt or redeployed (%d events); events:\n%s", n, s.log())
	}
	if x := s.at(s.waitFor(0, "v1's first exit", exitedOf(1))).(Exited); !x.Stopped || x.Err != nil {
		t.Errorf("cycle 1's program ended %+v, want stopped", x)
	}

	// A save rebuilds and redeploys: the override sticks.
	write(t, filepath.Join(dir, "main.go"), envSource("v2"))
	k := s.output(j, "hello v2")
	pid3, gogc := s.running(k)
	if gogc != "200" {
		t.Errorf("after a save: GOGC %q, want the override 200; events:\n%s", gogc, s.log())
	}
	if env := environ(t, pid3); !slices.Contains(env, "GOGC=200") {
		t.Errorf("process %s's environment lacks GOGC=200: %q", pid3, env)
	}

	// Turned back: the profile's environment again.
	if err := ctl.SetEnv(ctx, nil); err != nil {
		t.Fatalf("SetEnv(nil): %v", err)
	}
	back := s.waitFor(k, "EnvSet back", func(e Event) bool { _, ok := e.(EnvSet); return ok })
	// Cycle 3 may still be refreshing its file list: then the restart
	// follows it, a cycle of its own.
	if es := s.at(back).(EnvSet); es.Change != "GOGC unset" || len(es.Overrides) != 0 || (es.Cycle != 3 && es.Cycle != 4) {
		t.Errorf("EnvSet back %+v", es)
	}
	s.output(back, `hello v2 pid=`)
	s.output(back, `GOGC=""`)
	if n := count(s.snapshot(), func(e Started) bool { return e.Cycle == 4 && !slices.Contains(e.Command.Env, "GOGC=200") }); n != 1 {
		t.Errorf("cycle 4 did not restart the program without the override; events:\n%s", s.log())
	}
	if n := connects.Load(); n != 1 {
		t.Errorf("%d connections, want 1: every restart goes over the first", n)
	}
	for _, e := range s.snapshot() {
		if f, ok := e.(Failed); ok {
			t.Errorf("failed: %+v", f)
		}
	}
	s.stop()
	if err := ctl.SetEnv(ctx, Overrides{"GOGC": "400"}); !errors.Is(err, ErrEnded) {
		t.Errorf("SetEnv after the session: %v, want ErrEnded", err)
	}
}

// An override set while a cycle builds is the one its program starts
// with; one set before any program ran waits for the first.
func TestWatchLocalSetEnvDuringBuild(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "go.mod"), "module watchtest\n\ngo 1.26\n")
	write(t, filepath.Join(dir, "main.go"), envSource("v1"))
	tg := localTarget(t)
	ctl := NewControl()
	s := start(t, Options{
		Plan:     planFor(t, tg, dir),
		Connect:  func(ctx context.Context) (remote.Device, error) { return remote.Open(ctx, tg, remote.Options{}) },
		Debounce: 50 * time.Millisecond,
		Control:  ctl,
	})
	// Cycle 1 is building (or about to): its program takes GOGC=400
	// rather than the speed profile's 200.
	if err := ctl.SetEnv(context.Background(), Overrides{"GOGC": "400"}); err != nil {
		t.Fatal(err)
	}
	es := s.at(s.waitFor(0, "EnvSet", func(e Event) bool { _, ok := e.(EnvSet); return ok })).(EnvSet)
	if es.Restart || es.Cycle != 1 || es.Change != "GOGC=400" {
		t.Errorf("EnvSet %+v, want cycle 1's start to take it", es)
	}
	i := s.output(0, "hello v1")
	if _, gogc := s.running(i); gogc != "400" {
		t.Errorf("GOGC %q, want 400; events:\n%s", gogc, s.log())
	}
	if n := count(s.snapshot(), func(e Started) bool { return true }); n != 1 {
		t.Errorf("%d starts, want 1; events:\n%s", n, s.log())
	}
}

// Service mode: the override reaches the unit's Environment= and the unit
// is restarted with it, no redeploy.
func TestWatchServiceModeSetEnv(t *testing.T) {
	td, home, logPath := deviceWith(t, standIn{uid: "0", user: "root", forever: true})
	dir := module(t, "v1")
	o := remote.Options{NoAgent: true, NoDefaultKeys: true}
	plan := planFor(t, td.Target, dir)
	ctl := NewControl()
	s := start(t, Options{
		Plan:     plan,
		Connect:  func(ctx context.Context) (remote.Device, error) { return remote.Open(ctx, td.Target, o) },
		Debounce: 50 * time.Millisecond,
		Control:  ctl,
	})
	i := s.output(0, "journal of 1 restarts")
	if err := ctl.SetEnv(context.Background(), Overrides{"GOGC": "400", "GOMAXPROCS": "1"}); err != nil {
		t.Fatal(err)
	}
	s.output(i, "journal of 2 restarts")
	unit := "armbench-" + plan.DeployName()
	b, err := os.ReadFile(filepath.Join(home, ".config", "systemd", "user", unit+".service"))
	text := string(b)
	if err != nil || !strings.Contains(text, "Environment=GOGC=400\n") || strings.Contains(text, "GOGC=200") ||
		!strings.Contains(text, "Environment=GOMAXPROCS=1\n") {
		t.Errorf("unit file (%v):\n%s", err, b)
	}
	calls, _ := os.ReadFile(logPath)
	if n := strings.Count(string(calls), "daemon-reload"); n != 2 {
		t.Errorf("%d daemon-reloads, want 2 (the unit changed once):\n%s", n, calls)
	}
	ev := s.snapshot()
	if n := count(ev, func(e Deployed) bool { return true }); n != 1 {
		t.Errorf("%d deploys, want 1; events:\n%s", n, s.log())
	}
	if st := s.at(s.waitFor(0, "cycle 2", func(e Event) bool { x, ok := e.(Started); return ok && x.Cycle == 2 })).(Started); st.Service != unit {
		t.Errorf("cycle 2 %+v", st)
	}
	for _, e := range ev {
		if f, ok := e.(Failed); ok {
			t.Errorf("failed: %+v", f)
		}
	}
}
