package sshconn

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestAddKnownHostStartsOnAFreshLine(t *testing.T) {
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, before string }{
		{"missing", ""},
		{"final newline", "other ssh-ed25519 AAAA\n"},
		{"no final newline", "other ssh-ed25519 AAAA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "ssh", "known_hosts")
			if tc.before != "" {
				if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, []byte(tc.before), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			hk, err := AddKnownHost(file, "127.0.0.1:2222", key)
			if err != nil {
				t.Fatal(err)
			}
			if hk.Host != "[127.0.0.1]:2222" || !hk.Added {
				t.Errorf("host key %+v", hk)
			}
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			want := strings.TrimSuffix(tc.before, "\n")
			if want != "" {
				want += "\n"
			}
			want += hk.Line + "\n"
			if string(b) != want {
				t.Errorf("known_hosts:\n%q\nwant\n%q", b, want)
			}
			st, err := os.Stat(file)
			if err != nil {
				t.Fatal(err)
			}
			if tc.before == "" && st.Mode().Perm() != 0o600 {
				t.Errorf("new known_hosts has mode %v, want 0600", st.Mode().Perm())
			}
		})
	}
}
