package remote

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"armbench/internal/shell"
	"armbench/internal/testdevice"
	"armbench/internal/testenv"
	"armbench/remote/install"
	"armbench/targets"
)

// testOpts keeps tests independent of the machine's agent and keys.
var testOpts = Options{NoAgent: true, NoDefaultKeys: true, ConnectTimeout: 10 * time.Second}

func openT(t *testing.T, tg targets.Target, o Options) *sshDevice {
	t.Helper()
	dev, err := Open(context.Background(), tg, o)
	if err != nil {
		t.Fatalf("open %s: %v", tg.Name, err)
	}
	t.Cleanup(func() { dev.Close() })
	return dev.(*sshDevice)
}

func devSHA(t *testing.T, dev Device, path string) string {
	t.Helper()
	out, err := dev.Exec(context.Background(), "sha256sum < "+shell.Quote(path))
	if err != nil {
		t.Fatalf("sha256 on device: %v", err)
	}
	return strings.Fields(string(out))[0]
}

func TestSSHDeployVerifySkipRunRollback(t *testing.T) {
	td := testdevice.Start(t)
	// Every character that breaks naive quoting, in deploy_dir and name.
	dir := filepath.Join(td.Dir, `it's a "dir" $(touch pwned); x`)
	td.Target.DeployDir = dir
	dev := openT(t, td.Target, testOpts)
	if dev.DeployDir() != dir {
		t.Errorf("DeployDir %q, want %q", dev.DeployDir(), dir)
	}
	v1 := buildARM(t, "v1")
	v2 := buildARM(t, "v2")
	name := `work load;$(x)`

	var rec recorder
	inst, err := dev.Deploy(context.Background(), File{Path: v1}, name, rec.emit)
	if err != nil {
		t.Fatal(err)
	}
	dst := dir + "/" + name
	if inst.Path != dst || inst.Skipped || inst.Previous != "" || inst.SHA256 != sha(t, v1) {
		t.Fatalf("deploy: %+v", inst)
	}
	if got := devSHA(t, dev, dst); got != sha(t, v1) {
		t.Fatalf("device has %s, want %s", got, sha(t, v1))
	}
	st, _ := os.Stat(v1)
	if inst.WireBytes <= 0 || inst.WireBytes >= st.Size() {
		t.Errorf("wire bytes %d for a %d-byte binary: not compressed?", inst.WireBytes, st.Size())
	}
	want := []string{"connect", "connect done", "upload", "upload done", "verify", "verify done", "install", "install done"}
	if got := rec.steps(); !slices.Equal(got, want) {
		t.Errorf("steps %v, want %v", got, want)
	}
	if p, n := rec.lastProgress(); n < 2 || p.Sent != st.Size() || p.Total != st.Size() || p.WireBytes == 0 {
		t.Errorf("last progress %+v of %d", p, n)
	}
	if _, err := os.Stat(filepath.Join(td.Dir, "pwned")); err == nil {
		t.Error("deploy_dir was interpreted by the device's shell")
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Error("name was interpreted by the device's shell")
	}

	// Unchanged: one round trip, no upload.
	rec = recorder{}
	inst, err = dev.Deploy(context.Background(), File{Path: v1}, name, rec.emit)
	if err != nil || !inst.Skipped {
		t.Fatalf("redeploy: %+v %v", inst, err)
	}
	if slices.Contains(rec.steps(), "upload") {
		t.Errorf("redeploy uploaded: %v", rec.steps())
	}

	// The ARM binary runs over SSH (through qemu-user).
	var out recorder
	es, err := dev.Run(context.Background(), Command{Path: name, Args: []string{"a b", "$(c);'d'"}, Env: []string{"ARMBENCH_TEST=x y", "ARMBENCH_EXIT=7"}}, out.emit)
	if err != nil {
		t.Fatal(err)
	}
	if es.Code != 7 || es.Signal != "" {
		t.Errorf("exit %+v, want 7", es)
	}
	lines := out.lines()
	for _, w := range []string{"out: arch arm64 v1", "out: arg [a b]", "out: arg [$(c);'d']", "out: env x y", "err: to stderr"} {
		if !slices.Contains(lines, w) {
			t.Errorf("missing %q in %q", w, lines)
		}
	}
	if slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, "armbench-pid ") }) {
		t.Errorf("pid marker leaked into output: %q", lines)
	}

	// A new version keeps the old one as .prev; rollback swaps back.
	inst, err = dev.Deploy(context.Background(), File{Path: v2, SHA256: sha(t, v2)}, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if inst.Previous != dst+".prev" || devSHA(t, dev, dst) != sha(t, v2) || devSHA(t, dev, dst+".prev") != sha(t, v1) {
		t.Fatalf("second deploy: %+v", inst)
	}
	if err := dev.Rollback(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	if devSHA(t, dev, dst) != sha(t, v1) || devSHA(t, dev, dst+".prev") != sha(t, v2) {
		t.Fatal("rollback did not swap")
	}
	if err := dev.Rollback(context.Background(), "nothing-here"); !errors.Is(err, ErrNoPrevious) {
		t.Errorf("rollback without .prev: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{name, name + ".prev"}) {
		t.Errorf("deploy_dir holds %q", names)
	}
}

func TestSSHDeployFallbacks(t *testing.T) {
	td := testdevice.Start(t)
	bin := buildARM(t, "fallback")
	for _, tools := range [][]string{{"gzip"}, nil} {
		t.Run(fmt.Sprint(tools), func(t *testing.T) {
			dev := openT(t, td.Target, testOpts)
			dev.conn.tools = tools // as if the device lacked zstd (and gzip)
			name := "fb-" + strings.Join(tools, "")
			var rec recorder
			inst, err := dev.Deploy(context.Background(), File{Path: bin}, name, rec.emit)
			if err != nil {
				t.Fatal(err)
			}
			if devSHA(t, dev, inst.Path) != sha(t, bin) {
				t.Fatal("wrong content on the device")
			}
			st, _ := os.Stat(bin)
			if len(tools) > 0 && inst.WireBytes >= st.Size() {
				t.Errorf("gzip: wire %d of %d", inst.WireBytes, st.Size())
			}
			if len(tools) == 0 && inst.WireBytes != st.Size() {
				t.Errorf("sftp: wire %d of %d", inst.WireBytes, st.Size())
			}
			want := []string{"connect", "connect done", "upload", "upload done", "verify", "verify done", "install", "install done"}
			if got := rec.steps(); !slices.Equal(got, want) {
				t.Errorf("steps %v", got)
			}
			out, err := dev.Exec(context.Background(), "ls -l "+shell.Quote(inst.Path))
			if err != nil || !strings.HasPrefix(string(out), "-rwxr-xr-x") {
				t.Errorf("mode: %q %v", out, err)
			}
		})
	}
}

// randomFile is incompressible, so a throttled link really takes long.
func randomFile(t *testing.T, size int) string {
	b := make([]byte, size)
	rand.Read(b)
	return writeFile(t, filepath.Join(t.TempDir(), "random"), string(b), 0o755)
}

func TestSSHCutMidUpload(t *testing.T) {
	for _, how := range []string{"sever link", "kill sshd sessions"} {
		t.Run(how, func(t *testing.T) {
			td := testdevice.Start(t, testdevice.WithProxy())
			dev := openT(t, td.Target, testOpts)
			old := writeFile(t, filepath.Join(t.TempDir(), "old"), "#!/bin/sh\necho old binary runs\n", 0o755)
			if _, err := dev.Deploy(context.Background(), File{Path: old}, "app", nil); err != nil {
				t.Fatal(err)
			}
			td.SetRate(512 << 10)
			big := randomFile(t, 3<<20)
			cut := false
			emit := func(e Event) {
				if p, ok := e.(Progress); ok && !cut && p.Sent > p.Total/4 {
					cut = true
					if how == "sever link" {
						td.Sever()
					} else {
						td.CutConnections()
					}
				}
			}
			_, err := dev.Deploy(context.Background(), File{Path: big}, "app", emit)
			if !cut {
				t.Fatal("upload finished before the cut")
			}
			if !errors.Is(err, ErrDisconnected) {
				t.Fatalf("deploy after cut: %v", err)
			}
			if !strings.Contains(err.Error(), "deploy testdevice ("+td.User+"@127.0.0.1:") || !strings.Contains(err.Error(), ": upload: ") {
				t.Errorf("error does not name host and step: %v", err)
			}
			td.SetRate(0)
			// The next action reconnects by itself; the old binary is intact
			// and runs.
			out, err := dev.Exec(context.Background(), "./app")
			if err != nil {
				out, err = dev.Exec(context.Background(), "./app")
			}
			if err != nil || string(out) != "old binary runs\n" {
				t.Fatalf("old binary after the cut: %q %v", out, err)
			}
			if devSHA(t, dev, td.Target.DeployDir+"/app") != sha(t, old) {
				t.Fatal("old binary changed")
			}
			// The next deploy sweeps any leftover and succeeds.
			inst, err := dev.Deploy(context.Background(), File{Path: big}, "app", nil)
			if err != nil {
				t.Fatal(err)
			}
			if devSHA(t, dev, inst.Path) != sha(t, big) {
				t.Fatal("redeploy content")
			}
			ents, _ := os.ReadDir(td.Target.DeployDir)
			for _, e := range ents {
				if strings.Contains(e.Name(), install.TmpMarker) {
					t.Errorf("left behind %s", e.Name())
				}
			}
		})
	}
}

func TestSSHCancelDeployKeepsOld(t *testing.T) {
	td := testdevice.Start(t, testdevice.WithRate(1<<20))
	dev := openT(t, td.Target, testOpts)
	old := writeFile(t, filepath.Join(t.TempDir(), "old"), "#!/bin/sh\necho old\n", 0o755)
	if _, err := dev.Deploy(context.Background(), File{Path: old}, "app", nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	emit := func(e Event) {
		if p, ok := e.(Progress); ok && p.Sent > 0 {
			cancel()
		}
	}
	_, err := dev.Deploy(ctx, File{Path: randomFile(t, 4<<20)}, "app", emit)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled deploy: %v", err)
	}
	if devSHA(t, dev, td.Target.DeployDir+"/app") != sha(t, old) {
		t.Fatal("cancel replaced the binary")
	}
}

func TestSSHUnknownHostThenTrust(t *testing.T) {
	td := testdevice.Start(t)
	tg := td.Target
	tg.KnownHosts = filepath.Join(t.TempDir(), "ssh", "known_hosts") // does not exist yet
	_, err := Open(context.Background(), tg, testOpts)
	var ue *UnknownHostError
	if !errors.As(err, &ue) {
		t.Fatalf("unknown host accepted or wrong error: %v", err)
	}
	if ue.Fingerprint != ssh.FingerprintSHA256(td.HostKey) || ue.KeyType != ssh.KeyAlgoED25519 {
		t.Errorf("shown %s %s, want %s", ue.KeyType, ue.Fingerprint, ssh.FingerprintSHA256(td.HostKey))
	}
	if !strings.Contains(err.Error(), ue.Fingerprint) || !strings.Contains(err.Error(), "ED25519") {
		t.Errorf("message lacks the fingerprint: %v", err)
	}
	// Declining writes nothing.
	o := testOpts
	o.ConfirmHostKey = func(HostKey) bool { return false }
	if _, err := Trust(context.Background(), tg, o); !errors.Is(err, ErrNotTrusted) {
		t.Fatalf("declined trust: %v", err)
	}
	if _, err := os.Stat(tg.KnownHosts); err == nil {
		t.Fatal("declined key was written")
	}
	var shown HostKey
	o.ConfirmHostKey = func(k HostKey) bool { shown = k; return true }
	hk, err := Trust(context.Background(), tg, o)
	if err != nil {
		t.Fatal(err)
	}
	if !hk.Added || shown.Fingerprint != ue.Fingerprint || hk.Host != "[127.0.0.1]:"+strconv.Itoa(td.Port) {
		t.Errorf("trusted %+v (shown %+v)", hk, shown)
	}
	b, _ := os.ReadFile(tg.KnownHosts)
	if !strings.HasPrefix(string(b), "[127.0.0.1]:"+strconv.Itoa(td.Port)+" ssh-ed25519 ") {
		t.Errorf("known_hosts line %q", b)
	}
	// OpenSSH itself accepts the line.
	if kg, err := exec.LookPath("ssh-keygen"); err == nil {
		out, err := exec.Command(kg, "-F", "[127.0.0.1]:"+strconv.Itoa(td.Port), "-f", tg.KnownHosts).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "ssh-ed25519") {
			t.Errorf("ssh-keygen -F: %v %s", err, out)
		}
	}
	dev := openT(t, tg, testOpts)
	if _, err := dev.Exec(context.Background(), "true"); err != nil {
		t.Fatal(err)
	}
	// Trusting again adds nothing.
	hk, err = Trust(context.Background(), tg, testOpts)
	if err != nil || hk.Added {
		t.Errorf("second trust: %+v %v", hk, err)
	}
	if b2, _ := os.ReadFile(tg.KnownHosts); string(b2) != string(b) {
		t.Error("second trust changed known_hosts")
	}

	// TrustKey takes the exact key from the error (the TUI's path).
	tg.KnownHosts = filepath.Join(t.TempDir(), "known_hosts2")
	_, err = Open(context.Background(), tg, testOpts)
	if !errors.As(err, &ue) {
		t.Fatal(err)
	}
	if _, err := TrustKey(tg, testOpts, ue); err != nil {
		t.Fatal(err)
	}
	openT(t, tg, testOpts)
}

func TestSSHChangedHostKeyRefused(t *testing.T) {
	td := testdevice.Start(t)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	otherSigner, _ := ssh.NewSignerFromKey(other)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, kh, "# comment\n"+knownLine(td, otherSigner.PublicKey()), 0o600)
	tg := td.Target
	tg.KnownHosts = kh
	_, err := Open(context.Background(), tg, testOpts)
	var ce *HostKeyChangedError
	if !errors.As(err, &ce) {
		t.Fatalf("changed key: %v", err)
	}
	if ce.Fingerprint != ssh.FingerprintSHA256(td.HostKey) || ce.Line != 2 || ce.File != kh {
		t.Errorf("error %+v", ce)
	}
	if !strings.Contains(err.Error(), "REMOTE HOST IDENTIFICATION HAS CHANGED") || !strings.Contains(ce.Warning(), "man-in-the-middle") {
		t.Errorf("wording: %v", err)
	}
	if _, err := Trust(context.Background(), tg, testOpts); !errors.As(err, &ce) {
		t.Errorf("trust of a changed key must be refused: %v", err)
	}
}

