package sshconn

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"time"

	"armbench/remote/fault"
)

// dialProxyCommand runs the ProxyCommand (its %-tokens expanded) and
// talks SSH over its standard input and output, as ssh does.
func (e Endpoint) dialProxyCommand(o Config) (net.Conn, error) {
	line, err := e.sshTokens(e.proxyCmd)
	if err != nil {
		return nil, fmt.Errorf("ProxyCommand: %w", err)
	}
	var cmd *exec.Cmd
	if runtime.GOOS == "windows" {
		cmd = exec.Command("cmd", "/C", line)
	} else {
		sh := os.Getenv("SHELL")
		if sh == "" {
			sh = "/bin/sh"
		}
		cmd = exec.Command(sh, "-c", "exec "+line)
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	stderr := NewLimitedBuffer(4 << 10)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, stderr
	if err := cmd.Start(); err != nil {
		for _, f := range []*os.File{inR, inW, outR, outW} {
			f.Close()
		}
		return nil, fmt.Errorf("ProxyCommand %s: %w", line, err)
	}
	inR.Close()
	outW.Close()
	c := &cmdConn{r: outR, w: inW, cmd: cmd, line: line, stderr: stderr, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(c.exited) }()
	return c, nil
}

// cmdConn is a net.Conn over a ProxyCommand's pipes.
type cmdConn struct {
	r, w   *os.File
	cmd    *exec.Cmd
	line   string
	stderr *LimitedBuffer
	exited chan struct{}
	once   sync.Once
}

func (c *cmdConn) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if errors.Is(err, io.EOF) {
		err = c.why(err)
	}
	return n, err
}

func (c *cmdConn) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err != nil {
		err = c.why(err)
	}
	return n, err
}

// why words the end of the pipes by the command's stderr, when it said
// something before it stopped.
func (c *cmdConn) why(err error) error {
	select {
	case <-c.exited:
	case <-time.After(200 * time.Millisecond):
	}
	if msg := c.stderr.String(); msg != "" {
		return fmt.Errorf("%w: ProxyCommand %s: %s (%w)", fault.ErrUnreachable, c.line, msg, err)
	}
	return err
}

// Close closes the pipes and ends the command.
func (c *cmdConn) Close() error {
	c.once.Do(func() {
		c.w.Close()
		c.r.Close()
		select {
		case <-c.exited:
		case <-time.After(time.Second):
			c.cmd.Process.Kill()
		}
	})
	return nil
}

type cmdAddr string

func (a cmdAddr) Network() string { return "proxycommand" }
func (a cmdAddr) String() string  { return string(a) }

func (c *cmdConn) LocalAddr() net.Addr  { return cmdAddr("proxycommand:0") }
func (c *cmdConn) RemoteAddr() net.Addr { return cmdAddr("proxycommand:0") }

func (c *cmdConn) SetDeadline(t time.Time) error {
	c.r.SetDeadline(t)
	c.w.SetDeadline(t)
	return nil
}
func (c *cmdConn) SetReadDeadline(t time.Time) error  { return c.r.SetReadDeadline(t) }
func (c *cmdConn) SetWriteDeadline(t time.Time) error { return c.w.SetWriteDeadline(t) }

// aliveSettings carries ssh_config's ServerAliveInterval and CountMax
// from the dial to NewConn, keyed by client.
var aliveSettings sync.Map

type alive struct {
	every time.Duration
	max   int
}

// rememberAlive notes the keepalive settings ssh_config gave for c, for
// NewConn to pick up.
func (e Endpoint) rememberAlive(c interface{ Wait() error }) {
	if e.aliveInterval <= 0 && e.aliveMax == 3 {
		return
	}
	aliveSettings.Store(c, alive{every: e.aliveInterval, max: e.aliveMax})
	go func() { c.Wait(); aliveSettings.Delete(c) }()
}
