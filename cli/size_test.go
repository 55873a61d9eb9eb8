package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"armbench/internal/testenv"
)

// TestSizeJSONOfAStrippedBinary: `armbench size --json` on a stripped
// release build attributes its bytes through the unstripped twin, and the
// parts add up to the file.
func TestSizeJSONOfAStrippedBinary(t *testing.T) {
	testenv.Tool(t, "go", "golang-go")
	chdirRepoCopy(t)
	code, stdout, stderr := runCLI(t, "size", "--target", "local-arm64", "--profile", "release", "--json")
	if code != 0 {
		t.Fatalf("size exit %d: %s", code, stderr)
	}
	var got sizeResultJSON
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if strings.Contains(line, `"type":"size"`) {
			if err := json.Unmarshal([]byte(line), &got); err != nil {
				t.Fatal(err)
			}
		}
	}
	b := got.Size
	if b == nil || got.Profile != "release" || !b.Stripped || b.Twin == "" {
		t.Fatalf("size result %+v", got)
	}
	if d := b.Sum() - b.FileSize; d < -b.FileSize/50 || d > b.FileSize/50 {
		t.Errorf("parts add up to %d, file %d", b.Sum(), b.FileSize)
	}
	if len(b.Packages) == 0 || b.Packages[0].Name != "runtime" {
		t.Errorf("packages %+v", b.Packages)
	}
	code, _, stderr = runCLI(t, "size", "--target", "local-arm64", "--top", "0")
	if code != exitUsage || !strings.Contains(stderr, "--top") {
		t.Errorf("--top 0: exit %d, %q", code, stderr)
	}
}

// TestPgoRefusesToOverwriteWithoutMerge: a package that has a default.pgo
// keeps it unless --merge says otherwise, and nothing is built first.
func TestPgoRefusesToOverwriteWithoutMerge(t *testing.T) {
	testenv.Tool(t, "go", "golang-go")
	dir := chdirRepoCopy(t)
	existing := filepath.Join(dir, "examples", "workload", "default.pgo")
	if err := os.WriteFile(existing, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "pgo", "--target", "local-arm64")
	if code != exitUsage || !strings.Contains(stderr, "--merge") || !strings.Contains(stderr, existing) {
		t.Fatalf("exit %d, stderr %q: want exit 2 naming %s and --merge", code, stderr, existing)
	}
	if b, _ := os.ReadFile(existing); string(b) != "mine" {
		t.Errorf("default.pgo changed: %q", b)
	}
	if _, err := os.Stat(filepath.Join(dir, ".armbench", "out")); !os.IsNotExist(err) {
		t.Errorf("something was built before the refusal: %v", err)
	}
	for _, args := range [][]string{{"pgo", "--count", "0"}, {"pgo", "--target", "local-arm64", "--profile", "speed,release"}} {
		if code, _, stderr := runCLI(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d (%s), want 2", args, code, stderr)
		}
	}
}
