package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSizeJSONOfAStrippedBinary: `armbench size --json` on a stripped
// release build attributes its bytes through the unstripped twin, and the
// parts add up to the file.
func TestSizeJSONOfAStrippedBinary(t *testing.T) {
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
