package install

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"

	"armbench/internal/shell"
	"armbench/remote/event"
	"armbench/remote/fault"
	"armbench/remote/sshconn"
)

// Body is the file an install script receives on its stdin while it
// runs: Send writes it to w, encoded as the script's receiver expects,
// and Meter, finished when the script says the file is in, reports the
// upload.
type Body struct {
	Meter *event.Meter
	Send  func(w *CountingWriter) error
}

// CountingWriter counts what goes on the wire.
type CountingWriter struct {
	w io.Writer
	n atomic.Int64
}

func (c *CountingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// Count is the bytes written so far.
func (c *CountingWriter) Count() int64 { return c.n.Load() }

// Run is how an install script ended: the markers it printed (one per
// step it finished), the bytes of the body on the wire, and its stderr.
type Run struct {
	Markers []string
	Wire    int64
	Stderr  string
}

// Stream runs the install script through c; with body, it streams the
// file into the script's stdin as the script runs. It follows the
// script's markers to report the steps.
func Stream(ctx context.Context, c *sshconn.Conn, script string, body *Body, emit func(event.Event)) (Run, error) {
	s, err := c.Client.NewSession()
	if err != nil {
		return Run{}, c.ConnErr(err)
	}
	defer s.Close()
	errBuf := sshconn.NewLimitedBuffer(8 << 10)
	s.Stderr = errBuf
	stdout, err := s.StdoutPipe()
	if err != nil {
		return Run{}, err
	}
	var stdin io.WriteCloser
	if body != nil {
		if stdin, err = s.StdinPipe(); err != nil {
			return Run{}, err
		}
	}
	if err := s.Start("sh -c " + shell.Quote(script)); err != nil {
		return Run{}, c.ConnErr(err)
	}
	cw := &CountingWriter{w: stdin}
	sendErr := send(body, cw, stdin)
	var run Run
	var werr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		run.Markers = followMarkers(stdout, body, cw, emit)
		werr = s.Wait()
	}()
	select {
	case <-done:
	case <-ctx.Done():
		// Closing the channel ends the device's decompressor with a
		// truncated stream: the script removes its temporary file and
		// leaves the installed binary alone.
		s.Close()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
		}
		return Run{Wire: cw.Count()}, ctx.Err()
	}
	serr := <-sendErr
	run.Wire, run.Stderr = cw.Count(), errBuf.String()
	return run, scriptEnd(c, run.Markers, werr, serr)
}

// send writes the body into stdin in the background and closes it; the
// channel gets the first error.
func send(body *Body, cw *CountingWriter, stdin io.WriteCloser) <-chan error {
	sendErr := make(chan error, 1)
	if body == nil {
		sendErr <- nil
		return sendErr
	}
	go func() {
		err := body.Send(cw)
		if cerr := stdin.Close(); err == nil {
			err = cerr
		}
		sendErr <- err
	}()
	return sendErr
}

// followMarkers reads the script's markers and reports the steps they
// end, until the script's stdout closes.
func followMarkers(stdout io.Reader, body *Body, cw *CountingWriter, emit func(event.Event)) []string {
	var markers []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		m := strings.TrimSpace(sc.Text())
		markers = append(markers, m)
		now := time.Now()
		switch m {
		case "uploaded":
			if body != nil {
				body.Meter.SetWire(cw.Count())
				body.Meter.Finish()
				emit(event.Step{Name: "upload", Done: true, Time: now})
				emit(event.Step{Name: "verify", Time: now})
			}
		case "verified":
			emit(event.Step{Name: "verify", Done: true, Time: now})
			emit(event.Step{Name: "install", Time: now})
		case "installed":
			emit(event.Step{Name: "install", Done: true, Time: now})
		}
	}
	io.Copy(io.Discard, stdout)
	return markers
}

// scriptEnd is the error of a script that ended with werr after its
// body was sent with serr: nil only when it installed.
func scriptEnd(c *sshconn.Conn, markers []string, werr, serr error) error {
	if werr != nil {
		var ee *ssh.ExitError
		if errors.As(werr, &ee) {
			return werr
		}
		return c.ConnErr(werr)
	}
	if serr != nil {
		return c.ConnErr(serr)
	}
	if len(markers) == 0 || markers[len(markers)-1] != "installed" {
		return fmt.Errorf("%w: the install script stopped after %q", fault.ErrDisconnected, strings.Join(markers, ","))
	}
	return nil
}

// FailedStep names the step a script stopped in, from its markers.
func FailedStep(markers []string, first string) string {
	step := first
	for _, m := range markers {
		switch m {
		case "uploaded":
			step = "verify"
		case "verified":
			step = "install"
		}
	}
	return step
}
