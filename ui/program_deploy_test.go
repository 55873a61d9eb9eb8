package ui

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest/v2"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"armbench/internal/testdevice"
	"armbench/remote"
	"armbench/state"
	"armbench/targets"
)

// fileSum is the sha256 of a file, hex.
func fileSum(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// readFile is path's content; a file that vanished fails the test rather
// than reading as empty, which the "nothing was written" checks would pass.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestProgramDeployLocal builds hello for local-arm64 and deploys it for
// real into a temporary deploy_dir, then reads the Installed summary off
// the screen and checks the file on "the device" by its sha256.
func TestProgramDeployLocal(t *testing.T) {
	cfg, deployDir := localArm64(t)
	stateDir := t.TempDir()
	m, out := realModelWith(t, "./ui/testdata/hello", cfg, Options{Remote: remote.Options{StateDir: stateDir}})
	tm, term := startTicked(t, m, 160, 40, "local-arm64", "release")
	tm.Send(press("d"))
	installed := filepath.Join(deployDir, "hello-release")
	scr := term.waitFor("the deploy to finish", buildTimeout, func(s string) bool {
		return strings.Contains(s, "deployed local-arm64") || strings.Contains(s, "FAILED")
	})
	sum := fileSum(t, filepath.Join(out, "local-arm64", "release", "hello"))
	for _, want := range []string{"deployed local-arm64 × release", "installed " + installed, "sha256 " + sum[:12]} {
		if !strings.Contains(scr, want) {
			t.Errorf("screen lacks %q:\n%s", want, scr)
		}
	}
	if got := fileSum(t, installed); got != sum {
		t.Errorf("deployed file sha256 %s, artifact %s", got, sum)
	}
	// Recorded, so that status names the profile and the time.
	if r, ok := (state.History{Dir: stateDir}).Find("local-arm64", sum); !ok || r.Profile != "release" || r.Name != "hello-release" || r.Time.IsZero() {
		t.Errorf("install record %+v, %v", r, ok)
	}

	// Again: the device has this exact file, so nothing is copied.
	tm.Send(press("d"))
	scr = term.waitText(buildTimeout, "deployed local-arm64 × release in", ": unchanged "+installed)
	if !strings.Contains(scr, "already on the device") {
		t.Errorf("redeploy does not say unchanged:\n%s", scr)
	}
	quitProgram(t, tm)
}

// TestProgramDeployUnknownHost deploys to OpenSSH's sshd on loopback whose
// host key is not in known_hosts: the prompt shows the key's SHA256
// fingerprint, y records it and the deploy goes through.
func TestProgramDeployUnknownHost(t *testing.T) {
	d := testdevice.Start(t)
	dir := t.TempDir()
	knownHosts := filepath.Join(dir, "known_hosts")
	writeFile(t, knownHosts, "")
	tg := d.Target
	tg.KnownHosts = knownHosts
	cfg := &targets.Config{Path: "targets.toml", Targets: []targets.Target{tg}}
	m, out := realModelWith(t, "./ui/testdata/hello", cfg, sshOnly(t, 20*time.Second))
	tm, term := startTicked(t, m, 160, 40, tg.Name, "release")
	tm.Send(press("d"))

	fp := ssh.FingerprintSHA256(d.HostKey)
	scr := term.waitText(buildTimeout, "Unknown host", fp)
	for _, want := range []string{"ssh-ed25519", "y trust and connect"} {
		if !strings.Contains(scr, want) {
			t.Errorf("prompt lacks %q:\n%s", want, scr)
		}
	}
	if b := readFile(t, knownHosts); len(b) != 0 {
		t.Fatalf("known_hosts written before the answer: %q", b)
	}
	tm.Send(press("y"))
	installed := filepath.Join(tg.DeployDir, "hello-release")
	scr = term.waitFor("the deploy to finish", time.Minute, func(s string) bool {
		return strings.Contains(s, "deployed "+tg.Name) || strings.Contains(s, "FAILED")
	})
	sum := fileSum(t, filepath.Join(out, tg.Name, "release", "hello"))
	for _, want := range []string{"installed " + installed, "sha256 " + sum[:12]} {
		if !strings.Contains(scr, want) {
			t.Errorf("screen lacks %q:\n%s\nsshd log:\n%s", want, scr, d.Log())
		}
	}
	if got := fileSum(t, installed); got != sum {
		t.Errorf("deployed file sha256 %s, artifact %s", got, sum)
	}
	if b, _ := os.ReadFile(knownHosts); !strings.Contains(string(b), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(d.HostKey)))) {
		t.Errorf("known_hosts after y: %q", b)
	}
	quitProgram(t, tm)
}

