package testdevice

import (
	"armbench/internal/testenv"
	"bufio"
	"bytes"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func dial(t *testing.T, d *Device) *ssh.Client {
	t.Helper()
	cb, err := knownhosts.New(d.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ssh.Dial("tcp", net.JoinHostPort(d.Host, strconv.Itoa(d.Port)), &ssh.ClientConfig{
		User:            d.User,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(d.Signer)},
		HostKeyCallback: cb,
		Timeout:         10 * time.Second,
	})
	if err != nil {
		t.Fatalf("dial test device: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func run(t *testing.T, c *ssh.Client, cmd string) (string, error) {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		return "", err
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	return string(out), err
}

func TestStartExecSFTPAndOpenSSHClient(t *testing.T) {
	d := Start(t)
	c := dial(t, d)
	out, err := run(t, c, "id -un; echo $((6*7))")
	if err != nil {
		t.Fatal(err)
	}
	if want := d.User + "\n42\n"; out != want {
		t.Errorf("exec output %q, want %q", out, want)
	}
	sc, err := sftp.NewClient(c)
	if err != nil {
		t.Fatalf("sftp subsystem: %v", err)
	}
	defer sc.Close()
	f, err := sc.Create(d.Dir + "/via-sftp")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("hello")); err != nil {
		t.Fatalf("sftp write: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("sftp close: %v", err)
	}
	if out, err := run(t, c, "cat "+d.Dir+"/via-sftp"); err != nil || out != "hello" {
		t.Errorf("sftp wrote %q (cat: %v)", out, err)
	}
	// OpenSSH's own client accepts the same key and known_hosts.
	{
		ssh := testenv.Tool(t, "ssh", "openssh-client")
		b, err := exec.Command(ssh, "-F", "none", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
			"-o", "UserKnownHostsFile="+d.KnownHosts, "-o", "IdentitiesOnly=yes", "-i", d.KeyPath,
			"-p", strconv.Itoa(d.Port), d.User+"@"+d.Host, "echo", "via-openssh").CombinedOutput()
		if err != nil || strings.TrimSpace(string(b)) != "via-openssh" {
			t.Errorf("ssh client: %v\n%s", err, b)
		}
	}
	if d.Target.Port != d.Port || d.Target.KnownHosts != d.KnownHosts || d.Target.Identity != d.KeyPath || d.Target.GOARCH != "arm64" {
		t.Errorf("target %+v", d.Target)
	}
}

func TestCutConnectionsAndRestart(t *testing.T) {
	d := Start(t)
	c := dial(t, d)
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := s.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("echo started; sleep 600"); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "started\n" {
		t.Fatalf("first line %q %v", line, err)
	}
	go io.Copy(io.Discard, stdout)
	if n := d.CutConnections(); n == 0 {
		t.Fatal("no connection processes to cut")
	}
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("session survived a cut connection")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("session still alive 10s after the cut")
	}
	// The listener is still there.
	dial(t, d)
	d.Stop()
	if d.Running() {
		t.Fatal("still running after Stop")
	}
	if banner(net.JoinHostPort(d.Host, strconv.Itoa(d.SSHDPort))) {
		t.Fatal("port still answers after Stop")
	}
	d.Restart()
	c2 := dial(t, d)
	if out, err := run(t, c2, "echo back"); err != nil || out != "back\n" {
		t.Fatalf("after restart: %q %v", out, err)
	}
}

func TestProxySeverAndRate(t *testing.T) {
	d := Start(t, WithRate(2<<20))
	if d.Port == d.SSHDPort {
		t.Fatal("proxy port equals sshd port")
	}
	c := dial(t, d)
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	s.Stdin = bytes.NewReader(make([]byte, 256<<10))
	out, err := s.Output("wc -c")
	if err != nil || strings.TrimSpace(string(out)) != strconv.Itoa(256<<10) {
		t.Fatalf("throttled transfer: %q %v", out, err)
	}
	if n := d.Sever(); n != 1 {
		t.Errorf("severed %d connections, want 1", n)
	}
	if _, err := run(t, c, "true"); err == nil {
		t.Fatal("connection survived Sever")
	}
	// New connections still go through.
	c2 := dial(t, d)
	if out, err := run(t, c2, "echo ok"); err != nil || out != "ok\n" {
		t.Fatalf("after sever: %q %v", out, err)
	}
}

func TestRunner(t *testing.T) {
	if got := Runner("amd64"); got != "" {
		t.Errorf("Runner(amd64) = %q", got)
	}
	r := Runner("arm64")
	if r != "" && !strings.HasPrefix(r, "qemu-aarch64") {
		t.Errorf("Runner(arm64) = %q", r)
	}
}
