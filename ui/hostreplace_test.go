package ui

import (
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"armbench/internal/testdevice"
	"armbench/targets"
)

// TestProgramHostKeyReplaced: the device was re-flashed (known_hosts has
// another key for it, hashed and plain). On the changed-key screen, r
// asks for the target's name; a wrong name changes nothing, the right one
// removes both old entries, adds the device's key, and the deploy that
// met the changed key runs again and installs.
func TestProgramHostKeyReplaced(t *testing.T) {
	d := testdevice.Start(t)
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	old, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	name := knownhosts.Normalize(net.JoinHostPort(d.Host, strconv.Itoa(d.Port)))
	knownHosts := filepath.Join(t.TempDir(), "known_hosts")
	oldKey := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(old)))
	writeFile(t, knownHosts, knownhosts.HashHostname(name)+" "+oldKey+"\n"+name+" "+oldKey+"\n")
	tg := d.Target
	tg.KnownHosts = knownHosts
	cfg := &targets.Config{Path: "targets.toml", Targets: []targets.Target{tg}}
	m, _ := realModelWith(t, "./ui/testdata/hello", cfg, sshOnly(t, 20*time.Second))
	tm, term := startTicked(t, m, 120, 40, tg.Name, "release")
	tm.Send(press("d"))
	term.waitText(buildTimeout, "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!", ssh.FingerprintSHA256(d.HostKey), ssh.FingerprintSHA256(old))
	typeName := func(s string) {
		for _, r := range s {
			tm.Send(press(string(r)))
		}
		tm.Send(press("enter"))
	}
	tm.Send(press("r"))
	term.waitText(5*time.Second, "Type the target's name")
	typeName("nope")
	term.waitText(5*time.Second, "nothing was changed")
	if b := readFile(t, knownHosts); strings.Count(b, oldKey) != 2 {
		t.Fatalf("a wrong name changed known_hosts: %q", b)
	}
	for range "nope" {
		tm.Send(press("backspace"))
	}
	typeName(tg.Name)
	deployed := filepath.Join(tg.DeployDir, "hello-release")
	term.waitFor("the deploy after the key was replaced", buildTimeout, func(string) bool {
		_, err := os.Stat(deployed)
		return err == nil
	})
	b := readFile(t, knownHosts)
	if strings.Contains(b, oldKey) || !strings.Contains(b, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(d.HostKey)))) {
		t.Errorf("known_hosts after replace: %q", b)
	}
	quitProgram(t, tm)
}
