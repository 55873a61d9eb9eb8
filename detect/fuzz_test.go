package detect

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzCPUInfo checks that the cpuinfo parser never panics, that what it
// parses survives a round trip through String, and that the detection on
// top of it never panics either, whatever the file holds.
func FuzzCPUInfo(f *testing.F) {
	dirs, _ := filepath.Glob(filepath.Join("testdata", "*", "cpuinfo"))
	for _, p := range dirs {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, text string) {
		info := ParseCPUInfo(text)
		again := ParseCPUInfo(info.String())
		if !reflect.DeepEqual(normalize(info), normalize(again)) {
			t.Fatalf("round trip changed the parse\nfirst  %#v\nsecond %#v", info, again)
		}
		for _, s := range append(append([]Section(nil), info.Processors...), info.Global) {
			for _, fl := range s {
				if fl.Key == "" || strings.ContainsAny(fl.Key, ":\n") || strings.Contains(fl.Value, "\n") ||
					fl.Key != strings.TrimSpace(fl.Key) || fl.Value != strings.TrimSpace(fl.Value) {
					t.Fatalf("bad field %q", fl)
				}
			}
		}
		for _, c := range info.Cores() {
			if !sortedUnique(c.Features) {
				t.Fatalf("features not a sorted set: %q", c.Features)
			}
		}
		for _, m := range []string{"aarch64", "armv7l", "armv6l"} {
			r := FromFacts(Facts{Machine: m, CPUInfo: info})
			if r.Err != nil {
				t.Fatalf("%s: %v", m, r.Err)
			}
			if m == "aarch64" && r.Target.GOARCH != "arm64" || m != "aarch64" && r.Target.GOARCH != "arm" {
				t.Fatalf("%s: goarch %q", m, r.Target.GOARCH)
			}
			if r.Target.GOARCH == "arm64" && !strings.HasPrefix(r.Target.GOARM64, "v8.") && !strings.HasPrefix(r.Target.GOARM64, "v9.") {
				t.Fatalf("goarm64 %q", r.Target.GOARM64)
			}
		}
	})
}

// normalize makes nil and empty sections compare equal.
func normalize(c CPUInfo) CPUInfo {
	if len(c.Processors) == 0 {
		c.Processors = nil
	}
	if len(c.Global) == 0 {
		c.Global = nil
	}
	return c
}

func sortedUnique(s []string) bool {
	for i := 1; i < len(s); i++ {
		if s[i-1] >= s[i] {
			return false
		}
	}
	return true
}
