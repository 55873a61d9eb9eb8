package targets

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

func TestShippedTargetsToml(t *testing.T) {
	data, err := os.ReadFile("../targets.toml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := mustParse(t, "targets.toml", data)
	if cfg.Project.Pkg != "./examples/workload" {
		t.Errorf("pkg = %q", cfg.Project.Pkg)
	}
	if len(cfg.Targets) != 2 || len(cfg.Profiles) != 0 {
		t.Fatalf("targets %d profiles %d", len(cfg.Targets), len(cfg.Profiles))
	}
	a64, ok := cfg.Lookup("local-arm64")
	if !ok || !a64.IsLocal() || a64.Arch() != "arm64 v8.0" || a64.DeployDir != ".armbench/device/local-arm64" || a64.Memory != 1<<30 {
		t.Errorf("local-arm64 = %+v", a64)
	}
	a7, ok := cfg.Lookup("local-armv7")
	if !ok || !a7.IsLocal() || a7.Arch() != "arm v7" || a7.GOOS != "linux" || a7.Memory != 512<<20 {
		t.Errorf("local-armv7 = %+v", a7)
	}
}

// The commented examples are documentation users copy; uncommented, they
// must parse and mean what their comments say.
func TestShippedExamplesParse(t *testing.T) {
	data, err := os.ReadFile("../targets.toml")
	if err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile(`^# (\[\[?[a-z.]+\]\]?|[a-z_0-9]+ = .*)$`)
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if code.MatchString(line) {
			line = strings.TrimPrefix(line, "# ")
		}
		out = append(out, line)
	}
	cfg := mustParse(t, "uncommented.toml", []byte(strings.Join(out, "\n")))
	want := map[string]string{
		"local-arm64": "arm64 v8.0", "local-armv7": "arm v7",
		"pi-zero": "arm v6", "pi3": "arm64 v8.0", "pi4": "arm64 v8.0", "pi5": "arm64 v8.2",
	}
	if len(cfg.Targets) != len(want) {
		t.Errorf("got %d targets, want %d", len(cfg.Targets), len(want))
	}
	for name, arch := range want {
		tg, ok := cfg.Lookup(name)
		if !ok || tg.Arch() != arch {
			t.Errorf("%s: found %v, arch %q, want %q", name, ok, tg.Arch(), arch)
		}
		if ok && !tg.IsLocal() && (tg.User != "pi" || tg.Memory == 0 || tg.Cores == 0) {
			t.Errorf("%s = %+v", name, tg)
		}
	}
	if len(cfg.Profiles) != 1 || cfg.Profiles[0].Extends != "release" || cfg.Profiles[0].Run.GOGC == nil {
		t.Errorf("profiles = %+v", cfg.Profiles)
	}
	prose := strings.Join(strings.Fields(strings.ReplaceAll(string(data), "\n#", " ")), " ")
	if !strings.Contains(prose, `32-bit Raspberry Pi OS needs goarch = "arm" (with goarm = "7") even on a Pi 3, 4 or 5`) {
		t.Error("the note on 32-bit Raspberry Pi OS is missing")
	}
}
