package detect

import (
	"fmt"
	"strings"
)

// What armbench knows about ARM hardware is kept as data, so a new board or
// core is one line here and the detection logic never names a product.

// CPU is one core design, identified by the MIDR fields the kernel prints
// in /proc/cpuinfo ("CPU implementer", "CPU part").
type CPU struct {
	Implementer uint64
	Part        uint64
	Name        string // as written in targets.toml's cpu, e.g. "cortex-a72"
	// Arch is the ARM architecture version the core implements: 6, 7 or 8
	// (ARMv9 cores are 8 here: they run every ARMv8 binary).
	Arch int
	// Level is the GOARM64 version the core implements ("" for 32-bit-only
	// cores). Only levels whose extensions Go uses matter; the features
	// line still has to prove LSE before anything above v8.0 is written.
	Level string
	// AArch64 is false for cores that cannot run 64-bit code at all.
	AArch64 bool
}

// cpus is indexed by implementer and part. Sources: the ARM Technical
// Reference Manuals (MIDR_EL1 PartNum and architecture of each core) and
// the Linux kernel's arch/arm64/include/asm/cputype.h.
var cpus = []CPU{
	// ARM Ltd (implementer 0x41), 32-bit cores.
	{0x41, 0xb02, "arm11-mpcore", 6, "", false},
	{0x41, 0xb36, "arm1136", 6, "", false},
	{0x41, 0xb56, "arm1156", 6, "", false},
	{0x41, 0xb76, "arm1176", 6, "", false},
	{0x41, 0xc05, "cortex-a5", 7, "", false},
	{0x41, 0xc07, "cortex-a7", 7, "", false},
	{0x41, 0xc08, "cortex-a8", 7, "", false},
	{0x41, 0xc09, "cortex-a9", 7, "", false},
	{0x41, 0xc0d, "cortex-a12", 7, "", false},
	{0x41, 0xc0e, "cortex-a17", 7, "", false},
	{0x41, 0xc0f, "cortex-a15", 7, "", false},
	{0x41, 0xd01, "cortex-a32", 8, "", false}, // ARMv8 with AArch32 only
	// ARM Ltd, ARMv8.0 cores.
	{0x41, 0xd02, "cortex-a34", 8, "v8.0", true},
	{0x41, 0xd03, "cortex-a53", 8, "v8.0", true},
	{0x41, 0xd04, "cortex-a35", 8, "v8.0", true},
	{0x41, 0xd07, "cortex-a57", 8, "v8.0", true},
	{0x41, 0xd08, "cortex-a72", 8, "v8.0", true},
	{0x41, 0xd09, "cortex-a73", 8, "v8.0", true},
	// ARM Ltd, ARMv8.2 cores.
	{0x41, 0xd05, "cortex-a55", 8, "v8.2", true},
	{0x41, 0xd06, "cortex-a65", 8, "v8.2", true},
	{0x41, 0xd0a, "cortex-a75", 8, "v8.2", true},
	{0x41, 0xd0b, "cortex-a76", 8, "v8.2", true},
	{0x41, 0xd0c, "neoverse-n1", 8, "v8.2", true},
	{0x41, 0xd0d, "cortex-a77", 8, "v8.2", true},
	{0x41, 0xd0e, "cortex-a76ae", 8, "v8.2", true},
	{0x41, 0xd41, "cortex-a78", 8, "v8.2", true},
	{0x41, 0xd42, "cortex-a78ae", 8, "v8.2", true},
	{0x41, 0xd43, "cortex-a65ae", 8, "v8.2", true},
	{0x41, 0xd44, "cortex-x1", 8, "v8.2", true},
	{0x41, 0xd4a, "neoverse-e1", 8, "v8.2", true},
	{0x41, 0xd4b, "cortex-a78c", 8, "v8.2", true},
	{0x41, 0xd4c, "cortex-x1c", 8, "v8.2", true},
	// ARM Ltd, ARMv8.4 and ARMv9 cores.
	{0x41, 0xd40, "neoverse-v1", 8, "v8.4", true},
	{0x41, 0xd46, "cortex-a510", 8, "v9.0", true},
	{0x41, 0xd47, "cortex-a710", 8, "v9.0", true},
	{0x41, 0xd48, "cortex-x2", 8, "v9.0", true},
	{0x41, 0xd49, "neoverse-n2", 8, "v9.0", true},
	{0x41, 0xd4d, "cortex-a715", 8, "v9.0", true},
	{0x41, 0xd4e, "cortex-x3", 8, "v9.0", true},
	{0x41, 0xd4f, "neoverse-v2", 8, "v9.0", true},
	{0x41, 0xd80, "cortex-a520", 8, "v9.2", true},
	{0x41, 0xd81, "cortex-a720", 8, "v9.2", true},
	{0x41, 0xd82, "cortex-x4", 8, "v9.2", true},
	// Qualcomm (0x51): Kryo cores are ARM designs under another MIDR.
	{0x51, 0x800, "kryo-2xx-gold", 8, "v8.0", true},
	{0x51, 0x801, "kryo-2xx-silver", 8, "v8.0", true},
	{0x51, 0x802, "kryo-3xx-gold", 8, "v8.2", true},
	{0x51, 0x803, "kryo-3xx-silver", 8, "v8.2", true},
	{0x51, 0x804, "kryo-4xx-gold", 8, "v8.2", true},
	{0x51, 0x805, "kryo-4xx-silver", 8, "v8.2", true},
	// NVIDIA (0x4e), Cavium (0x43), HiSilicon (0x48).
	{0x4e, 0x004, "carmel", 8, "v8.2", true},
	{0x43, 0x0a1, "thunderx", 8, "v8.0", true},
	{0x43, 0x0af, "thunderx2", 8, "v8.1", true},
	{0x48, 0xd01, "tsv110", 8, "v8.2", true},
}

