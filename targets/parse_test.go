package targets

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustParse(t *testing.T, name string, data []byte) *Config {
	t.Helper()
	cfg, err := Parse(name, data)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return cfg
}

func errorList(t *testing.T, err error) ErrorList {
	t.Helper()
	var l ErrorList
	if !errors.As(err, &l) {
		t.Fatalf("error is %T (%v), want ErrorList", err, err)
	}
	return l
}

func TestParseValidFull(t *testing.T) {
	cfg := mustParse(t, "valid_full.toml", readTestdata(t, "valid_full.toml"))
	if cfg.Path != "valid_full.toml" || cfg.Project.Pkg != "./cmd/app" {
		t.Errorf("path %q pkg %q", cfg.Path, cfg.Project.Pkg)
	}
	if len(cfg.Targets) != 3 {
		t.Fatalf("got %d targets, want 3", len(cfg.Targets))
	}
	zero, pi5, emu := cfg.Targets[0], cfg.Targets[1], cfg.Targets[2]

	// [defaults]: goarm reaches only the arm target, goarm64 only arm64
	// targets that do not set their own; a target's own value wins.
	if zero.GOARM != "6" || zero.GOARM64 != "" || zero.User != "pi" || zero.Memory != 512<<20 || zero.MemoryText != "512MiB" {
		t.Errorf("pi-zero = %+v", zero)
	}
	if pi5.GOARM != "" || pi5.GOARM64 != "v8.2,lse" || pi5.Memory != 1<<30 || pi5.Port != 2222 {
		t.Errorf("pi5 = %+v", pi5)
	}
	if emu.GOARM64 != "v9.0,crypto" || emu.Runner != "qemu-aarch64-static" {
		t.Errorf("emu = %+v", emu)
	}
	if got := zero.Arch(); got != "arm v6" {
		t.Errorf("pi-zero Arch = %q", got)
	}
	if got := pi5.Arch(); got != "arm64 v8.2,lse" {
		t.Errorf("pi5 Arch = %q", got)
	}
	if zero.GOOS != "linux" || zero.DeployDir != DefaultDeployDir || pi5.DeployDir != "/opt/armbench" {
		t.Errorf("goos %q deploy dirs %q %q", zero.GOOS, zero.DeployDir, pi5.DeployDir)
	}
	if emu.DeployDir != ".armbench/device/emu" || !emu.IsLocal() || pi5.IsLocal() {
		t.Errorf("emu deploy dir %q local %v", emu.DeployDir, emu.IsLocal())
	}
	if !slices.Equal(pi5.Tags, []string{"netgo", "osusergo"}) || pi5.CC != "aarch64-linux-gnu-gcc" ||
		pi5.KnownHosts != "~/.ssh/known_hosts.pis" || pi5.Identity != "~/.ssh/id_ed25519" || pi5.CPU != "cortex-a76" || pi5.Cores != 4 {
		t.Errorf("pi5 = %+v", pi5)
	}
	if zero.Pos.Line != 10 || zero.Pos.Col != 1 || pi5.Pos.Line != 18 || emu.Pos.Line != 31 {
		t.Errorf("target positions %v %v %v", zero.Pos, pi5.Pos, emu.Pos)
	}

	if len(cfg.Profiles) != 2 {
		t.Fatalf("got %d profiles", len(cfg.Profiles))
	}
	p := cfg.Profiles[0]
	if p.Name != "mine" || p.Extends != "release" || p.Description != "release, lazier GC" {
		t.Errorf("profile = %+v", p)
	}
	if p.Build.Ldflags == nil || *p.Build.Ldflags != "-s -w -X main.version=1" || !slices.Equal(p.Build.Tags, []string{"netgo"}) ||
		p.Build.Env["CGO_CFLAGS"] != "-O3" || p.Build.CGO != nil || p.Build.Trimpath != nil {
		t.Errorf("build = %+v", p.Build)
	}
	if *p.Run.GOGC != "400" || *p.Run.GOMEMLIMIT != "auto" || *p.Run.GODEBUG != "gctrace=1" || p.Run.Env["MY_VAR"] != "x y" || p.Run.GOMAXPROCS != nil {
		t.Errorf("run = %+v", p.Run)
	}
	for key, want := range map[string]string{
		"name": "valid_full.toml:39:1", "extends": "valid_full.toml:41:1", "build.tags": "valid_full.toml:42:7",
		"build.ldflags": "valid_full.toml:44:1", "build.env.CGO_CFLAGS": "valid_full.toml:45:9",
		"run.gogc": "valid_full.toml:47:1", "run.env.MY_VAR": "valid_full.toml:50:5",
	} {
		if got := p.KeyPos[key].String(); got != want {
			t.Errorf("KeyPos[%q] = %s, want %s", key, got, want)
		}
	}
	q := cfg.Profiles[1]
	if q.Run.GOMAXPROCS == nil || *q.Run.GOMAXPROCS != 2 || q.KeyPos["run.gomaxprocs"].Line != 55 {
		t.Errorf("mine2 = %+v", q)
	}
}

