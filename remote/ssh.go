package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kevinburke/ssh_config"
	"github.com/melbahja/goph"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"armbench/internal/shell"
	"armbench/targets"
)

// endpoint is a target resolved through ~/.ssh/config: where to connect,
// as whom, with which keys.
type endpoint struct {
	name       string // target name, for errors
	alias      string // the host as written in targets.toml
	host       string // HostName
	port       int
	user       string
	identities []string // key files to try, in order
	jump       string   // ProxyJump, "" = direct
}

func (e endpoint) hostport() string { return net.JoinHostPort(e.host, strconv.Itoa(e.port)) }

// display is user@host:port as errors show it.
func (e endpoint) display() string { return e.user + "@" + e.hostport() }

func (e endpoint) opErr(op, step string, err error) error {
	if err == nil {
		return nil
	}
	var oe *OpError
	if errors.As(err, &oe) && oe.Target == e.name && oe.Op == op {
		return err
	}
	return &OpError{Op: op, Target: e.name, Addr: e.display(), Step: step, Err: err}
}

// resolveEndpoint merges the target with ssh_config: values in
// targets.toml win, then the config for the host alias, then defaults.
func resolveEndpoint(t targets.Target, o Options) (endpoint, error) {
	return resolveAlias(t.Name, t.Host, t.User, t.Port, t.Identity, o)
}

func resolveAlias(name, alias, usr string, port int, identity string, o Options) (endpoint, error) {
	us := &ssh_config.UserSettings{IgnoreErrors: true}
	if o.SSHConfig != "" {
		us.ConfigFinder(func() string { return o.SSHConfig })
	}
	e := endpoint{name: name, alias: alias, host: alias, port: port, user: usr}
	if h := us.Get(alias, "HostName"); h != "" {
		e.host = strings.ReplaceAll(h, "%h", alias)
	}
	if e.port == 0 {
		if p, err := strconv.Atoi(us.Get(alias, "Port")); err == nil && p > 0 {
			e.port = p
		} else {
			e.port = 22
		}
	}
	if e.user == "" {
		e.user = us.Get(alias, "User")
	}
	if e.user == "" {
		u, err := user.Current()
		if err != nil {
			return e, fmt.Errorf("no user for %s: set user in targets.toml: %w", alias, err)
		}
		e.user = u.Username
	}
	if identity != "" {
		e.identities = append(e.identities, identity)
	}
	for _, f := range us.GetAll(alias, "IdentityFile") {
		e.identities = append(e.identities, sshTokens(f, e))
	}
	if !o.NoDefaultKeys {
		for _, f := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			e.identities = append(e.identities, "~/.ssh/"+f)
		}
	}
	if j := us.Get(alias, "ProxyJump"); j != "" && !strings.EqualFold(j, "none") {
		e.jump = j
	}
	return e, nil
}

// sshTokens expands the %-tokens ssh_config allows in IdentityFile.
func sshTokens(s string, e endpoint) string {
	r := strings.NewReplacer("%h", e.host, "%r", e.user, "%p", strconv.Itoa(e.port), "%%", "%")
	return r.Replace(s)
}

// signers loads what to offer, in order: ssh-agent, then key files.
// Encrypted keys ask for their passphrase only when the server accepts
// their public key.
func (e endpoint) signers(o Options) (func() ([]ssh.Signer, error), []string, io.Closer) {
	var tried []string
	var closer io.Closer
	var agentSigners func() ([]ssh.Signer, error)
	if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" && !o.NoAgent {
		if c, err := net.Dial("unix", sock); err == nil {
			closer = c
			agentSigners = agent.NewClient(c).Signers
			tried = append(tried, "ssh-agent")
		}
	}
	var files []ssh.Signer
	seen := map[string]bool{}
	for _, f := range e.identities {
		p, err := expandHome(f)
		if err != nil || seen[p] {
			continue
		}
		seen[p] = true
		s, err := loadKey(p, o)
		if err != nil {
			// A default key that is absent is noise, but one that exists
			// and cannot be used (encrypted, corrupt) is why a login
			// fails: name it in the error.
			switch {
			case !errors.Is(err, os.ErrNotExist):
				tried = append(tried, p+" ("+err.Error()+")")
			case f == e.identities[0]:
				tried = append(tried, p+" (missing)")
			}
			continue
		}
		tried = append(tried, p)
		files = append(files, s)
	}
	return func() ([]ssh.Signer, error) {
		var all []ssh.Signer
		if agentSigners != nil {
			if s, err := agentSigners(); err == nil {
				all = append(all, s...)
			}
		}
		return append(all, files...), nil
	}, tried, closer
}