// lookupCPU finds a core by its MIDR fields.
func lookupCPU(implementer, part uint64) (CPU, bool) {
	for _, c := range cpus {
		if c.Implementer == implementer && c.Part == part {
			return c, true
		}
	}
	return CPU{}, false
}

// implementerName is the vendor behind a MIDR implementer code, for
// messages about cores armbench does not know.
func implementerName(code uint64) string {
	switch code {
	case 0x41:
		return "ARM"
	case 0x42:
		return "Broadcom"
	case 0x43:
		return "Cavium"
	case 0x48:
		return "HiSilicon"
	case 0x4e:
		return "NVIDIA"
	case 0x51:
		return "Qualcomm"
	case 0x53:
		return "Samsung"
	case 0x56:
		return "Marvell"
	case 0x61:
		return "Apple"
	case 0x69:
		return "Intel"
	case 0xc0:
		return "Ampere"
	}
	return fmt.Sprintf("implementer %#x", code)
}

// Board is a known single-board computer, recognised by the model string of
// its device tree (/proc/device-tree/model, also the "Model" line that
// Raspberry Pi kernels add to /proc/cpuinfo).
type Board struct {
	// Prefixes of the model string; the first board with a matching prefix
	// wins, so more specific prefixes come first.
	Prefixes []string
	Name     string // suggested target name
	SoC      string
	// CPUPart is the core the board ships with. It is used when the
	// kernel does not print "CPU part" (some older or vendor kernels),
	// and to notice a model string that disagrees with the CPU.
	CPUPart uint64
}

// boards are matched in order. Raspberry Pi model strings are documented
// with the revision codes in the Raspberry Pi hardware documentation; the
// "Rev x.y" suffix varies, so only the stable prefix is matched.
var boards = []Board{
	{[]string{"Raspberry Pi Zero 2"}, "pizero2", "BCM2710A1", 0xd03},
	{[]string{"Raspberry Pi Zero"}, "pizero", "BCM2835", 0xb76},
	{[]string{"Raspberry Pi Model", "Raspberry Pi Compute Module Rev", "Raspberry Pi Compute Module 1"}, "pi1", "BCM2835", 0xb76},
	// A Pi 2 Model B v1.2 has the Pi 3's BCM2837 (Cortex-A53); its model
	// string is still "Raspberry Pi 2 Model B Rev 1.2", so the CPU part,
	// not this row, decides what it can run.
	{[]string{"Raspberry Pi 2"}, "pi2", "BCM2836", 0xc07},
	{[]string{"Raspberry Pi 3", "Raspberry Pi Compute Module 3"}, "pi3", "BCM2837", 0xd03},
	{[]string{"Raspberry Pi 400"}, "pi400", "BCM2711", 0xd08},
	{[]string{"Raspberry Pi Compute Module 4"}, "cm4", "BCM2711", 0xd08},
	{[]string{"Raspberry Pi 4"}, "pi4", "BCM2711", 0xd08},
	{[]string{"Raspberry Pi 500"}, "pi500", "BCM2712", 0xd0b},
	{[]string{"Raspberry Pi Compute Module 5"}, "cm5", "BCM2712", 0xd0b},
	{[]string{"Raspberry Pi 5"}, "pi5", "BCM2712", 0xd0b},
}

// lookupBoard finds the board whose model string starts with one of its
// prefixes.
func lookupBoard(model string) (Board, bool) {
	model = strings.TrimSpace(model)
	if model == "" {
		return Board{}, false
	}
	for _, b := range boards {
		for _, p := range b.Prefixes {
			if strings.HasPrefix(model, p) {
				return b, true
			}
		}
	}
	return Board{}, false
}

// Cross compilers Debian ships for each userland. Raspbian's armhf is
// ARMv6 but Debian's arm-linux-gnueabihf-gcc emits ARMv7 code, hence the
// check in FromFacts before suggesting it for an ARMv6 CPU.
var crossCC = map[string]string{
	"arm64": "aarch64-linux-gnu-gcc",
	"armhf": "arm-linux-gnueabihf-gcc",
	"armel": "arm-linux-gnueabi-gcc",
}
