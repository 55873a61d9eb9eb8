package targets

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const saveBase = `# my boards
[[target]]
name   = "pi4"   # the shelf one
host   = "pi4.lan"
goarch = "arm64"

[[profile]]
name = "mine"
extends = "release"
[profile.run]
gogc = 150` // no final newline, on purpose

func TestAppendProfileKeepsTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "targets.toml")
	if err := os.WriteFile(path, []byte(saveBase), 0o600); err != nil {
		t.Fatal(err)
	}
	gogc, procs, tags := "400", 2, []string{}
	p := ProfileSpec{Name: "mine-gogc400", Extends: "mine", Description: "mine with GOGC=400",
		Run:   RunSpec{GOGC: &gogc, GOMAXPROCS: &procs, Env: map[string]string{"B": "2", "A": `x"y`}},
		Build: BuildSpec{Tags: tags}}
	called := false
	err := AppendProfile(path, nil, p, []string{"measured by armbench sweep", "second\nline"}, func(c *Config) error {
		called = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !called {
		t.Error("check was not called")
	}
	got, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(got), saveBase+"\n\n") {
		t.Fatalf("the file's own text changed:\n%s", got)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 kept", st.Mode().Perm())
	}
	cfg, err := Parse(path, got)
	if err != nil {
		t.Fatalf("result does not parse: %v\n%s", err, got)
	}
	if len(cfg.Profiles) != 2 {
		t.Fatalf("profiles %d, want 2", len(cfg.Profiles))
	}
	s := cfg.Profiles[1]
	if s.Name != "mine-gogc400" || s.Extends != "mine" || s.Run.GOGC == nil || *s.Run.GOGC != "400" ||
		s.Run.GOMAXPROCS == nil || *s.Run.GOMAXPROCS != 2 || s.Run.Env["A"] != `x"y` || s.Build.Tags == nil || len(s.Build.Tags) != 0 {
		t.Errorf("read back %+v", s)
	}
	if !strings.Contains(string(got), "# second line\n") {
		t.Errorf("a newline in a comment must not start TOML:\n%s", got)
	}

	// The same name again is refused, and the file stays.
	err = AppendProfile(path, nil, p, nil, nil)
	if !errors.Is(err, ErrProfileExists) || !strings.Contains(err.Error(), "mine-gogc400") {
		t.Errorf("second append: %v, want ErrProfileExists naming the profile", err)
	}
	again, _ := os.ReadFile(path)
	if string(again) != string(got) {
		t.Error("a refused append changed the file")
	}
}

func TestAppendProfileRefusals(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "targets.toml")
	if err := os.WriteFile(path, []byte(saveBase+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := "not\x00valid"
	for name, tc := range map[string]struct {
		p     ProfileSpec
		check func(*Config) error
		want  string
	}{
		"bad name":      {ProfileSpec{Name: "no spaces"}, nil, "not a valid name"},
		"bad value":     {ProfileSpec{Name: "x", Run: RunSpec{GOGC: &bad}}, nil, "invalid"},
		"check says no": {ProfileSpec{Name: "y"}, func(*Config) error { return errors.New("nope") }, "nope"},
	} {
		err := AppendProfile(path, nil, tc.p, nil, tc.check)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	if got, _ := os.ReadFile(path); string(got) != saveBase+"\n" {
		t.Errorf("refusals changed the file:\n%s", got)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("left files behind: %v", ents)
	}
}

func TestAppendProfileSeedsAMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "targets.toml")
	if err := AppendProfile(path, []byte(saveBase), ProfileSpec{Name: "new", Extends: "mine"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	cfg, err := Parse(path, got)
	if err != nil || len(cfg.Targets) != 1 || len(cfg.Profiles) != 2 {
		t.Fatalf("seeded file: %v\n%s", err, got)
	}
}

func TestChecks(t *testing.T) {
	for _, tc := range []struct {
		f    func(string) error
		good []string
		bad  []string
	}{
		{CheckGOGC, []string{"off", "25", "400"}, []string{"", "-1", "x", "OFF "}},
		{CheckGOMEMLIMIT, []string{"off", "auto", "512MiB", "1000"}, []string{"1.5GiB", "lots"}},
		{CheckGOARM64, []string{"v8.0", "v8.2,lse", "v9.5,crypto"}, []string{"v7.0", "8.0", "v8.0,lse,lse"}},
		{CheckGOARM, []string{"5", "7,softfloat"}, []string{"8", "v7"}},
		{CheckRunEnvName, []string{"FOO", "_x1"}, []string{"1A", "GOGC", "A-B"}},
		{CheckGODEBUG, []string{"", "madvdontneed=1"}, []string{"x", "a=1 b=2"}},
	} {
		for _, g := range tc.good {
			if err := tc.f(g); err != nil {
				t.Errorf("%q: %v", g, err)
			}
		}
		for _, b := range tc.bad {
			if err := tc.f(b); err == nil {
				t.Errorf("%q accepted", b)
			}
		}
	}
}

// Detect's appended targets and saved profiles quote their strings with
// QuoteTOML: whatever the text, it reads back as itself.
func TestQuoteTOML(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:         `"plain"`,
		`a "q" \ b`:     `"a \"q\" \\ b"`,
		"tab\tnl\n\x01": `"tab\tnl\n\u0001"`,
		"bad\xffutf8":   "\"bad\uFFFDutf8\"",
	} {
		if got := QuoteTOML(in); got != want {
			t.Errorf("QuoteTOML(%q) = %s, want %s", in, got, want)
		}
		cfg, err := Parse("q.toml", []byte("[[target]]\nname = \"x\"\nhost = \"h\"\ngoarch = \"arm64\"\ndescription = "+QuoteTOML(in)+"\n"))
		if err != nil {
			t.Errorf("QuoteTOML(%q) does not parse: %v", in, err)
			continue
		}
		if d := cfg.Targets[0].Description; d != strings.ToValidUTF8(in, "\uFFFD") {
			t.Errorf("QuoteTOML(%q) reads back as %q", in, d)
		}
	}
}
