package build

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Staging names a killed build left beside an output are removed by the
// next build of that output once they are old; a young one may be a live
// build's, and other files are never touched.
func TestSweepStale(t *testing.T) {
	if !stampsComplete {
		t.Skip("this OS's files have no change time: nothing is swept here, by design")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "app")
	names := []string{out, filepath.Join(dir, ".app.tmp-0a1b2c"), filepath.Join(dir, ".other.tmp-0a1b2c"), filepath.Join(dir, "build.log")}
	for _, n := range names {
		if err := os.WriteFile(n, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sweepStale(out, time.Hour)
	for _, n := range names {
		if _, err := os.Stat(n); err != nil {
			t.Fatalf("a young staging name or another file was removed: %v", err)
		}
	}
	time.Sleep(10 * time.Millisecond)
	sweepStale(out, time.Millisecond)
	if _, err := os.Stat(names[1]); !os.IsNotExist(err) {
		t.Errorf("the old staging name of app is still there: %v", err)
	}
	for _, n := range []string{out, names[2], names[3]} {
		if _, err := os.Stat(n); err != nil {
			t.Errorf("sweep removed %s: %v", filepath.Base(n), err)
		}
	}
}
