package delta

import (
	"strconv"
	"strings"

	"armbench/internal/shell"
	"armbench/remote/install"
)

// HelperName is the helper's file name in deploy_dir: hidden, like the
// device-side state.
const HelperName = ".armbench-elfz"

// PatchRecv is the device command that rebuilds the new binary from the
// installed one (./name in deploy_dir) and the delta on stdin. When that
// fails it asks whether the device's zstd knows --patch-from at all (1.4.5
// and later do) and says NoPatchMarker on stderr when not, so the sender
// stops trying deltas on this connection; asking only after a failure
// spares every delta two processes, which a Pi Zero feels.
func PatchRecv(name string, oldSize, newSize int) string {
	cmd := "zstd -d -q -c --patch-from=./" + shell.Quote(name)
	if wl := windowLog(oldSize, newSize); wl > defaultDecoderWindowLog {
		cmd += " --long=" + strconv.Itoa(wl)
	}
	return cmd + " || { zstd -H 2>&1 | grep -q -e --patch-from || echo " + NoPatchMarker + " >&2; false; }"
}

const NoPatchMarker = "armbench-no-patch-from"

// ELFZRecv is the device command that rebuilds the binary: zstd applies
// the delta to the expanded form of the installed binary (sha256 old),
// and the helper contracts the result. The expanded form is the one the
// last elfz deploy kept (ELFZKeep), or else the helper expands the
// installed binary into "$t.base". What zstd writes is also kept in
// "$t.x" for the next delta. The install script removes both on every
// path. The helper runs under the target's runner, as any program
// armbench runs there.
func ELFZRecv(runner, name, old string, baseSize, newSize int) string {
	var words []string
	for _, r := range strings.Fields(runner) {
		words = append(words, shell.Quote(r))
	}
	helper := strings.Join(append(words, "./"+shell.Quote(HelperName)), " ")
	z := `zstd -d -q -c --patch-from="$b"`
	if wl := windowLog(baseSize, newSize); wl > defaultDecoderWindowLog {
		z += " --long=" + strconv.Itoa(wl)
	}
	kept := "./" + shell.Quote(install.ELFZBase(name, old))
	return "{ if [ -f " + kept + " ]; then b=" + kept + "; else " + helper + " expand ./" + shell.Quote(name) + ` > "$t.base" && b="$t.base"; fi && ` +
		z + `; } | tee -- "$t.x" | ` + helper + " contract"
}

// ELFZKeep, run once the binary whose sha256 is sum is installed, keeps
// its expanded form (written whole: newSize bytes) as the next delta's
// base, in place of the one before. A base kept wrong only costs a delta:
// the sha256 check catches what it rebuilds.
func ELFZKeep(name, sum string, newSize int) string {
	return `if [ -f "$t.x" ] && [ "$(wc -c < "$t.x")" -eq ` + strconv.Itoa(newSize) + ` ]; then rm -f -- ./` + shell.Quote(install.ELFZBasePrefix(name)) + `*; mv -f -- "$t.x" ./` +
		shell.Quote(install.ELFZBase(name, sum)) + ` || :; fi`
}
