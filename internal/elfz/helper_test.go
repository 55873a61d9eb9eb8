package elfz

import (
	"bytes"
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"armbench/internal/elfz/codec"
	"armbench/internal/testenv"
	"armbench/targets"
)

// The helper builds from the embedded source alone, for the target's
// architecture, and does on an ARM CPU (qemu-user here) what the codec
// does on the host.
func TestBuilderBuildsAWorkingHelper(t *testing.T) {
	b := NewBuilder(t.TempDir())
	tg := targets.Target{Name: "pi", GOARCH: "arm64", Tags: []string{"x"}, CC: "gcc"}
	f, err := b.Helper(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	ef, err := elf.Open(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	machine := ef.Machine
	ef.Close()
	if machine != elf.EM_AARCH64 || len(f.SHA256) != 64 || f.Size <= 0 {
		t.Fatalf("helper %+v for %v", f, machine)
	}
	plan, err := Plan(tg, b.outRoot)
	if err != nil {
		t.Fatal(err)
	}
	if args := strings.Join(plan.Args, " "); !strings.Contains(args, "-trimpath") || strings.Contains(args, "-tags") {
		t.Errorf("helper build args %q", args)
	}
	// Asked again, the same file, not rebuilt.
	st1, _ := os.Stat(f.Path)
	if g, err := b.Helper(context.Background(), tg); err != nil || g != f {
		t.Fatalf("second call: %+v, %v", g, err)
	}
	if st2, _ := os.Stat(f.Path); !st1.ModTime().Equal(st2.ModTime()) {
		t.Error("helper rebuilt although nothing changed")
	}

	// It expands itself (stripped: no compressed sections, an empty
	// table) and a default build, exactly as the codec here does, and
	// contracts back.
	var argv []string
	if r := testenv.QemuRunner("arm64"); r != "" {
		argv = append(argv, testenv.Tool(t, r, "qemu-user-static"))
	}
	argv = append(argv, f.Path)
	bin := buildDefault(t)
	for _, file := range []string{f.Path, bin} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		want, err := codec.Expand(data)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(argv[0], append(argv[1:], "expand", file)...)
		got, err := cmd.Output()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("helper expand %s: %v, %d bytes, want %d", filepath.Base(file), err, len(got), len(want))
		}
		cmd = exec.Command(argv[0], append(argv[1:], "contract")...)
		cmd.Stdin = bytes.NewReader(got)
		back, err := cmd.Output()
		if err != nil || !bytes.Equal(back, data) {
			t.Fatalf("helper contract %s: %v, %d bytes, want %d", filepath.Base(file), err, len(back), len(data))
		}
	}
	cmd := exec.Command(argv[0], append(argv[1:], "contract")...)
	cmd.Stdin = strings.NewReader("this is not an expanded binary at all")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "bad magic") {
		t.Errorf("contract of garbage: %v, %s", err, out)
	}
}

// buildDefault is the codec's tiny test program, built for arm64 with a
// plain go build (DWARF compressed).
func buildDefault(t *testing.T) string {
	out := filepath.Join(t.TempDir(), "tiny")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = "codec/testdata/tiny"
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}
