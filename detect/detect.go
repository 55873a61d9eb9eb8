// Package detect turns what a device says about itself (uname, dpkg,
// /proc/cpuinfo, the device tree, getconf) into a target for targets.toml,
// with the reason for every value.
//
// It sits between targets (which owns the file's schema) and remote (which
// owns the connection): neither should know about CPU parts or Raspberry Pi
// models, and both are needed to go from a host name to a written target.
package detect

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"armbench/targets"
)

// Reason explains one value of a detected target. A Reason with no Key is
// a note about the device as a whole.
type Reason struct {
	Key   string `json:"key,omitempty"` // targets.toml key: "goarch", "goarm64", …
	Value string `json:"value,omitempty"`
	Why   string `json:"why"`
}

func (r Reason) String() string {
	if r.Key == "" {
		return r.Why
	}
	return r.Key + " = " + r.Value + ": " + r.Why
}

// Result is a detected target with its reasons, or why there is none.
type Result struct {
	Target  targets.Target
	Board   string // the device's model string, "" when it has none
	Reasons []Reason
	// Err is set when the device cannot be a target (not ARM, not Linux,
	// nothing reported); Target is then empty: armbench never invents one.
	Err error
}

// OK reports whether a target was detected.
func (r Result) OK() bool { return r.Err == nil }

// Reason returns the reason given for key.
func (r Result) Reason(key string) (Reason, bool) {
	for _, x := range r.Reasons {
		if x.Key == key {
			return x, true
		}
	}
	return Reason{}, false
}

// NotARMError is a device armbench cannot build for.
type NotARMError struct {
	Machine string // uname -m
	OS      string // uname -s
	Detail  string // what else is wrong, e.g. "big-endian"
}

func (e *NotARMError) Error() string {
	switch {
	case e.Machine == "":
		return "the device did not report its architecture (uname -m printed nothing); cannot detect a target"
	case e.OS != "" && e.OS != "Linux":
		return fmt.Sprintf("%s on %s: not a Linux device; armbench targets Linux on arm and arm64", e.OS, e.Machine)
	case e.Detail != "":
		return fmt.Sprintf("%s: %s; armbench targets little-endian arm and arm64", e.Machine, e.Detail)
	}
	return fmt.Sprintf("%s: not an ARM device; armbench targets arm and arm64", e.Machine)
}

// kernelKind classifies uname -m.
type kernelKind int

const (
	kernelOther kernelKind = iota
	kernelARM32
	kernelARM64
)

func classifyMachine(m string) (kernelKind, string) {
	switch {
	case m == "aarch64" || m == "arm64":
		return kernelARM64, ""
	case m == "aarch64_be" || m == "armv8b" || m == "armv7b" || m == "armeb" || strings.HasSuffix(m, "b") && strings.HasPrefix(m, "armv"):
		return kernelOther, "a big-endian ARM device, which Go does not support"
	case strings.HasPrefix(m, "arm"):
		return kernelARM32, ""
	}
	return kernelOther, ""
}

// FromFacts decides the target a device needs. Every value it sets comes
// with a Reason; values it cannot establish are left empty (targets.toml
// defaults apply) and say so in a note.
func FromFacts(f Facts) Result {
	var r Result
	r.Board = f.Model
	if r.Board == "" {
		r.Board = f.CPUInfo.Model()
	}
	kind, detail := classifyMachine(f.Machine)
	if f.OS != "" && f.OS != "Linux" || kind == kernelOther {
		r.Err = &NotARMError{Machine: f.Machine, OS: f.OS, Detail: detail}
		if f.Machine != "" {
			r.Reasons = append(r.Reasons, Reason{Why: describeNonARM(f)})
		}
		return r
	}

	d := decider{f: f, kernel: kind}
	d.board, d.hasBoard = lookupBoard(r.Board)
	d.cores = f.CPUInfo.Cores()
	d.identifyCores()

	t := &r.Target
	t.GOOS = "linux"
	d.name(t)
	d.description(t, r.Board)
	d.arch(t)
	d.cpu(t)
	d.counts(t)
	d.compiler(t)
	r.Reasons = d.reasons
	return r
}

// decider carries the facts and the reasons collected while deciding.
type decider struct {
	f        Facts
	kernel   kernelKind
	board    Board
	hasBoard bool
	cores    []Core
	known    []CPU    // one per core, Name "" when unknown
	features []string // features every core has
	hasFeat  bool     // every core printed a features line
	bits     int      // userland word size: 32 or 64
	reasons  []Reason
}

