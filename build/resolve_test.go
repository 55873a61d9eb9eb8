package build

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"armbench/internal/testenv"
	"armbench/profiles"
	"armbench/targets"
)

// These tests take their plans from profiles.Resolve, as armbench does,
// so the build engine and the profiles agree on every flag and check.

func resolved(t *testing.T, tg targets.Target, profile string, mode profiles.Mode) profiles.Plan {
	t.Helper()
	p, ok := profiles.Find(profiles.Builtins(), profile)
	if !ok {
		t.Fatalf("no built-in profile %q", profile)
	}
	plan, err := profiles.Resolve(tg, p, profiles.Options{Dir: moduleRoot(t), OutRoot: t.TempDir(), Mode: mode})
	if err != nil {
		t.Fatalf("Resolve(%s, %s): %v", tg.Name, profile, err)
	}
	return plan
}

var (
	piZero = targets.Target{Name: "pi-zero", Host: "local", GOARCH: "arm", GOARM: "6"}
	armv7  = targets.Target{Name: "local-armv7", Host: "local", GOARCH: "arm", GOARM: "7"}
	pi4    = targets.Target{Name: "pi4", Host: "local", GOARCH: "arm64", GOARM64: "v8.0", Memory: 1 << 30}
	pi5    = targets.Target{Name: "pi5", Host: "local", GOARCH: "arm64", GOARM64: "v8.2"}
)

// TestResolvedMatrix builds a matrix of real (target, profile) plans with
// RunAll, runs every artifact under qemu-user with the plan's run
// environment, and checks that the runtime settings arrived.
func TestResolvedMatrix(t *testing.T) {
	testenv.Tool(t, "go", "golang-go")
	cases := []struct {
		target  targets.Target
		profile string
		want    map[string]string // buildinfo settings
		header  string            // in the workload's first line, from RunEnv
	}{
		{piZero, "release", map[string]string{"GOARM": "6", "-trimpath": "true", "CGO_ENABLED": "0"}, ""},
		{armv7, "release", map[string]string{"GOARM": "7"}, ""},
		{pi4, "single-core", map[string]string{"GOARM64": "v8.0"}, "GOMAXPROCS=1 "},
		{pi5, "default", map[string]string{"GOARM64": "v8.2"}, ""},
		{pi4, "debug", map[string]string{"-gcflags": "all=-N -l"}, ""},
		{pi4, "lowmem", map[string]string{"GOARM64": "v8.0", "-trimpath": "true"}, ""},
	}
	plans := make([]profiles.Plan, len(cases))
	for i, c := range cases {
		plans[i] = resolved(t, c.target, c.profile, profiles.ModeBinary)
	}
	results := RunAll(context.Background(), plans, 0, nil)
	for i, c := range cases {
		t.Run(c.target.Name+"/"+c.profile, func(t *testing.T) {
			res := results[i]
			if res.Err != nil {
				t.Fatalf("%s\n%v", plans[i].Shell(), res.Err)
			}
			if res.Target != c.target.Name || res.Profile != c.profile {
				t.Errorf("result for %s/%s, want %s/%s", res.Target, res.Profile, c.target.Name, c.profile)
			}
			a := res.Artifact
			for k, v := range c.want {
				if a.Settings[k] != v {
					t.Errorf("buildinfo %s=%q, want %q", k, a.Settings[k], v)
				}
			}
			if len(a.Checks) < len(plans[i].Expect)+2 {
				t.Errorf("%d checks for %d expectations: %+v", len(a.Checks), len(plans[i].Expect), a.Checks)
			}
			if wantStripped := c.profile != "default" && c.profile != "debug"; a.Stripped != wantStripped {
				t.Errorf("Stripped = %v, want %v", a.Stripped, wantStripped)
			}
			out := runArtifactEnv(t, c.target.GOARCH, plans[i].RunEnvStrings(), a.Path, "-duration", "60ms", "-mode", "parallel")
			if !strings.Contains(out, "linux/"+c.target.GOARCH+" "+c.header) {
				t.Errorf("run with %q printed:\n%s", plans[i].RunEnvStrings(), out)
			}
		})
	}
}

// TestResolvedTestBinary: a ModeTest plan from Resolve yields a test binary
// that lists and runs the workload's benchmarks.
func TestResolvedTestBinary(t *testing.T) {
	testenv.Tool(t, "go", "golang-go")
	plan := resolved(t, pi5, "release", profiles.ModeTest)
	res := Run(context.Background(), plan, nil)
	if res.Err != nil {
		t.Fatalf("%s\n%v", plan.Shell(), res.Err)
	}
	if !strings.HasSuffix(res.Artifact.Path, ".test") {
		t.Errorf("test binary at %s", res.Artifact.Path)
	}
	list := runArtifact(t, "arm64", res.Artifact.Path, "-test.list=Bench")
	if !strings.Contains(list, "BenchmarkAESGCM\n") || !strings.Contains(list, "BenchmarkChanFanOut\n") {
		t.Errorf("-test.list=Bench:\n%s", list)
	}
}

// TestResolvedCgoStatic: the cgo-static profile on arm64 with the target's
// cross compiler gives a static binary that runs; on 32-bit ARM it either
// builds (compiler installed) or fails before starting, naming the
// compiler and its Debian package.
func TestResolvedCgoStatic(t *testing.T) {
	t.Run("arm64", func(t *testing.T) {
		testenv.Tool(t, "aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu")
		plan := resolved(t, pi4, "cgo-static", profiles.ModeBinary)
		res := Run(context.Background(), plan, nil)
		if res.Err != nil {
			t.Fatalf("%s\n%v", plan.Shell(), res.Err)
		}
		if !res.Artifact.Static || res.Artifact.Settings["CGO_ENABLED"] != "1" {
			t.Errorf("static=%v CGO_ENABLED=%q", res.Artifact.Static, res.Artifact.Settings["CGO_ENABLED"])
		}
		if out := runArtifact(t, "arm64", res.Artifact.Path, "-duration", "40ms", "-mode", "hash"); !strings.Contains(out, "\nhash ") {
			t.Errorf("cgo-static workload printed:\n%s", out)
		}
	})
	t.Run("arm", func(t *testing.T) {
		plan := resolved(t, armv7, "cgo-static", profiles.ModeBinary)
		cc := "arm-linux-gnueabihf-gcc"
		res := Run(context.Background(), plan, nil)
		if _, err := exec.LookPath(cc); err == nil {
			if res.Err != nil {
				t.Fatalf("%s is installed but the build failed: %v", cc, res.Err)
			}
			return
		}
		if res.Err == nil || !strings.Contains(res.Err.Error(), cc) || !strings.Contains(res.Err.Error(), "gcc-arm-linux-gnueabihf") {
			t.Errorf("Err = %v, want it to name %s and gcc-arm-linux-gnueabihf", res.Err, cc)
		}
		if _, err := os.Stat(plan.OutputPath()); !os.IsNotExist(err) {
			t.Errorf("file at output: %v", err)
		}
	})
}
