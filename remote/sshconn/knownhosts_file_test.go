package sshconn

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Entries name a host exactly (plain, in a list, or hashed), never
// through a wildcard, and removal keeps everything else byte for byte.
func TestRemoveKnownHostsForms(t *testing.T) {
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := ssh.NewPublicKey(pub)
	key := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
	file := filepath.Join(t.TempDir(), "known_hosts")
	lines := []string{
		"# comment",
		knownhosts.HashHostname("[pi.lan]:2222") + " " + key,
		"other,PI.LAN " + key,
		"*.lan " + key,
		"@cert-authority pi.lan " + key,
		"[pi.lan]:2222 " + key,
		"pi.lan.example " + key,
		"garbage",
	}
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o640); err != nil {
		t.Fatal(err)
	}
	removed, err := removeKnownHosts(file, []string{"[pi.lan]:2222", "pi.lan"})
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 3 || removed[0].N != 2 || removed[1].N != 3 || removed[2].N != 6 {
		t.Fatalf("removed %+v", removed)
	}
	b, _ := os.ReadFile(file)
	want := strings.Join([]string{lines[0], lines[3], lines[4], lines[6], lines[7]}, "\n")
	if string(b) != want {
		t.Errorf("left:\n%s\nwant:\n%s", b, want)
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
}

func FuzzKnownHostsLine(f *testing.F) {
	f.Add("|1|2BjrOZqJW1Ie0Ih2EK+1cPQh6ww=|wXSj1rbqNSjXhXJqBLOPfAPT7Lk= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl", "pi")
	f.Add("@revoked a,b,[c]:22 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl x", "[c]:22")
	f.Add("|1|||| x y", "")
	f.Fuzz(func(t *testing.T, line, name string) {
		l, ok := parseKnownHostsLine(line)
		if !ok {
			return
		}
		if l.Key == nil || l.Hosts == "" {
			t.Fatalf("parsed without key or hosts: %+v", l)
		}
		if !strings.HasPrefix(l.Hosts, "|") && l.names(name) != namesPlain(l.Hosts, name) {
			t.Fatalf("names(%q) of %q disagrees", name, l.Hosts)
		}
		if name != "" && l.Marker == "" {
			h := knownhosts.HashHostname(name)
			if !(khLine{Hosts: h}).names(name) {
				t.Fatalf("hash of %q does not name it", name)
			}
		}
	})
}

func namesPlain(hosts, name string) bool {
	for _, p := range strings.Split(hosts, ",") {
		if strings.EqualFold(p, name) {
			return true
		}
	}
	return false
}

// The name a host is looked up under, for the knownhosts package.
func TestHostKeysLookup(t *testing.T) {
	for name, want := range map[string]string{
		"pi.lan": "pi.lan:22", "[pi.lan]:2222": "pi.lan:2222", "::1": "[::1]:22", "[::1]:2222": "[::1]:2222", "board-key": "board-key:22",
	} {
		if got := (&HostKeys{name: name}).lookup(); got != want {
			t.Errorf("lookup %q = %q, want %q", name, got, want)
		}
		if knownhosts.Normalize((&HostKeys{name: name}).lookup()) != name {
			t.Errorf("%q does not round-trip through Normalize", name)
		}
	}
}
