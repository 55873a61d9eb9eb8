package deploy

import (
	"bytes"
	"context"
	"debug/elf"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"armbench/internal/elfz/codec"
	"armbench/internal/testenv"
	"armbench/targets"
)

// The helper builds from the embedded source alone, for the target's
// architecture, and does on an ARM CPU (qemu-user here) what the codec
// does on the host.
func TestHelpersBuildsAWorkingHelper(t *testing.T) {
	b := NewHelpers(t.TempDir())
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
	plan, err := HelperPlan(tg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if args := strings.Join(plan.Args, " "); !strings.Contains(args, "-buildvcs=false") || strings.Contains(args, "-tags") {
		t.Errorf("helper build args %q", args)
	}
	// Asked again, by this builder or by another process's, the same
	// file, answered from its stamp, not rebuilt.
	st1, _ := os.Stat(f.Path)
	for _, again := range []*Helpers{b, NewHelpers(b.root)} {
		if g, err := again.Helper(context.Background(), tg); err != nil || g != f {
			t.Fatalf("asked again: %+v, %v", g, err)
		}
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
	cmd.Dir = filepath.Join("..", "internal", "elfz", "codec", "testdata", "tiny")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

// The cache is keyed by architecture: another GOARM64 is another helper,
// and a stamp naming a file that is gone is not believed.
func TestHelpersKeysAndStamps(t *testing.T) {
	b := NewHelpers(t.TempDir())
	v80 := targets.Target{Name: "a", GOARCH: "arm64", GOARM64: "v8.0"}
	v82 := targets.Target{Name: "a", GOARCH: "arm64", GOARM64: "v8.2"}
	d1, err := b.dir(v80)
	if err != nil {
		t.Fatal(err)
	}
	d2, _ := b.dir(v82)
	renamed := v80
	renamed.Name = "another-board"
	d3, _ := b.dir(renamed)
	if d1 == d2 || d1 != d3 {
		t.Fatalf("cache dirs: v8.0 %s, v8.2 %s, v8.0 under another name %s", d1, d2, d3)
	}
	if _, ok := b.cached(v80); ok {
		t.Fatal("a helper that was never built is cached")
	}
	f, err := b.Helper(context.Background(), v80)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(f.Path, d1+string(filepath.Separator)) {
		t.Fatalf("helper at %s, not under %s", f.Path, d1)
	}
	if got, ok := NewHelpers(b.root).cached(v80); !ok || got != f {
		t.Fatalf("a new builder does not find the helper: %+v %v", got, ok)
	}
	if err := os.Remove(f.Path); err != nil {
		t.Fatal(err)
	}
	if _, ok := NewHelpers(b.root).cached(v80); ok {
		t.Fatal("a stamp whose helper is gone is believed")
	}
}

// A background build stopped by Close leaves no temporary file and no
// process behind. An empty go build cache makes sure it is still running
// when Close comes.
func TestHelpersWarmStopped(t *testing.T) {
	t.Setenv("GOCACHE", t.TempDir())
	tg := targets.Target{Name: "pi", GOARCH: "arm", GOARM: "6"}
	b := NewHelpers(t.TempDir())
	dir, err := b.dir(tg)
	if err != nil {
		t.Fatal(err)
	}
	b.Warm(tg)
	log := filepath.Join(dir, "helper", "armbench-elfz", "build.log")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(log); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatal("the background build did not start")
		}
	}
	b.Close()
	if _, ok := b.cached(tg); ok {
		t.Fatal("the build finished before Close: this test proves nothing")
	}
	if left := tempFiles(t, b.root); len(left) > 0 {
		t.Fatalf("a stopped build left %v", left)
	}
	if out, err := exec.Command("pgrep", "-f", dir).Output(); err == nil {
		t.Fatalf("a stopped build left processes:\n%s", out)
	}
}

// A background build left to finish is what Helper answers with.
func TestHelpersWarm(t *testing.T) {
	tg := targets.Target{Name: "pi", GOARCH: "arm", GOARM: "6"}
	b := NewHelpers(t.TempDir())
	defer b.Close()
	b.Warm(tg)
	b.idle.Wait()
	f, ok := b.cached(tg)
	if !ok {
		t.Fatal("the warmed helper is not cached")
	}
	if g, err := b.Helper(context.Background(), tg); err != nil || g != f {
		t.Fatalf("Helper after Warm: %+v, %v; warmed %+v", g, err, f)
	}
	if left := tempFiles(t, b.root); len(left) > 0 {
		t.Fatalf("a finished build left %v", left)
	}
}

// tempFiles lists the files under dir that a build or a stamp writes
// under a temporary name.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	var left []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if n := d.Name(); strings.Contains(n, ".tmp") || strings.HasPrefix(n, ".stamp-") {
			left = append(left, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return left
}
