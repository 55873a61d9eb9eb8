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
	dirs, err := filepath.Glob(filepath.Join("testdata", "*", "cpuinfo"))
	if err != nil || len(dirs) == 0 {
		f.Fatalf("no recorded cpuinfo to seed from in testdata/*/cpuinfo (%v)", err)
	}
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

// FuzzTargetFor checks that a [user@]HOST[:PORT] argument either is
// refused or yields a host and port that print back to the same target.
func FuzzTargetFor(f *testing.F) {
	for _, s := range []string{"raspberrypi.local", "pi@10.0.0.7:2222", "[::1]:2222", "me@[fe80::1%eth0]", "fe80::1", "a@b@c", "host:", "[::1]x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		tg, err := TargetFor(spec)
		if err != nil {
			return
		}
		if tg.Host == "" || tg.Port < 0 || tg.Port > 65535 || strings.ContainsAny(tg.Host, "@[] \t\n/") || strings.HasPrefix(tg.Host, "-") {
			t.Fatalf("TargetFor(%q) accepted %+v", spec, tg)
		}
		again, err := TargetFor(addr(tg))
		if err != nil || again.Host != tg.Host || again.User != tg.User || again.Port != tg.Port {
			t.Fatalf("TargetFor(%q) = %+v prints as %q, which reads back as %+v (%v)", spec, tg, addr(tg), again, err)
		}
	})
}

// FuzzParseReport feeds arbitrary device output to the report parser.
func FuzzParseReport(f *testing.F) {
	f.Add(sectionMarker + "uname\nLinux 6.6 aarch64\n" + sectionMarker + "elf\n 7f 45 4c 46 02\n" + sectionMarker + "end\n")
	f.Add("motd\n" + sectionMarker + "uname\n" + sectionMarker + "end")
	f.Fuzz(func(t *testing.T, out string) {
		facts, err := ParseReport([]byte(out))
		if err != nil {
			return
		}
		if facts.LongBit != 0 && facts.LongBit != 32 && facts.LongBit != 64 || facts.ELFClass != 0 && facts.ELFClass != 32 && facts.ELFClass != 64 || facts.MemTotal < 0 || facts.NProc < 0 {
			t.Fatalf("facts out of range: %+v", facts)
		}
		FromFacts(facts) // must not panic
	})
}
