package sshconn

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A keyword armbench cannot honour, in a block that applies, is a
// warning naming the file and line; in a block that does not apply it is
// not.
func TestUnhonouredKeywordsWarnWithFileAndLine(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config")
	conf := "Host pi\n  Ciphers aes128-ctr\n  LocalForward 8080 localhost:80\nHost other\n  KexAlgorithms curve25519-sha256\n" +
		"Match localnetwork 10.0.0.0/8\n  User x\nHost pi\n  StrictHostKeyChecking maybe\n  Port 22\n"
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var got []Warning
	e, err := resolveAlias("t", "pi", "", 0, "", Config{SSHConfig: file, NoDefaultKeys: true, Warn: func(w Warning) { got = append(got, w) }})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		file + ":2: armbench does not follow ciphers",
		file + ":3: armbench does not follow localforward",
		file + ":6: Match localnetwork is not supported",
		file + ":9: stricthostkeychecking: bad value",
	}
	var all []string
	for _, w := range got {
		all = append(all, w.String())
	}
	if len(got) != len(want) || len(e.Warnings()) != len(want) {
		t.Fatalf("warnings:\n%s\nwant %d", strings.Join(all, "\n"), len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(all[i], w) {
			t.Errorf("warning %d: %q, want prefix %q", i, all[i], w)
		}
	}
}

// An Include nested in itself stops with a warning instead of looping.
func TestIncludeLoopIsBounded(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(file, []byte("Include "+file+"\nPort 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := resolveConfig("pi", nil, Config{SSHConfig: file})
	if err != nil {
		t.Fatal(err)
	}
	if s.port != "2" || len(s.warnings) == 0 || !strings.Contains(s.warnings[0].Msg, "too deeply") {
		t.Fatalf("port %s, warnings %v", s.port, s.warnings)
	}
}

func FuzzResolveConfig(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/sshconfig/*.conf")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		if !strings.Contains(string(b), "exec") && !strings.Contains(string(b), "Include") {
			f.Add(string(b), "pi")
		}
	}
	f.Add("Host=\"a b\" 'c'\\\n  Port =\t'12'#x\n", "a b")
	f.Fuzz(func(t *testing.T, conf, host string) {
		if strings.Contains(strings.ToLower(conf), "exec") || strings.Contains(strings.ToLower(conf), "include") {
			return // runs commands / reads other files
		}
		file := filepath.Join(t.TempDir(), "config")
		if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := resolveConfig(host, nil, Config{SSHConfig: file})
		if err != nil {
			t.Fatal(err)
		}
		if s.port == "" || s.strict == "" {
			t.Fatalf("unresolved defaults: %+v", s)
		}
		for _, w := range s.warnings {
			if w.File == "" {
				t.Fatalf("warning without a file: %v", w)
			}
		}
	})
}
