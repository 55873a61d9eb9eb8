package ui

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"armbench/internal/testdevice"
	"armbench/remote"
	"armbench/targets"
)

var hostKeyTestOpts = remote.Options{NoAgent: true, NoDefaultKeys: true}

// unknownHost connects to a real sshd with an empty known_hosts and
// returns the refusal the prompt is built from.
func unknownHost(t *testing.T) (*testdevice.Device, *remote.UnknownHostError) {
	t.Helper()
	d := testdevice.Start(t)
	d.Target.KnownHosts = filepath.Join(t.TempDir(), "known_hosts")
	_, err := remote.Open(context.Background(), d.Target, hostKeyTestOpts)
	var ue *remote.UnknownHostError
	if !errors.As(err, &ue) {
		t.Fatalf("want an unknown host, got %v", err)
	}
	return d, ue
}

func TestHostKeyPromptShowsFingerprint(t *testing.T) {
	d, ue := unknownHost(t)
	p := NewHostKeyPrompt(DefaultStyles(), d.Target, ue, hostKeyTestOpts)
	p.SetSize(160, 16)
	out := p.View()
	assertSize(t, out, 160, 16)
	s := plain(out)
	for _, w := range []string{ue.Host, "ssh-ed25519", ssh.FingerprintSHA256(d.HostKey), "y trust and connect", "n do not trust", "ssh_host_ed25519_key.pub", d.Target.KnownHosts} {
		if !strings.Contains(s, w) {
			t.Errorf("prompt lacks %q:\n%s", w, s)
		}
	}
	// Too small a window still gives exactly the size asked for.
	p.SetSize(30, 3)
	assertSize(t, p.View(), 30, 3)
}

func TestHostKeyPromptGolden(t *testing.T) {
	key := func() ssh.PublicKey {
		k, _, _, _, err := ssh.ParseAuthorizedKey([]byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}()
	ue := &remote.UnknownHostError{Host: "[pi5.local]:2222", KeyType: key.Type(), Fingerprint: ssh.FingerprintSHA256(key), Key: key, File: "~/.ssh/known_hosts"}
	tg := targets.Target{Name: "pi5", Host: "pi5.local", Port: 2222, User: "pi", GOARCH: "arm64"}
	p := NewHostKeyPrompt(DefaultStyles(), tg, ue, remote.Options{})
	p.SetSize(80, 14)
	golden(t, "hostkeyprompt_80x14", p.View())
}

func TestHostKeyPromptYesTrustsExactlyThatKey(t *testing.T) {
	d, ue := unknownHost(t)
	p := NewHostKeyPrompt(DefaultStyles(), d.Target, ue, hostKeyTestOpts)
	if cmd, _ := p.Update(press("x")); cmd != nil {
		t.Error("x answered the prompt")
	}
	cmd, _ := p.Update(press("y"))
	if cmd == nil {
		t.Fatal("y did nothing")
	}
	msg, ok := cmd().(HostKeyTrustedMsg)
	if !ok || msg.Err != nil || !msg.Key.Added || msg.Key.Fingerprint != ssh.FingerprintSHA256(d.HostKey) {
		t.Fatalf("after y: %+v", msg)
	}
	b, _ := os.ReadFile(d.Target.KnownHosts)
	if !strings.Contains(string(b), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(d.HostKey)))) {
		t.Fatalf("known_hosts: %q", b)
	}
	dev, err := remote.Open(context.Background(), d.Target, hostKeyTestOpts)
	if err != nil {
		t.Fatalf("connect after trusting: %v", err)
	}
	dev.Close()
}

func TestHostKeyPromptNoWritesNothing(t *testing.T) {
	d, ue := unknownHost(t)
	p := NewHostKeyPrompt(DefaultStyles(), d.Target, ue, hostKeyTestOpts)
	for _, k := range []string{"n", "esc"} {
		cmd, _ := p.Update(press(k))
		if cmd == nil {
			t.Fatalf("%s did nothing", k)
		}
		if msg, ok := cmd().(HostKeyDeclinedMsg); !ok || msg.Key != ue {
			t.Errorf("%s: %+v", k, msg)
		}
	}
	if _, err := os.Stat(d.Target.KnownHosts); !os.IsNotExist(err) {
		t.Errorf("known_hosts written after no: %v", err)
	}
}
