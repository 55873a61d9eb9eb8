package testenv

import (
	"os/exec"
	"testing"
)

// Qemu must hand back something that really runs an arm64 binary: the
// kernel (binfmt_misc) or the runner it returns.
func TestQemuRunsARM(t *testing.T) {
	Tool(t, "go", "golang-go")
	runner := Qemu(t, "arm64")
	bin := t.TempDir() + "/true"
	build := exec.Command("go", "build", "-o", bin, "./testdata/hello")
	build.Env = append(build.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	if runner != "" {
		cmd = exec.Command(runner, bin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "hello from arm64\n" {
		t.Fatalf("ran %v: %v %q", cmd.Args, err, out)
	}
}

func TestBinfmtUnknownArch(t *testing.T) {
	if Binfmt("mips") {
		t.Error("no binfmt entry is expected for an arch armbench does not know")
	}
}
