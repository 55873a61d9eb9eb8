package fleet

import (
	"strconv"
	"strings"

	"armbench/internal/shell"
	"armbench/remote"
)

// stagedName is where a binary waits for its wave, beside the installed
// one: remote's atomic deploy puts it there (verified on the device),
// and the install is then a rename.
func stagedName(name string) string { return name + ".staged" }

// stageScript prepares the staging name: a hard link to the installed
// binary, so that remote's deploy sees the binary the device has and
// sends a delta against it, or skips an unchanged one.
func stageScript(dir, name string) string {
	q := shell.Quote
	d, n, s := q(dir), "./"+q(name), "./"+q(stagedName(name))
	return "set -e\n[ -d " + d + " ] || mkdir -p -- " + d + "\ncd -- " + d + "\n" +
		"rm -f -- " + s + " " + s + ".prev\n" +
		"if [ -f " + n + " ]; then ln -f " + n + " " + s + " 2>/dev/null || cp -p " + n + " " + s + "; fi\n"
}

// installScript puts the staged binary in place: the installed one is
// kept as NAME.prev, then one rename replaces it, so the device has a
// complete binary under NAME at every moment, whatever interrupts this.
func installScript(dir, name string, size int64) string {
	q := shell.Quote
	n, s, p := "./"+q(name), "./"+q(stagedName(name)), "./"+q(name+".prev")
	hold := "./" + q("."+name+".prev-tmp")
	var b strings.Builder
	b.WriteString("set -e\ncd -- " + q(dir) + "\n")
	b.WriteString("if [ ! -f " + s + " ]; then echo 'the staged binary is gone' >&2; exit 3; fi\n")
	b.WriteString("n=$(wc -c < " + s + ")\n")
	b.WriteString("if [ $((n)) -ne " + strconv.FormatInt(size, 10) + " ]; then echo \"the staged binary has $((n)) bytes, not " + strconv.FormatInt(size, 10) + "\" >&2; exit 3; fi\n")
	b.WriteString("if [ -e " + n + " ]; then\n\tln -f " + n + " " + p + " 2>/dev/null || { cp -p " + n + " " + hold + " && mv -f -- " + hold + " " + p + "; }\nfi\n")
	b.WriteString("mv -f -- " + s + " " + n + "\n")
	b.WriteString("rm -f -- " + s + ".prev\nsync . 2>/dev/null || :\necho installed\n")
	return b.String()
}

// unstageScript removes what staging left on a device the rollout did
// not install on.
func unstageScript(dir, name string) string {
	q := shell.Quote
	s := "./" + q(stagedName(name))
	return "cd -- " + q(dir) + " && rm -f -- " + s + " " + s + ".prev\n"
}

// statusScript prints, for each name i present in dir, a line
// `bin i SIZE MTIME HASH-OUTPUT`. Names are numbered, not printed.
func statusScript(dir string, names []string) string {
	q := shell.Quote
	var b strings.Builder
	b.WriteString(remote.HashFuncs + "cd -- " + q(dir) + " 2>/dev/null || exit 0\n")
	for i, name := range names {
		f := "./" + q(name)
		b.WriteString("if [ -f " + f + " ]; then printf 'bin " + strconv.Itoa(i) + " %s ' \"$(stat -L -c '%s %Y' " + f + ")\"; hs < " + f + "; fi\n")
	}
	return b.String()
}
