package install

import (
	"strconv"
	"strings"
	"time"

	"armbench/internal/shell"
	"armbench/remote/artifact"
	"armbench/targets"
)

// Record is what armbench last knew of an installed binary: its
// status on the device (StatFormat) and its sha256.
type Record struct {
	FP, SHA string
}

// Prepared is what the device said about one binary name before a deploy:
// the installed binary's sha256 ("" when none, or no hash tool), whether
// NAME.prev exists, and the free space of deploy_dir (-1: unknown).
type Prepared struct {
	SHA     string
	FP      string // the installed file's status (StatFormat), "" unknown
	HasPrev bool
	AvailKB int64
	At      time.Time // when the device answered
}

// prepareLines, run in deploy_dir with HashFuncs defined, sweeps the
// temporary files interrupted deploys of each name left and prints, per
// name i, `sha i HEX` (or `sha i -`) and `prev i` when NAME.prev exists,
// then `avail KB` and `prepared`. Names are numbered, not printed: a name
// may hold any character but a slash, NUL or newline.
//
// With fingerprints (records, one per name, may be nil), it also prints
// `fp i STATUS` of each installed binary, and when STATUS is the one
// recorded, the recorded sha256 instead of hashing the file again: inode,
// size, and modification and change times to the nanosecond do not stay
// the same through a write or a rename.
func prepareLines(names []string, records []Record) string {
	q := shell.Quote
	var b strings.Builder
	for i, name := range names {
		n := strconv.Itoa(i)
		b.WriteString(`for f in ./` + q(TmpPrefix(name)) + `*; do
	if [ -e "$f" ] || [ -L "$f" ]; then rm -f -- "$f"; fi
done
`)
		file := "./" + q(name)
		switch {
		case records == nil:
			b.WriteString(`if [ -f ` + file + ` ]; then printf 'sha ` + n + ` '; h ` + file + `; else echo 'sha ` + n + ` -'; fi
`)
		default:
			known := "[ -n \"$k\" ] && [ \"$k\" = " + q(records[i].FP) + " ]"
			if records[i].FP == "" || !artifact.ValidSHA256(records[i].SHA) {
				known = "false"
			}
			b.WriteString(`if [ -f ` + file + ` ]; then
	k=$(stat -c ` + q(StatFormat) + ` ` + file + ` 2>/dev/null) || k=
	[ -z "$k" ] || printf 'fp ` + n + ` %s\n' "$k"
	if ` + known + `; then echo 'sha ` + n + ` ` + records[i].SHA + `'; else printf 'sha ` + n + ` '; h ` + file + `; fi
else echo 'sha ` + n + ` -'; fi
`)
		}
		b.WriteString(`if [ -e ./` + q(name+".prev") + ` ]; then echo 'prev ` + n + `'; fi
`)
	}
	b.WriteString(`df -Pk . 2>/dev/null | { read -r _ || :; read -r _ _ _ a _ || :; echo "avail ${a:-?}"; }
echo prepared
`)
	return b.String()
}

// PrepareScript, in one round trip before an upload: creates deploy_dir
// (dir, already resolved by the probe) and runs prepareLines in it.
func PrepareScript(dir string, names []string, records []Record) string {
	return "set -e\n" + HashFuncs + mkdirCd(shell.Quote(dir)) + prepareLines(names, records)
}

// ProbeScript resolves deploy_dir and finds the decompressors, once per
// connection. With names, the same round trip also prepares their deploys
// (prepareLines in a subshell whose failure the probe ignores: the deploy
// then asks again on its own and reports the error with its step).
func ProbeScript(deployDir string, names []string, records []Record) string {
	dir := DirWord(deployDir)
	s := `printf 'dir %s\n' ` + dir + `
for t in zstd gzip; do if command -v "$t" >/dev/null 2>&1; then printf 'tool %s\n' "$t"; fi; done
`
	if len(names) == 0 {
		return s
	}
	// Not `( … ) || :`: on the left of || the shell ignores set -e, also
	// inside the subshell.
	return s + "(\nset -e\n" + HashFuncs + mkdirCd(dir) + prepareLines(names, records) + ") 2>/dev/null\n:\n"
}

// mkdirCd enters the directory word dir, creating it only when missing: a
// process fewer in the common case, where each costs a slow device (or a
// busy one) milliseconds.
func mkdirCd(dir string) string {
	return "[ -d " + dir + " ] || mkdir -p -- " + dir + "\ncd -- " + dir + "\n"
}

// ParsePrepared reads prepareLines' answer for n names; ok is false unless
// the answer is complete.
func ParsePrepared(out []byte, n int, at time.Time) (ps []Prepared, ok bool) {
	ps = make([]Prepared, n)
	avail := int64(-1)
	for _, line := range strings.Split(string(out), "\n") {
		k, rest, _ := strings.Cut(line, " ")
		switch k {
		case "sha", "prev", "fp":
			idx, v, _ := strings.Cut(rest, " ")
			i, err := strconv.Atoi(idx)
			if err != nil || i < 0 || i >= n {
				continue
			}
			switch k {
			case "sha":
				ps[i].SHA = artifact.FindSHA256(v)
			case "prev":
				ps[i].HasPrev = true
			case "fp":
				ps[i].FP = v
			}
		case "avail":
			if kb, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64); err == nil {
				avail = kb
			}
		case "prepared":
			ok = true
		}
	}
	for i := range ps {
		ps[i].AvailKB, ps[i].At = avail, at
	}
	return ps, ok
}

// DirWord is deploy_dir as a shell word for the device: "~" expands to
// the user's home, relative paths are taken from it, the rest is quoted.
func DirWord(dir string) string {
	switch {
	case dir == "":
		dir = targets.DefaultDeployDir
	case dir == "~" || strings.HasPrefix(dir, "~/") || strings.HasPrefix(dir, "/"):
	default:
		dir = "~/" + dir
	}
	return shell.HomePath(dir)
}
