package detect

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// loadBoard reads a recorded device report from testdata/<name>/.
func loadBoard(t testing.TB, name string) Facts {
	t.Helper()
	dir := filepath.Join("testdata", name)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("recorded board %s: %v", name, err)
	}
	secs := map[string]string{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		secs[e.Name()] = string(b)
	}
	return FactsFromSections(secs)
}

func TestRecordedBoards(t *testing.T) {
	tests := []struct {
		board   string
		name    string
		goarch  string
		goarm   string
		goarm64 string
		cpu     string
		cores   int
		memory  string
		cc      string
		// substrings the reasons must contain, key → text
		why map[string]string
	}{
		{
			board: "pi-zero-w", name: "pizero", goarch: "arm", goarm: "6", cpu: "arm1176", cores: 1, memory: "433MiB",
			why: map[string]string{
				"goarch": "the kernel (armv6l) and userland (/bin/sh is ELF32, getconf LONG_BIT 32, dpkg armhf) are 32-bit",
				"goarm":  "ARM1176 (ARMv6",
				"":       "emits ARMv7 code, which fails on this ARMv6 CPU",
			},
		},
		{
			board: "pi2-v1.1", name: "pi2", goarch: "arm", goarm: "7", cpu: "cortex-a7", cores: 4, memory: "926MiB", cc: "arm-linux-gnueabihf-gcc",
			why: map[string]string{"goarm": "Cortex-A7 (ARMv7); hardfloat (the default for GOARM 7): the features include vfpv3"},
		},
		{
			board: "pi3b", name: "pi3", goarch: "arm", goarm: "7", cpu: "cortex-a53", cores: 4, memory: "926MiB", cc: "arm-linux-gnueabihf-gcc",
			why: map[string]string{"goarm": "Cortex-A53 (ARMv8, runs ARMv7 code in 32-bit mode)"},
		},
		{
			board: "pi4-64bit", name: "pi4", goarch: "arm64", goarm64: "v8.0", cpu: "cortex-a72", cores: 4, memory: "7810MiB", cc: "aarch64-linux-gnu-gcc",
			why: map[string]string{
				"goarch":  "userland is 64-bit (/bin/sh is ELF64, getconf LONG_BIT 64, dpkg arm64) on an aarch64 kernel",
				"goarm64": "no atomics (lse) and no aes+pmull+sha1+sha2 (crypto)",
			},
		},
		{
			board: "pi4-32bit", name: "pi4", goarch: "arm", goarm: "7", cpu: "cortex-a72", cores: 4, memory: "3791MiB", cc: "arm-linux-gnueabihf-gcc",
			why: map[string]string{
				"goarch": "userland is 32-bit (/bin/sh is ELF32, getconf LONG_BIT 32, dpkg armhf) although the kernel is aarch64",
				"goarm":  "hardfloat (the default for GOARM 7): the features include fp",
			},
		},
		{
			board: "pi5", name: "pi5", goarch: "arm64", goarm64: "v8.2,lse,crypto", cpu: "cortex-a76", cores: 4, memory: "8052MiB", cc: "aarch64-linux-gnu-gcc",
			why: map[string]string{"goarm64": "Cortex-A76 (ARMv8.2-A); the features list atomics (lse) and aes, pmull, sha1 and sha2 (crypto)"},
		},
		{
			board: "rock5b", name: "radxa-rock-5b", goarch: "arm64", goarm64: "v8.2,lse,crypto", cpu: "cortex-a55+cortex-a76", cores: 8, memory: "15732MiB", cc: "aarch64-linux-gnu-gcc",
			why: map[string]string{
				"goarm64":     "mixes Cortex-A55 and Cortex-A76; ARMv8.2-A is what every core runs",
				"description": "from /proc/device-tree/model",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.board, func(t *testing.T) {
			r := FromFacts(loadBoard(t, tt.board))
			if r.Err != nil {
				t.Fatalf("FromFacts: %v", r.Err)
			}
			tg := r.Target
			got := []any{tg.Name, tg.GOARCH, tg.GOARM, tg.GOARM64, tg.CPU, tg.Cores, tg.MemoryText, tg.CC}
			want := []any{tt.name, tt.goarch, tt.goarm, tt.goarm64, tt.cpu, tt.cores, tt.memory, tt.cc}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("target (name goarch goarm goarm64 cpu cores memory cc)\n got %v\nwant %v", got, want)
			}
			if tg.Memory == 0 || tg.Memory%(1<<20) != 0 {
				t.Errorf("Memory = %d, want whole MiB matching %q", tg.Memory, tg.MemoryText)
			}
			// Every value written has a reason, and nothing else does.
			values := map[string]string{"name": tg.Name, "description": tg.Description, "goarch": tg.GOARCH,
				"goarm": tg.GOARM, "goarm64": tg.GOARM64, "cpu": tg.CPU, "cc": tg.CC, "memory": tg.MemoryText}
			for k, v := range values {
				rs, ok := r.Reason(k)
				if v == "" && ok {
					t.Errorf("reason for unset %s: %v", k, rs)
				}
				if v != "" && (!ok || rs.Value != v || rs.Why == "") {
					t.Errorf("reason for %s = %q: got %+v", k, v, rs)
				}
			}
			for key, sub := range tt.why {
				var texts []string
				for _, rs := range r.Reasons {
					if rs.Key == key {
						texts = append(texts, rs.Why)
					}
				}
				if !strings.Contains(strings.Join(texts, "\n"), sub) {
					t.Errorf("reasons for %q = %q, want one containing %q", key, texts, sub)
				}
			}
		})
	}
}

