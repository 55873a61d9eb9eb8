package profiles

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"armbench/internal/shell"
	"armbench/targets"
)

func piZero() targets.Target {
	return targets.Target{Name: "pi-zero", Host: "pizero.local", GOOS: "linux", GOARCH: "arm", GOARM: "6", Memory: 512 << 20, MemoryText: "512MiB", DeployDir: "~/armbench"}
}

func pi5() targets.Target {
	return targets.Target{Name: "pi5", Host: "pi5.local", GOOS: "linux", GOARCH: "arm64", GOARM64: "v8.2", Cores: 4, Memory: 3 << 30, CC: "aarch64-linux-gnu-gcc", Tags: []string{"pi"}}
}

func mustFind(t *testing.T, ps []Profile, name string) Profile {
	t.Helper()
	p, ok := Find(ps, name)
	if !ok {
		t.Fatalf("no profile %q in %v", name, Names(ps))
	}
	return p
}

func builtin(t *testing.T, name string) Profile {
	t.Helper()
	ps, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	return mustFind(t, ps, name)
}

func resolve(t *testing.T, tg targets.Target, profile string, o Options) Plan {
	t.Helper()
	if o.Dir == "" {
		// An empty module dir: no default.pgo to find.
		o.Dir = t.TempDir()
	}
	plan, err := Resolve(tg, builtin(t, profile), o)
	if err != nil {
		t.Fatal(err)
	}
	plan.Dir = "." // print as if run from the module root
	return plan
}

func TestResolveShell(t *testing.T) {
	cases := []struct {
		target  targets.Target
		profile string
		mode    Mode
		shell   string
		run     string
	}{
		{piZero(), "release", ModeBinary,
			"env CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=6 go build -trimpath -ldflags='-s -w' -o .armbench/out/pi-zero/release/workload ./examples/workload",
			"./workload"},
		{piZero(), "default", ModeBinary,
			"env CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=6 go build -o .armbench/out/pi-zero/default/workload ./examples/workload",
			"./workload"},
		{pi5(), "debug", ModeBinary,
			"env CGO_ENABLED=0 GOOS=linux GOARCH=arm64 GOARM64=v8.2 go build -tags=pi -gcflags='all=-N -l' -o .armbench/out/pi5/debug/workload ./examples/workload",
			"./workload"},
		{pi5(), "speed", ModeTest,
			"env CGO_ENABLED=0 GOOS=linux GOARCH=arm64 GOARM64=v8.2 go test -c -trimpath -tags=pi -ldflags='-s -w' -o .armbench/out/pi5/speed/workload.test ./examples/workload",
			"env GOGC=200 ./workload"},
		{pi5(), "lowmem", ModeBinary,
			"env CGO_ENABLED=0 GOOS=linux GOARCH=arm64 GOARM64=v8.2 go build -trimpath -tags=pi -ldflags='-s -w' -o .armbench/out/pi5/lowmem/workload ./examples/workload",
			"env GOGC=50 GOMEMLIMIT=1536MiB ./workload"},
		{piZero(), "single-core", ModeBinary,
			"env CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=6 go build -trimpath -ldflags='-s -w' -o .armbench/out/pi-zero/single-core/workload ./examples/workload",
			"env GOMAXPROCS=1 ./workload"},
		{pi5(), "cgo-static", ModeBinary,
			`env CGO_ENABLED=1 GOOS=linux GOARCH=arm64 GOARM64=v8.2 CC=aarch64-linux-gnu-gcc CGO_CFLAGS=-O2 go build -tags=pi,netgo,osusergo -ldflags='-linkmode external -extldflags "-static"' -o .armbench/out/pi5/cgo-static/workload ./examples/workload`,
			"./workload"},
	}
	for _, tc := range cases {
		t.Run(tc.target.Name+"/"+tc.profile, func(t *testing.T) {
			plan := resolve(t, tc.target, tc.profile, Options{Mode: tc.mode})
			if got, want := plan.Shell(), hostOutput(tc.shell); got != want {
				t.Errorf("Shell() =\n%s\nwant\n%s", got, want)
			}
			if got := plan.RunShell("./workload"); got != tc.run {
				t.Errorf("RunShell() = %s, want %s", got, tc.run)
			}
		})
	}
}

