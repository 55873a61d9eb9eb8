package detect

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"armbench/internal/testenv"
	"armbench/targets"
)

const existing = `# My devices. Comments and layout must survive an append.
[project]
pkg = "./cmd/server"   # what I benchmark

[defaults]
user = "pi"

[[target]]
name   = "pi4"
host   = "raspberrypi.local"
goarch = "arm64"
goarm64 = "v8.0"       # Cortex-A72
# trailing comment without a newline at the end`

func TestAppendTargetKeepsTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "targets.toml")
	if err := os.WriteFile(path, []byte(existing), 0o640); err != nil {
		t.Fatal(err)
	}
	r := FromFacts(loadBoard(t, "pi5"))
	tg := r.Target
	tg.Host, tg.User = "pi5.local", "me"
	if err := AppendTarget(path, tg, r.Reasons...); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := string(data)
	if !strings.HasPrefix(got, existing+"\n\n") {
		t.Fatalf("the existing text changed:\n%s", got)
	}
	added := strings.TrimPrefix(got, existing+"\n\n")
	for _, want := range []string{
		"[[target]]\nname        = \"pi5\"\n# from /proc/device-tree/model\ndescription = ",
		"# the CPU is a Cortex-A76 (ARMv8.2-A); the features list atomics (lse) and aes, pmull, sha1 and sha2 (crypto)\ngoarm64     = \"v8.2,lse,crypto\"\n",
		"host        = \"pi5.local\"\nuser        = \"me\"\n",
		"memory      = \"8052MiB\"\n",
	} {
		if !strings.Contains(added, want) {
			t.Errorf("appended block lacks %q:\n%s", want, added)
		}
	}
	cfg, err := targets.Parse(path, data)
	if err != nil {
		t.Fatalf("result does not parse: %v", err)
	}
	p5, ok := cfg.Lookup("pi5")
	if !ok || p5.GOARCH != "arm64" || p5.GOARM64 != "v8.2,lse,crypto" || p5.CPU != "cortex-a76" || p5.Cores != 4 || p5.Memory != 8052<<20 || p5.User != "me" {
		t.Errorf("parsed back: %+v", p5)
	}
	if cfg.Project.Pkg != "./cmd/server" || len(cfg.Targets) != 2 {
		t.Errorf("config changed: %+v", cfg)
	}
	// Windows keeps no Unix permission bits (only read-only), so there
	// is no 0640 to keep.
	if st, _ := os.Stat(path); runtime.GOOS != "windows" && st.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want 0640 kept", st.Mode().Perm())
	}

	// The same name again is refused and leaves the file alone.
	err = AppendTarget(path, tg, r.Reasons...)
	if !errors.Is(err, ErrDuplicateName) || !strings.Contains(err.Error(), "targets.toml:") {
		t.Errorf("duplicate: err = %v", err)
	}
	if again, _ := os.ReadFile(path); string(again) != got {
		t.Error("a refused append changed the file")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestAppendTargetCreatesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "targets.toml")
	r := FromFacts(loadBoard(t, "pi-zero-w"))
	tg := r.Target
	tg.Name, tg.Host = "kitchen", "fe80::1"
	if err := AppendTarget(path, tg, r.Reasons...); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	s := string(data)
	if !strings.Contains(s, "\n# note: cc left empty") || strings.Contains(s, "suggested from the board") {
		t.Errorf("block:\n%s", s)
	}
	cfg, err := targets.Parse(path, data)
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := cfg.Lookup("kitchen"); !ok || k.GOARCH != "arm" || k.GOARM != "6" || k.Host != "fe80::1" {
		t.Errorf("parsed back: %+v", k)
	}
}

func TestAppendTargetRefusesBadResults(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.toml")
	os.WriteFile(broken, []byte("[[target]]\nname = \"x\"\ngoarch = \"sparc\"\n"), 0o644)
	tg := FromFacts(loadBoard(t, "pi3b")).Target
	tg.Host = "pi3.local"
	if err := AppendTarget(broken, tg); err == nil || !strings.Contains(err.Error(), "is not valid now") || !strings.Contains(err.Error(), "broken.toml:3") {
		t.Errorf("broken file: err = %v", err)
	}

	// A target that the schema rejects is never written.
	path := filepath.Join(dir, "targets.toml")
	bad := tg
	bad.Name = "no spaces allowed"
	if err := AppendTarget(path, bad); err == nil || !strings.Contains(err.Error(), "would make") {
		t.Errorf("invalid name: err = %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an invalid target created the file: %v", err)
	}
}

func TestAppendTargetThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.toml")
	os.WriteFile(real, []byte("# mine\n"), 0o600)
	link := filepath.Join(dir, "targets.toml")
	if err := os.Symlink(real, link); err != nil {
		testenv.Missing(t, "symlinks: %v", err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		// Wine 8 reports success and makes no link.
		testenv.Missing(t, "symlinks: os.Symlink returned no error but made no link (%v)", err)
	}
	tg := FromFacts(loadBoard(t, "pi4-64bit")).Target
	tg.Host = "pi4.local"
	if err := AppendTarget(link, tg); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the symlink was replaced by a file")
	}
	if data, _ := os.ReadFile(real); !strings.HasPrefix(string(data), "# mine\n\n# detected by") {
		t.Errorf("real file:\n%s", data)
	}
}

func TestAddPath(t *testing.T) {
	t.Setenv(targets.EnvConfig, "")
	if got := AddPath(""); got != "targets.toml" {
		t.Errorf("AddPath(\"\") = %q", got)
	}
	t.Setenv(targets.EnvConfig, "/etc/armbench.toml")
	if got := AddPath(""); got != "/etc/armbench.toml" {
		t.Errorf("with $%s: %q", targets.EnvConfig, got)
	}
	if got := AddPath("mine.toml"); got != "mine.toml" {
		t.Errorf("explicit: %q", got)
	}
}