func loadKey(path string, o Options) (ssh.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := ssh.ParsePrivateKey(b)
	var pm *ssh.PassphraseMissingError
	switch {
	case err == nil:
		return s, nil
	case errors.As(err, &pm):
		pub := pm.PublicKey
		if pub == nil {
			// Old PEM keys keep the public half only in the .pub file.
			if pb, err := os.ReadFile(path + ".pub"); err == nil {
				pub, _, _, _, _ = ssh.ParseAuthorizedKey(pb)
			}
		}
		switch {
		case o.Passphrase == nil:
			return nil, fmt.Errorf("encrypted, and nothing here can ask for its passphrase: load it into ssh-agent (ssh-add %s)", path)
		case pub == nil:
			return nil, fmt.Errorf("encrypted, and no %s.pub to offer before asking for its passphrase: load it into ssh-agent (ssh-add %s)", path, path)
		}
		return &lazySigner{path: path, pem: b, pub: pub, ask: o.Passphrase}, nil
	}
	return nil, err
}

// lazySigner asks for a key's passphrase the first time it must sign,
// which only happens once the server said it accepts the key.
type lazySigner struct {
	path string
	pem  []byte
	pub  ssh.PublicKey
	ask  func(string) ([]byte, error)

	mu     sync.Mutex
	signer ssh.Signer
}

func (l *lazySigner) PublicKey() ssh.PublicKey { return l.pub }

func (l *lazySigner) load() (ssh.Signer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.signer != nil {
		return l.signer, nil
	}
	pass, err := l.ask(l.path)
	if err != nil {
		return nil, fmt.Errorf("passphrase for %s: %w", l.path, err)
	}
	s, err := ssh.ParsePrivateKeyWithPassphrase(l.pem, pass)
	for i := range pass {
		pass[i] = 0
	}
	if err != nil {
		return nil, fmt.Errorf("%w: key %s: %v", ErrAuth, l.path, err)
	}
	l.signer = s
	return s, nil
}

func (l *lazySigner) Sign(r io.Reader, data []byte) (*ssh.Signature, error) {
	s, err := l.load()
	if err != nil {
		return nil, err
	}
	return s.Sign(r, data)
}

func (l *lazySigner) SignWithAlgorithm(r io.Reader, data []byte, algo string) (*ssh.Signature, error) {
	s, err := l.load()
	if err != nil {
		return nil, err
	}
	if as, ok := s.(ssh.AlgorithmSigner); ok {
		return as.SignWithAlgorithm(r, data, algo)
	}
	return s.Sign(r, data)
}

