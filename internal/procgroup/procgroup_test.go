package procgroup

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// As a child of the tests (PROCGROUP_CHILD set), the test binary starts
// a grandchild like itself, prints the grandchild's pid and sleeps: a go
// command with a compiler under it, in small.
func TestMain(m *testing.M) {
	switch os.Getenv("PROCGROUP_CHILD") {
	case "parent":
		gc := exec.Command(os.Args[0])
		gc.Env = append(os.Environ(), "PROCGROUP_CHILD=sleeper")
		if err := gc.Start(); err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString(strconv.Itoa(gc.Process.Pid) + "\n")
		time.Sleep(time.Minute)
		os.Exit(0)
	case "sleeper":
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startTree starts the child and returns its group and the grandchild's
// pid, once the grandchild runs.
func startTree(t *testing.T, ctx context.Context) (*Group, *exec.Cmd, int) {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = append(os.Environ(), "PROCGROUP_CHILD=parent")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	g, err := Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("the child did not report its grandchild: %v", err)
	}
	pid, err := strconv.Atoi(line[:len(line)-1])
	if err != nil {
		t.Fatal(err)
	}
	return g, cmd, pid
}

// Killing the group ends the grandchild too, which killing the child
// alone would leave running.
func TestKillEndsTheWholeTree(t *testing.T) {
	g, cmd, _ := startTree(t, context.Background())
	defer g.Close()
	if !g.Alive() {
		t.Fatal("a running group is not alive")
	}
	if err := g.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	g.Reap(5 * time.Second)
	if g.Alive() {
		t.Fatal("a process of the group outlived Kill and Reap")
	}
}

// Cancelling the command's context kills the group, not only the child.
func TestCancelKillsTheGroup(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	g, cmd, _ := startTree(t, ctx)
	defer g.Close()
	cancel()
	if err := cmd.Wait(); err == nil {
		t.Fatal("a cancelled child exited cleanly")
	}
	g.Reap(5 * time.Second)
	if g.Alive() {
		t.Fatal("the grandchild outlived the cancel")
	}
}

// A group at the lowest priority still runs to its end.
func TestLowerPriority(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "PROCGROUP_CHILD=none", "GO_TEST_RUN_NOTHING=1")
	cmd.Args = append(cmd.Args, "-test.run=^$")
	g, err := Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	g.LowerPriority()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("a low-priority group did not finish: %v", err)
	}
}

// A cancel that races with Start (exec calls Cancel from its own
// goroutine, possibly before the command is in its group) still kills
// the group, and the race detector sees no data race.
func TestCancelDuringStart(t *testing.T) {
	for range 20 {
		ctx, cancel := context.WithCancel(context.Background())
		cmd := exec.CommandContext(ctx, os.Args[0])
		cmd.Env = append(os.Environ(), "PROCGROUP_CHILD=sleeper")
		go cancel()
		g, err := Start(cmd)
		if err != nil {
			continue // cancelled before it started: nothing to stop
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("a command cancelled during Start kept running")
		}
		g.Reap(5 * time.Second)
		if g.Alive() {
			t.Fatal("a process outlived a cancel during Start")
		}
		g.Close()
	}
}