func knownLine(td *testdevice.Device, key ssh.PublicKey) string {
	return "[127.0.0.1]:" + strconv.Itoa(td.Port) + " " + string(ssh.MarshalAuthorizedKey(key))
}

func TestSSHWrongKeyIsAuthError(t *testing.T) {
	td := testdevice.Start(t)
	tg := td.Target
	tg.Identity = genKey(t, nil)
	_, err := Open(context.Background(), tg, testOpts)
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("wrong key: %v", err)
	}
	if !strings.Contains(err.Error(), td.User+"@127.0.0.1:"+strconv.Itoa(td.Port)) || !strings.Contains(err.Error(), tg.Identity) {
		t.Errorf("auth error does not name host and key: %v", err)
	}
}

// genKey writes a new ed25519 key (encrypted when pass is set) and returns
// its path.
func genKey(t *testing.T, pass []byte) string {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	var block *pem.Block
	var err error
	if pass != nil {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "test", pass)
	} else {
		block, err = ssh.MarshalPrivateKey(priv, "test")
	}
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "id_test")
	writeFile(t, p, string(pem.EncodeToMemory(block)), 0o600)
	s, _ := ssh.NewSignerFromKey(priv)
	writeFile(t, p+".pub", string(ssh.MarshalAuthorizedKey(s.PublicKey())), 0o644)
	return p
}