// TestProgramPassphrase deploys over sshd with an encrypted key: the
// engine's blocking passphrase callback becomes a masked prompt in the
// TUI, and the typed passphrase unlocks the key.
func TestProgramPassphrase(t *testing.T) {
	d := testdevice.Start(t)
	dir := t.TempDir()
	const pass = "correct horse"
	keyPath := filepath.Join(dir, "id_encrypted")
	pub := writeKey(t, keyPath, pass)
	// Authorize the encrypted key on the device, in place of the harness's.
	writeFile(t, filepath.Join(d.Dir, "authorized_keys"), string(ssh.MarshalAuthorizedKey(pub)))
	tg := d.Target
	tg.Identity = keyPath
	cfg := &targets.Config{Path: "targets.toml", Targets: []targets.Target{tg}}
	m, _ := realModelWith(t, "./ui/testdata/hello", cfg, sshOnly(t, 20*time.Second))
	tm, term := startTicked(t, m, 160, 40, tg.Name, "release")
	tm.Send(press("d"))
	term.waitText(buildTimeout, "SSH key passphrase", keyPath)
	tm.Type(pass)
	scr := term.waitText(5*time.Second, "passphrase: "+strings.Repeat("*", len(pass)))
	if strings.Contains(scr, pass) {
		t.Fatalf("passphrase shown in clear:\n%s", scr)
	}
	tm.Send(press("enter"))
	scr = term.waitFor("the deploy to finish", time.Minute, func(s string) bool {
		return strings.Contains(s, "deployed "+tg.Name) || strings.Contains(s, "FAILED")
	})
	if !strings.Contains(scr, "installed "+filepath.Join(tg.DeployDir, "hello-release")) {
		t.Errorf("deploy with the unlocked key failed:\n%s\nsshd log:\n%s", scr, d.Log())
	}
	quitProgram(t, tm)
}

// TestProgramDeployErrors shows real connection failures in the user's
// words: a key the device does not accept, and a port nobody listens on.
func TestProgramDeployErrors(t *testing.T) {
	d := testdevice.Start(t)
	dir := t.TempDir()
	stranger := filepath.Join(dir, "id_stranger")
	writeKey(t, stranger, "") // a key the device does not know
	wrongKey := d.Target
	wrongKey.Identity = stranger
	closed := d.Target
	closed.Name, closed.Port = "closed-port", freeLoopbackPort(t)

	for _, c := range []struct {
		name string
		tg   targets.Target
		want string
	}{
		{"auth", wrongKey, "authentication failed"},
		{"unreachable", closed, "host unreachable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := &targets.Config{Path: "targets.toml", Targets: []targets.Target{c.tg}}
			m, _ := realModelWith(t, "./ui/testdata/hello", cfg, sshOnly(t, 10*time.Second))
			tm, term := startTicked(t, m, 200, 40, c.tg.Name, "release")
			tm.Send(press("d"))
			scr := term.waitText(buildTimeout, "deploy failed: "+c.want)
			if !strings.Contains(scr, c.tg.Name) || strings.Contains(scr, "deployed "+c.tg.Name) {
				t.Errorf("failure screen:\n%s", scr)
			}
			quitProgram(t, tm)
		})
	}
}

// sshOnly keeps the SSH engine to what a test sets up: no ssh_config,
// agent or default keys of the user running the tests.
func sshOnly(t *testing.T, timeout time.Duration) Options {
	t.Helper()
	sshConfig := filepath.Join(t.TempDir(), "ssh_config")
	writeFile(t, sshConfig, "")
	return Options{Remote: remote.Options{SSHConfig: sshConfig, NoAgent: true, NoDefaultKeys: true, ConnectTimeout: timeout}}
}

// writeKey writes a new ed25519 private key to path, encrypted with
// passphrase unless it is "", and returns its public half.
func writeKey(t *testing.T, path, passphrase string) ssh.PublicKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "armbench test")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "armbench test", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer.PublicKey()
}