// The acceptance case: three different mistakes in one file, all reported
// at once, each with its line and column.
func TestThreeMistakesReportedTogether(t *testing.T) {
	_, err := Parse("targets.toml", readTestdata(t, "invalid_three.toml"))
	if err == nil {
		t.Fatal("no error")
	}
	l := errorList(t, err)
	want := []struct{ pos, key, msg string }{
		{"targets.toml:4:1", "gorach", `did you mean "goarch"`},
		{"targets.toml:10:11", "goarm64", `"8.2" is not allowed (did you mean "v8.2"?)`},
		{"targets.toml:13:8", "name", `duplicate target name "pi4" (first defined at line 2)`},
	}
	if len(l) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(l), len(want), err)
	}
	for i, w := range want {
		if l[i].Pos.String() != w.pos || l[i].Key != w.key || !strings.Contains(l[i].Msg, w.msg) {
			t.Errorf("error %d = %q, want %s: %s: …%s…", i, l[i].Error(), w.pos, w.key, w.msg)
		}
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("Error() has %d lines:\n%s", len(lines), err)
	}
	lineRE := regexp.MustCompile(`^targets\.toml:\d+:\d+: [a-z0-9_]+: \S`)
	for _, line := range lines {
		if !lineRE.MatchString(line) {
			t.Errorf("line %q is not file:line:col: key: message", line)
		}
	}
	if !strings.Contains(l[1].Msg, "v8.0") || !strings.Contains(l[1].Msg, "v9.5") || !strings.Contains(l[1].Msg, ",lse") {
		t.Errorf("goarm64 message does not list the allowed forms: %s", l[1].Msg)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string // "line:col: key: fragment"
	}{
		{"syntax", string(readTestdata(t, "invalid_syntax.toml")), []string{"3:26: target.host: TOML syntax: strings cannot contain newlines"}},
		{"single bracket target", string(readTestdata(t, "invalid_types.toml")), []string{"1:2: target: must be an array of tables: write [[target]] (double brackets)"}},
		{"no targets", "[project]\npkg = \"./x\"\n", []string{"1:1: target: no [[target]] tables"}},
		{"unknown top", "[[targets]]\nname='a'\n", []string{`1:3: targets: unknown key in top level (did you mean "target"?)`}},
		{"mixed", string(readTestdata(t, "invalid_mixed.toml")), []string{
			`2:8: name: "bad name" is not a valid name`,
			`3:8: host: "-oProxyCommand=x" must not start with -`,
			`5:1: goarm: is for goarch = "arm"`,
			`6:8: port: 70000 is out of range; allowed: 1 to 65535`,
			`7:9: cores: 0 is out of range`,
			`8:10: memory: 4 is 4 bytes`,
			`9:15: tags: build tag "not ok" is not allowed`,
			`13:8: host: "pi@pi.local" contains @: write host = "pi.local" and user = "pi"`,
			`14:10: goarch: "armv7" is not a Go architecture name; write goarch = "arm"`,
			`20:1: gogc: belongs in [profile.run]`,
			`22:7: build.cgo: must be true or false, got string "yes"`,
			`23:9: build.env.GOARCH: GOARCH is set by armbench`,
			`25:14: run.gomemlimit: "1GB" is not allowed`,
		}},
		{"goarm64 on arm", "[[target]]\nname='a'\nhost='local'\ngoarch='arm'\ngoarm64='v8.0'\n", []string{`5:1: goarm64: is for goarch = "arm64"`}},
		{"goos pair", "[[target]]\nname='a'\nhost='local'\ngoarch='arm'\ngoos='windows'\n", []string{`5:6: goos: "windows" cannot be combined with goarch = "arm"; allowed: android, freebsd`}},
		{"defaults name", "[defaults]\nname='x'\ngoarhc='arm'\n[[target]]\nname='a'\nhost='local'\ngoarch='arm64'\n", []string{
			"2:1: name: not allowed in [defaults]", `3:1: goarhc: unknown key in [defaults] (did you mean "goarch"?)`}},
		{"bad default reported once", "[defaults]\nport='22'\n[[target]]\nname='a'\nhost='h'\ngoarch='arm64'\n[[target]]\nname='b'\nhost='h'\ngoarch='arm64'\n", []string{
			`2:6: port: must be an integer from 1 to 65535, got string "22"`}},
		{"missing three", "[[target]]\ndescription = 'x'\n", []string{"1:1: name: missing", "1:1: host: missing", "1:1: goarch: missing"}},
		{"wrong types", "[[target]]\nname=1\nhost=true\ngoarch=['arm']\ncores='4'\nmemory=1.5\n", []string{
			"2:6: name: must be a string, got integer 1", "3:6: host: must be a string, got boolean true",
			"4:8: goarch: must be a string, got array", `5:7: cores: must be an integer from 1 to 4096, got string "4"`,
			"6:8: memory: must be an integer number of bytes or a string"}},
		{"profile problems", "[[target]]\nname='a'\nhost='local'\ngoarch='arm64'\n[[profile]]\ndescription='x'\nbuild.ldflag='-s'\nrun.gomaxprocs=0\n[[profile]]\nname='p'\n[[profile]]\nname='p'\n", []string{
			"5:1: name: missing; every [[profile]]", `7:7: build.ldflag: unknown key in [profile.build] (did you mean "build.ldflags"?)`,
			"8:16: run.gomaxprocs: 0 is out of range", `12:6: name: duplicate profile name "p" (first defined at line 10)`}},
		{"profile settings", "[[target]]\nname='a'\nhost='local'\ngoarch='arm64'\n[[profile]]\nname='p'\nbuild.ldflags=\"-s\\n-w\"\nbuild.pgo=''\nrun.gogc=1.5\nrun.godebug='x'\n", []string{
			`7:15: build.ldflags: "-s\n-w" must be one line`, `8:11: build.pgo: "" is not allowed; write "auto"`,
			"9:10: run.gogc: must be a percentage such as 200 or \"off\", got float", `10:13: run.godebug: "x" is not allowed`}},
		{"goarm hint", "[[target]]\nname='a'\nhost='local'\ngoarch='arm'\ngoarm='v7'\n", []string{`5:7: goarm: "v7" is not allowed (did you mean "7"?)`}},
		{"quoted keys", "[[target]]\n\"name\" = 'a'\nhost='local'\ngoarch='arm64'\n'gorach' = 1\n", []string{`5:1: gorach: unknown key`}},
		{"project", "[project]\npkg = ''\npackage = 'x'\n[[target]]\nname='a'\nhost='local'\ngoarch='arm64'\n", []string{
			`2:7: pkg: "" is not a package path`, "3:1: package: unknown key in [project]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.toml", []byte(tc.src))
			if err == nil {
				t.Fatal("no error")
			}
			l := errorList(t, err)
			var got []string
			for _, e := range l {
				got = append(got, strings.TrimPrefix(e.Error(), "f.toml:"))
			}
			for _, w := range tc.want {
				found := false
				for _, g := range got {
					if strings.HasPrefix(g, w[:strings.Index(w, ":")+1]) && strings.Contains(g, w[strings.Index(w, ":")+1:]) {
						found = true
					}
				}
				if !found {
					t.Errorf("missing %q in:\n%s", w, strings.Join(got, "\n"))
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("got %d errors, want %d:\n%s", len(got), len(tc.want), strings.Join(got, "\n"))
			}
		})
	}
}

