package run

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

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
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := c.StdoutPipe()
	if err != nil {
		return ExitStatus{Code: -1}, fail("", err)
	}
	stderr, err := c.StderrPipe()
	if err != nil {
		return ExitStatus{Code: -1}, fail("", err)
	}
	start := time.Now()
	if err := c.Start(); err != nil {
		return ExitStatus{Code: -1}, fail("start", err)
	}
	pgid := c.Process.Pid
	if pidPath != "" {
		recordPID(pidPath, pgid)
	}
	werr := waitLocal(ctx, c, stdout, stderr, stopSig, killDelay, emit)
	// Children that kept the group alive past the leader go too.
	if ctx.Err() != nil {
		syscall.Kill(-pgid, syscall.SIGKILL)
	}
	st := ExitStatus{Duration: time.Since(start)}
	if ws, ok := c.ProcessState.Sys().(syscall.WaitStatus); ok {
		switch {
		case ws.Signaled():
			st.Code = -1
			st.Signal = SignalName(int(ws.Signal()))
		default:
			st.Code = ws.ExitStatus()
		}
	}
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
func waitLocal(ctx context.Context, c *exec.Cmd, stdout, stderr io.Reader, stopSig int, killDelay time.Duration, emit func(event.Event)) error {
	pgid := c.Process.Pid
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
		syscall.Kill(-pgid, syscall.Signal(stopSig))
		select {
		case <-done:
		case <-time.After(killDelay):
			syscall.Kill(-pgid, syscall.SIGKILL)
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
