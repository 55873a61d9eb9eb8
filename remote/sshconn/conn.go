package sshconn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"armbench/internal/shell"
	"armbench/remote/fault"
)

// Conn is one live SSH connection, marked dead once it ends, with the
// helpers every action on the device runs its scripts through.
type Conn struct {
	Client *ssh.Client

	once  sync.Once
	done  chan struct{}
	err   error // why it ended, once done is closed
	alive alive // ssh_config's ServerAliveInterval and CountMax, when set
}

// NewConn wraps a logged-in client.
func NewConn(client *ssh.Client) *Conn {
	c := &Conn{Client: client, done: make(chan struct{})}
	if a, ok := aliveSettings.LoadAndDelete(client); ok {
		c.alive = a.(alive)
	}
	return c
}

// Dead records why the connection ended and closes it; the first caller
// wins (the watcher, or an action that saw the transport fail).
func (c *Conn) Dead(err error) {
	c.once.Do(func() {
		c.err = fmt.Errorf("%w: %v", fault.ErrDisconnected, err)
		close(c.done)
	})
	c.Client.Close()
}

// Alive says the connection has not been marked dead.
func (c *Conn) Alive() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// Done is closed once the connection is marked dead.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err is why the connection ended (wrapping fault.ErrDisconnected), nil
// while it is alive.
func (c *Conn) Err() error {
	if c.Alive() {
		return nil
	}
	return c.err
}

// Watch marks the connection dead when it ends, and sends keepalives
// every so often so a silently dead link (a pulled cable) is noticed:
// three missed in a row close it. ssh_config's ServerAliveInterval and
// ServerAliveCountMax, when set for the host, replace every and three.
// It returns when the connection ends.
func (c *Conn) Watch(every time.Duration) {
	maxMissed := 3
	if c.alive.every > 0 {
		every = c.alive.every
	}
	if c.alive.max > 0 {
		maxMissed = c.alive.max
	}
	ended := make(chan error, 1)
	go func() { ended <- c.Client.Wait() }()
	tick := time.NewTicker(every)
	defer tick.Stop()
	missed := 0
	for {
		select {
		case err := <-ended:
			if err == nil {
				err = io.EOF
			}
			c.Dead(err)
			return
		case <-tick.C:
			reply := make(chan error, 1)
			go func() {
				_, _, err := c.Client.SendRequest("keepalive@openssh.com", true, nil)
				reply <- err
			}()
			select {
			case err := <-reply:
				if err != nil {
					missed = maxMissed
				} else {
					missed = 0
				}
			case <-time.After(every):
				missed++
			}
			if missed >= maxMissed {
				c.Client.Close()
			}
		}
	}
}

// LimitedBuffer keeps the first n bytes written (stderr for errors).
type LimitedBuffer struct {
	mu  sync.Mutex
	b   []byte
	max int
}

// NewLimitedBuffer keeps up to max bytes.
func NewLimitedBuffer(max int) *LimitedBuffer { return &LimitedBuffer{max: max} }

func (l *LimitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.max - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (l *LimitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.TrimSpace(string(l.b))
}

// Exec runs script under sh on the device (whatever the login shell
// is), with stdin, and returns stdout (unless stdout is given) and
// stderr. Cancelling closes the session.
func (c *Conn) Exec(ctx context.Context, script string, stdin io.Reader, stdout io.Writer) ([]byte, string, error) {
	s, err := c.Client.NewSession()
	if err != nil {
		return nil, "", c.ConnErr(err)
	}
	defer s.Close()
	var out strings.Builder
	errBuf := NewLimitedBuffer(8 << 10)
	if stdout != nil {
		s.Stdout = stdout
	} else {
		s.Stdout = &out
	}
	s.Stderr = errBuf
	s.Stdin = stdin
	if err := s.Start("sh -c " + shell.Quote(script)); err != nil {
		return nil, "", c.ConnErr(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- s.Wait() }()
	select {
	case err = <-waited:
	case <-ctx.Done():
		// A command stuck on the device keeps the channel open however
		// it is closed from here: stop waiting for it.
		s.Close()
		return nil, "", ctx.Err()
	}
	if err != nil {
		var ee *ssh.ExitError
		if !errors.As(err, &ee) {
			err = c.ConnErr(err)
		}
	}
	return []byte(out.String()), errBuf.String(), err
}

// ConnErr turns a transport failure into fault.ErrDisconnected when the
// connection is gone, so the next action reconnects.
func (c *Conn) ConnErr(err error) error {
	if err == nil {
		return nil
	}
	var me *ssh.ExitMissingError
	if !c.Alive() || errors.Is(err, io.EOF) || errors.As(err, &me) || errors.Is(err, net.ErrClosed) {
		c.Dead(err)
		return fmt.Errorf("%w: %v", fault.ErrDisconnected, err)
	}
	return err
}

// ScriptErr words a failed device script by its stderr.
func ScriptErr(err error, stderr string) error {
	if err == nil {
		return nil
	}
	var ee *ssh.ExitError
	if !errors.As(err, &ee) {
		return err
	}
	msg := stderr
	if msg == "" {
		msg = fmt.Sprintf("exit status %d", ee.ExitStatus())
	}
	low := strings.ToLower(msg)
	switch {
	case strings.Contains(low, "no space left"), strings.Contains(low, "disk quota exceeded"):
		return fmt.Errorf("%w: %s", fault.ErrDiskFull, msg)
	case strings.Contains(low, "permission denied"), strings.Contains(low, "read-only file system"), strings.Contains(low, "operation not permitted"):
		return fmt.Errorf("%w: %s", fault.ErrPermission, msg)
	}
	return errors.New(msg)
}
