package sshconn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/melbahja/goph"
	"golang.org/x/crypto/ssh"

	"armbench/remote/fault"
	"armbench/targets"
)

// dialTCP connects to the Endpoint directly, through its ProxyCommand or
// through its ProxyJump.
func (e Endpoint) dialTCP(ctx context.Context, o Config) (net.Conn, io.Closer, error) {
	if e.proxyCmd != "" {
		c, err := e.dialProxyCommand(o)
		return c, nil, err
	}
	if e.jump == "" {
		if o.Dial != nil {
			c, err := o.Dial(ctx, "tcp", e.hostport())
			return c, nil, err
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", e.hostport())
		if err != nil {
			return nil, nil, err
		}
		return quickAck(c), nil, nil
	}
	// ProxyJump: connect to each hop through the previous one. Jump hosts
	// are verified against the same known_hosts, strictly.
	hops := strings.Split(e.jump, ",")
	var via *ssh.Client
	var clients []io.Closer
	closeAll := closerFunc(func() error {
		for i := len(clients) - 1; i >= 0; i-- {
			clients[i].Close()
		}
		return nil
	})
	for _, hop := range hops {
		usr, host, port := splitUserHostPort(strings.TrimSpace(hop))
		je, err := resolveAlias(e.name+" (jump "+hop+")", host, usr, port, "", o)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		// The hops are chained here; the first may still need its own
		// ProxyCommand to be reached (later ones go through the previous).
		je.jump = ""
		hk, err := je.loadHostKeys(targets.Target{}, o)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		c, err := je.connect(ctx, o, hk, via)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("jump host %s: %w", hop, err)
		}
		clients = append(clients, c)
		via = c
	}
	conn, err := via.DialContext(ctx, "tcp", e.hostport())
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return conn, closeAll, nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

func splitUserHostPort(s string) (usr, host string, port int) {
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		usr, s = s[:i], s[i+1:]
	}
	if h, p, err := net.SplitHostPort(s); err == nil {
		n, _ := strconv.Atoi(p)
		return usr, h, n
	}
	return usr, s, 0
}

// handshake dials and runs the SSH handshake within the connect timeout.
func (e Endpoint) handshake(ctx context.Context, cfg *ssh.ClientConfig, o Config) (*ssh.Client, error) {
	return e.handshakeVia(ctx, cfg, o, nil)
}

// connectTimeout is the option given to armbench, else ssh_config's
// ConnectTimeout, else the default.
func (e Endpoint) connectTimeout(o Config) time.Duration {
	if o.ConnectTimeout <= 0 && e.timeout > 0 {
		return e.timeout
	}
	return o.Timeout()
}

func (e Endpoint) handshakeVia(ctx context.Context, cfg *ssh.ClientConfig, o Config, via *ssh.Client) (*ssh.Client, error) {
	timeout := e.connectTimeout(o)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var conn net.Conn
	var extra io.Closer
	var err error
	if via != nil {
		conn, err = via.DialContext(ctx, "tcp", e.hostport())
	} else {
		conn, extra, err = e.dialTCP(ctx, o)
	}
	if err != nil {
		return nil, classifyDial(ctx, err, timeout)
	}
	// The handshake has no context: a deadline and a watcher bound it.
	conn.SetDeadline(time.Now().Add(timeout))
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	c, chans, reqs, err := ssh.NewClientConn(conn, e.hostport(), cfg)
	stopped := stop()
	if err != nil {
		conn.Close()
		if extra != nil {
			extra.Close()
		}
		var ne net.Error
		if !stopped || ctx.Err() != nil || errors.As(err, &ne) && ne.Timeout() {
			return nil, classifyDial(ctx, err, timeout)
		}
		return nil, classifyHandshake(err)
	}
	conn.SetDeadline(time.Time{})
	client := ssh.NewClient(c, chans, reqs)
	if extra != nil {
		go func() { client.Wait(); extra.Close() }()
	}
	return client, nil
}

// connect dials with full authentication.
func (e Endpoint) connect(ctx context.Context, o Config, hk *HostKeys, via *ssh.Client) (*ssh.Client, error) {
	signers, tried, closer := e.signers(o)
	if closer != nil {
		defer closer.Close()
	}
	cfg := &ssh.ClientConfig{
		User:              e.user,
		Auth:              goph.Auth{ssh.PublicKeysCallback(signers)},
		HostKeyCallback:   hk.verify,
		HostKeyAlgorithms: hk.algorithms(),
		Timeout:           e.connectTimeout(o),
	}
	c, err := e.handshakeVia(ctx, cfg, o, via)
	if err == nil {
		e.rememberAlive(c)
	}
	if errors.Is(err, fault.ErrAuth) {
		if len(tried) == 0 {
			return nil, fmt.Errorf("%w: no SSH key to offer: set identity_file in targets.toml, load a key into ssh-agent, or create ~/.ssh/id_ed25519", fault.ErrAuth)
		}
		return nil, fmt.Errorf("%w: %s did not accept any key offered (%s); add your public key to ~/.ssh/authorized_keys on the device (ssh-copy-id)",
			fault.ErrAuth, e.Display(), strings.Join(tried, ", "))
	}
	return c, err
}

func classifyDial(ctx context.Context, err error, timeout time.Duration) error {
	var ne net.Error
	var ue *UnknownHostError
	var ce *HostKeyChangedError
	switch {
	case errors.As(err, &ue), errors.As(err, &ce), errors.Is(err, fault.ErrAuth), errors.Is(err, fault.ErrTimeout), errors.Is(err, fault.ErrUnreachable):
		return err // already classified (a jump host's failure)
	case errors.Is(ctx.Err(), context.Canceled):
		return ctx.Err()
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%w: no answer within %v (%w): is the device on and the host and port right?", fault.ErrTimeout, timeout, fault.ErrUnreachable)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w: connection refused (is sshd running on that port?)", fault.ErrUnreachable)
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Errorf("%w: %v", fault.ErrUnreachable, err)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Errorf("%w: unknown host %s: check host in targets.toml (or HostName in ~/.ssh/config)", fault.ErrUnreachable, dnsErr.Name)
	}
	return fmt.Errorf("%w: %v", fault.ErrUnreachable, err)
}

func classifyHandshake(err error) error {
	var ue *UnknownHostError
	var ce *HostKeyChangedError
	switch {
	case errors.As(err, &ue):
		return ue
	case errors.As(err, &ce):
		return ce
	case errors.Is(err, fault.ErrAuth), errors.Is(err, fault.ErrUnreachable):
		return err // already worded (a ProxyCommand that failed)
	case strings.Contains(err.Error(), "Too many authentication failures"):
		return fmt.Errorf("%w: the server stopped the login after too many keys were offered (its MaxAuthTries): "+
			"name the key with IdentityFile and set IdentitiesOnly yes for this host in ~/.ssh/config (%v)", fault.ErrAuth, err)
	case strings.Contains(err.Error(), "unable to authenticate"):
		return fmt.Errorf("%w: %v", fault.ErrAuth, err)
	case errors.Is(err, io.EOF), strings.Contains(err.Error(), "connection reset"):
		return fmt.Errorf("%w: the server closed the connection during the SSH handshake (not an SSH server, or it refused us): %v", fault.ErrUnreachable, err)
	}
	return err
}

// Connect dials e, directly or through its jump hosts, checks its host
// key against hk and logs in with the keys Config allows.
func (e Endpoint) Connect(ctx context.Context, o Config, hk *HostKeys) (*ssh.Client, error) {
	return e.connect(ctx, o, hk, nil)
}
