package remote

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"armbench/internal/testdevice"
)

// trapScript says which signal reached it, then exits 3; with ignoreInt it
// ignores SIGINT, so only the SIGKILL after the kill delay ends it.
func trapScript(ignoreInt bool) string {
	trap := `trap 'echo got INT; exit 3' INT; trap 'echo got TERM; exit 3' TERM`
	if ignoreInt {
		trap = `trap '' INT`
	}
	// The loop, not one long sleep: a trap runs only between commands.
	return "#!/bin/sh\n" + trap + "\necho ready\nwhile :; do sleep 0.05; done\n"
}

// runUntilReady runs prog, cancels once it printed "ready", and returns
// how it ended and what it printed.
func runUntilReady(t *testing.T, dev Device, stop StopPolicy) (ExitStatus, []string, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var rec recorder
	emit := func(e Event) {
		rec.emit(e)
		if o, ok := e.(Output); ok && o.Text == "ready" {
			cancel()
		}
	}
	type result struct {
		st  ExitStatus
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := dev.Run(ctx, Command{Path: "prog", Stop: stop}, emit)
		done <- result{st, err}
	}()
	select {
	case r := <-done:
		return r.st, rec.lines(), r.err
	case <-time.After(30 * time.Second):
		t.Fatal("cancelled run did not return")
	}
	return ExitStatus{}, nil, nil
}

func testStopPolicy(t *testing.T, dev Device, deployDir string) {
	writeFile(t, filepath.Join(deployDir, "prog"), trapScript(false), 0o755)
	st, lines, err := runUntilReady(t, dev, StopPolicy{Signal: "INT", KillDelay: 5 * time.Second})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
	if !slices.Contains(lines, "out: got INT") || st.Code != 3 {
		t.Errorf("Stop INT: status %+v, output %q; want the INT trap's exit 3", st, lines)
	}

	writeFile(t, filepath.Join(deployDir, "prog"), trapScript(true), 0o755)
	st, lines, _ = runUntilReady(t, dev, StopPolicy{Signal: "SIGINT", KillDelay: 300 * time.Millisecond})
	if st.Signal != "KILL" {
		t.Errorf("a program ignoring SIGINT: status %+v, output %q; want SIGKILL after the kill delay", st, lines)
	}

	writeFile(t, filepath.Join(deployDir, "prog"), trapScript(false), 0o755)
	st, lines, _ = runUntilReady(t, dev, StopPolicy{})
	if !slices.Contains(lines, "out: got TERM") {
		t.Errorf("default stop: status %+v, output %q; want SIGTERM", st, lines)
	}
}

func TestStopPolicyLocal(t *testing.T) {
	dir := t.TempDir()
	testStopPolicy(t, openLocalT(t, localTarget(t, dir)), dir)
}

func TestStopPolicySSH(t *testing.T) {
	td := testdevice.Start(t)
	dir := filepath.Join(td.Dir, "deploy")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	td.Target.DeployDir = dir
	dev := openT(t, td.Target, testOpts)
	testStopPolicy(t, dev, dir)
}

func TestStopPolicyRejectsBadValues(t *testing.T) {
	dir := t.TempDir()
	dev := openLocalT(t, localTarget(t, dir))
	writeFile(t, filepath.Join(dir, "prog"), "#!/bin/sh\nexit 0\n", 0o755)
	// The program runs with good policies, so a bad one is what fails.
	for _, p := range []StopPolicy{{}, {Signal: "int", KillDelay: time.Second}, {Signal: "HUP"}} {
		if _, err := dev.Run(context.Background(), Command{Path: "prog", Stop: p}, nil); err != nil {
			t.Errorf("Run with %+v: %v", p, err)
		}
	}
	for _, p := range []StopPolicy{{Signal: "NOPE"}, {Signal: "SIGFOO"}, {KillDelay: -time.Second}, {KillDelay: time.Hour}} {
		if _, err := dev.Run(context.Background(), Command{Path: "prog", Stop: p}, nil); err == nil {
			t.Errorf("Run with %+v: no error", p)
		}
	}
}

// startLosable runs the trap script with a PID file in the background and
// returns once it printed "ready", with the PID the file recorded.
func startLosable(t *testing.T, dev Device, deployDir string) (pid int, done <-chan error) {
	t.Helper()
	writeFile(t, filepath.Join(deployDir, "prog"), trapScript(false), 0o755)
	ready := make(chan struct{})
	var once sync.Once
	errc := make(chan error, 1)
	go func() {
		_, err := dev.Run(context.Background(), Command{Path: "prog", PIDFile: ".prog.pid"}, func(e Event) {
			if o, ok := e.(Output); ok && o.Text == "ready" {
				once.Do(func() { close(ready) })
			}
		})
		errc <- err
	}()
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		t.Fatal("the program did not start")
	}
	b, err := os.ReadFile(filepath.Join(deployDir, ".prog.pid"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Sscan(string(b), &pid); err != nil || pid <= 1 {
		t.Fatalf("PID file %q: %v", b, err)
	}
	return pid, errc
}

func testStopLeftover(t *testing.T, dev Device, deployDir string, lose func()) {
	pid, done := startLosable(t, dev, deployDir)
	waitRun := func(why string) {
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("Run did not return %s", why)
		}
	}
	if lose != nil {
		// The run ends with the link, as watch sees it, before the next
		// save looks for what it left behind.
		lose()
		waitRun("when the link dropped")
	}
	found, err := StopLeftover(context.Background(), dev, ".prog.pid", StopPolicy{Signal: "INT", KillDelay: time.Second})
	if err != nil || !found {
		t.Fatalf("StopLeftover: %v, %v; want the program found", found, err)
	}
	if lose == nil {
		waitRun("once its program was stopped")
	}
	for i := 0; i < 50 && alive(pid); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if alive(pid) {
		t.Errorf("process %d still running", pid)
	}
	if found, err := StopLeftover(context.Background(), dev, ".prog.pid", StopPolicy{}); found || err != nil {
		t.Errorf("second StopLeftover: %v, %v; want nothing found", found, err)
	}
	// A PID file whose process is another one now (the start time differs)
	// must not be acted on: here it names this very test.
	writeFile(t, filepath.Join(deployDir, ".prog.pid"), fmt.Sprintf("%d %d 1\n", os.Getpid(), os.Getpid()), 0o644)
	if found, err := StopLeftover(context.Background(), dev, ".prog.pid", StopPolicy{}); found || err != nil {
		t.Errorf("StopLeftover of a reused PID: %v, %v; want nothing found", found, err)
	}
}

func TestStopLeftoverLocal(t *testing.T) {
	dir := t.TempDir()
	testStopLeftover(t, openLocalT(t, localTarget(t, dir)), dir, nil)
}

// A cut link leaves the program running on the device (it writes nothing,
// so no SIGPIPE ends it); the PID file finds it again.
func TestStopLeftoverSSHAfterADroppedLink(t *testing.T) {
	td := testdevice.Start(t, testdevice.WithProxy())
	dir := filepath.Join(td.Dir, "deploy")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	td.Target.DeployDir = dir
	dev := openT(t, td.Target, testOpts)
	testStopLeftover(t, dev, dir, func() {
		if td.Sever() == 0 {
			t.Fatal("no connection to sever")
		}
	})
}