func TestSSHPassphraseKey(t *testing.T) {
	td := testdevice.Start(t)
	key := genKey(t, []byte("correct horse"))
	pub, _ := os.ReadFile(key + ".pub")
	f, _ := os.OpenFile(filepath.Join(td.Dir, "authorized_keys"), os.O_APPEND|os.O_WRONLY, 0)
	f.Write(pub)
	f.Close()
	tg := td.Target
	tg.Identity = key

	asked := 0
	o := testOpts
	o.Passphrase = func(path string) ([]byte, error) {
		asked++
		if path != key {
			t.Errorf("asked for %s", path)
		}
		return []byte("correct horse"), nil
	}
	dev := openT(t, tg, o)
	if _, err := dev.Exec(context.Background(), "true"); err != nil || asked != 1 {
		t.Fatalf("exec: %v, asked %d times", err, asked)
	}
	o.Passphrase = func(string) ([]byte, error) { return []byte("wrong"), nil }
	if _, err := Open(context.Background(), tg, o); !errors.Is(err, ErrAuth) {
		t.Errorf("wrong passphrase: %v", err)
	}
	if _, err := Open(context.Background(), tg, testOpts); !errors.Is(err, ErrAuth) {
		t.Errorf("no passphrase callback: %v", err)
	}
	o.Passphrase = func(string) ([]byte, error) { return nil, ErrNoPassphrase }
	_, err := Open(context.Background(), tg, o)
	if words, _ := Explain(err); words != "no passphrase given for the key" {
		t.Errorf("declined passphrase %v: explained as %q", err, words)
	}
}

