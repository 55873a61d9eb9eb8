package cli

import (
	"armbench/internal/testenv"
	"bufio"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// shippedTargets is the repo's targets.toml, which the armbench binary
// embeds as its default workspace; read once by TestMain, then only read.
var shippedTargets []byte

// TestMain runs the tests from the module root, where armbench runs: the
// commands find ./targets.toml, ./examples and go.mod there, as they did
// when these tests lived in the root package.
func TestMain(m *testing.M) {
	if err := os.Chdir(".."); err != nil {
		fmt.Fprintln(os.Stderr, "cli tests:", err)
		os.Exit(2)
	}
	var err error
	if shippedTargets, err = os.ReadFile("targets.toml"); err != nil {
		fmt.Fprintln(os.Stderr, "cli tests:", err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// runCLI runs armbench in-process with args, in the repo root, and returns
// its exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runCLIInput(t, "", args...)
}

// tempOut points the build output of the shipped targets at a temp dir by
// writing a config whose targets are the shipped ones; the out dir follows
// the working directory, so tests chdir into a scratch module copy instead.
func chdirRepoCopy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	// A scratch module that reuses the sample workload through a copy keeps
	// test outputs out of the repo's .armbench.
	for _, f := range []string{"go.mod", "go.sum", "targets.toml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.CopyFS(filepath.Join(dir, "examples"), os.DirFS("examples")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	// The delta helper is cached per user: this test's user is new.
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "user-cache"))
	return dir
}

func TestBuildShippedTargetsGiveTheRightARMBinaries(t *testing.T) {
	testenv.Slow(t, "cross-compiles the sample workload")
	dir := chdirRepoCopy(t)
	// A GOARM 6 and a v8.2 target beside the shipped ones.
	extra := `
[[target]]
name = "pi-zero"
host = "local"
goarch = "arm"
goarm = "6"

[[target]]
name = "pi5"
host = "local"
goarch = "arm64"
goarm64 = "v8.2"
`
	f, err := os.OpenFile(filepath.Join(dir, "targets.toml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(extra)
	f.Close()

	cases := []struct {
		target  string
		machine elf.Machine
		class   elf.Class
		key     string
		want    string
	}{
		{"local-armv7", elf.EM_ARM, elf.ELFCLASS32, "GOARM", "7"},
		{"pi-zero", elf.EM_ARM, elf.ELFCLASS32, "GOARM", "6"},
		{"pi5", elf.EM_AARCH64, elf.ELFCLASS64, "GOARM64", "v8.2"},
	}
	for _, tc := range cases {
		t.Run(tc.target, func(t *testing.T) {
			code, out, errOut := runCLI(t, "build", "--target", tc.target, "--profile", "release", "--json")
			if code != exitOK {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			var res struct {
				Type   string `json:"type"`
				OK     bool   `json:"ok"`
				Output string `json:"output"`
			}
			sc := bufio.NewScanner(strings.NewReader(out))
			for sc.Scan() {
				var ev struct {
					Type string `json:"type"`
				}
				if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
					t.Fatalf("not JSON lines: %q: %v", sc.Text(), err)
				}
				if ev.Type == "result" {
					json.Unmarshal(sc.Bytes(), &res)
				}
			}
			if !res.OK || res.Output == "" {
				t.Fatalf("no ok result in:\n%s", out)
			}
			ef, err := elf.Open(res.Output)
			if err != nil {
				t.Fatal(err)
			}
			defer ef.Close()
			if ef.Machine != tc.machine || ef.Class != tc.class {
				t.Errorf("ELF %v %v, want %v %v", ef.Class, ef.Machine, tc.class, tc.machine)
			}
			bi, err := buildinfo.ReadFile(res.Output)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			for _, s := range bi.Settings {
				if s.Key == tc.key {
					got = s.Value
				}
			}
			if got != tc.want {
				t.Errorf("buildinfo %s=%q, want %q", tc.key, got, tc.want)
			}
			// The artifact really runs (binfmt_misc or the qemu runner).
			if out, err := exec.Command(res.Output, "-duration", "50ms").CombinedOutput(); err != nil {
				if runner := qemuFor(tc.machine); runner != "" {
					out, err = exec.Command(runner, res.Output, "-duration", "50ms").CombinedOutput()
				}
				if err != nil {
					t.Fatalf("artifact does not run: %v\n%s", err, out)
				}
			}
		})
	}
}

func qemuFor(m elf.Machine) string {
	name := "qemu-aarch64-static"
	if m == elf.EM_ARM {
		name = "qemu-arm-static"
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return ""
}

func TestBadConfigReportsEveryMistakeWithExit2(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "targets.toml")
	os.WriteFile(cfg, []byte(`[[target]]
name = "pi"
host = "pi.local"
gorach = "arm64"

[[target]]
name = "pi5"
host = "pi5.local"
goarch = "arm64"
goarm64 = "8.2"

[[target]]
name = "pi"
host = "other"
goarch = "arm"
`), 0o644)
	code, _, errOut := runCLI(t, "targets", "--config", cfg)
	if code != exitUsage {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitUsage, errOut)
	}
	// The first target has a typo'd key (and so no goarch), the second a
	// goarm64 without its "v", the third reuses a name: all reported at once.
	for _, want := range []string{"targets.toml:4:1", "gorach", "targets.toml:10:", "goarm64", "duplicate"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if !strings.Contains(errOut, "targets.toml:12:") && !strings.Contains(errOut, "targets.toml:13:") {
		t.Errorf("duplicate name not located at line 12 or 13:\n%s", errOut)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"nonsense"},
		{"build", "--no-such-flag"},
		{"plan", "--target", "no-such-target"},
		{"plan", "--target", "local-arm64", "--profile", "no-such-profile"},
	} {
		code, _, errOut := runCLI(t, args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitUsage, errOut)
		}
		if strings.TrimSpace(errOut) == "" {
			t.Errorf("%v: no message on stderr", args)
		}
	}
}

func TestPlanPrintsPasteableCommand(t *testing.T) {
	code, out, errOut := runCLI(t, "plan", "--target", "local-armv7", "--profile", "release")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"GOARCH=arm", "GOARM=7", "CGO_ENABLED=0", "-trimpath", "-ldflags='-s -w'", "go build"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
}

// A matrix of targets × profiles builds every pair and reports each.
func TestBuildMatrixOfTargetsAndProfiles(t *testing.T) {
	testenv.Slow(t, "cross-compiles the sample workload")
	chdirRepoCopy(t)
	code, out, errOut := runCLI(t, "build", "--target", "local-arm64,local-armv7", "--profile", "release,single-core", "--json")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	got := map[string]elf.Machine{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var ev struct {
			Type, Target, Profile, Output string
			OK                            bool
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Type != "result" {
			continue
		}
		if !ev.OK {
			t.Errorf("%s/%s failed", ev.Target, ev.Profile)
			continue
		}
		f, err := elf.Open(ev.Output)
		if err != nil {
			t.Fatal(err)
		}
		got[ev.Target+"/"+ev.Profile] = f.Machine
		f.Close()
	}
	want := map[string]elf.Machine{
		"local-arm64/release": elf.EM_AARCH64, "local-arm64/single-core": elf.EM_AARCH64,
		"local-armv7/release": elf.EM_ARM, "local-armv7/single-core": elf.EM_ARM,
	}
	if len(got) != len(want) {
		t.Fatalf("results %v, want %v", got, want)
	}
	for k, m := range want {
		if got[k] != m {
			t.Errorf("%s: ELF machine %v, want %v", k, got[k], m)
		}
	}
	// Commands that act on one device refuse a list of targets.
	if code, _, errOut := runCLI(t, "deploy", "--target", "local-arm64,local-armv7"); code != exitUsage || !strings.Contains(errOut, "one target") {
		t.Errorf("deploy with two targets: exit %d, %s", code, errOut)
	}
}

// With --json every failure ends with an error object on stdout, so a
// script never has to scrape stderr.
func TestJSONFailuresEndWithAnErrorObject(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "targets.toml")
	os.WriteFile(cfg, []byte("[[target]]\nname = \"x\"\nhost = \"local\"\ngoarch = \"mips\"\n"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"targets", "--json", "--config", cfg}, exitUsage},
		{[]string{"plan", "--json", "--target", "no-such-target"}, exitUsage},
		{[]string{"run", "--json", "--target", "local-arm64", "--profile", "no-such-profile"}, exitUsage},
	} {
		code, out, _ := runCLI(t, tc.args...)
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d", tc.args, code, tc.code)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		var last struct {
			Type     string `json:"type"`
			Error    string `json:"error"`
			ExitCode int    `json:"exit_code"`
		}
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
			t.Errorf("%v: last stdout line is not JSON: %q", tc.args, out)
			continue
		}
		if last.Type != "error" || last.Error == "" || last.ExitCode != tc.code {
			t.Errorf("%v: last line %+v", tc.args, last)
		}
	}
}
