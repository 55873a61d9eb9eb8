package detect

import (
	"sort"
	"strconv"
	"strings"
)

// Field is one "key : value" line of /proc/cpuinfo.
type Field struct{ Key, Value string }

// Section is an ordered run of fields. Keys may repeat; Get returns the
// first.
type Section []Field

// Get returns the value of the first field named key.
func (s Section) Get(key string) (string, bool) {
	for _, f := range s {
		if f.Key == key {
			return f.Value, true
		}
	}
	return "", false
}

// CPUInfo is /proc/cpuinfo split into one section per processor and the
// lines outside any processor block (ARM kernels print Hardware, Revision,
// Serial and Model there, after the last processor).
//
// The format differs across architectures and kernel versions (ARM32
// kernels before 3.8 wrote "Processor : ARMv6-compatible…" once and the
// CPU fields after it; arm64 kernels omit "model name"), so the parser
// keeps every field as written and the detection asks for what it needs.
type CPUInfo struct {
	Processors []Section
	Global     Section
}

// ParseCPUInfo parses the text of /proc/cpuinfo. It never fails: lines
// that are not "key : value" are skipped, so a truncated or odd file still
// yields what it does say.
func ParseCPUInfo(text string) CPUInfo {
	var info CPUInfo
	inProc := false // the last field went to a processor block
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			inProc = false
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == "" {
			continue
		}
		f := Field{k, v}
		switch {
		case strings.EqualFold(k, "processor"):
			info.Processors = append(info.Processors, Section{f})
			inProc = true
		case inProc:
			n := len(info.Processors) - 1
			info.Processors[n] = append(info.Processors[n], f)
		default:
			info.Global = append(info.Global, f)
		}
	}
	return info
}

// String writes the CPUInfo back in /proc/cpuinfo's layout; parsing the
// result gives the same CPUInfo.
func (c CPUInfo) String() string {
	var b strings.Builder
	write := func(s Section) {
		for _, f := range s {
			b.WriteString(f.Key)
			b.WriteString("\t: ")
			b.WriteString(f.Value)
			b.WriteByte('\n')
		}
	}
	for _, p := range c.Processors {
		write(p)
		b.WriteByte('\n')
	}
	write(c.Global)
	return b.String()
}

// Core is what one processor block says about its core.
type Core struct {
	Implementer uint64 // 0 = not printed
	Part        uint64
	HasMIDR     bool     // implementer and part were both printed and parsed
	ModelName   string   // "ARMv7 Processor rev 4 (v7l)"; "" on arm64
	Arch        string   // the "CPU architecture" line: "7", "8", "AArch64"
	Features    []string // sorted, deduplicated
	HasFeatures bool     // a Features (or flags) line was printed
	VendorID    string   // x86: GenuineIntel, AuthenticAMD
}

// get looks a key up in the processor block first, then outside it: old
// ARM kernels printed the CPU fields once, after the processor lines.
func get(p, global Section, key string) (string, bool) {
	if v, ok := p.Get(key); ok {
		return v, true
	}
	return global.Get(key)
}

// Cores returns one Core per processor block. A file with CPU fields but no
// "processor" line (some very old kernels) yields one core from the global
// fields.
func (c CPUInfo) Cores() []Core {
	procs := c.Processors
	if len(procs) == 0 {
		if _, ok := c.Global.Get("CPU part"); !ok {
			return nil
		}
		procs = []Section{nil}
	}
	cores := make([]Core, 0, len(procs))
	for _, p := range procs {
		var core Core
		imp, okI := get(p, c.Global, "CPU implementer")
		part, okP := get(p, c.Global, "CPU part")
		if okI && okP {
			i, err1 := strconv.ParseUint(imp, 0, 64)
			pt, err2 := strconv.ParseUint(part, 0, 64)
			if err1 == nil && err2 == nil {
				core.Implementer, core.Part, core.HasMIDR = i, pt, true
			}
		}
		core.ModelName, _ = get(p, c.Global, "model name")
		if core.ModelName == "" {
			// Pre-3.8 ARM kernels: "Processor : ARMv6-compatible processor…".
			if v, ok := get(p, c.Global, "Processor"); ok {
				if _, err := strconv.Atoi(v); err != nil {
					core.ModelName = v
				}
			}
		}
		core.Arch, _ = get(p, c.Global, "CPU architecture")
		feat, ok := get(p, c.Global, "Features")
		if !ok {
			feat, ok = get(p, c.Global, "flags") // x86
		}
		if ok {
			core.HasFeatures = true
			core.Features = fieldsSet(feat)
		}
		core.VendorID, _ = get(p, c.Global, "vendor_id")
		cores = append(cores, core)
	}
	return cores
}

// Model is the board name Raspberry Pi kernels add to /proc/cpuinfo.
func (c CPUInfo) Model() string { v, _ := c.Global.Get("Model"); return v }

func fieldsSet(s string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range strings.Fields(s) {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	sort.Strings(out)
	return out
}

func has(set []string, w string) bool {
	i := sort.SearchStrings(set, w)
	return i < len(set) && set[i] == w
}
