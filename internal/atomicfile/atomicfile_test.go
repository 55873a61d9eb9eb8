package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// names lists dir's entries, to see that no temporary file is left.
func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ns []string
	for _, e := range es {
		ns = append(ns, e.Name())
	}
	return ns
}

func TestWriteCreatesAndReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.toml")
	for _, c := range []struct {
		data string
		mode fs.FileMode
	}{{"first\n", 0o600}, {"second, longer\n", 0o755}, {"", 0o644}} {
		if err := Write(p, []byte(c.data), c.mode); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != c.data {
			t.Fatalf("content %q, want %q", b, c.data)
		}
		if runtime.GOOS != "windows" {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != c.mode {
				t.Fatalf("mode %v, want %v", fi.Mode().Perm(), c.mode)
			}
		}
		if ns := names(t, dir); len(ns) != 1 || ns[0] != "f.toml" {
			t.Fatalf("folder holds %q, want only f.toml", ns)
		}
	}
}

func TestWriteMissingFolder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "no", "f")
	err := Write(p, []byte("x"), 0o644)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), p) {
		t.Fatalf("err = %v, want one naming %s and wrapping fs.ErrNotExist", err, p)
	}
}

// A rename that fails leaves what was at path and no temporary file.
func TestWriteFailedRenameCleansUp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "d")
	if err := os.MkdirAll(filepath.Join(p, "inside"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := Write(p, []byte("x"), 0o644)
	if err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("err = %v, want a failure naming %s", err, p)
	}
	if fi, err := os.Stat(filepath.Join(p, "inside")); err != nil || !fi.IsDir() {
		t.Fatalf("the folder at path was touched: %v", err)
	}
	if ns := names(t, dir); len(ns) != 1 || ns[0] != "d" {
		t.Fatalf("folder holds %q, want only d", ns)
	}
}