func (d *decider) add(key, value, why string)   { d.reasons = append(d.reasons, Reason{key, value, why}) }
func (d *decider) note(format string, a ...any) { d.add("", "", fmt.Sprintf(format, a...)) }

// identifyCores maps every core to the table and intersects the features:
// a binary must run on the weakest core of a big.LITTLE system.
func (d *decider) identifyCores() {
	d.known = make([]CPU, len(d.cores))
	d.hasFeat = len(d.cores) > 0
	for i, c := range d.cores {
		if c.HasMIDR {
			if cpu, ok := lookupCPU(c.Implementer, c.Part); ok {
				d.known[i] = cpu
			} else {
				d.known[i] = CPU{Implementer: c.Implementer, Part: c.Part}
			}
		} else if d.hasBoard {
			// Some vendor kernels omit the MIDR lines; the board is then
			// the best evidence of the core.
			d.known[i], _ = lookupCPU(0x41, d.board.CPUPart)
		}
		if !c.HasFeatures {
			d.hasFeat = false
		}
		if i == 0 {
			d.features = c.Features
			continue
		}
		var both []string
		for _, w := range d.features {
			if has(c.Features, w) {
				both = append(both, w)
			}
		}
		d.features = both
	}
	if len(d.cores) == 0 && d.hasBoard {
		if cpu, ok := lookupCPU(0x41, d.board.CPUPart); ok {
			d.known = []CPU{cpu}
		}
	}
	if d.hasBoard && len(d.known) > 0 && d.known[0].Name != "" && d.known[0].Part != d.board.CPUPart {
		usual, _ := lookupCPU(0x41, d.board.CPUPart)
		d.note("this %s has a %s where the board usually has a %s; going by the CPU", d.board.Name, d.known[0].Name, usual.Name)
	}
}

// distinctCPUs lists the cores' names in order of first appearance, with
// unknown cores as "implementer:part".
func (d *decider) distinctCPUs() (names []string, unknown []string) {
	seen := map[string]bool{}
	for _, c := range d.known {
		switch {
		case c.Name != "":
			if !seen[c.Name] {
				seen[c.Name] = true
				names = append(names, c.Name)
			}
		case c.Part != 0 || c.Implementer != 0:
			u := fmt.Sprintf("%s part %#x", implementerName(c.Implementer), c.Part)
			if !seen[u] {
				seen[u] = true
				unknown = append(unknown, u)
			}
		}
	}
	return names, unknown
}

func (d *decider) name(t *targets.Target) {
	switch names, _ := d.distinctCPUs(); {
	case d.hasBoard:
		t.Name = d.board.Name
		d.add("name", t.Name, "suggested from the board model; choose your own with --add NAME")
	case slug(d.f.Model) != "":
		t.Name = slug(d.f.Model)
		d.add("name", t.Name, "suggested from the device's model; choose your own with --add NAME")
	case len(names) > 0:
		t.Name = strings.Join(names, "-")
		d.add("name", t.Name, "suggested from the CPU (no known board model); choose your own with --add NAME")
	default:
		t.Name = "device"
		d.add("name", t.Name, "placeholder: neither board nor CPU is known; choose a name with --add NAME")
	}
}

func (d *decider) description(t *targets.Target, board string) {
	if board != "" {
		t.Description = board
		src := "/proc/device-tree/model"
		if d.f.Model == "" {
			src = "the Model line of /proc/cpuinfo"
		}
		d.add("description", t.Description, "from "+src)
		return
	}
	names, _ := d.distinctCPUs()
	cpu := strings.Join(names, "+")
	if cpu == "" {
		cpu = "unknown CPU"
	}
	t.Description = fmt.Sprintf("%s device (%s)", d.f.Machine, cpu)
	d.add("description", t.Description, "the device reports no model; built from uname -m and the CPU")
}

