package size

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"armbench/internal/testenv"
)

// buildWorkload cross-compiles the sample workload with the given env and
// ldflags into dir and returns the binary's path.
func buildWorkload(t *testing.T, dir, name, ldflags string, env ...string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	args := []string{"build", "-trimpath", "-o", out}
	if ldflags != "" {
		args = append(args, "-ldflags="+ldflags)
	}
	cmd := exec.Command("go", append(args, "./examples/workload")...)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), append([]string{"GOOS=linux", "CGO_ENABLED=0"}, env...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", name, err, b)
	}
	return out
}

// checkBreakdown holds what every breakdown of the sample workload must
// show: the parts add up to the file, runtime is the largest package, the
// workload's own package is there with code, and little is unattributed.
func checkBreakdown(t *testing.T, b *Breakdown) {
	t.Helper()
	if d := b.Sum() - b.FileSize; d < -b.FileSize/50 || d > b.FileSize/50 {
		t.Errorf("%s: parts add up to %d, file is %d bytes (off by %d)", b.Path, b.Sum(), b.FileSize, d)
	}
	if len(b.Packages) < 10 {
		t.Fatalf("%s: only %d packages: %+v", b.Path, len(b.Packages), b.Packages)
	}
	if b.Packages[0].Name != "runtime" {
		t.Errorf("%s: largest package %q, want runtime", b.Path, b.Packages[0].Name)
	}
	var main *Part
	for i := range b.Packages {
		if b.Packages[i].Name == "main" {
			main = &b.Packages[i]
		}
	}
	if main == nil || main.Code == 0 || main.Meta == 0 {
		t.Errorf("%s: package main missing or without code: %+v", b.Path, main)
	}
	for _, o := range b.Other {
		if o.Name == BucketUnknown && o.Total > b.FileSize/20 {
			t.Errorf("%s: %d of %d bytes unattributed", b.Path, o.Total, b.FileSize)
		}
	}
}

func TestBreakdownAddsUpOnARMAndARM64(t *testing.T) {
	testenv.Tool(t, "go", "golang-go")
	dir := t.TempDir()
	for _, arch := range []struct{ name, goarch, extra string }{
		{"arm64", "arm64", "GOARM64=v8.0"},
		{"armv7", "arm", "GOARM=7"},
	} {
		t.Run(arch.name, func(t *testing.T) {
			env := []string{"GOARCH=" + arch.goarch, arch.extra}
			full := buildWorkload(t, dir, arch.name, "", env...)
			b, err := Analyze(full)
			if err != nil {
				t.Fatal(err)
			}
			if b.Stripped {
				t.Errorf("%s: unstripped build reported stripped", full)
			}
			checkBreakdown(t, b)
			if !hasBucket(b, BucketDWARF) || !hasBucket(b, BucketSymtab) {
				t.Errorf("unstripped build lacks DWARF or symbol table buckets: %+v", b.Other)
			}

			stripped := buildWorkload(t, dir, arch.name+"-stripped", "-s -w", env...)
			alone, err := Analyze(stripped)
			if err != nil {
				t.Fatal(err)
			}
			if !alone.Stripped || len(alone.Packages) != 0 {
				t.Errorf("stripped build alone: stripped=%v, %d packages", alone.Stripped, len(alone.Packages))
			}
			tb, err := AnalyzeTwin(stripped, full)
			if err != nil {
				t.Fatal(err)
			}
			checkBreakdown(t, tb)
			if hasBucket(tb, BucketDWARF) || hasBucket(tb, BucketSymtab) {
				t.Errorf("stripped file credited with its twin's DWARF or symbols: %+v", tb.Other)
			}
			if tb.Twin != full || tb.FileSize >= b.FileSize {
				t.Errorf("twin %q, sizes stripped %d vs full %d", tb.Twin, tb.FileSize, b.FileSize)
			}
		})
	}
}

func hasBucket(b *Breakdown, name string) bool {
	for _, o := range b.Other {
		if o.Name == name && o.Total > 0 {
			return true
		}
	}
	return false
}

func TestAnalyzeRejectsWhatIsNotELF(t *testing.T) {
	path := filepath.Join(t.TempDir(), "not-elf")
	if err := os.WriteFile(path, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Analyze(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("got %v, want an error naming %s", err, path)
	}
	t.Run("twin", func(t *testing.T) {
		if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
			t.Skipf("pairs the test binary, as the good ELF file, with a bad twin: %s binaries are not ELF", runtime.GOOS)
		}
		if _, err := AnalyzeTwin(os.Args[0], path); err == nil || !strings.Contains(err.Error(), "twin") {
			t.Fatalf("bad twin: got %v, want an error about the twin", err)
		}
	})
}

func TestTopFoldsTheRest(t *testing.T) {
	b := &Breakdown{Packages: []Part{{Name: "a", Code: 5, Total: 9}, {Name: "b", Total: 3, Data: 3}, {Name: "c", Total: 2, Meta: 2}}}
	top, rest := b.Top(1)
	if len(top) != 1 || top[0].Name != "a" || rest == nil || rest.Total != 5 || rest.Data != 3 || rest.Meta != 2 || rest.Name != "2 other packages" {
		t.Fatalf("Top(1) = %+v, %+v", top, rest)
	}
	if top, rest := b.Top(3); len(top) != 3 || rest != nil {
		t.Fatalf("Top(3) = %+v, %+v", top, rest)
	}
}
