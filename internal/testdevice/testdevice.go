// Package testdevice starts a real OpenSSH sshd on 127.0.0.1 that plays an
// ARM device in tests: a free port, a temporary host key, a temporary
// client key in authorized_keys, sftp, and a deploy directory in a temp
// dir. ARM binaries it is asked to run go through qemu-user (binfmt_misc,
// or the target's runner when binfmt_misc is not registered).
package testdevice

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"armbench/internal/procgroup"
	"armbench/internal/testenv"
	"armbench/targets"
)

// Device is a running sshd and everything a client needs to reach it.
type Device struct {
	Host       string // "127.0.0.1"
	Port       int    // what clients connect to (the proxy's port when there is one)
	SSHDPort   int    // sshd's own port
	User       string
	KeyPath    string     // client private key (authorized on the device)
	Signer     ssh.Signer // the same key
	KnownHosts string     // known_hosts with the host key for Host:Port
	HostKey    ssh.PublicKey
	Target     targets.Target // ready to use with remote.Open
	Dir        string         // temporary root of everything
	LogPath    string         // sshd's log (printed when the test fails)

	t       testing.TB
	sshd    string
	cfgPath string
	pidPath string
	proxy   *proxy

	mu    sync.Mutex
	cmd   *exec.Cmd
	group *procgroup.Group // sshd and its per-connection processes
	done  chan struct{}    // closed when cmd has exited
}

type config struct {
	proxy bool
	rate  int64 // bytes per second through the proxy, 0 = unlimited
	extra []string
}

// Option changes how Start sets the device up.
type Option func(*config)

// WithProxy puts a TCP proxy between clients and sshd, so a test can
// sever live connections (Sever) the way a pulled cable would.
func WithProxy() Option { return func(c *config) { c.proxy = true } }

// WithRate throttles the proxy (client to server) to bytesPerSec, so a
// transfer lasts long enough to be interrupted. Implies WithProxy.
func WithRate(bytesPerSec int64) Option {
	return func(c *config) { c.proxy = true; c.rate = bytesPerSec }
}

// WithConfig adds sshd_config lines.
func WithConfig(lines ...string) Option {
	return func(c *config) { c.extra = append(c.extra, lines...) }
}

// FindSSHD returns the sshd binary, which often lives outside a user's PATH.
func FindSSHD() (string, error) {
	if p, err := exec.LookPath("sshd"); err == nil {
		return filepath.Abs(p)
	}
	for _, p := range []string{"/usr/sbin/sshd", "/usr/local/sbin/sshd", "/sbin/sshd"} {
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New("sshd not found (install openssh-server)")
}

// Start starts sshd for the duration of the test.
func Start(t testing.TB, opts ...Option) *Device {
	t.Helper()
	var c config
	for _, o := range opts {
		o(&c)
	}
	sshd, err := FindSSHD()
	if err != nil {
		testenv.Missing(t, "%v", err)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	d := &Device{
		Host:    "127.0.0.1",
		User:    u.Username,
		Dir:     dir,
		LogPath: filepath.Join(dir, "sshd.log"),
		t:       t,
		sshd:    sshd,
		cfgPath: filepath.Join(dir, "sshd_config"),
		pidPath: filepath.Join(dir, "sshd.pid"),
	}
	t.Cleanup(d.cleanup)

	hostSigner, hostKeyPath := newKey(t, dir, "host_ed25519")
	d.HostKey = hostSigner.PublicKey()
	d.Signer, d.KeyPath = newKey(t, dir, "client_ed25519")
	authorized := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authorized, ssh.MarshalAuthorizedKey(d.Signer.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// sshd refuses to start without its privilege separation directory,
		// which the service unit would create.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatalf("sshd privilege separation dir: %v", err)
		}
	}

	for attempt := 0; ; attempt++ {
		d.SSHDPort = freePort(t)
		// sshd keeps the first value of a keyword: extra lines go first so
		// they win.
		lines := append([]string{}, c.extra...)
		lines = append(lines,
			"Port "+strconv.Itoa(d.SSHDPort),
			"ListenAddress 127.0.0.1",
			"HostKey "+hostKeyPath,
			"PidFile "+d.pidPath,
			"AuthorizedKeysFile "+authorized,
			"StrictModes no",
			"UsePAM no",
			"PermitRootLogin yes",
			"PubkeyAuthentication yes",
			"PasswordAuthentication no",
			"KbdInteractiveAuthentication no",
			"UseDNS no",
			"PrintMotd no",
			"PrintLastLog no",
			"MaxStartups 64",
			"MaxSessions 64",
			"LogLevel VERBOSE",
			"Subsystem sftp internal-sftp",
			// bash sources ~/.bashrc for ssh commands unless it is nested
			// (SHLVL); the test machine's rc files (pyenv rehash locks,
			// PATH tweaks) must not leak into the device.
			"SetEnv SHLVL=1",
		)
		if err := os.WriteFile(d.cfgPath, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		err := d.start()
		if err == nil {
			break
		}
		// Another process may have taken the port between freePort and
		// sshd's bind; try a new one a few times.
		if attempt == 2 || !strings.Contains(d.log(), "Address already in use") {
			t.Fatalf("start sshd: %v\n%s", err, d.log())
		}
	}

	d.Port = d.SSHDPort
	if c.proxy {
		d.proxy = startProxy(t, net.JoinHostPort(d.Host, strconv.Itoa(d.SSHDPort)), c.rate)
		d.Port = d.proxy.port
	}
	d.KnownHosts = filepath.Join(dir, "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(net.JoinHostPort(d.Host, strconv.Itoa(d.Port)))}, d.HostKey)
	if err := os.WriteFile(d.KnownHosts, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	deployDir := filepath.Join(dir, "deploy")
	d.Target = targets.Target{
		Name:        "testdevice",
		Description: "OpenSSH sshd on loopback playing an arm64 device",
		Host:        d.Host,
		User:        d.User,
		Port:        d.Port,
		GOOS:        "linux",
		GOARCH:      "arm64",
		GOARM64:     "v8.0",
		DeployDir:   deployDir,
		Runner:      Runner("arm64"),
		Identity:    d.KeyPath,
		KnownHosts:  d.KnownHosts,
	}
	return d
}

// Runner is the runner a target of goarch needs on this machine (see
// testenv.QemuRunner).
func Runner(goarch string) string { return testenv.QemuRunner(goarch) }

func newKey(t testing.TB, dir, name string) (ssh.Signer, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "armbench-test-"+name)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(signer.PublicKey()), 0o644); err != nil {
		t.Fatal(err)
	}
	return signer, path
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start runs sshd in the foreground (-D) and waits for its banner.
func (d *Device) start() error {
	logf, err := os.OpenFile(d.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(d.sshd, "-D", "-e", "-f", d.cfgPath)
	cmd.Stdout = logf
	cmd.Stderr = logf
	// Its own group, away from the test's terminal signals.
	group, err := procgroup.Start(cmd)
	if err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); group.Close(); close(done) }()
	d.mu.Lock()
	d.cmd, d.group, d.done = cmd, group, done
	d.mu.Unlock()

	addr := net.JoinHostPort(d.Host, strconv.Itoa(d.SSHDPort))
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-done:
			d.mu.Lock()
			d.cmd, d.done = nil, nil
			d.mu.Unlock()
			return fmt.Errorf("sshd exited: %v", cmd.ProcessState)
		default:
		}
		if banner(addr) {
			return nil
		}
		if time.Now().After(deadline) {
			d.stop()
			return errors.New("sshd did not answer within 15s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