// userland decides whether programs on the device are 32- or 64-bit. The
// kernel's uname -m does not: Raspberry Pi OS 32-bit boots a 64-bit kernel
// on a Pi 4 and Pi 5. The ELF class of /bin/sh is the most direct
// evidence, then getconf LONG_BIT (a userland binary's own word size), then
// dpkg's architecture.
func (d *decider) userland() (bits int, evidence []string) {
	type ev struct {
		bits int
		text string
	}
	var all []ev
	if d.f.ELFClass != 0 {
		all = append(all, ev{d.f.ELFClass, fmt.Sprintf("/bin/sh is ELF%d", d.f.ELFClass)})
	}
	if d.f.LongBit != 0 {
		all = append(all, ev{d.f.LongBit, fmt.Sprintf("getconf LONG_BIT %d", d.f.LongBit)})
	}
	switch d.f.DpkgArch {
	case "arm64":
		all = append(all, ev{64, "dpkg arm64"})
	case "armhf", "armel", "arm":
		all = append(all, ev{32, "dpkg " + d.f.DpkgArch})
	}
	if len(all) == 0 {
		if d.kernel == kernelARM64 {
			d.note("nothing reported the userland's word size (no getconf, dpkg or readable /bin/sh); assuming it matches the 64-bit kernel")
			return 64, []string{"assumed from the kernel"}
		}
		return 32, []string{"the kernel is " + d.f.Machine}
	}
	bits = all[0].bits
	var against []string
	for _, e := range all {
		if e.bits == bits {
			evidence = append(evidence, e.text)
		} else {
			against = append(against, e.text)
		}
	}
	if len(against) > 0 {
		d.note("conflicting userland evidence: %s against %s; going by %s",
			strings.Join(against, ", "), strings.Join(evidence, ", "), all[0].text)
	}
	if d.kernel == kernelARM32 && bits == 64 {
		// A 32-bit kernel cannot run 64-bit programs, whatever is installed.
		d.note("%s suggests a 64-bit userland, but a %s kernel runs only 32-bit programs", strings.Join(evidence, ", "), d.f.Machine)
		return 32, []string{"the kernel is " + d.f.Machine}
	}
	return bits, evidence
}

func (d *decider) arch(t *targets.Target) {
	bits, evidence := d.userland()
	d.bits = bits
	ev := strings.Join(evidence, ", ")
	switch {
	case bits == 64:
		t.GOARCH = "arm64"
		d.add("goarch", "arm64", fmt.Sprintf("userland is 64-bit (%s) on an %s kernel", ev, d.f.Machine))
		d.goarm64(t)
	case d.kernel == kernelARM64:
		t.GOARCH = "arm"
		d.add("goarch", "arm", fmt.Sprintf("userland is 32-bit (%s) although the kernel is %s", ev, d.f.Machine))
		d.note("a static arm64 binary would also run on this %s kernel, but the device's own programs and libraries (cgo, tools) are 32-bit, so armbench builds for them", d.f.Machine)
		d.goarm(t)
	default:
		t.GOARCH = "arm"
		if len(evidence) == 1 && strings.HasPrefix(evidence[0], "the kernel is") {
			d.add("goarch", "arm", fmt.Sprintf("the kernel is %s (32-bit ARM)", d.f.Machine))
		} else {
			d.add("goarch", "arm", fmt.Sprintf("the kernel (%s) and userland (%s) are 32-bit", d.f.Machine, ev))
		}
		d.goarm(t)
	}
}

// armVersion is the ARM architecture version (5, 6 or 7) that 32-bit code
// may use on core i, and why.
func (d *decider) armVersion(i int) (int, string) {
	if i < len(d.known) && d.known[i].Name != "" {
		c := d.known[i]
		switch c.Arch {
		case 6:
			return 6, fmt.Sprintf("the CPU is an %s (ARMv6; its cpuinfo says \"CPU architecture: 7\", which is wrong on ARMv6 cores)", title(c.Name))
		case 7:
			return 7, fmt.Sprintf("the CPU is a %s (ARMv7)", title(c.Name))
		default:
			return 7, fmt.Sprintf("the CPU is a %s (ARMv8, runs ARMv7 code in 32-bit mode)", title(c.Name))
		}
	}
	if i < len(d.cores) {
		m := d.cores[i].ModelName
		switch {
		case strings.Contains(m, "(v6l)"):
			return 6, fmt.Sprintf("cpuinfo's model name %q says ARMv6", m)
		case strings.Contains(m, "(v7l)"), strings.Contains(m, "(v8l)"):
			return 7, fmt.Sprintf("cpuinfo's model name %q says ARMv7 or later", m)
		case strings.Contains(m, "(v5l)"), strings.Contains(m, "(v5tel)"), strings.Contains(m, "(v5tejl)"):
			return 5, fmt.Sprintf("cpuinfo's model name %q says ARMv5", m)
		}
	}
	m := d.f.Machine
	switch {
	case strings.HasPrefix(m, "armv6"):
		return 6, "uname -m is " + m
	case strings.HasPrefix(m, "armv7"), strings.HasPrefix(m, "armv8"), m == "aarch64" || m == "arm64":
		return 7, "uname -m is " + m
	}
	return 5, "uname -m is " + m + "; GOARM 5 runs on every ARM CPU Go supports"
}