func TestResolvePlanFields(t *testing.T) {
	plan := resolve(t, pi5(), "lowmem", Options{Pkg: "./cmd/app", OutRoot: "build/out"})
	if plan.Output != filepath.FromSlash("build/out/pi5/lowmem/app") || plan.LogPath != filepath.FromSlash("build/out/pi5/lowmem/build.log") {
		t.Errorf("output %q log %q", plan.Output, plan.LogPath)
	}
	if got, want := plan.RunEnvStrings(), []string{"GOGC=50", "GOMEMLIMIT=1536MiB"}; !slices.Equal(got, want) {
		t.Errorf("RunEnvStrings = %v, want %v", got, want)
	}
	if got, want := plan.BuildEnvStrings(), []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64", "GOARM64=v8.2"}; !slices.Equal(got, want) {
		t.Errorf("BuildEnvStrings = %v, want %v", got, want)
	}
	if !slices.ContainsFunc(plan.Notes, func(n string) bool { return strings.Contains(n, "GOMEMLIMIT=1536MiB: 50% of target pi5's memory") }) {
		t.Errorf("notes %q do not explain GOMEMLIMIT", plan.Notes)
	}
	wantExpect := map[string]string{
		"GOOS": "linux", "GOARCH": "arm64", "GOARM64": "v8.2", "CGO_ENABLED": "0", "-trimpath": "true", "-tags": "pi",
	}
	if !mapsEqual(plan.Expect, wantExpect) {
		t.Errorf("Expect = %v, want %v (no -ldflags: go drops it under -trimpath)", plan.Expect, wantExpect)
	}

	test := resolve(t, piZero(), "default", Options{Pkg: "example.com/tool/cmd/tool/v2", Mode: ModeTest})
	if test.Output != filepath.FromSlash(".armbench/out/pi-zero/default/tool.test") || test.LogPath != filepath.FromSlash(".armbench/out/pi-zero/default/test-build.log") {
		t.Errorf("test output %q log %q", test.Output, test.LogPath)
	}
	if !slices.Equal(test.Args[:2], []string{"test", "-c"}) || test.Args[len(test.Args)-1] != "example.com/tool/cmd/tool/v2" {
		t.Errorf("test args %q", test.Args)
	}
	if test.Expect["-ldflags"] != "" || test.Expect["GOARM"] != "6" || test.Expect["CGO_ENABLED"] != "0" {
		t.Errorf("default Expect = %v", test.Expect)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestResolveDefaultsAndNotes(t *testing.T) {
	// No goarm / goarm64 / cc / memory: Go's defaults are written out, so
	// the build never depends on GOARM in the caller's environment.
	bare32 := targets.Target{Name: "b32", Host: "h", GOARCH: "arm"}
	bare64 := targets.Target{Name: "b64", Host: "h", GOARCH: "arm64"}

	p := resolve(t, bare32, "cgo-static", Options{})
	if got := p.BuildEnvStrings(); !slices.Equal(got, []string{"CGO_ENABLED=1", "GOOS=linux", "GOARCH=arm", "GOARM=7", "CC=arm-linux-gnueabihf-gcc", "CGO_CFLAGS=-O2"}) {
		t.Errorf("arm cgo env = %v", got)
	}
	if p.Expect["GOARM"] != "7" || p.Expect["CGO_CFLAGS"] != "-O2" || p.Expect["-ldflags"] != StaticLdflags {
		t.Errorf("arm cgo Expect = %v", p.Expect)
	}
	joined := strings.Join(p.Notes, "\n")
	if !strings.Contains(joined, "GOARM=7") || !strings.Contains(joined, "arm-linux-gnueabihf-gcc") {
		t.Errorf("notes %q", joined)
	}

	p = resolve(t, bare64, "lowmem", Options{})
	if p.Expect["GOARM64"] != "v8.0" || slices.ContainsFunc(p.RunEnv, func(e EnvVar) bool { return e.Key == "GOMEMLIMIT" }) {
		t.Errorf("arm64 lowmem: Expect %v RunEnv %v", p.Expect, p.RunEnv)
	}
	if !strings.Contains(strings.Join(p.Notes, "\n"), "GOMEMLIMIT not set: target b64 has no memory") {
		t.Errorf("notes %q", p.Notes)
	}
	if got := DefaultCC("arm64"); got != "aarch64-linux-gnu-gcc" {
		t.Errorf("DefaultCC(arm64) = %q", got)
	}
}

func TestResolveUserProfile(t *testing.T) {
	cfg := parse(t, `
[[profile]]
name = "mine"
extends = "cgo-static"
build.ldflags = "-s -w"
build.static = true
run.godebug = "gctrace=1"
run.gomemlimit = "300MiB"
run.env = { B = "it's 2", A = "x" }
`)
	ps, err := Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Resolve(pi5(), mustFind(t, ps, "mine"), Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.Index(plan.Args, "-ldflags=-s -w "+StaticLdflags); i < 0 {
		t.Errorf("static linking not appended to the profile's ldflags: %q", plan.Args)
	}
	want := `env GOMEMLIMIT=300MiB GODEBUG=gctrace=1 A=x B='it'\''s 2' '/home/my dir/workload'`
	if got := plan.RunShell("/home/my dir/workload"); got != want {
		t.Errorf("RunShell =\n%s\nwant\n%s", got, want)
	}
	if got := plan.RunShell("~/armbench/workload"); !strings.HasSuffix(got, ` "$HOME"/armbench/workload`) {
		t.Errorf("RunShell(~/…) = %s", got)
	}
}

func TestResolvePGO(t *testing.T) {
	dir := t.TempDir()
	pkgDir := filepath.Join(dir, "examples", "workload")
	if err := os.MkdirAll(pkgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	hasFlag := func(p Plan, flag string) bool { return slices.Contains(p.Args, flag) }

	// Without a default.pgo, speed has nothing to apply and says so.
	speed := resolve(t, pi5(), "speed", Options{Dir: dir})
	if slices.ContainsFunc(speed.Args, func(a string) bool { return strings.HasPrefix(a, "-pgo") }) ||
		!strings.Contains(strings.Join(speed.Notes, "\n"), "no default.pgo") {
		t.Errorf("speed without profile: args %q notes %q", speed.Args, speed.Notes)
	}

	if err := os.WriteFile(filepath.Join(pkgDir, "default.pgo"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	speed = resolve(t, pi5(), "speed", Options{Dir: dir})
	if !hasFlag(speed, "-pgo=auto") || speed.Expect["-pgo"] != "default.pgo" {
		t.Errorf("speed with default.pgo: args %q expect %v", speed.Args, speed.Expect)
	}
	// release turns PGO off so that speed vs release isolates it.
	if release := resolve(t, pi5(), "release", Options{Dir: dir}); !hasFlag(release, "-pgo=off") {
		t.Errorf("release with default.pgo: args %q", release.Args)
	}
	if def := resolve(t, pi5(), "default", Options{Dir: dir}); slices.ContainsFunc(def.Args, func(a string) bool { return strings.HasPrefix(a, "-pgo") }) ||
		!strings.Contains(strings.Join(def.Notes, "\n"), "go build applies it") {
		t.Errorf("default with default.pgo: args %q notes %q", def.Args, def.Notes)
	}

	p := builtin(t, "release")
	p.Build.PGO = "profiles/cpu.pgo"
	if _, err := Resolve(pi5(), p, Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "cpu.pgo") {
		t.Errorf("missing pgo file: %v", err)
	}
}

func TestResolveErrors(t *testing.T) {
	rel := builtin(t, "release")
	for _, tc := range []struct {
		t    targets.Target
		o    Options
		want string
	}{
		{pi5(), Options{Pkg: "./..."}, "matches several packages"},
		{pi5(), Options{Pkg: "-toolexec=x"}, "not a package path"},
		{targets.Target{Name: "x", GOARCH: "amd64"}, Options{}, `goarch "amd64"`},
		{targets.Target{}, Options{}, "no name"},
	} {
		if _, err := Resolve(tc.t, rel, tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Resolve(%+v, %+v) = %v, want …%s…", tc.t, tc.o, err, tc.want)
		}
	}
}

func TestBinaryName(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "modroot")
	for pkg, want := range map[string]string{
		"./examples/workload": "workload", "./cmd/app/": "app", "example.com/x/v3": "x", "v2": "v2",
		".": "modroot", "./main.go": "main", "./cmd/tool/v10": "tool", "./cmd/v": "v", "./x/v2a": "v2a", "./x/V2": "V2",
	} {
		if got := binaryName(pkg, dir); got != want {
			t.Errorf("binaryName(%q) = %q, want %q", pkg, got, want)
		}
	}
}

func TestPlanPaths(t *testing.T) {
	// Host paths: the plan joins them with the host's separator.
	p := Plan{Dir: "mod", Output: filepath.FromSlash(".armbench/out/t/p/w"), LogPath: filepath.FromSlash(".armbench/out/t/p/build.log")}
	if p.OutputPath() != filepath.FromSlash("mod/.armbench/out/t/p/w") || p.LogFile() != filepath.FromSlash("mod/.armbench/out/t/p/build.log") {
		t.Errorf("%s %s", p.OutputPath(), p.LogFile())
	}
	p.Dir = "."
	if p.OutputPath() != filepath.FromSlash(".armbench/out/t/p/w") {
		t.Errorf("%s", p.OutputPath())
	}
	abs, err := filepath.Abs(filepath.FromSlash("/abs/w")) // on Windows, with the current drive
	if err != nil {
		t.Fatal(err)
	}
	p.Dir, p.Output = "mod", abs
	if p.OutputPath() != abs {
		t.Errorf("%s", p.OutputPath())
	}
	p.LogPath = ""
	if p.LogFile() != "" {
		t.Errorf("no log: LogFile() = %q, want \"\"", p.LogFile())
	}
}

// The deployed name keeps a benchmark binary's .test suffix last and puts
// the profile in, so profiles of one package do not overwrite each other
// in deploy_dir.
func TestPlanDeployName(t *testing.T) {
	tgt := targets.Target{Name: "pi", GOARCH: "arm64", GOARM64: "v8.0"}
	prof := Profile{Name: "lowmem"}
	for mode, want := range map[Mode]string{ModeTest: "workload-lowmem.test", ModeBinary: "workload-lowmem"} {
		plan, err := Resolve(tgt, prof, Options{Pkg: "./examples/workload", Dir: t.TempDir(), Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		if got := plan.DeployName(); got != want {
			t.Errorf("mode %d: DeployName() = %q, want %q", mode, got, want)
		}
	}
	p := Plan{Output: "/abs/out/cmd/v2/tool", Profile: Profile{Name: "release"}}
	if got := p.DeployName(); got != "tool-release" {
		t.Errorf("DeployName() = %q, want tool-release", got)
	}
}

// A profile's health check wins over the target's; extends inherits it;
// a profile without one leaves the target's.
func TestResolveHealth(t *testing.T) {
	cfg := parse(t, `
[[profile]]
name = "checked"
extends = "release"
[profile.health]
command = "selftest"
retries = 0

[[profile]]
name = "child"
extends = "checked"
`)
	ps, err := Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tg := pi5()
	tg.Health = &targets.Health{URL: "http://localhost:8080/", Timeout: targets.DefaultHealthTimeout}
	for profile, want := range map[string]string{"checked": "selftest", "child": "selftest", "release": "GET http://localhost:8080/"} {
		plan, err := Resolve(tg, mustFind(t, ps, profile), Options{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		if plan.Health == nil || plan.Health.String() != want {
			t.Errorf("%s: health %+v, want %s", profile, plan.Health, want)
		}
	}
	plan, err := Resolve(pi5(), mustFind(t, ps, "release"), Options{Dir: t.TempDir()})
	if err != nil || plan.Health != nil {
		t.Errorf("no check anywhere: %+v, %v", plan.Health, err)
	}
}

// Only a Windows host is told which shell the printed plan is for.
func TestShellNote(t *testing.T) {
	if n := shellNote("windows"); !strings.Contains(n, "POSIX sh") || !strings.Contains(n, "PowerShell") {
		t.Errorf("windows note %q", n)
	}
	for _, goos := range []string{"linux", "darwin"} {
		if n := shellNote(goos); n != "" {
			t.Errorf("%s note %q", goos, n)
		}
	}
}

// hostOutput turns the -o path of a command written with '/' into the
// host's form, quoted for sh as Shell quotes it: the output is a host path
// (backslashes on Windows), unlike the remote paths of a device.
func hostOutput(cmd string) string {
	const flag = " -o "
	i := strings.Index(cmd, flag)
	if i < 0 || filepath.Separator == '/' {
		return cmd
	}
	rest := cmd[i+len(flag):]
	path, tail, _ := strings.Cut(rest, " ")
	return cmd[:i+len(flag)] + shell.Quote(filepath.FromSlash(path)) + " " + tail
}
