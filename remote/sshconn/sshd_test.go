package sshconn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"armbench/internal/testdevice"
	"armbench/internal/testenv"
	"armbench/remote/fault"
	"armbench/targets"
)

// writeSSHConfig writes an ssh_config file of lines.
func writeSSHConfig(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ssh_config")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// login connects and runs a command, as a deploy's first step does.
func login(t *testing.T, tg targets.Target, o Config) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e, err := Resolve(tg, o)
	if err != nil {
		return err
	}
	hk, err := LoadHostKeys(tg, o)
	if err != nil {
		return err
	}
	client, err := e.Connect(ctx, o, hk)
	if err != nil {
		return err
	}
	c := NewConn(client)
	defer c.Dead(errors.New("test over"))
	out, _, err := c.Exec(ctx, "echo ok", nil, nil)
	if err == nil && strings.TrimSpace(string(out)) != "ok" {
		err = fmt.Errorf("echo said %q", out)
	}
	return err
}

func keygen(t *testing.T, path string) ssh.PublicKey {
	t.Helper()
	kg := testenv.Tool(t, "ssh-keygen", "openssh-client")
	if out, err := exec.Command(kg, "-q", "-t", "ed25519", "-N", "", "-C", filepath.Base(path), "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	b, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// A key under a HostKeyAlias in a hashed UserKnownHostsFile: accept-new
// adds it hashed under the alias, as ssh would, and ssh itself reads it;
// a changed key is refused even under StrictHostKeyChecking no, naming
// both fingerprints; ReplaceHostKey removes every form of the old entry.
func TestHostKeyAliasHashedAcceptNewThenReplace(t *testing.T) {
	d := testdevice.Start(t)
	dir := t.TempDir()
	kh := filepath.Join(dir, "boards_known_hosts")
	entry := []string{"Host board", "  HostName 127.0.0.1", "  Port " + strconv.Itoa(d.Port), "  User " + d.User,
		"  IdentityFile " + d.KeyPath, "  IdentitiesOnly yes", "  HostKeyAlias board-key", "  UserKnownHostsFile " + kh,
		"  HashKnownHosts yes", "  BatchMode yes"}
	cfg := writeSSHConfig(t, append(entry, "  StrictHostKeyChecking accept-new")...)
	var warned []Warning
	o := Config{SSHConfig: cfg, NoAgent: true, Warn: func(w Warning) { warned = append(warned, w) }}
	tg := targets.Target{Name: "pi", Host: "board"}
	if err := login(t, tg, o); err != nil {
		t.Fatalf("accept-new: %v", err)
	}
	b, _ := os.ReadFile(kh)
	f := strings.Fields(string(b))
	if len(f) != 3 || !hashedIs(f[0], "board-key") || strings.Count(string(b), "\n") != 1 {
		t.Fatalf("known_hosts after accept-new: %q", b)
	}
	if len(warned) != 1 || !strings.Contains(warned[0].String(), kh+":1: permanently added ED25519") {
		t.Errorf("warnings %v", warned)
	}
	ssh := testenv.Tool(t, "ssh", "openssh-client")
	strictCfg := writeSSHConfig(t, append(entry, "  StrictHostKeyChecking yes")...)
	if out, err := exec.Command(ssh, "-F", strictCfg, "board", "true").CombinedOutput(); err != nil {
		t.Fatalf("ssh with the entry armbench wrote: %v %s", err, out)
	}

	// The board is re-flashed: known_hosts has an older key, hashed under
	// the alias, plain under the alias and under [host]:port.
	old := keygen(t, filepath.Join(dir, "old_host_key"))
	other := keygen(t, filepath.Join(dir, "other_host_key"))
	port := strconv.Itoa(d.Port)
	lines := []string{
		knownhosts.HashHostname("board-key") + " " + authorized(old),
		"board-key " + authorized(old),
		"[127.0.0.1]:" + port + " " + authorized(old),
		"elsewhere " + authorized(other),
		"@revoked elsewhere2 " + authorized(other),
	}
	if err := os.WriteFile(kh, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o.SSHConfig = writeSSHConfig(t, append(entry, "  StrictHostKeyChecking no")...)
	err := login(t, tg, o)
	var ce *HostKeyChangedError
	if !errors.As(err, &ce) {
		t.Fatalf("changed key under StrictHostKeyChecking no: %v", err)
	}
	for _, want := range []string{ssh2fp(old), ssh2fp(d.HostKey), "Re-flashing", "armbench trust --replace pi"} {
		if !strings.Contains(err.Error(), want) || !strings.Contains(ce.Warning(), want) {
			t.Errorf("changed-key message lacks %q:\n%v\n%s", want, err, ce.Warning())
		}
	}
	r, err := ReplaceHostKey(tg, o, ce.Key)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Removed) != 3 || !r.Removed[0].Hashed || r.Removed[1].Hashed || !r.Added.Added {
		t.Errorf("replace: %+v", r)
	}
	b, _ = os.ReadFile(kh)
	if !strings.Contains(string(b), "elsewhere "+authorized(other)) || !strings.Contains(string(b), "@revoked elsewhere2") || strings.Contains(string(b), authorized(old)) {
		t.Errorf("known_hosts after replace:\n%s", b)
	}
	if err := login(t, tg, o); err != nil {
		t.Fatalf("after replace: %v", err)
	}
	if out, err := exec.Command(ssh, "-F", strictCfg, "board", "true").CombinedOutput(); err != nil {
		t.Fatalf("ssh after replace: %v %s", err, out)
	}
}

func authorized(k ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}
func ssh2fp(k ssh.PublicKey) string { return ssh.FingerprintSHA256(k) }

// StrictHostKeyChecking yes (and ask) never add a key: the user trusts it.
func TestStrictYesRefusesUnknown(t *testing.T) {
	d := testdevice.Start(t)
	kh := filepath.Join(t.TempDir(), "kh")
	for _, v := range []string{"yes", "ask"} {
		cfg := writeSSHConfig(t, "Host *", "  UserKnownHostsFile "+kh, "  StrictHostKeyChecking "+v)
		tg := d.Target
		tg.KnownHosts = ""
		err := login(t, tg, Config{SSHConfig: cfg, NoAgent: true})
		var ue *UnknownHostError
		if !errors.As(err, &ue) || ue.File != kh {
			t.Errorf("%s: %v", v, err)
		}
		if _, err := os.Stat(kh); err == nil {
			t.Errorf("%s: a key was written", v)
		}
	}
}

// A key marked @revoked is refused even when listed as the host's.
func TestRevokedHostKeyRefused(t *testing.T) {
	d := testdevice.Start(t)
	b, _ := os.ReadFile(d.KnownHosts)
	if err := os.WriteFile(d.KnownHosts, append(b, []byte("@revoked * "+authorized(d.HostKey)+"\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	err := login(t, d.Target, Config{SSHConfig: os.DevNull, NoAgent: true})
	if err == nil || !strings.Contains(err.Error(), "@revoked") {
		t.Fatalf("revoked key: %v", err)
	}
}

// A host certificate signed by a @cert-authority is accepted with no
// entry for the host's own key.
func TestCertAuthorityHost(t *testing.T) {
	kg := testenv.Tool(t, "ssh-keygen", "openssh-client")
	certPath := filepath.Join(t.TempDir(), "host-cert.pub")
	d := testdevice.Start(t, testdevice.WithConfig("HostCertificate "+certPath))
	dir := t.TempDir()
	ca := keygen(t, filepath.Join(dir, "ca"))
	pub := filepath.Join(dir, "host.pub")
	if err := os.WriteFile(pub, ssh.MarshalAuthorizedKey(d.HostKey), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(kg, "-q", "-s", filepath.Join(dir, "ca"), "-I", "board", "-h", "-n", "127.0.0.1", pub).CombinedOutput(); err != nil {
		t.Fatalf("sign: %v %s", err, out)
	}
	if err := os.Rename(filepath.Join(dir, "host-cert.pub"), certPath); err != nil {
		t.Fatal(err)
	}
	d.Restart()
	tg := d.Target
	line := fmt.Sprintf("@cert-authority [127.0.0.1]:%d %s\n", d.Port, authorized(ca))
	if err := os.WriteFile(tg.KnownHosts, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := login(t, tg, Config{SSHConfig: os.DevNull, NoAgent: true}); err != nil {
		t.Fatalf("certified host: %v", err)
	}
	// A CA line is not the host's key: with another CA the host is unknown.
	other := keygen(t, filepath.Join(dir, "other-ca"))
	line = fmt.Sprintf("@cert-authority [127.0.0.1]:%d %s\n", d.Port, authorized(other))
	if err := os.WriteFile(tg.KnownHosts, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	err := login(t, tg, Config{SSHConfig: os.DevNull, NoAgent: true})
	if err == nil {
		t.Fatal("a certificate from an unknown CA was accepted")
	}
}

// startAgent runs an ssh-agent holding decoy keys (none authorized on
// the device) and returns its socket.
func startAgent(t *testing.T, decoys int) string {
	t.Helper()
	agentBin := testenv.Tool(t, "ssh-agent", "openssh-client")
	add := testenv.Tool(t, "ssh-add", "openssh-client")
	dir := t.TempDir()
	sock := filepath.Join(dir, "agent.sock")
	cmd := exec.Command(agentBin, "-D", "-a", sock)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; ; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if i > 200 {
			t.Fatal("ssh-agent did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := range decoys {
		k := filepath.Join(dir, fmt.Sprintf("decoy%d", i))
		keygen(t, k)
		c := exec.Command(add, "-q", k)
		c.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("ssh-add: %v %s", err, out)
		}
	}
	return sock
}

// The goal's transport: reached only through a ProxyCommand (ssh -W
// through a bastion, here the same sshd), the key named with
// IdentitiesOnly while IdentityAgent holds more decoys than the server's
// MaxAuthTries allows.
func TestProxyCommandIdentitiesOnlyIdentityAgent(t *testing.T) {
	sshBin := testenv.Tool(t, "ssh", "openssh-client")
	d := testdevice.Start(t, testdevice.WithConfig("MaxAuthTries 3"))
	sock := startAgent(t, 4)
	t.Setenv("SSH_AUTH_SOCK", "")
	proxy := fmt.Sprintf("%s -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=%s -o IdentitiesOnly=yes -i %s -p %%p -W %%h:%%p %%r@%%h",
		sshBin, d.KnownHosts, d.KeyPath)
	common := []string{"  HostName 127.0.0.1", "  Port " + strconv.Itoa(d.Port), "  User " + d.User, "  ProxyCommand " + proxy,
		"  IdentityAgent " + sock, "  IdentityFile " + d.KeyPath, "  ServerAliveInterval 7", "  ServerAliveCountMax 5", "  ConnectTimeout 4"}
	cfg := writeSSHConfig(t, append(append([]string{"Host board"}, common...), append([]string{"  IdentitiesOnly yes", "Host greedy"}, common...)...)...)
	direct := func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("dialed directly despite the ProxyCommand")
	}
	o := Config{SSHConfig: cfg, Dial: direct}
	tg := targets.Target{Name: "pi", Host: "board", KnownHosts: d.KnownHosts}
	e, err := Resolve(tg, o)
	if err != nil {
		t.Fatal(err)
	}
	if e.connectTimeout(Config{}) != 4*time.Second || e.connectTimeout(Config{ConnectTimeout: time.Second}) != time.Second {
		t.Errorf("connect timeout %v", e.connectTimeout(Config{}))
	}
	if err := login(t, tg, o); err != nil {
		t.Fatalf("through ProxyCommand with IdentitiesOnly: %v", err)
	}
	// Without IdentitiesOnly the agent's decoys use up the tries.
	tg.Host = "greedy"
	if err := login(t, tg, o); !errors.Is(err, fault.ErrAuth) {
		t.Fatalf("without IdentitiesOnly: %v (want an authentication failure: the decoys must matter)", err)
	}
	// ServerAliveInterval and CountMax reach the connection's watcher.
	tg.Host = "board"
	hk, _ := LoadHostKeys(tg, o)
	client, err := e.Connect(context.Background(), o, hk)
	if err != nil {
		t.Fatal(err)
	}
	c := NewConn(client)
	defer c.Dead(errors.New("test over"))
	if c.alive != (alive{every: 7 * time.Second, max: 5}) {
		t.Errorf("keepalive settings %+v", c.alive)
	}
}

// A ProxyCommand that fails says why, in its own words.
func TestProxyCommandFailureShowsItsStderr(t *testing.T) {
	cfg := writeSSHConfig(t, "Host board", "  ProxyCommand echo 'bastion says no  to %h' >&2; exit 1")
	tg := targets.Target{Name: "pi", Host: "board", User: "u", KnownHosts: filepath.Join(t.TempDir(), "kh")}
	err := login(t, tg, Config{SSHConfig: cfg, NoAgent: true, NoDefaultKeys: true})
	if !errors.Is(err, fault.ErrUnreachable) || !strings.Contains(err.Error(), "bastion says no  to board") {
		t.Fatalf("failed ProxyCommand: %v", err)
	}
}