func (d *decider) goarm(t *targets.Target) {
	n := len(d.cores)
	if n == 0 {
		n = 1
	}
	version, why := 7, ""
	for i := 0; i < n; i++ {
		v, w := d.armVersion(i)
		if why == "" || v < version {
			version, why = v, w
		}
	}
	value := strconv.Itoa(version)
	arm64Kernel := d.kernel == kernelARM64
	// VFP: a 32-bit kernel lists vfp/vfpv3; an arm64 kernel lists fp (and
	// every ARMv8 FPU is at least VFPv4).
	vfp := has(d.features, "vfp") || arm64Kernel && has(d.features, "fp")
	vfpv3 := has(d.features, "vfpv3") || arm64Kernel && has(d.features, "fp")
	switch {
	case version == 5:
		why += "; softfloat, the default for GOARM 5"
	case !d.hasFeat:
		why += "; hardfloat (the default) assumed: cpuinfo lists no features"
		d.note("cpuinfo lists no CPU features, so floating-point support is assumed; if programs die with SIGILL, use goarm = \"%d,softfloat\"", version)
	case version == 7 && !vfpv3 && vfp:
		// GOARM=7 emits VFPv3 instructions.
		value, version = "6", 6
		why += "; but the features list vfp without vfpv3, and GOARM 7 uses VFPv3, so GOARM 6"
	case !vfp:
		value += ",softfloat"
		why += "; softfloat: the features list no VFP unit"
	default:
		fp := "vfp"
		if version == 7 {
			fp = "vfpv3"
		}
		if arm64Kernel {
			fp = "fp"
		}
		why += fmt.Sprintf("; hardfloat (the default for GOARM %d): the features include %s", version, fp)
	}
	t.GOARM = value
	d.add("goarm", value, why)
}

// levelRank orders GOARM64 levels; v9.n includes v8.(n+5), as in the Go
// toolchain's own comparison.
func levelRank(l string) int {
	if len(l) != 4 || l[0] != 'v' || l[2] != '.' {
		return 0
	}
	major, minor := int(l[1]-'0'), int(l[3]-'0')
	if major == 9 {
		return 85 + minor
	}
	return 80 + minor
}

func (d *decider) goarm64(t *targets.Target) {
	level, why := "", ""
	var unknownCores []string
	for _, c := range d.known {
		l := c.Level
		if c.Name == "" || l == "" {
			l = "v8.0"
			if c.Part != 0 || c.Implementer != 0 {
				unknownCores = append(unknownCores, fmt.Sprintf("%s part %#x", implementerName(c.Implementer), c.Part))
			}
		}
		if level == "" || levelRank(l) < levelRank(level) {
			level = l
		}
	}
	names, _ := d.distinctCPUs()
	switch {
	case level == "" || len(names) == 0 && len(unknownCores) == 0:
		level = "v8.0"
		why = "no CPU part reported; v8.0 runs on every arm64 CPU"
	case len(unknownCores) > 0:
		why = fmt.Sprintf("unknown core (%s); v8.0 runs on every arm64 CPU", strings.Join(unknownCores, ", "))
	case len(names) > 1:
		why = fmt.Sprintf("the CPU mixes %s; %s is what every core runs", strings.Join(titles(names), " and "), armv(level))
	default:
		why = fmt.Sprintf("the CPU is a %s (%s)", title(names[0]), armv(level))
	}
	atomics := has(d.features, "atomics")
	crypto := has(d.features, "aes") && has(d.features, "pmull") && has(d.features, "sha1") && has(d.features, "sha2")
	if levelRank(level) > 80 && !atomics {
		// Every GOARM64 level above v8.0 lets the compiler emit LSE
		// atomics unconditionally; only the features line proves them.
		if d.hasFeat {
			why += "; capped at v8.0 because the features do not list atomics (LSE), which every level above v8.0 uses"
		} else {
			why += "; capped at v8.0 because cpuinfo lists no features to prove LSE atomics"
		}
		level = "v8.0"
	}
	value := level
	var ext, lacks []string
	if atomics {
		value += ",lse"
		ext = append(ext, "atomics (lse)")
	} else {
		lacks = append(lacks, "atomics (lse)")
	}
	if crypto {
		value += ",crypto"
		ext = append(ext, "aes, pmull, sha1 and sha2 (crypto)")
	} else {
		lacks = append(lacks, "aes+pmull+sha1+sha2 (crypto)")
	}
	if len(ext) > 0 {
		why += "; the features list " + strings.Join(ext, " and ")
	}
	if len(lacks) > 0 && d.hasFeat {
		why += "; no " + strings.Join(lacks, " and no ") + " in the features"
	}
	t.GOARM64 = value
	d.add("goarm64", value, why)
}

