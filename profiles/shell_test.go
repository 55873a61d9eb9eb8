package profiles

import (
	"bytes"
	"debug/buildinfo"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"armbench/internal/testenv"
	"armbench/targets"
)

// A fake go on PATH records what the shell handed it, so the test checks
// that Shell() quotes every word so sh reproduces Args and BuildEnv exactly.
const fakeGo = `#!/bin/sh
printf '%s\0' "$@" > "$FAKEGO_OUT/args"
pwd -P > "$FAKEGO_OUT/pwd"
env -0 > "$FAKEGO_OUT/env"
`

func TestShellRoundTrip(t *testing.T) {
	sh := testenv.Tool(t, "sh", "dash") // checks the printed command
	bin, out := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(fakeGo), 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "it's a $dir")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}

	cfg := parse(t, `
[[profile]]
name = "nasty"
extends = "cgo-static"
build.ldflags = "-X 'main.msg=it''s $HOME `+"`id`"+` \\ \"q\"'"
build.gcflags = "-N -l"
build.tags = ["a", "b"]
build.env = { CGO_CFLAGS = "-O2 -DX='1 2'", CGO_LDFLAGS = "$(touch pwned)" }
`)
	ps, err := Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []Mode{ModeBinary, ModeTest} {
		tg := pi5()
		tg.CC = "my cc; rm -rf /"
		plan, err := Resolve(tg, mustFind(t, ps, "nasty"), Options{Dir: dir, OutRoot: "out dir/*", Pkg: "./cmd/my app", Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(sh, "-c", plan.Shell())
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "FAKEGO_OUT="+out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sh -c %s: %v\n%s", plan.Shell(), err, b)
		}

		args := readNUL(t, filepath.Join(out, "args"))
		if !slices.Equal(args, plan.Args) {
			t.Errorf("go received\n%q\nplan says\n%q\ncommand: %s", args, plan.Args, plan.Shell())
		}
		env := readNUL(t, filepath.Join(out, "env"))
		for _, e := range plan.BuildEnv {
			if !slices.Contains(env, e.String()) {
				t.Errorf("go did not receive %q; command: %s", e.String(), plan.Shell())
			}
		}
		pwd, _ := os.ReadFile(filepath.Join(out, "pwd"))
		want, _ := filepath.EvalSymlinks(dir)
		if got := strings.TrimSuffix(string(pwd), "\n"); got != want {
			t.Errorf("go ran in %q, want %q", got, want)
		}
		if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
			t.Fatal("a value was executed by the shell")
		}
	}
}

func readNUL(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}

// TestExpectMatchesBuildInfo runs Shell() with the real go command and
// checks that the artifact's build info says exactly what Expect predicts,
// the check build.Verify relies on.
func TestExpectMatchesBuildInfo(t *testing.T) {
	testenv.Slow(t, "cross-compiles several binaries")
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("the go command is needed: ", err)
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":                     "module probe\n\ngo 1.26\n",
		"cmd/probe/main.go":          "package main\n\nfunc main() { println(\"ok\") }\n",
		"cmd/probe/main_test.go":     "package main\n\nimport \"testing\"\n\nfunc BenchmarkNothing(b *testing.B) {}\n",
		"cmd/probe/default.pgo":      "",
		"cmd/cgo/main.go":            "package main\n\n// int two(void) { return 2; }\nimport \"C\"\n\nfunc main() { println(C.two()) }\n",
		"cmd/probe/nothing_other.go": "package main\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := parse(t, `
[[profile]]
name = "flags"
build.ldflags = "-X 'main.v=a b' -s"
build.gcflags = "-N -l"
build.tags = ["x"]
`)
	ps, err := Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	armv7soft := targets.Target{Name: "soft", Host: "h", GOARCH: "arm", GOARM: "7,softfloat"}
	arm64 := targets.Target{Name: "a64", Host: "h", GOARCH: "arm64", GOARM64: "v8.0,crypto,lse"}

	cases := []struct {
		name    string
		target  targets.Target
		profile string
		pkg     string
		mode    Mode
		needs   string // a tool that must be on PATH
	}{
		{"release arm v6", piZero(), "release", "./cmd/probe", ModeBinary, ""},
		{"flags arm v7 softfloat", armv7soft, "flags", "./cmd/probe", ModeBinary, ""},
		{"speed pgo test binary arm64 v8.2", pi5(), "speed", "./cmd/probe", ModeTest, ""},
		{"default arm64 features", arm64, "default", "./cmd/probe", ModeBinary, ""},
		{"cgo-static arm64", pi5(), "cgo-static", "./cmd/cgo", ModeBinary, "aarch64-linux-gnu-gcc"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.needs != "" {
				testenv.Tool(t, tc.needs, "gcc-aarch64-linux-gnu")
			}
			plan, err := Resolve(tc.target, mustFind(t, ps, tc.profile), Options{Dir: dir, Pkg: tc.pkg, Mode: tc.mode})
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(sh, "-c", plan.Shell())
			// Only what the plan sets may shape the build: drop GOFLAGS
			// and the arch variables a developer might have exported.
			cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
				k, _, _ := strings.Cut(kv, "=")
				return slices.Contains([]string{"GOFLAGS", "GOARM", "GOARM64", "GOOS", "GOARCH", "CGO_ENABLED", "CC", "CGO_CFLAGS"}, k)
			})
			cmd.Env = append(cmd.Env, "PATH="+filepath.Dir(goBin)+string(os.PathListSeparator)+os.Getenv("PATH"))
			var outBuf bytes.Buffer
			cmd.Stdout, cmd.Stderr = &outBuf, &outBuf
			if err := cmd.Run(); err != nil {
				t.Fatalf("%s: %v\n%s", plan.Shell(), err, outBuf.String())
			}
			info, err := buildinfo.ReadFile(plan.OutputPath())
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, s := range info.Settings {
				got[s.Key] = s.Value
			}
			for k, want := range plan.Expect {
				if got[k] != want {
					t.Errorf("build info %s = %q, Expect says %q", k, got[k], want)
				}
			}
			for _, k := range []string{"GOOS", "GOARCH", "CGO_ENABLED"} {
				if _, ok := plan.Expect[k]; !ok {
					t.Errorf("Expect lacks %s", k)
				}
			}
			// Settings go records that Expect does not predict must be
			// ones Resolve deliberately leaves out.
			for k, v := range got {
				if _, ok := plan.Expect[k]; ok {
					continue
				}
				switch {
				case k == "-pgo" && !plan.Profile.Build.Trimpath && filepath.IsAbs(v) && filepath.Base(v) == "default.pgo":
					// Without -trimpath go records the absolute path it
					// saw; Expect leaves it out rather than guess its spelling.
				case slices.Contains([]string{"-buildmode", "-compiler", "DefaultGODEBUG", "CGO_CPPFLAGS", "CGO_CXXFLAGS", "CGO_LDFLAGS"}, k):
				default:
					if !strings.HasPrefix(k, "vcs") {
						t.Errorf("build info has %s=%q that Expect does not predict", k, v)
					}
				}
			}
		})
	}
}
