package install

import (
	"strconv"
	"strings"

	"armbench/internal/shell"
)

// HashFuncs are sh functions printing a sha256 with whatever the device
// has (for scripts of other packages that hash on the device, as fleet's
// status does): hs of stdin (draining it when there is no tool, so the writer is
// not killed by SIGPIPE), h of the file "$1". Go picks the 64 hex digits
// out of their output.
const HashFuncs = `hs() {
	if command -v sha256sum >/dev/null 2>&1; then sha256sum
	elif command -v shasum >/dev/null 2>&1; then shasum -a 256
	elif command -v openssl >/dev/null 2>&1; then openssl dgst -sha256
	elif command -v busybox >/dev/null 2>&1; then busybox sha256sum
	else cat >/dev/null; echo nohash; fi
}
h() { hs < "$1"; }
`

// StatFormat is an installed binary's status as the device's stat (GNU
// coreutils or busybox) prints it: inode, size, modification and change
// times. A write or a rename changes the change time.
const StatFormat = "%i %s %y %z"

// Script receives the file (when recv is set: a decompressor
// reading stdin), then makes it executable, syncs, verifies its sha256 on
// the device, keeps the old binary as name.prev and renames the new one
// over it. It prints a marker after each step. Any failure, a cut
// connection included, removes the temporary file and leaves the
// installed binary as it was.
//
// A streamed file is hashed on the device as tee writes it, while the
// device would otherwise wait for the network: reading 20 MB back costs a
// Pi about 0.1 s after the transfer. Every write error (tee's, the
// decompressor's on a truncated stream) fails the deploy, and so does a
// file of the wrong size, in case the shell could not even record the
// failure (no inode left for the marker file).
func Script(dir, name, tmp, recv, sum string, size int64) string {
	return ScriptAfter(dir, name, tmp, recv, sum, size, "")
}

// ScriptAfter is Script with after run once the new binary
// is in place (what an elfz delta keeps for the next one); it must not
// fail.
func ScriptAfter(dir, name, tmp, recv, sum string, size int64, after string) string {
	q := shell.Quote
	// An install that keeps no expanded form (a whole upload, a plain
	// delta) drops those earlier elfz deploys kept, with its own files:
	// they describe binaries no longer installed, and an inflated cmd/go
	// is 26 MB of a Pi's SD card.
	dropBases := ""
	if after == "" {
		dropBases = " ./" + q(ELFZBasePrefix(name)) + "*"
	}
	var b strings.Builder
	b.WriteString("set -e\n" + HashFuncs)
	b.WriteString("cd -- " + q(dir) + "\n")
	b.WriteString("t=./" + q(tmp) + "\n")
	b.WriteString("trap 'rm -f -- \"$t\" \"$t.prev\" \"$t.fail\" \"$t.sum\" \"$t.base\" \"$t.x\"' EXIT\ntrap 'exit 1' HUP INT TERM PIPE\n")
	if recv != "" {
		// The file is made executable before its bytes come (tee keeps
		// the mode of the file it truncates), and the shell reads the
		// sum itself: each process a slow device starts after the last
		// byte is time the deploy waits.
		b.WriteString(`: > "$t"
chmod 0755 "$t"
{ ` + recv + ` || echo "receive failed" > "$t.fail"; } | { tee -- "$t" || echo "write failed" > "$t.fail"; } | hs > "$t.sum"
if [ -e "$t.fail" ]; then cat "$t.fail" >&2; exit 1; fi
n=$(wc -c < "$t")
if [ $((n)) -ne ` + strconv.FormatInt(size, 10) + ` ]; then echo "received $((n)) of ` + strconv.FormatInt(size, 10) + ` bytes" >&2; exit 1; fi
read -r got < "$t.sum" || got=
echo uploaded
`)
	} else {
		b.WriteString(`echo uploaded
chmod 0755 "$t"
`)
	}
	b.WriteString(`sync -- "$t" 2>/dev/null || sync
`)
	if recv == "" {
		b.WriteString("got=$(h \"$t\")\n")
	}
	b.WriteString(`case $got in
*` + sum + `*) ;;
nohash) echo "no sha256 tool on the device (sha256sum, shasum, openssl or busybox)" >&2; exit 3 ;;
*) echo "sha256 mismatch after upload: expected ` + sum + `, device computed $got" >&2; exit 3 ;;
esac
echo verified
if [ -e ./` + q(name) + ` ]; then
	if ! ln -f ./` + q(name) + ` ./` + q(name+".prev") + ` 2>/dev/null; then
		cp -p ./` + q(name) + ` "$t.prev" && mv -f -- "$t.prev" ./` + q(name+".prev") + `
	fi
	echo prev
fi
mv -f -- "$t" ./` + q(name) + `
k=$(stat -c ` + q(StatFormat) + ` ./` + q(name) + ` 2>/dev/null) && printf 'fp %s\n' "$k" || :
` + after + `
rm -f -- "$t.sum" "$t.fail" "$t.base" "$t.x"` + dropBases + ` 2>/dev/null || :
sync . 2>/dev/null || :
trap - EXIT
echo installed
`)
	return b.String()
}

// RollbackScript swaps name and name.prev; name exists throughout.
func RollbackScript(dir, name string) string {
	q := shell.Quote
	hold := "./" + q(TmpPrefix(name)+"rollback")
	return `set -e
cd -- ` + q(dir) + `
if [ ! -e ./` + q(name+".prev") + ` ]; then echo "no-previous" >&2; exit 3; fi
rm -f -- ` + hold + `
if [ -e ./` + q(name) + ` ]; then ln -f ./` + q(name) + ` ` + hold + ` 2>/dev/null || cp -p ./` + q(name) + ` ` + hold + `; fi
mv -f -- ./` + q(name+".prev") + ` ./` + q(name) + `
if [ -e ` + hold + ` ]; then mv -f -- ` + hold + ` ./` + q(name+".prev") + `; fi
sync . 2>/dev/null || :
`
}
