package build

import (
	"context"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"armbench/internal/testenv"
	"armbench/profiles"
	"armbench/targets"
)

// TestVerifyHostBinary reads a file this machine made: the test binary.
func TestVerifyHostBinary(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		t.Skipf("reads the test binary as an ELF file: %s binaries are not ELF", runtime.GOOS)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// go test may strip its binaries (-s -w); read that independently.
	ef, err := elf.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	stripped := ef.Section(".symtab") == nil
	ef.Close()
	ldflags, opposite := "", "-s -w"
	if stripped {
		ldflags, opposite = opposite, ldflags
	}
	plan := profiles.Plan{
		Target:  targets.Target{GOARCH: runtime.GOARCH},
		Profile: profiles.Profile{Build: profiles.Build{Ldflags: ldflags}},
		Expect:  map[string]string{"GOARCH": runtime.GOARCH, "-compiler": "gc"},
	}
	a, err := Verify(self, plan)
	if _, known := elfMachines[runtime.GOARCH]; !known {
		testenv.Missing(t, "no ELF machine known for %s", runtime.GOARCH)
	}
	if err != nil {
		t.Fatalf("Verify(test binary): %v", err)
	}
	st, _ := os.Stat(self)
	if a.Size != st.Size() || len(a.SHA256) != 64 || a.GoVersion != runtime.Version() {
		t.Errorf("artifact %+v; want size %d, a sha256, %s", a, st.Size(), runtime.Version())
	}
	if a.Settings["GOARCH"] != runtime.GOARCH {
		t.Errorf("Settings = %v", a.Settings)
	}
	if a.Stripped != stripped {
		t.Errorf("Stripped = %v, debug/elf says %v", a.Stripped, stripped)
	}

	// The same file against an ARM plan: every mismatch is named.
	arm := profiles.Plan{
		Target:  targets.Target{GOARCH: "arm64"},
		Profile: profiles.Profile{Build: profiles.Build{Ldflags: opposite}},
		Expect:  map[string]string{"GOARCH": "arm64", "GOARM64": "v8.2"},
	}
	a, err = Verify(self, arm)
	var ve *VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("Verify against arm64 plan: %v, want a *VerifyError", err)
	}
	if a == nil || ve.Artifact != a {
		t.Error("VerifyError does not carry the artifact")
	}
	failed := map[string]Check{}
	for _, c := range ve.Failed {
		failed[c.Name] = c
	}
	for _, name := range []string{"ELF machine", "stripped", "GOARCH", "GOARM64"} {
		if _, ok := failed[name]; !ok {
			t.Errorf("check %q did not fail; failed: %+v", name, ve.Failed)
		}
		if !strings.Contains(err.Error(), name+": want ") {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
	if c := failed["GOARM64"]; c.Want != "v8.2" || c.Got != "(unset)" {
		t.Errorf("GOARM64 check %+v", c)
	}
}

// TestVerifyNotGo: a C program is dynamic and has no Go build info; a
// static profile must reject it.
func TestVerifyNotGo(t *testing.T) {
	path, err := exec.LookPath("true")
	if err != nil {
		testenv.Missing(t, "no true(1) to read (coreutils)")
	}
	plan := profiles.Plan{Profile: profiles.Profile{Build: profiles.Build{Static: true}}}
	a, err := Verify(path, plan)
	var ve *VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("Verify(%s): %v, want a *VerifyError", path, err)
	}
	if a.Static {
		testenv.Missing(t, "%s is statically linked here; the test needs a dynamic one", path)
	}
	if !strings.Contains(err.Error(), "static: want static, got dynamic") || !strings.Contains(err.Error(), "Go build info: want present") {
		t.Errorf("error %q does not report dynamic linking and missing build info", err)
	}
}