func TestParseMemory(t *testing.T) {
	for in, want := range map[string]int64{
		"4GiB": 4 << 30, "512MiB": 512 << 20, "1G": 1 << 30, "1GB": 1e9, "1.5g": 3 << 29,
		"2048": 2048, "64 KiB": 64 << 10, "1T": 1 << 40, "3mb": 3e6,
	} {
		got, err := ParseMemory(in)
		if err != nil || got != want {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GiB", "4 GiBs", "-1G", "1e9", "4Gb!", "99999999999T"} {
		if v, err := ParseMemory(in); err == nil {
			t.Errorf("ParseMemory(%q) = %d, want error", in, v)
		}
	}
	for n, want := range map[int64]string{2 << 30: "2GiB", 384 << 20: "384MiB", 1000: "1000B", 1536 << 20: "1536MiB", 3 << 40: "3TiB"} {
		if got := FormatMemory(n); got != want {
			t.Errorf("FormatMemory(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestArch(t *testing.T) {
	for _, tc := range []struct {
		t    Target
		want string
	}{
		{Target{GOARCH: "arm64", GOARM64: "v8.0"}, "arm64 v8.0"},
		{Target{GOARCH: "arm", GOARM: "6"}, "arm v6"},
		{Target{GOARCH: "arm", GOARM: "7,softfloat"}, "arm v7,softfloat"},
		{Target{GOARCH: "arm64"}, "arm64"},
		{Target{GOARCH: "arm"}, "arm"},
	} {
		if got := tc.t.Arch(); got != tc.want {
			t.Errorf("%+v.Arch() = %q, want %q", tc.t, got, tc.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	for key, want := range map[string]string{
		"gorach": "goarch", "GOARCH": "goarch", "deploy-dir": "deploy_dir", "identity": "", "hots": "host", "xyz": "", "memroy": "memory",
	} {
		if got := suggest(key, targetKeys); got != want {
			t.Errorf("suggest(%q) = %q, want %q", key, got, want)
		}
	}
}

const small = "[[target]]\nname = \"x\"\nhost = \"local\"\ngoarch = \"arm64\"\n"

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv(EnvConfig, "")
	embedded := []byte(small)

	cfg, err := Open("", embedded)
	if err != nil || cfg.Path != EmbeddedName || cfg.Targets[0].Name != "x" {
		t.Fatalf("embedded: %+v, %v", cfg, err)
	}
	if _, err := Open("", nil); err == nil || !strings.Contains(err.Error(), "targets.toml") {
		t.Errorf("no file, no embedded: %v", err)
	}

	// ./targets.toml beats the embedded default.
	if err := os.WriteFile("targets.toml", []byte(strings.ReplaceAll(small, `"x"`, `"cwd"`)), 0o644); err != nil {
		t.Fatal(err)
	}
	if cfg, err := Open("", embedded); err != nil || cfg.Path != "targets.toml" || cfg.Targets[0].Name != "cwd" {
		t.Fatalf("cwd: %+v, %v", cfg, err)
	}

	// $ARMBENCH_CONFIG beats ./targets.toml, and must exist.
	envFile := filepath.Join(dir, "env.toml")
	if err := os.WriteFile(envFile, []byte(strings.ReplaceAll(small, `"x"`, `"env"`)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvConfig, envFile)
	if cfg, err := Open("", embedded); err != nil || cfg.Path != envFile || cfg.Targets[0].Name != "env" {
		t.Fatalf("env: %+v, %v", cfg, err)
	}
	t.Setenv(EnvConfig, "nope.toml")
	if _, err := Open("", embedded); err == nil || !strings.Contains(err.Error(), "nope.toml") || !strings.Contains(err.Error(), EnvConfig) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing env file: %v", err)
	}

	// An explicit path beats everything, and must exist.
	if cfg, err := Open("targets.toml", embedded); err != nil || cfg.Targets[0].Name != "cwd" {
		t.Fatalf("explicit: %+v, %v", cfg, err)
	}
	if _, err := Open("missing.toml", embedded); err == nil || !strings.Contains(err.Error(), "missing.toml") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing explicit file: %v", err)
	}

	// Errors point into the file that was read.
	if err := os.WriteFile("bad.toml", []byte("[[target]]\nname='a'\nhost='local'\ngoarch='x86'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open("bad.toml", nil); err == nil || !strings.HasPrefix(err.Error(), "bad.toml:4:8: goarch: ") {
		t.Errorf("bad file: %v", err)
	}
}

func TestBOM(t *testing.T) {
	_, err := Parse("f", []byte("\xef\xbb\xbf[[target]]\nname='a'\nhost='local'\ngoarch='x'\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "f:4:8: goarch:") {
		t.Errorf("BOM: %v", err)
	}
}

func TestCRLF(t *testing.T) {
	data := strings.ReplaceAll(string(readTestdata(t, "invalid_three.toml")), "\n", "\r\n")
	_, err := Parse("w.toml", []byte(data))
	l := errorList(t, err)
	var got []string
	for _, e := range l {
		got = append(got, e.Pos.String())
	}
	if want := []string{"w.toml:4:1", "w.toml:10:11", "w.toml:13:8"}; !slices.Equal(got, want) {
		t.Errorf("CRLF positions %v, want %v", got, want)
	}
	cfg := mustParse(t, "w.toml", []byte(strings.ReplaceAll(string(readTestdata(t, "valid_full.toml")), "\n", "\r\n")))
	if cfg.Targets[1].Name != "pi5" || cfg.Profiles[0].KeyPos["build.env.CGO_CFLAGS"].String() != "w.toml:45:9" {
		t.Errorf("CRLF config %+v", cfg.Profiles[0].KeyPos)
	}
}