func TestX86IsNotARM(t *testing.T) {
	r := FromFacts(loadBoard(t, "x86_64"))
	var nae *NotARMError
	if !errors.As(r.Err, &nae) {
		t.Fatalf("Err = %v, want *NotARMError", r.Err)
	}
	if got, want := r.Err.Error(), "x86_64: not an ARM device; armbench targets arm and arm64"; got != want {
		t.Errorf("Err = %q, want %q", got, want)
	}
	if r.Target.GOARCH != "" || r.Target.Name != "" || r.OK() {
		t.Errorf("an x86 device got a target: %+v", r.Target)
	}
	if len(r.Reasons) != 1 || !strings.Contains(r.Reasons[0].Why, "Intel(R) Core(TM) i5-8250U") {
		t.Errorf("reasons = %v, want one describing the device", r.Reasons)
	}
}

func TestEdgeCases(t *testing.T) {
	v7 := "processor\t: 0\nmodel name\t: ARMv7 Processor rev 1 (v7l)\nFeatures\t: half thumb fastmult vfp edsp neon vfpv3 tls\nCPU implementer\t: 0x41\nCPU architecture: 7\nCPU variant\t: 0x2\nCPU part\t: 0xc09\nCPU revision\t: 10\n"
	tests := []struct {
		name  string
		facts Facts
		check func(t *testing.T, r Result)
	}{
		{"no uname", Facts{}, func(t *testing.T, r Result) {
			if r.Err == nil || !strings.Contains(r.Err.Error(), "did not report its architecture") {
				t.Errorf("Err = %v", r.Err)
			}
		}},
		{"big-endian", Facts{Machine: "aarch64_be", OS: "Linux"}, func(t *testing.T, r Result) {
			if r.Err == nil || !strings.Contains(r.Err.Error(), "big-endian") {
				t.Errorf("Err = %v", r.Err)
			}
		}},
		{"not Linux", Facts{Machine: "arm64", OS: "Darwin"}, func(t *testing.T, r Result) {
			if r.Err == nil || !strings.Contains(r.Err.Error(), "not a Linux device") {
				t.Errorf("Err = %v", r.Err)
			}
		}},
		{"riscv", Facts{Machine: "riscv64", OS: "Linux"}, func(t *testing.T, r Result) {
			if r.Err == nil || r.Err.Error() != "riscv64: not an ARM device; armbench targets arm and arm64" {
				t.Errorf("Err = %v", r.Err)
			}
		}},
		{"cortex-a9 without dpkg", Facts{Machine: "armv7l", CPUInfo: ParseCPUInfo(v7)}, func(t *testing.T, r Result) {
			if r.Target.GOARM != "7" || r.Target.CPU != "cortex-a9" || r.Target.CC != "" {
				t.Errorf("target = %+v", r.Target)
			}
			if rs, _ := r.Reason("goarch"); rs.Why != "the kernel is armv7l (32-bit ARM)" {
				t.Errorf("goarch reason = %q", rs.Why)
			}
			if !hasNote(r, "no dpkg on the device") {
				t.Errorf("no note about the missing dpkg: %v", r.Reasons)
			}
		}},
		{"ARMv7 without VFP", Facts{Machine: "armv7l", CPUInfo: ParseCPUInfo(strings.Replace(v7, "vfp edsp neon vfpv3 ", "edsp ", 1))}, func(t *testing.T, r Result) {
			if r.Target.GOARM != "7,softfloat" {
				t.Errorf("GOARM = %q, want 7,softfloat", r.Target.GOARM)
			}
		}},
		{"ARMv7 with VFPv2 only", Facts{Machine: "armv7l", CPUInfo: ParseCPUInfo(strings.Replace(v7, " vfpv3", "", 1))}, func(t *testing.T, r Result) {
			if r.Target.GOARM != "6" {
				t.Errorf("GOARM = %q, want 6", r.Target.GOARM)
			}
		}},
		{"arm64 without features cannot prove LSE", Facts{Machine: "aarch64", DpkgArch: "arm64",
			CPUInfo: ParseCPUInfo("processor\t: 0\nCPU implementer\t: 0x41\nCPU part\t: 0xd0b\n")}, func(t *testing.T, r Result) {
			if r.Target.GOARM64 != "v8.0" {
				t.Errorf("GOARM64 = %q, want v8.0", r.Target.GOARM64)
			}
			if rs, _ := r.Reason("goarm64"); !strings.Contains(rs.Why, "capped at v8.0") {
				t.Errorf("reason = %q", rs.Why)
			}
		}},
		{"unknown arm64 core with atomics", Facts{Machine: "aarch64", LongBit: 64,
			CPUInfo: ParseCPUInfo("processor\t: 0\nFeatures\t: fp asimd atomics aes pmull sha1 sha2\nCPU implementer\t: 0x61\nCPU part\t: 0x022\n")}, func(t *testing.T, r Result) {
			if r.Target.GOARM64 != "v8.0,lse,crypto" || r.Target.CPU != "" {
				t.Errorf("target = %+v", r.Target)
			}
			if rs, _ := r.Reason("goarm64"); !strings.Contains(rs.Why, "unknown core (Apple part 0x22)") {
				t.Errorf("reason = %q", rs.Why)
			}
		}},
		{"conflicting userland evidence", Facts{Machine: "aarch64", DpkgArch: "arm64", ELFClass: 32,
			CPUInfo: ParseCPUInfo("processor\t: 0\nFeatures\t: fp asimd\nCPU implementer\t: 0x41\nCPU part\t: 0xd03\n")}, func(t *testing.T, r Result) {
			if r.Target.GOARCH != "arm" || !hasNote(r, "conflicting userland evidence: dpkg arm64 against /bin/sh is ELF32") {
				t.Errorf("target = %+v, reasons %v", r.Target, r.Reasons)
			}
		}},
		{"32-bit kernel cannot run 64-bit userland", Facts{Machine: "armv7l", LongBit: 64}, func(t *testing.T, r Result) {
			if r.Target.GOARCH != "arm" || !hasNote(r, "runs only 32-bit programs") {
				t.Errorf("target = %+v, reasons %v", r.Target, r.Reasons)
			}
		}},
		{"pi 2 v1.2 has a Cortex-A53", Facts{Machine: "armv7l", DpkgArch: "armhf", Model: "Raspberry Pi 2 Model B Rev 1.2",
			CPUInfo: ParseCPUInfo(strings.Replace(v7, "0xc09", "0xd03", 1))}, func(t *testing.T, r Result) {
			if r.Target.Name != "pi2" || r.Target.CPU != "cortex-a53" || !hasNote(r, "has a cortex-a53 where the board usually has a cortex-a7") {
				t.Errorf("target = %+v, reasons %v", r.Target, r.Reasons)
			}
		}},
		{"pre-3.8 kernel layout", Facts{Machine: "armv6l", DpkgArch: "armhf",
			CPUInfo: ParseCPUInfo("Processor\t: ARMv6-compatible processor rev 7 (v6l)\nBogoMIPS\t: 697.95\nFeatures\t: swp half thumb fastmult vfp edsp java tls\nCPU implementer\t: 0x41\nCPU architecture: 7\nCPU variant\t: 0x0\nCPU part\t: 0xb76\nCPU revision\t: 7\n\nHardware\t: BCM2708\nRevision\t: 000e\n")}, func(t *testing.T, r Result) {
			if r.Target.GOARM != "6" || r.Target.CPU != "arm1176" {
				t.Errorf("target = %+v", r.Target)
			}
		}},
		{"board without MIDR lines", Facts{Machine: "aarch64", DpkgArch: "arm64", Model: "Raspberry Pi 5 Model B Rev 1.0",
			CPUInfo: ParseCPUInfo("processor\t: 0\nFeatures\t: fp asimd atomics\n")}, func(t *testing.T, r Result) {
			if r.Target.CPU != "cortex-a76" || r.Target.GOARM64 != "v8.2,lse" {
				t.Errorf("target = %+v", r.Target)
			}
			if rs, _ := r.Reason("cpu"); !strings.Contains(rs.Why, "usual CPU of this board") {
				t.Errorf("cpu reason = %q", rs.Why)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, FromFacts(tt.facts)) })
	}
}