// freeLoopbackPort is a port on 127.0.0.1 with nothing listening.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// TestProgramBenchCompare benches two profiles for real on local-arm64
// (qemu-user unless the machine is arm64): r shows the bench pane, and
// the run ends in the compare pane with the stored run's path.
func TestProgramBenchCompare(t *testing.T) {
	cfg, _ := localArm64(t)
	runs := t.TempDir()
	m, _ := realModelWith(t, "./ui/testdata/benchme", cfg, Options{
		Bench: BenchOptions{Benchtime: "100x", RunsDir: runs},
	})
	tm, term := startTicked(t, m, 200, 50, "local-arm64", "release")
	// single-core is further down the same list: tick it too.
	idx := map[string]int{}
	for i, p := range m.common.Profiles {
		idx[p.Name] = i
	}
	for i := idx["release"]; i < idx["single-core"]; i++ {
		tm.Send(press("down"))
	}
	tm.Send(press("space"))
	term.waitText(5*time.Second, "[x] single-core", "r compares")
	tm.Send(press("r"))
	term.waitText(buildTimeout, "Bench", "round ")
	scr := term.waitFor("the bench to finish", 3*buildTimeout, func(s string) bool {
		return strings.Contains(s, "bench stored in") || strings.Contains(s, "bench failed")
	})
	for _, want := range []string{"Compare", "release (base)", "single-core", "Sum", "sec/op", "bench stored in " + runs} {
		if !strings.Contains(scr, want) {
			t.Errorf("screen lacks %q:\n%s", want, scr)
		}
	}
	entries, err := os.ReadDir(runs)
	if err != nil || len(entries) != 1 {
		t.Fatalf("stored runs: %v, %v", entries, err)
	}
	quitProgram(t, tm)
}

// TestProgramHostKeyChanged: known_hosts has another key for the device,
// as after a reinstall or a man-in-the-middle. The TUI refuses with
// OpenSSH's warning and offers no way to accept.
func TestProgramHostKeyChanged(t *testing.T) {
	d := testdevice.Start(t)
	dir := t.TempDir()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	knownHosts := filepath.Join(dir, "known_hosts")
	writeFile(t, knownHosts, knownhosts.Line([]string{knownhosts.Normalize(net.JoinHostPort(d.Host, strconv.Itoa(d.Port)))}, other)+"\n")
	tg := d.Target
	tg.KnownHosts = knownHosts
	cfg := &targets.Config{Path: "targets.toml", Targets: []targets.Target{tg}}
	m, _ := realModelWith(t, "./ui/testdata/hello", cfg, sshOnly(t, 20*time.Second))
	tm, term := startTicked(t, m, 120, 40, tg.Name, "release")
	tm.Send(press("d"))
	scr := term.waitText(buildTimeout, "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!", ssh.FingerprintSHA256(d.HostKey))
	if !strings.Contains(scr, "Offending key in "+knownHosts+":1") || strings.Contains(scr, "trust and connect") {
		t.Errorf("changed-key screen:\n%s", scr)
	}
	tm.Send(press("y")) // must not trust anything
	tm.Send(press("esc"))
	term.waitText(5*time.Second, "host key verification failed for")
	if b := readFile(t, knownHosts); strings.Contains(b, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(d.HostKey)))) {
		t.Errorf("the device's new key was written to known_hosts: %q", b)
	}
	if _, err := os.Stat(filepath.Join(tg.DeployDir, "hello-release")); !os.IsNotExist(err) {
		t.Errorf("deployed despite the changed key: %v", err)
	}
	quitProgram(t, tm)
}