// dialTCP connects to the endpoint directly or through its ProxyJump.
func (e endpoint) dialTCP(ctx context.Context, o Options) (net.Conn, io.Closer, error) {
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
		je.jump = ""
		hk, err := loadHostKeys(targets.Target{}, o)
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
func (e endpoint) handshake(ctx context.Context, cfg *ssh.ClientConfig, o Options) (*ssh.Client, error) {
	return e.handshakeVia(ctx, cfg, o, nil)
}

func (e endpoint) handshakeVia(ctx context.Context, cfg *ssh.ClientConfig, o Options, via *ssh.Client) (*ssh.Client, error) {
	timeout := o.connectTimeout()
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
func (e endpoint) connect(ctx context.Context, o Options, hk *hostKeys, via *ssh.Client) (*ssh.Client, error) {
	signers, tried, closer := e.signers(o)
	if closer != nil {
		defer closer.Close()
	}
	cfg := &ssh.ClientConfig{
		User:              e.user,
		Auth:              goph.Auth{ssh.PublicKeysCallback(signers)},
		HostKeyCallback:   hk.check,
		HostKeyAlgorithms: hk.algorithms(e.hostport()),
		Timeout:           o.connectTimeout(),
	}
	c, err := e.handshakeVia(ctx, cfg, o, via)
	if errors.Is(err, ErrAuth) {
		if len(tried) == 0 {
			return nil, fmt.Errorf("%w: no SSH key to offer: set identity_file in targets.toml, load a key into ssh-agent, or create ~/.ssh/id_ed25519", ErrAuth)
		}
		return nil, fmt.Errorf("%w: %s did not accept any key offered (%s); add your public key to ~/.ssh/authorized_keys on the device (ssh-copy-id)",
			ErrAuth, e.display(), strings.Join(tried, ", "))
	}
	return c, err
}

func classifyDial(ctx context.Context, err error, timeout time.Duration) error {
	var ne net.Error
	var ue *UnknownHostError
	var ce *HostKeyChangedError
	switch {
	case errors.As(err, &ue), errors.As(err, &ce), errors.Is(err, ErrAuth), errors.Is(err, ErrTimeout), errors.Is(err, ErrUnreachable):
		return err // already classified (a jump host's failure)
	case errors.Is(ctx.Err(), context.Canceled):
		return ctx.Err()
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%w: no answer within %v (%w): is the device on and the host and port right?", ErrTimeout, timeout, ErrUnreachable)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w: connection refused (is sshd running on that port?)", ErrUnreachable)
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Errorf("%w: unknown host %s: check host in targets.toml (or HostName in ~/.ssh/config)", ErrUnreachable, dnsErr.Name)
	}
	return fmt.Errorf("%w: %v", ErrUnreachable, err)
}

func classifyHandshake(err error) error {
	var ue *UnknownHostError
	var ce *HostKeyChangedError
	switch {
	case errors.As(err, &ue):
		return ue
	case errors.As(err, &ce):
		return ce
	case errors.Is(err, ErrAuth):
		return err
	case strings.Contains(err.Error(), "unable to authenticate"):
		return fmt.Errorf("%w: %v", ErrAuth, err)
	case errors.Is(err, io.EOF), strings.Contains(err.Error(), "connection reset"):
		return fmt.Errorf("%w: the server closed the connection during the SSH handshake (not an SSH server, or it refused us): %v", ErrUnreachable, err)
	}
	return err
}

// sshDevice is a device over one SSH connection, re-established on the
// next action after it drops.
type sshDevice struct {
	t  targets.Target
	o  Options
	ep endpoint

	mu     sync.Mutex
	conn   *sshConn
	closed bool
	// lastDrop is why the previous connection ended; reported once by the
	// action that reconnects.
	lastDrop error
	// deploying counts the deploys in flight per name, which a prewarm
	// must not sweep the temporary files of; prewarming is closed when the
	// prewarm in flight for a name is done, which a deploy of that name
	// waits for instead of asking the same question again.
	deploying  map[string]int
	prewarming map[string]chan struct{}
}

// sshConn is one live connection and what was learnt about the device
// through it.
type sshConn struct {
	once   sync.Once
	client *ssh.Client
	dir    string   // absolute deploy_dir
	tools  []string // decompressors found: "zstd", "gzip"
	done   chan struct{}
	err    error // why it ended, once done is closed

	prepMu   sync.Mutex
	prepared map[string]prepared // prewarmed answers, by binary name
	// noPatch: the device's zstd lacks --patch-from; send whole files.
	noPatch atomic.Bool
	// noELFZ: the delta helper failed on this device; plain deltas only.
	noELFZ atomic.Bool
	// elfzSHA is the sha256 of the delta helper installed through this
	// connection (a string), so later deltas skip checking it.
	elfzSHA atomic.Value
}

// dead records why the connection ended and closes it; the first caller
// wins (the watcher, or an action that saw the transport fail).
func (c *sshConn) dead(err error) {
	c.once.Do(func() {
		c.err = fmt.Errorf("%w: %v", ErrDisconnected, err)
		close(c.done)
	})
	c.client.Close()
}

func (c *sshConn) alive() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// openSSH connects to t; names are binaries about to be deployed, whose
// prepare step rides on the connection's probe.
func openSSH(ctx context.Context, t targets.Target, o Options, names []string) (Device, error) {
	ep, err := resolveEndpoint(t, o)
	if err != nil {
		return nil, &OpError{Op: "connect", Target: t.Name, Addr: t.Host, Err: err}
	}
	d := &sshDevice{t: t, o: o, ep: ep, deploying: map[string]int{}, prewarming: map[string]chan struct{}{}}
	if _, _, _, err := d.connect(ctx, names, false); err != nil {
		return nil, err
	}
	return d, nil
}

// Addr is user@host:port, as errors name the device.
func (d *sshDevice) Addr() string { return d.ep.display() }

// get returns the live connection, connecting when there is none; a
// reconnection after a drop is reported to emit (when not nil).
func (d *sshDevice) get(ctx context.Context) (*sshConn, error) {
	return d.getEmit(ctx, nil)
}

func (d *sshDevice) getEmit(ctx context.Context, emit func(Event)) (*sshConn, error) {
	c, dropped, _, err := d.connect(ctx, nil, true)
	if err == nil && dropped != nil && emit != nil {
		emit(Reconnected{Time: time.Now(), Cause: dropped})
	}
	return c, err
}

// connectFor returns the live connection, or opens one whose probe also
// prepares the deploys of names (fresh says it did).
func (d *sshDevice) connectFor(ctx context.Context, names []string) (c *sshConn, fresh bool, err error) {
	c, _, fresh, err = d.connect(ctx, names, false)
	return c, fresh, err
}

// connect returns the live connection, or opens one, preparing the
// deploys of names in its probe, and says why the previous one ended (nil
// for the first, or when takeDrop is false: the next action that reports
// it will).
func (d *sshDevice) connect(ctx context.Context, names []string, takeDrop bool) (c *sshConn, dropped error, fresh bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, nil, false, d.ep.opErr("connect", "", errors.New("device closed"))
	}
	if d.conn != nil && d.conn.alive() {
		if takeDrop && d.lastDrop != nil {
			// A prewarm reconnected after the drop: this action is the
			// first to report it.
			dropped, d.lastDrop = d.lastDrop, nil
		}
		return d.conn, dropped, false, nil
	}
	if d.conn != nil {
		d.lastDrop = d.conn.err
		d.conn = nil
	}
	hk, err := loadHostKeys(d.t, d.o)
	if err != nil {
		return nil, nil, false, d.ep.opErr("connect", "known_hosts", err)
	}
	client, err := d.ep.connect(ctx, d.o, hk, nil)
	if err != nil {
		return nil, nil, false, d.ep.opErr("connect", "", err)
	}
	c = &sshConn{client: client, done: make(chan struct{})}
	// A login shell whose rc files hang would otherwise hang every action.
	pctx, cancel := context.WithTimeout(ctx, max(2*d.o.connectTimeout(), 20*time.Second))
	defer cancel()
	if err := d.probe(pctx, c, names); err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = fmt.Errorf("%w: the device accepted the login but a shell command did not finish (slow or blocking shell startup files?)", ErrTimeout)
		}
		client.Close()
		return nil, nil, false, d.ep.opErr("connect", "probe", err)
	}
	go d.watch(c)
	d.conn = c
	if takeDrop {
		dropped = d.lastDrop
		d.lastDrop = nil
	}
	return c, dropped, true, nil
}