func (d *decider) cpu(t *targets.Target) {
	names, unknown := d.distinctCPUs()
	if len(names) > 0 {
		t.CPU = strings.Join(names, "+")
		var parts []string
		for _, c := range d.known {
			if c.Name == "" {
				continue
			}
			p := fmt.Sprintf("%s part %#x", implementerName(c.Implementer), c.Part)
			if !slices.Contains(parts, p) {
				parts = append(parts, p)
			}
		}
		src := "/proc/cpuinfo: " + strings.Join(parts, ", ")
		if len(d.cores) == 0 || !d.cores[0].HasMIDR {
			src = "the usual CPU of this board (cpuinfo has no CPU part)"
		}
		d.add("cpu", t.CPU, src)
	}
	if len(unknown) > 0 {
		d.note("unknown core %s: armbench's table (detect/boards.go) does not list it, so only what the features prove is used", strings.Join(unknown, ", "))
	}
}

func (d *decider) counts(t *targets.Target) {
	switch {
	case d.f.NProc > 0:
		t.Cores = d.f.NProc
		d.add("cores", strconv.Itoa(t.Cores), "processors available, from nproc")
	case len(d.f.CPUInfo.Processors) > 0:
		t.Cores = len(d.f.CPUInfo.Processors)
		d.add("cores", strconv.Itoa(t.Cores), "processor entries in /proc/cpuinfo")
	}
	if d.f.MemTotal > 0 {
		mib := d.f.MemTotal >> 20
		t.Memory = mib << 20
		t.MemoryText = fmt.Sprintf("%dMiB", mib)
		d.add("memory", t.MemoryText, fmt.Sprintf("MemTotal in /proc/meminfo (%d kB): what the kernel can use, less than the RAM on the box", d.f.MemTotal/1024))
	}
}

// compiler suggests the C cross compiler for cgo profiles from the
// userland's Debian architecture.
func (d *decider) compiler(t *targets.Target) {
	arch := d.f.DpkgArch
	if t.GOARCH == "arm64" {
		arch = "arm64"
	}
	cc, ok := crossCC[arch]
	switch {
	case !ok:
		d.note("no dpkg on the device, so its C ABI (hard or soft float) is unknown; set cc for cgo profiles")
		return
	case t.GOARCH == "arm" && strings.HasPrefix(t.GOARM, "6"):
		d.note("cc left empty: Debian's %s emits ARMv7 code, which fails on this ARMv6 CPU; set cc to an ARMv6 toolchain for cgo profiles", cc)
		return
	}
	t.CC = cc
	why := "Debian's cross compiler for the device's " + arch + " userland (for cgo profiles)"
	if d.f.DpkgArch == "" {
		why += "; no dpkg on the device, so a glibc userland is assumed"
	}
	d.add("cc", cc, why)
}

// describeNonARM says what the device is, so a user sees that detection
// worked and the device is simply not something armbench builds for.
func describeNonARM(f Facts) string {
	var parts []string
	if f.OS != "" {
		parts = append(parts, f.OS+" "+f.Kernel)
	}
	for _, c := range f.CPUInfo.Cores() {
		if m := c.ModelName; m != "" {
			parts = append(parts, m)
			break
		}
	}
	if f.NProc > 0 {
		parts = append(parts, fmt.Sprintf("%d cores", f.NProc))
	}
	if f.MemTotal > 0 {
		parts = append(parts, fmt.Sprintf("%d MiB", f.MemTotal>>20))
	}
	s := "the device reports " + f.Machine
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	return s
}

// slug turns a model string into a target name: letters, digits and
// dashes ("Radxa ROCK 5B" → "radxa-rock-5b").
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	return b.String()
}

// title writes a core name as ARM does: cortex-a72 → Cortex-A72.
func title(name string) string {
	switch {
	case strings.HasPrefix(name, "cortex-"):
		return "Cortex-" + strings.ToUpper(name[len("cortex-"):])
	case strings.HasPrefix(name, "neoverse-"):
		return "Neoverse " + strings.ToUpper(name[len("neoverse-"):])
	case strings.HasPrefix(name, "arm"):
		return strings.ToUpper(name)
	}
	return name
}

func titles(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = title(n)
	}
	return out
}

// armv names a GOARM64 level as ARM's architecture: v8.2 → ARMv8.2-A.
func armv(level string) string { return "ARM" + level + "-A" }