func TestVerifyMissingFile(t *testing.T) {
	_, err := Verify(filepath.Join(t.TempDir(), "nothing"), profiles.Plan{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Verify(missing) = %v, want a not-exist error", err)
	}
}

// TestVerifyARMBuildAgainstOtherLevel: an arm64 v8.0 build is not a v8.2
// artifact, and not a stripped one.
func TestVerifyARMBuildAgainstOtherLevel(t *testing.T) {
	testenv.Tool(t, "go", "golang-go")
	plan := handPlan(t, spec{name: "level", goarch: "arm64", goarm64: "v8.0"})
	res := Run(context.Background(), plan, nil)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	other := plan
	other.Expect = map[string]string{"GOARCH": "arm64", "GOARM64": "v8.2", "-ldflags": "-s -w"}
	_, err := Verify(res.Artifact.Path, other)
	if err == nil {
		t.Fatal("v8.0 artifact verified as v8.2")
	}
	for _, want := range []string{"GOARM64: want v8.2, got v8.0", "stripped: want yes, got no", "-ldflags: want -s -w, got (unset)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestLdflagsOf(t *testing.T) {
	cases := []struct {
		plan profiles.Plan
		want string
	}{
		{profiles.Plan{Args: []string{"build", "-ldflags=-s -w", "-o", "x", "."}}, "-s -w"},
		{profiles.Plan{Args: []string{"build", "-ldflags", "-X a.b=c", "."}}, "-X a.b=c"},
		{profiles.Plan{Args: []string{"build", "--ldflags=-w", "-ldflags=-s", "."}}, "-s"},
		{profiles.Plan{Args: []string{"build", "."}, Expect: map[string]string{"-ldflags": "-w"}}, "-w"},
		{profiles.Plan{Args: []string{"build", "."}, Profile: profiles.Profile{Build: profiles.Build{Ldflags: "-s"}}}, "-s"},
	}
	for _, c := range cases {
		if got := ldflagsOf(c.plan); got != c.want {
			t.Errorf("ldflagsOf(%q) = %q, want %q", c.plan.Args, got, c.want)
		}
	}
}

func TestHasLinkFlag(t *testing.T) {
	for ldflags, want := range map[string]bool{
		"-s -w":       true,
		"-w":          false,
		"":            false,
		"-s=false -w": false,
		"-w -s=true":  true,
		"-s -s=false": false,
		`-linkmode external -extldflags "-static"`: false,
		"--s": true,
	} {
		if got := hasLinkFlag(ldflags, "-s"); got != want {
			t.Errorf("hasLinkFlag(%q, -s) = %v, want %v", ldflags, got, want)
		}
	}
}

// cgoPlan builds testdata/cgo for arm64 with the real cross compiler.
func cgoPlan(t *testing.T, ldflags string, static bool) profiles.Plan {
	t.Helper()
	cc := "aarch64-linux-gnu-gcc"
	testenv.Tool(t, cc, "gcc-aarch64-linux-gnu")
	out := filepath.Join(t.TempDir(), "out", "cgo", "cgo-static", "cgo")
	return profiles.Plan{
		Target:   targets.Target{Name: "cgo", GOOS: "linux", GOARCH: "arm64", GOARM64: "v8.0", CC: cc},
		Profile:  profiles.Profile{Name: "cgo-static", Build: profiles.Build{CGO: true, Static: static, Ldflags: ldflags}},
		Pkg:      "./build/testdata/cgo",
		Dir:      moduleRoot(t),
		Output:   out,
		LogPath:  filepath.Join(filepath.Dir(out), "build.log"),
		BuildEnv: []profiles.EnvVar{{Key: "CGO_ENABLED", Value: "1"}, {Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm64"}, {Key: "GOARM64", Value: "v8.0"}, {Key: "CC", Value: cc}, {Key: "CGO_CFLAGS", Value: "-O2"}},
		Args:     []string{"build", "-ldflags=" + ldflags, "-o", out, "./build/testdata/cgo"},
		Expect:   map[string]string{"GOARCH": "arm64", "CGO_ENABLED": "1", "-ldflags": ldflags, "CGO_CFLAGS": "-O2"},
	}
}

// TestCgoStatic builds a cgo program with external static linking, as the
// cgo-static profile does, and runs it under qemu-user.
func TestCgoStatic(t *testing.T) {
	plan := cgoPlan(t, `-linkmode external -extldflags "-static"`, true)
	res := Run(context.Background(), plan, nil)
	if res.Err != nil {
		t.Fatalf("cgo-static build: %v", res.Err)
	}
	if !res.Artifact.Static || res.Artifact.Settings["CGO_ENABLED"] != "1" {
		t.Errorf("artifact static=%v CGO_ENABLED=%q", res.Artifact.Static, res.Artifact.Settings["CGO_ENABLED"])
	}
	if out := runArtifact(t, "arm64", res.Artifact.Path); out != "cgo says 42\n" {
		t.Errorf("cgo program printed %q", out)
	}
}

// TestCgoDynamicRejectedForStaticProfile: forgetting -extldflags -static
// links against the C library dynamically; a static profile must not
// accept that, and nothing appears at the output.
func TestCgoDynamicRejectedForStaticProfile(t *testing.T) {
	plan := cgoPlan(t, "-linkmode external", true)
	res := Run(context.Background(), plan, nil)
	var ve *VerifyError
	if !errors.As(res.Err, &ve) || !strings.Contains(res.Err.Error(), "static: want static, got dynamic") {
		t.Fatalf("Err = %v, want a static-linking verification error", res.Err)
	}
	if _, err := os.Stat(plan.Output); !os.IsNotExist(err) {
		t.Errorf("file at output: %v", err)
	}
}