// watch marks the connection dead when it ends, and sends keepalives so a
// silently dead link (a pulled cable) is noticed.
func (d *sshDevice) watch(c *sshConn) {
	ended := make(chan error, 1)
	go func() { ended <- c.client.Wait() }()
	every := d.o.keepAlive()
	tick := time.NewTicker(every)
	defer tick.Stop()
	missed := 0
	for {
		select {
		case err := <-ended:
			if err == nil {
				err = io.EOF
			}
			c.dead(err)
			return
		case <-tick.C:
			reply := make(chan error, 1)
			go func() {
				_, _, err := c.client.SendRequest("keepalive@openssh.com", true, nil)
				reply <- err
			}()
			select {
			case err := <-reply:
				if err != nil {
					missed = 3
				} else {
					missed = 0
				}
			case <-time.After(every):
				missed++
			}
			if missed >= 3 {
				c.client.Close()
			}
		}
	}
}

// probe resolves deploy_dir and finds the decompressors, once per
// connection, and prepares the deploys of names in the same round trip.
func (d *sshDevice) probe(ctx context.Context, c *sshConn, names []string) error {
	at := time.Now()
	if len(names) > 0 && d.o.ELFZHelper != nil && !slices.Contains(names, elfzName) {
		// A redeploy of a default-profile binary first makes sure the
		// delta helper is there: that question rides along too.
		names = append(slices.Clip(names), elfzName)
	}
	out, stderr, err := d.execOn(ctx, c, probeScript(d.t.DeployDir, names, d.records(names)), nil, nil)
	if err != nil {
		return scriptErr(err, stderr)
	}
	for _, line := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(line, " ")
		switch k {
		case "dir":
			c.dir = v
		case "tool":
			c.tools = append(c.tools, v)
		}
	}
	if c.dir == "" {
		return fmt.Errorf("could not resolve deploy_dir %q on the device", d.t.DeployDir)
	}
	if len(names) > 0 {
		if ps, ok := parsePrepared(out, len(names), at); ok {
			c.keepPrepared(names, ps)
		}
	}
	return nil
}

