package run

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"armbench/internal/shell"
	"armbench/remote/event"
	"armbench/remote/sshconn"
)

// SSH runs cmd on the device through c, in dir (the resolved deploy_dir)
// under the target's runner, and streams its output to emit. Cancelling
// ctx stops the program as cmd.Stop says. Failures go through fail with
// the step they happened in ("" for the run itself, "start", "stop").
func SSH(ctx context.Context, c *sshconn.Conn, dir, runner string, cmd Command, emit func(event.Event), fail func(step string, err error) error) (ExitStatus, error) {
	_, stopSig, killDelay, err := cmd.Stop.Resolve()
	if err != nil {
		return ExitStatus{Code: -1}, fail("", err)
	}
	script, err := runScript(dir, runner, cmd)
	if err != nil {
		return ExitStatus{Code: -1}, fail("", err)
	}
	s, err := c.Client.NewSession()
	if err != nil {
		return ExitStatus{Code: -1}, fail("start", c.ConnErr(err))
	}
	defer s.Close()
	stdout, err := s.StdoutPipe()
	if err != nil {
		return ExitStatus{Code: -1}, fail("start", err)
	}
	stderr, err := s.StderrPipe()
	if err != nil {
		return ExitStatus{Code: -1}, fail("start", err)
	}
	start := time.Now()
	if err := s.Start("sh -c " + shell.Quote(script)); err != nil {
		return ExitStatus{Code: -1}, fail("start", c.ConnErr(err))
	}
	r := follow(s, stdout, stderr, emit)
	var werr, stopErr error
	cancelled := false
	select {
	case werr = <-r.waited:
	case <-ctx.Done():
		cancelled = true
		werr, stopErr = r.stop(c, s, stopSig, killDelay)
	}
	st, err := sshExit(werr, cancelled, time.Since(start))
	switch {
	case err != nil:
		return st, fail("", c.ConnErr(err))
	case cancelled && stopErr != nil:
		return st, fail("stop", fmt.Errorf("%w; the program may still be running on the device (%v)", ctx.Err(), stopErr))
	case cancelled:
		return st, fail("", ctx.Err())
	}
	return st, nil
}

// processIDs are a wrapped command's PID and process group, as its first
// line of output says them.
type processIDs struct{ pid, pgid int }

// following is a started session whose output is being streamed.
type following struct {
	pidc   chan processIDs // the PIDs, once the wrapper printed them
	waited chan error      // the session's end, after all its output
}

// follow streams the session's output to emit, taking the wrapper's PID
// line out of stdout.
func follow(s *ssh.Session, stdout, stderr io.Reader, emit func(event.Event)) *following {
	f := &following{pidc: make(chan processIDs, 1), waited: make(chan error, 1)}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		br := bufio.NewReaderSize(stdout, MaxLine)
		first, err := br.ReadString('\n')
		if rest, ok := strings.CutPrefix(first, pidMarker); ok {
			var id processIDs
			fs := strings.Fields(rest)
			if len(fs) >= 1 {
				id.pid, _ = strconv.Atoi(fs[0])
			}
			if len(fs) >= 2 {
				id.pgid, _ = strconv.Atoi(fs[1])
			}
			f.pidc <- id
		} else if first != "" {
			emit(event.Output{Time: time.Now(), Text: strings.TrimRight(first, "\r\n")})
		}
		if err == nil {
			StreamLines(br, false, emit)
		}
	}()
	go func() { defer wg.Done(); StreamLines(stderr, true, emit) }()
	go func() {
		wg.Wait() // all output first, so the caller sees every line
		f.waited <- s.Wait()
	}()
	return f
}

// stop ends a cancelled command: sig to its process group over a second
// session, KILL after grace, and returns how the session ended and
// whether stopping it failed.
func (f *following) stop(c *sshconn.Conn, s *ssh.Session, sig string, grace time.Duration) (werr, stopErr error) {
	var id processIDs
	select {
	case id = <-f.pidc:
	case <-time.After(time.Second):
	}
	if id.pid > 0 {
		stopErr = kill(c, id.pid, id.pgid, sig, grace)
	}
	select {
	case werr = <-f.waited:
	case <-time.After(grace + 5*time.Second):
		// The kill did not end the session (a dead link?): stop
		// waiting for it.
		s.Close()
		select {
		case werr = <-f.waited:
		case <-time.After(2 * time.Second):
			werr = errors.New("no exit status after kill")
			if stopErr == nil {
				stopErr = werr
			}
		}
	}
	return werr, stopErr
}

// sshExit is how the session ended as an ExitStatus; err is a transport
// failure of a run that was not cancelled.
func sshExit(werr error, cancelled bool, took time.Duration) (ExitStatus, error) {
	st := ExitStatus{Duration: took}
	var ee *ssh.ExitError
	switch {
	case werr == nil:
	case errors.As(werr, &ee):
		st.Code = ee.ExitStatus()
		if sig := ee.Signal(); sig != "" {
			st.Code, st.Signal = -1, sig
		} else if st.Code > 128 && st.Code < 160 && cancelled {
			// A login shell that forked instead of exec'ing reports the
			// signal as 128+n; name it as ssh and the local device do.
			st.Signal = SignalName(st.Code - 128)
		}
	default:
		st.Code = -1
		if !cancelled {
			return st, werr
		}
	}
	return st, nil
}

// kill stops a running command on the device over a second session.
func kill(c *sshconn.Conn, pid, pgid int, sig string, grace time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace+10*time.Second)
	defer cancel()
	_, stderr, err := c.Exec(ctx, killScript(pid, pgid, sig, grace), nil, io.Discard)
	return sshconn.ScriptErr(err, stderr)
}
