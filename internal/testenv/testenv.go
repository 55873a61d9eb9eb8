// Package testenv holds the one rule every test follows when something it
// needs is not on the machine: under CI=true that is a failure (CI must
// have installed it), elsewhere a skip that says what is missing. Slow
// tests may skip under -short, but never under CI.
package testenv

import (
	"os"
	"os/exec"
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
// an enabled binfmt_misc qemu entry.
func Binfmt(goarch string) bool {
	b, err := os.ReadFile("/proc/sys/fs/binfmt_misc/qemu-" + goarchQemu[goarch])
	return err == nil && strings.HasPrefix(string(b), "enabled")
}

// Qemu makes sure goarch binaries can run here and returns the runner to
// put before them: "" when binfmt_misc runs them directly, else the path
// of qemu-<arch>-static. Without either it stops the test (see Missing).
func Qemu(t testing.TB, goarch string) string {
	t.Helper()
	if Binfmt(goarch) {
		return ""
	}
	return Tool(t, "qemu-"+goarchQemu[goarch]+"-static", "qemu-user-static")
}