func TestSSHClosedPortAndSilentServer(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	tg := targets.Target{Name: "gone", Host: "127.0.0.1", Port: port, User: "nobody", KnownHosts: filepath.Join(t.TempDir(), "kh")}
	o := testOpts
	o.ConnectTimeout = 2 * time.Second
	start := time.Now()
	_, err := Open(context.Background(), tg, o)
	if !errors.Is(err, ErrUnreachable) || time.Since(start) > o.ConnectTimeout+time.Second {
		t.Errorf("closed port: %v after %v", err, time.Since(start))
	}
	if !strings.Contains(err.Error(), "connect gone (nobody@127.0.0.1:"+strconv.Itoa(port)+")") {
		t.Errorf("error does not name the target: %v", err)
	}

	// Accepts TCP but never speaks SSH: the handshake times out.
	silent, _ := net.Listen("tcp", "127.0.0.1:0")
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	tg.Port = silent.Addr().(*net.TCPAddr).Port
	o.ConnectTimeout = time.Second
	start = time.Now()
	_, err = Open(context.Background(), tg, o)
	if !errors.Is(err, ErrTimeout) || time.Since(start) > o.ConnectTimeout+2*time.Second {
		t.Errorf("silent server: %v after %v", err, time.Since(start))
	}
}

func TestSSHCancelledRunLeavesNothing(t *testing.T) {
	td := testdevice.Start(t)
	tg := hostPrograms(td.Target)
	dev := openT(t, tg, testOpts)
	for _, ignoreTerm := range []bool{false, true} {
		n := 900000 + mrand.IntN(99999)
		marker := "sleep " + strconv.Itoa(n)
		script := "sleep " + strconv.Itoa(n) + " & echo started; wait"
		if ignoreTerm {
			script = "trap '' TERM; " + script
		}
		ctx, cancel := context.WithCancel(context.Background())
		saw := make(chan bool, 1)
		emit := func(e Event) {
			if o, ok := e.(Output); ok && o.Text == "started" {
				ok := false
				for i := 0; i < 100 && !ok; i++ {
					ok = exec.Command("pgrep", "-f", marker).Run() == nil
					time.Sleep(20 * time.Millisecond)
				}
				saw <- ok
				cancel()
			}
		}
		st, err := dev.Run(ctx, Command{Path: "/bin/sh", Args: []string{"-c", script}}, emit)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("ignoreTerm=%v: %v", ignoreTerm, err)
		}
		select {
		case ok := <-saw:
			if !ok {
				t.Fatal("the remote process never appeared")
			}
		default:
			t.Fatalf("run ended before printing: %+v %v", st, err)
		}
		want := "TERM"
		if ignoreTerm {
			want = "KILL"
		}
		if st.Signal != want {
			t.Errorf("ignoreTerm=%v: status %+v, want signal %s", ignoreTerm, st, want)
		}
		if out, err := exec.Command("pgrep", "-af", marker).Output(); err == nil {
			t.Errorf("ignoreTerm=%v: left behind on the device:\n%s", ignoreTerm, out)
		}
	}
}