// TestProgramRolloutToGroup chooses a group of three sshd devices, rolls
// release out one device at a time and sees the second device's health
// check fail: the screen shows it rolled back and the third not attempted,
// and the devices say the same — the first runs the new binary, the
// second its old one again, the third has none.
func TestProgramRolloutToGroup(t *testing.T) {
	var ts []targets.Target
	var names []string
	for i := range 3 {
		tg := testdevice.Start(t).Target
		tg.Name = "lab-" + strconv.Itoa(i+1)
		ts = append(ts, tg)
		names = append(names, tg.Name)
	}
	ts[1].Health = &targets.Health{Command: "exit 3", Timeout: 5 * time.Second, Interval: 10 * time.Millisecond}
	old := "#!/bin/sh\necho old\n"
	if err := os.MkdirAll(ts[1].DeployDir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(ts[1].DeployDir, "hello-release"), old)
	tm, term, out := startGroupTicked(t, ts, "lab", "release")
	term.waitText(5*time.Second, "# release on lab-1 lab-2 lab-3")

	tm.Send(press("d"))
	term.waitText(5*time.Second, "roll out release to lab (3 devices)? y/N", "1 at a time, in 3 waves")
	tm.Send(press("+"))
	term.waitText(5*time.Second, "2 at a time, in 2 waves")
	tm.Send(press("-"))
	term.waitText(5*time.Second, "1 at a time, in 3 waves")
	tm.Send(press("y"))
	scr := term.waitFor("the rollout to end", 2*time.Minute, func(s string) bool {
		return strings.Contains(s, "rollout to lab failed") || strings.Contains(s, "rolled out release")
	})
	rows := map[string]string{"lab-1": "✓ done", "lab-2": "↺ rollback", "lab-3": "- skipped"}
	for name, want := range rows {
		found := false
		for _, l := range strings.Split(scr, "\n") {
			if strings.Contains(l, name+" ") && strings.Contains(l, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("no row says %s %s:\n%s", name, want, scr)
		}
	}
	sum := fileSum(t, filepath.Join(out, "lab-1", "release", "hello"))
	if got := fileSum(t, filepath.Join(ts[0].DeployDir, "hello-release")); got != sum {
		t.Errorf("lab-1 runs sha256 %s, want the new binary %s", got, sum)
	}
	if got := readFile(t, filepath.Join(ts[1].DeployDir, "hello-release")); got != old {
		t.Errorf("lab-2 after its rollback holds %q, want its old binary back", got)
	}
	if _, err := os.Stat(filepath.Join(ts[2].DeployDir, "hello-release")); !os.IsNotExist(err) {
		t.Errorf("lab-3 was not to be attempted, but stat says %v", err)
	}
	quitProgram(t, tm)
}

// TestProgramRolloutAsksUnknownHosts rolls out to two devices, the second
// with an empty known_hosts: it fails at connect, its host-key prompt
// comes up once the rollout ended, y trusts it, and d rolls out again to
// both.
func TestProgramRolloutAsksUnknownHosts(t *testing.T) {
	ts := []targets.Target{testdevice.Start(t).Target, testdevice.Start(t).Target}
	ts[0].Name, ts[1].Name = "shelf-1", "shelf-2"
	kh := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, kh, "")
	ts[1].KnownHosts = kh
	tm, term, out := startGroupTicked(t, ts, "shelf", "release")

	tm.Send(press("d"))
	term.waitText(5*time.Second, "roll out release to shelf (2 devices)? y/N")
	tm.Send(press("y"))
	scr := term.waitText(2*time.Minute, "Unknown host", "1 host key not trusted yet")
	if _, err := os.Stat(filepath.Join(ts[1].DeployDir, "hello-release")); !os.IsNotExist(err) {
		t.Fatalf("shelf-2 got a binary before its key was trusted (stat: %v)\n%s", err, scr)
	}
	tm.Send(press("y"))
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(readFile(t, kh), "ssh-ed25519") {
		if time.Now().After(deadline) {
			t.Fatalf("known_hosts 10 s after y: %q", readFile(t, kh))
		}
		time.Sleep(20 * time.Millisecond)
	}
	tm.Send(press("d"))
	term.waitText(5*time.Second, "roll out release to shelf (2 devices)? y/N")
	tm.Send(press("y"))
	term.waitText(2*time.Minute, "rolled out release to shelf")
	sum := fileSum(t, filepath.Join(out, "shelf-1", "release", "hello"))
	for _, tg := range ts {
		if got := fileSum(t, filepath.Join(tg.DeployDir, "hello-release")); got != sum {
			t.Errorf("%s runs sha256 %s, want %s", tg.Name, got, sum)
		}
	}
	quitProgram(t, tm)
}

// startGroupTicked starts the TUI on ts, all of them in group, chooses
// the group (its row comes after the targets') and ticks profile.
func startGroupTicked(t *testing.T, ts []targets.Target, group, profile string) (*teatest.TestModel, *vterm, string) {
	t.Helper()
	var names []string
	for _, tg := range ts {
		names = append(names, tg.Name)
	}
	cfg := &targets.Config{Path: "targets.toml", Targets: ts, Groups: []targets.Group{{Name: group, Targets: names, Declared: true}}}
	m, out := realModelWith(t, "./ui/testdata/hello", cfg, sshOnly(t, 20*time.Second))
	tm, term := startProgram(t, m, 120, 40)
	term.waitText(5*time.Second, fmt.Sprintf("group of %d", len(ts)))
	for range len(ts) {
		tm.Send(press("down"))
	}
	tm.Send(press("enter"))
	tick(t, tm, m, profile)
	term.waitText(5*time.Second, "[x] "+profile)
	return tm, term, out
}
