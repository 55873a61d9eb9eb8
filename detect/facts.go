package detect

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Facts is what a device says about itself: the raw answers of a few
// commands, lightly parsed. Zero values mean "not reported".
type Facts struct {
	OS       string  // uname -s: "Linux"
	Kernel   string  // uname -r: "6.6.51+rpt-rpi-v8"
	Machine  string  // uname -m: "aarch64", "armv7l", "x86_64"
	DpkgArch string  // dpkg --print-architecture: "arm64", "armhf"; "" without dpkg
	CPUInfo  CPUInfo // /proc/cpuinfo
	Model    string  // /proc/device-tree/model, NUL stripped
	NProc    int     // nproc
	MemTotal int64   // bytes, from /proc/meminfo MemTotal
	LongBit  int     // getconf LONG_BIT: 32 or 64
	// ELFClass is the word size of /bin/sh from its ELF header (32 or 64):
	// the userland's bitness even where getconf is missing (busybox).
	ELFClass int
}

// Section names of a device report, also the file names of a recorded
// board under testdata/.
const (
	secUname   = "uname"   // uname -srm
	secDpkg    = "dpkg"    // dpkg --print-architecture
	secCPUInfo = "cpuinfo" // /proc/cpuinfo
	secModel   = "model"   // /proc/device-tree/model
	secNProc   = "nproc"   // nproc
	secMemInfo = "meminfo" // /proc/meminfo
	secGetconf = "getconf" // getconf LONG_BIT
	secELF     = "elf"     // first 5 bytes of /bin/sh, as od -An -tx1 prints them
)

// sectionMarker starts each section of the gather script's output. It is
// unlikely in any of the files read, and a section body is only taken up to
// the next marker line, so a stray occurrence costs one section at most.
const sectionMarker = "@@armbench-detect@@ "

// gatherScript prints every section, each command guarded so that a missing
// tool (dpkg on Alpine, getconf on busybox) leaves its section empty instead
// of failing the whole probe. It runs under sh -c, whatever the login
// shell is, and always exits 0: an empty section is the answer "unknown".
const gatherScript = `m() { printf '\n` + sectionMarker + `%s\n' "$1"; }
m uname; uname -srm 2>/dev/null
m dpkg; command -v dpkg >/dev/null 2>&1 && dpkg --print-architecture 2>/dev/null
m cpuinfo; cat /proc/cpuinfo 2>/dev/null
m model; cat /proc/device-tree/model 2>/dev/null | tr -d '\000'
m nproc; nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null
m meminfo; cat /proc/meminfo 2>/dev/null
m getconf; getconf LONG_BIT 2>/dev/null
m elf; od -An -tx1 -N5 /bin/sh 2>/dev/null || head -c 5 /bin/sh 2>/dev/null
m end
exit 0
`

// splitSections turns the gather script's output back into sections.
func splitSections(out []byte) (map[string]string, error) {
	secs := map[string]string{}
	var name string
	var body []string
	done := false
	flush := func() {
		if name != "" {
			secs[name] = strings.Join(body, "\n")
		}
	}
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, sectionMarker); ok {
			flush()
			name, body = strings.TrimSpace(rest), nil
			if name == "end" {
				done = true
				name = ""
			}
			continue
		}
		if name != "" {
			body = append(body, line)
		}
	}
	flush()
	if !done {
		// Without the end marker the output was cut short (connection
		// dropped, output limit): detecting from half a cpuinfo would
		// silently pick a worse target.
		return secs, fmt.Errorf("device report is incomplete (%d bytes, no end marker)", len(out))
	}
	if _, ok := secs[secUname]; !ok {
		return secs, fmt.Errorf("device report has no uname section; the remote shell did not run the probe (got %q)", truncate(string(out), 200))
	}
	return secs, nil
}

// ParseReport parses the output of the gather script.
func ParseReport(out []byte) (Facts, error) {
	secs, err := splitSections(out)
	if err != nil {
		return Facts{}, err
	}
	return FactsFromSections(secs), nil
}

// FactsFromSections builds Facts from raw section texts keyed by section
// name (uname, dpkg, cpuinfo, model, nproc, meminfo, getconf, elf): the
// sections of a device report, or the files of a recorded board.
func FactsFromSections(secs map[string]string) Facts {
	var f Facts
	u := strings.Fields(secs[secUname])
	switch len(u) {
	case 0:
	case 1:
		f.Machine = u[0]
	case 2:
		f.Kernel, f.Machine = u[0], u[1]
	default:
		f.OS, f.Kernel, f.Machine = u[0], u[1], u[len(u)-1]
	}
	f.DpkgArch = firstWord(secs[secDpkg])
	f.CPUInfo = ParseCPUInfo(secs[secCPUInfo])
	f.Model = strings.TrimSpace(strings.ReplaceAll(secs[secModel], "\x00", ""))
	if n, err := strconv.Atoi(firstWord(secs[secNProc])); err == nil && n > 0 {
		f.NProc = n
	}
	f.MemTotal = memTotal(secs[secMemInfo])
	if n, err := strconv.Atoi(firstWord(secs[secGetconf])); err == nil && (n == 32 || n == 64) {
		f.LongBit = n
	}
	f.ELFClass = elfClass(secs[secELF])
	return f
}

func firstWord(s string) string {
	if w := strings.Fields(s); len(w) > 0 {
		return w[0]
	}
	return ""
}

// memTotal reads "MemTotal: 3884328 kB" from /proc/meminfo, in bytes.
func memTotal(meminfo string) int64 {
	for _, line := range strings.Split(meminfo, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(k) != "MemTotal" {
			continue
		}
		w := strings.Fields(v)
		if len(w) == 0 {
			return 0
		}
		n, err := strconv.ParseInt(w[0], 10, 64)
		if err != nil || n <= 0 || n > 1<<50 {
			return 0
		}
		mult := int64(1)
		if len(w) > 1 {
			switch strings.ToLower(w[1]) {
			case "kb":
				mult = 1024 // the kernel's "kB" is KiB
			case "mb":
				mult = 1 << 20
			}
		}
		return n * mult
	}
	return 0
}

// elfClass reads the ELF class byte (1 = 32-bit, 2 = 64-bit) from the
// first five bytes of a binary, given as od hex output or raw bytes.
func elfClass(s string) int {
	var hdr []byte
	if strings.HasPrefix(s, "\x7fELF") {
		hdr = []byte(s)
	} else {
		for _, w := range strings.Fields(s) {
			if len(w) != 2 {
				continue // od's offset column, when -An was not honoured
			}
			b, err := strconv.ParseUint(w, 16, 8)
			if err != nil {
				continue
			}
			hdr = append(hdr, byte(b))
		}
	}
	if len(hdr) < 5 || !bytes.Equal(hdr[:4], []byte("\x7fELF")) {
		return 0
	}
	switch hdr[4] {
	case 1:
		return 32
	case 2:
		return 64
	}
	return 0
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