// dirWord is deploy_dir as a shell word for the device: "~" expands to
// the user's home, relative paths are taken from it, the rest is quoted.
func dirWord(dir string) string {
	switch {
	case dir == "":
		dir = targets.DefaultDeployDir
	case dir == "~" || strings.HasPrefix(dir, "~/") || strings.HasPrefix(dir, "/"):
	default:
		dir = "~/" + dir
	}
	return shell.HomePath(dir)
}

func (d *sshDevice) DeployDir() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil {
		return d.conn.dir
	}
	return d.t.DeployDir
}

func (d *sshDevice) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	if d.conn != nil {
		err := d.conn.client.Close()
		d.conn = nil
		if err != nil && !errors.Is(err, net.ErrClosed) {
			return err
		}
	}
	return nil
}

// limitedBuffer keeps the first n bytes written (stderr for errors).
type limitedBuffer struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.max - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.TrimSpace(string(l.b))
}

// execOn runs script under sh on the device (whatever the login shell
// is), with stdin, and returns stdout and stderr. Cancelling closes the
// session.
func (d *sshDevice) execOn(ctx context.Context, c *sshConn, script string, stdin io.Reader, stdout io.Writer) ([]byte, string, error) {
	s, err := c.client.NewSession()
	if err != nil {
		return nil, "", d.connErr(c, err)
	}
	defer s.Close()
	var out strings.Builder
	errBuf := &limitedBuffer{max: 8 << 10}
	if stdout != nil {
		s.Stdout = stdout
	} else {
		s.Stdout = &out
	}
	s.Stderr = errBuf
	s.Stdin = stdin
	if err := s.Start("sh -c " + shell.Quote(script)); err != nil {
		return nil, "", d.connErr(c, err)
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
			err = d.connErr(c, err)
		}
	}
	return []byte(out.String()), errBuf.String(), err
}

// connErr turns a transport failure into ErrDisconnected when the
// connection is gone, so the next action reconnects.
func (d *sshDevice) connErr(c *sshConn, err error) error {
	if err == nil {
		return nil
	}
	var me *ssh.ExitMissingError
	if !c.alive() || errors.Is(err, io.EOF) || errors.As(err, &me) || errors.Is(err, net.ErrClosed) {
		c.dead(err)
		return fmt.Errorf("%w: %v", ErrDisconnected, err)
	}
	return err
}

// scriptErr words a failed device script by its stderr.
func scriptErr(err error, stderr string) error {
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
		return fmt.Errorf("%w: %s", ErrDiskFull, msg)
	case strings.Contains(low, "permission denied"), strings.Contains(low, "read-only file system"), strings.Contains(low, "operation not permitted"):
		return fmt.Errorf("%w: %s", ErrPermission, msg)
	}
	return errors.New(msg)
}

func (d *sshDevice) Exec(ctx context.Context, script string) ([]byte, error) {
	c, err := d.get(ctx)
	if err != nil {
		return nil, err
	}
	// Whatever the script changes, prewarmed answers may no longer hold.
	c.forgetPrepared()
	// Like the local device: in deploy_dir when it exists.
	out, stderr, err := d.execOn(ctx, c, "cd -- "+shell.Quote(c.dir)+" 2>/dev/null\n"+script, nil, nil)
	if err != nil {
		return out, d.ep.opErr("exec", "", scriptErr(err, stderr))
	}
	return out, nil
}
