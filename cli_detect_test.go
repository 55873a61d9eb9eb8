package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDetectUsageErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "targets.toml")
	if err := os.WriteFile(cfg, []byte("[[target]]\nname = \"pi4\"\nhost = \"pi4.local\"\ngoarch = \"arm64\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"detect"}, "exactly one device"},
		{[]string{"detect", "a", "b"}, "exactly one device"},
		{[]string{"detect", "pi@"}, "no host"},
		{[]string{"detect", "host:99999"}, "port"},
		{[]string{"detect", "--bogus", "host"}, "flag provided but not defined"},
		// A taken name is refused before any connection is tried (the
		// host does not exist).
		{[]string{"detect", "nobody.invalid", "--config", cfg, "--add", "pi4"}, `already has a target named "pi4"`},
	} {
		code, _, stderr := runCLI(t, tt.args...)
		if code != exitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}
