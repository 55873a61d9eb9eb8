// Package testenv holds the one rule every test follows when something it
// needs is not on the machine: under CI=true that is a failure (CI must
// have installed it), elsewhere a skip that says what is missing. Slow
// tests may skip under -short, but never under CI.
package testenv

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// CI reports whether the tests run under CI, where nothing may skip.
func CI() bool { return os.Getenv("CI") == "true" }

// Missing stops the test because the machine lacks something it needs:
// a failure under CI, a skip elsewhere.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if CI() {
		t.Fatalf("CI must provide this: "+format, args...)
	}
	t.Skipf(format, args...)
}

// Slow skips a slow test under -short, except under CI, which runs all.
func Slow(t testing.TB, why string) {
	t.Helper()
	if testing.Short() && !CI() {
		t.Skip(why + "; skipped with -short")
	}
}

// Tool returns the path of the program name, or stops the test (see
// Missing) naming the Debian package that provides it.
func Tool(t testing.TB, name, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "%s is not installed (Debian package %s)", name, debianPackage)
	}
	return p
}

// goarchQemu maps a GOARCH to qemu-user's name for it.
var goarchQemu = map[string]string{"arm64": "aarch64", "arm": "arm"}

// Binfmt reports whether the kernel runs goarch binaries directly through
// an enabled binfmt_misc qemu entry (binfmt_misc itself enabled too).
func Binfmt(goarch string) bool {
	if runtime.GOOS != "linux" {
		// binfmt_misc is Linux's. Elsewhere the path may still resolve
		// (under Wine, to the Linux host's /proc), and mean nothing here.
		return false
	}
	enabled := func(name string) bool {
		b, err := os.ReadFile("/proc/sys/fs/binfmt_misc/" + name)
		return err == nil && strings.HasPrefix(string(b), "enabled")
	}
	q, ok := goarchQemu[goarch]
	return ok && enabled("status") && enabled("qemu-"+q)
}

// QemuRunner is the runner a target of goarch needs on this machine: ""
// when the kernel runs such binaries itself (binfmt_misc) or goarch is not
// an ARM one, else qemu-user from PATH (qemu-<arch>-static, qemu-<arch>),
// or the -static name when neither is installed.
func QemuRunner(goarch string) string {
	q, ok := goarchQemu[goarch]
	if !ok || Binfmt(goarch) {
		return ""
	}
	for _, name := range []string{"qemu-" + q + "-static", "qemu-" + q} {
		if _, err := exec.LookPath(name); err == nil {
			return name
		}
	}
	return "qemu-" + q + "-static"
}

// Qemu makes sure goarch binaries can run here and returns the runner to
// put before them: "" when binfmt_misc runs them directly, else the path
// of qemu-user. Without either it stops the test (see Missing).
func Qemu(t testing.TB, goarch string) string {
	t.Helper()
	r := QemuRunner(goarch)
	if r == "" {
		return ""
	}
	return Tool(t, r, "qemu-user-static")
}
