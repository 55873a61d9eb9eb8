package remote

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"armbench/internal/testdevice"
)

// Errors from a real sshd are explained in the user's words, with what to
// do about them (a declined passphrase: TestSSHPassphraseKey).
func TestExplainRealErrors(t *testing.T) {
	td := testdevice.Start(t)

	unknown := td.Target
	unknown.KnownHosts = filepath.Join(t.TempDir(), "known_hosts")
	_, err := Open(context.Background(), unknown, testOpts)
	words, hint := Explain(err)
	if words != "unknown host key "+ssh.FingerprintSHA256(td.HostKey) || hint != "to check the fingerprint and accept it: armbench trust "+unknown.Name {
		t.Errorf("unknown host %v: %q, %q", err, words, hint)
	}

	wrong := td.Target
	wrong.Identity = genKey(t, nil)
	_, err = Open(context.Background(), wrong, testOpts)
	if words, _ := Explain(err); words != "authentication failed (check user, identity and ssh-agent)" {
		t.Errorf("wrong key %v: %q", err, words)
	}
}

// A deploy cut short leaves the old binary, and Explain says so; the
// same interruption of another operation promises nothing.
func TestExplainInterruptedDeploy(t *testing.T) {
	dev := openLocalT(t, localTarget(t, t.TempDir()))
	src := writeFile(t, filepath.Join(t.TempDir(), "app"), "#!/bin/sh\n", 0o755)
	if _, err := dev.Deploy(context.Background(), File{Path: src}, "app", nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	next := writeFile(t, filepath.Join(t.TempDir(), "app"), "#!/bin/sh\necho new\n", 0o755)
	_, err := dev.Deploy(ctx, File{Path: next}, "app", nil)
	if words, hint := Explain(err); words != "cancelled: the device keeps its previous binary" || hint != "" {
		t.Errorf("cancelled deploy %v: %q, %q", err, words, hint)
	}
	_, err = dev.Run(ctx, Command{Path: "app"}, nil)
	if words, hint := Explain(err); words != "cancelled" || hint != "" {
		t.Errorf("cancelled run %v: %q, %q", err, words, hint)
	}
}

func TestExplainKinds(t *testing.T) {
	op := func(op string, err error) error {
		return &OpError{Op: op, Target: "pi4", Addr: "pi@pi4:22", Step: "upload", Err: err}
	}
	changed := &HostKeyChangedError{Host: "pi4", KeyType: ssh.KeyAlgoED25519, Fingerprint: "SHA256:x", File: "kh", Line: 3}
	for _, tt := range []struct {
		err         error
		words, hint string
	}{
		{nil, "", ""},
		{errors.New("something else"), "", ""},
		{op("deploy", fmt.Errorf("%w: broken pipe", ErrDisconnected)), "connection lost: the device keeps its previous binary", ""},
		{op("run", ErrDisconnected), "connection lost", ""},
		{op("connect", changed), "HOST KEY CHANGED (possible man-in-the-middle)", changed.Warning()},
		{&UnknownHostError{Fingerprint: "SHA256:y"}, "unknown host key SHA256:y", "to check the fingerprint and accept it: armbench trust TARGET"},
		{op("trust", fmt.Errorf("%w: declined", ErrNotTrusted)), "host key not trusted", ""},
		{op("deploy", ErrDiskFull), "disk full on the device", ""},
		{op("deploy", ErrPermission), "permission denied on the device (check deploy_dir)", ""},
		{op("connect", ErrUnreachable), "host unreachable", ""},
		{op("connect", ErrTimeout), "timed out", ""},
		{fmt.Errorf("passphrase for k: %w", ErrNoPassphrase), "no passphrase given for the key", ""},
	} {
		words, hint := Explain(tt.err)
		if words != tt.words || hint != tt.hint {
			t.Errorf("Explain(%v) = %q, %q; want %q, %q", tt.err, words, hint, tt.words, tt.hint)
		}
	}
	if _, hint := Explain(op("connect", changed)); !strings.Contains(hint, "Offending key in kh:3") {
		t.Errorf("changed key hint lacks OpenSSH's warning: %q", hint)
	}
}
