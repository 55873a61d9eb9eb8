package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"

	"armbench/internal/procgroup"
	"armbench/remote/event"
)

// Local runs argv as a child process of this host in dir, with cmd's
// environment added to this process's, and streams its output to emit;
// pidPath, when not "", is cmd.PIDFile resolved on this host.
// Cancelling ctx stops its process group as cmd.Stop says. Failures go
// through fail with the step they happened in ("" or "start").
func Local(ctx context.Context, argv []string, dir, pidPath string, cmd Command, emit func(event.Event), fail func(step string, err error) error) (ExitStatus, error) {
	stopSig, _, killDelay, err := cmd.Stop.Resolve()
	if err != nil {
		return ExitStatus{Code: -1}, fail("", err)
	}
	c := exec.Command(argv[0], argv[1:]...)
	c.Dir = dir
	c.Env = append(os.Environ(), cmd.Env...)
	stdout, err := c.StdoutPipe()
	if err != nil {
		return ExitStatus{Code: -1}, fail("", err)
	}
	stderr, err := c.StderrPipe()
	if err != nil {
		return ExitStatus{Code: -1}, fail("", err)
	}
	start := time.Now()
	// A group of its own (a process group, a Windows job), so that a stop
	// reaches what the program started too.
	group, err := procgroup.Start(c)
	if err != nil {
		return ExitStatus{Code: -1}, fail("start", explainStart(err, runtime.GOARCH))
	}
	defer group.Close()
	if pidPath != "" {
		recordPID(pidPath, group.ID())
	}
	werr := waitLocal(ctx, c, group, stdout, stderr, stopSig, killDelay, emit)
	// Children that kept the group alive past the leader go too.
	if ctx.Err() != nil {
		group.Kill()
	}
	st := exitStatus(c.ProcessState)
	st.Duration = time.Since(start)
	if ctx.Err() != nil {
		return st, fail("", ctx.Err())
	}
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) {
		return st, fail("", werr)
	}
	return st, nil
}

// waitLocal streams the started process's output and waits for it; when
// ctx ends first it sends stopSig to the process group, and KILL after
// killDelay.
func waitLocal(ctx context.Context, c *exec.Cmd, group *procgroup.Group, stdout, stderr io.Reader, stopSig int, killDelay time.Duration, emit func(event.Event)) error {
	done := make(chan struct{})
	var killed sync.WaitGroup
	killed.Add(1)
	go func() {
		defer killed.Done()
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		group.Signal(syscall.Signal(stopSig))
		select {
		case <-done:
		case <-time.After(killDelay):
			group.Kill()
		}
	}()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); StreamLines(stdout, false, emit) }()
	go func() { defer wg.Done(); StreamLines(stderr, true, emit) }()
	wg.Wait()
	werr := c.Wait()
	close(done)
	killed.Wait()
	return werr
}

// explainStart says why a program could not start when the reason is
// the host itself: an arm64 machine without 32-bit ARM support (many
// servers and Apple silicon lack AArch32) answers ENOEXEC.
func explainStart(err error, hostArch string) error {
	if errors.Is(err, syscall.ENOEXEC) && hostArch == "arm64" {
		return fmt.Errorf("%w: this arm64 host cannot run 32-bit ARM programs (no AArch32): "+
			"register qemu-arm with binfmt_misc, set runner = \"qemu-arm-static\", or use a device", err)
	}
	return err
}