func TestSSHPoolReuseAndReconnect(t *testing.T) {
	td := testdevice.Start(t)
	p := NewPool(testOpts)
	defer p.Close()
	tg := hostPrograms(td.Target)
	a, err := p.Get(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := p.Get(context.Background(), tg)
	if a != b {
		t.Fatal("pool opened a second device for the same target")
	}
	pidOf := func() string {
		out, err := a.Exec(context.Background(), "echo $PPID")
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	before := len(td.SessionPIDs())
	pidOf()
	pidOf()
	if n := td.CutConnections(); n == 0 || before == 0 {
		t.Fatalf("connections: %d before, cut %d", before, n)
	}
	// The first action after the drop either fails with ErrDisconnected
	// (the drop was not noticed yet) or, when the keepalive watcher saw it
	// first, reconnects; either way a reconnection is reported by the run
	// that reconnects.
	var rec recorder
	echo := Command{Path: "/bin/echo", Args: []string{"back"}}
	st, err := a.Run(context.Background(), echo, rec.emit)
	if err != nil {
		if !errors.Is(err, ErrDisconnected) {
			t.Fatalf("first action after the drop: %v", err)
		}
		st, err = a.Run(context.Background(), echo, rec.emit)
	}
	if err != nil || st.Code != 0 || !slices.Contains(rec.lines(), "out: back") {
		t.Fatalf("no reconnect: %v %+v %q", err, st, rec.lines())
	}
	var re *Reconnected
	for _, e := range rec.events {
		if r, ok := e.(Reconnected); ok {
			re = &r
		}
	}
	if re == nil || !errors.Is(re.Cause, ErrDisconnected) {
		t.Errorf("the reconnection was not reported: %+v", rec.events)
	}
}

func TestSSHConfigAlias(t *testing.T) {
	td := testdevice.Start(t)
	cfg := filepath.Join(t.TempDir(), "config")
	writeFile(t, cfg, fmt.Sprintf("Host mydevice\n  HostName 127.0.0.1\n  Port %d\n  User %s\n  IdentityFile %s\n", td.Port, td.User, td.KeyPath), 0o600)
	tg := targets.Target{Name: "alias", Host: "mydevice", KnownHosts: td.KnownHosts, DeployDir: filepath.Join(td.Dir, "alias")}
	o := testOpts
	o.SSHConfig = cfg
	dev := openT(t, tg, o)
	if dev.Addr() != td.User+"@127.0.0.1:"+strconv.Itoa(td.Port) {
		t.Errorf("resolved to %s", dev.Addr())
	}
	if out, err := dev.Exec(context.Background(), "pwd"); err != nil || strings.TrimSpace(string(out)) == "" {
		t.Errorf("exec: %q %v", out, err)
	}
}

func TestSSHDeviceErrorKinds(t *testing.T) {
	td := testdevice.Start(t)
	dev := openT(t, td.Target, testOpts)
	_, err := dev.Exec(context.Background(), "dd if=/dev/zero of=/dev/full bs=1 count=1")
	if !errors.Is(err, ErrDiskFull) {
		t.Errorf("ENOSPC: %v", err)
	}
	_, err = dev.Exec(context.Background(), "echo x > /sys/kernel/armbench-test")
	if !errors.Is(err, ErrPermission) {
		t.Errorf("EACCES/EROFS: %v", err)
	}
	if !strings.Contains(err.Error(), "exec testdevice (") {
		t.Errorf("error does not name the target: %v", err)
	}
}

func TestSSHProxyJump(t *testing.T) {
	jump := testdevice.Start(t)
	dst := testdevice.Start(t)
	cfg := filepath.Join(t.TempDir(), "config")
	writeFile(t, cfg, fmt.Sprintf(`Host device
  HostName 127.0.0.1
  Port %d
  User %s
  ProxyJump bastion
Host bastion
  HostName 127.0.0.1
  Port %d
  User %s
  IdentityFile %s
`, dst.Port, dst.User, jump.Port, jump.User, jump.KeyPath), 0o600)
	// Both host keys in the file every hop is checked against.
	kh := filepath.Join(t.TempDir(), "known_hosts")
	j, _ := os.ReadFile(jump.KnownHosts)
	d, _ := os.ReadFile(dst.KnownHosts)
	writeFile(t, kh, string(j)+string(d), 0o600)
	o := testOpts
	o.SSHConfig, o.KnownHosts = cfg, kh
	tg := targets.Target{Name: "behind", Host: "device", Identity: dst.KeyPath, DeployDir: filepath.Join(dst.Dir, "jumped")}
	dev := openT(t, tg, o)
	bin := writeFile(t, filepath.Join(t.TempDir(), "b"), "#!/bin/sh\necho through the bastion\n", 0o755)
	inst, err := dev.Deploy(context.Background(), File{Path: bin}, "b", nil)
	if err != nil {
		t.Fatal(err)
	}
	if sha(t, inst.Path) != sha(t, bin) {
		t.Fatal("content")
	}
	// The device saw the connection come from the bastion's sshd, not
	// from us directly: both logs show a login.
	if !strings.Contains(jump.Log(), "Accepted publickey") || !strings.Contains(dst.Log(), "Accepted publickey") {
		t.Errorf("jump log:\n%s\ndevice log:\n%s", jump.Log(), dst.Log())
	}
	// An unknown jump host is refused like any other.
	writeFile(t, kh, string(d), 0o600)
	_, err = Open(context.Background(), tg, o)
	var ue *UnknownHostError
	if !errors.As(err, &ue) || ue.Fingerprint != ssh.FingerprintSHA256(jump.HostKey) {
		t.Errorf("unknown bastion: %v", err)
	}
}

// A link that silently stops carrying packets (a pulled cable: no RST, no
// FIN) is noticed by keepalives, and the next action reconnects.
func TestSSHKeepaliveNoticesDeadLink(t *testing.T) {
	td := testdevice.Start(t, testdevice.WithProxy())
	o := testOpts
	o.KeepAlive = 100 * time.Millisecond
	dev := openT(t, td.Target, o)
	c, _ := dev.get(context.Background())
	td.SetRate(1) // one byte a second: nothing gets through in time
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a dead link went unnoticed for 10s with 100ms keepalives")
	}
	if !errors.Is(c.Err(), ErrDisconnected) {
		t.Errorf("drop reported as %v", c.Err())
	}
	td.SetRate(0)
	var rec recorder
	if _, err := dev.Deploy(context.Background(), File{Path: writeFile(t, filepath.Join(t.TempDir(), "f"), "x", 0o755)}, "f", rec.emit); err != nil {
		t.Fatalf("after the link came back: %v", err)
	}
	found := false
	for _, e := range rec.events {
		_, ok := e.(Reconnected)
		found = found || ok
	}
	if !found {
		t.Error("reconnection not reported")
	}
}

// mountTmpfs mounts a small tmpfs for the test (root only: a real full
// disk, not a simulated error).
func mountTmpfs(t *testing.T, opts string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Missing(t, "mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).CombinedOutput(); err != nil {
		testenv.Missing(t, "cannot mount tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

func TestSSHDiskFull(t *testing.T) {
	td := testdevice.Start(t)
	t.Run("smaller than the binary", func(t *testing.T) {
		tg := td.Target
		tg.DeployDir = filepath.Join(mountTmpfs(t, "size=1m"), "deploy")
		dev := openT(t, tg, testOpts)
		_, err := dev.Deploy(context.Background(), File{Path: randomFile(t, 2<<20)}, "app", nil)
		if !errors.Is(err, ErrDiskFull) || !strings.Contains(err.Error(), "KiB free") {
			t.Errorf("deploy of 2 MiB into 1 MiB: %v", err)
		}
	})
	t.Run("no inode for the temporary file", func(t *testing.T) {
		// Inodes for the root, deploy_dir, a binary and one more file
		// (the checksum): the second deploy's temporary file hits ENOSPC
		// on the device mid-protocol.
		mnt := mountTmpfs(t, "size=8m,nr_inodes=4")
		tg := td.Target
		tg.DeployDir = filepath.Join(mnt, "deploy")
		dev := openT(t, tg, testOpts)
		old := writeFile(t, filepath.Join(t.TempDir(), "old"), "#!/bin/sh\necho old\n", 0o755)
		if _, err := dev.Deploy(context.Background(), File{Path: old}, "app", nil); err != nil {
			t.Fatalf("first deploy: %v", err)
		}
		var rec recorder
		_, err := dev.Deploy(context.Background(), File{Path: randomFile(t, 1<<20)}, "app", rec.emit)
		if !errors.Is(err, ErrDiskFull) || !strings.Contains(err.Error(), "deploy testdevice (") {
			t.Fatalf("deploy with no inode left: %v", err)
		}
		if !slices.Contains(rec.steps(), "upload done failed") || !strings.Contains(err.Error(), ": upload: ") {
			t.Errorf("steps %v, error %v: the upload step should fail", rec.steps(), err)
		}
		if out, err := dev.Exec(context.Background(), "./app"); err != nil || string(out) != "old\n" {
			t.Errorf("old binary after a full disk: %q %v", out, err)
		}
	})
}

func TestSSHReadOnlyDeployDir(t *testing.T) {
	td := testdevice.Start(t)
	tg := td.Target
	tg.DeployDir = filepath.Join(mountTmpfs(t, "size=1m,ro"), "deploy")
	dev := openT(t, tg, testOpts)
	_, err := dev.Deploy(context.Background(), File{Path: writeFile(t, filepath.Join(t.TempDir(), "f"), "x", 0o755)}, "app", nil)
	if !errors.Is(err, ErrPermission) || !strings.Contains(err.Error(), "Read-only file system") {
		t.Errorf("deploy into a read-only filesystem: %v", err)
	}
}

// hostPrograms is t for tests that run this machine's own programs (sh,
// sleep, echo) on the "device": without binfmt_misc the harness target
// names a qemu runner, which only ARM binaries may go through.
func hostPrograms(t targets.Target) targets.Target {
	t.Runner = ""
	return t
}