func hasNote(r Result, sub string) bool {
	for _, rs := range r.Reasons {
		if rs.Key == "" && strings.Contains(rs.Why, sub) {
			return true
		}
	}
	return false
}

func TestFactsFromSections(t *testing.T) {
	f := loadBoard(t, "pi4-32bit")
	want := Facts{OS: "Linux", Kernel: "6.1.0-rpi6-rpi-v8", Machine: "aarch64", DpkgArch: "armhf",
		Model: "Raspberry Pi 4 Model B Rev 1.4", NProc: 4, MemTotal: 3882780 * 1024, LongBit: 32, ELFClass: 32}
	f.CPUInfo = CPUInfo{}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("facts\n got %+v\nwant %+v", f, want)
	}
	if c := elfClass("\x7fELF\x02\x01"); c != 64 {
		t.Errorf("raw ELF header: class %d", c)
	}
	if c := elfClass("0000000 7f 45 4c 46 01\n0000005\n"); c != 32 {
		t.Errorf("od with offsets: class %d", c)
	}
	if c := elfClass("#!/bin/sh"); c != 0 {
		t.Errorf("script: class %d", c)
	}
}

func TestParseReport(t *testing.T) {
	out := "motd noise\n\n" + sectionMarker + "uname\nLinux 6.6.51 aarch64\n\n" + sectionMarker + "dpkg\n\n" +
		sectionMarker + "cpuinfo\nprocessor\t: 0\nCPU part\t: 0xd08\n\n" + sectionMarker + "getconf\n64\n\n" + sectionMarker + "end\n"
	f, err := ParseReport([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if f.Machine != "aarch64" || f.Kernel != "6.6.51" || f.OS != "Linux" || f.DpkgArch != "" || f.LongBit != 64 || len(f.CPUInfo.Processors) != 1 {
		t.Errorf("facts = %+v", f)
	}
	if _, err := ParseReport([]byte(strings.TrimSuffix(out, sectionMarker+"end\n"))); err == nil || !strings.Contains(err.Error(), "incomplete") {
		t.Errorf("cut report: err = %v", err)
	}
	if _, err := ParseReport([]byte("fish: Unknown command\n")); err == nil {
		t.Error("garbage report accepted")
	}
}
