package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"armbench/cli"
)

// run sends sub-commands to the headless front end and flags alone to the
// workbench, whose flags and configuration are checked before the TUI
// opens (so these cases never take the terminal).
func TestRunPicksTheFrontEnd(t *testing.T) {
	badConfig := filepath.Join(t.TempDir(), "targets.toml")
	if err := os.WriteFile(badConfig, []byte("[[target]]\nname = \"x\"\nhost = \"local\"\ngoarch = \"mips\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		{args: []string{"help"}, code: 0, stdout: "commands:"},
		{args: []string{"plan", "--target", "local-armv7", "--profile", "release"}, code: 0, stdout: "GOARM=7"},
		{args: []string{"nonsense"}, code: 2, stderr: `unknown command "nonsense"`},
		{args: []string{"-h"}, code: 0, stderr: "flags of the workbench"},
		{args: []string{"--count", "-1"}, code: 2, stderr: "--count must be at least 1"},
		{args: []string{"--no-such-flag"}, code: 2, stderr: "flag provided but not defined"},
		{args: []string{"--config", badConfig}, code: 2, stderr: "mips"},
	} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), tc.args, strings.NewReader(""), &out, &errOut)
		if code != tc.code || !strings.Contains(out.String(), tc.stdout) || !strings.Contains(errOut.String(), tc.stderr) {
			t.Errorf("armbench %s: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
				strings.Join(tc.args, " "), code, out.String(), errOut.String(), tc.code, tc.stdout, tc.stderr)
		}
	}
}

// With no targets.toml anywhere the workspace is the embedded one.
func TestEmbeddedTargetsAreTheShippedFile(t *testing.T) {
	shipped, err := os.ReadFile("targets.toml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(shipped, defaultTargets) {
		t.Fatal("the embedded default differs from targets.toml")
	}
	t.Chdir(t.TempDir())
	t.Setenv("ARMBENCH_CONFIG", "")
	var out, errOut bytes.Buffer
	o := cli.Options{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, DefaultTargets: defaultTargets}
	if code := cli.Run(context.Background(), []string{"targets"}, o); code != 0 {
		t.Fatalf("targets: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "local-armv7") {
		t.Errorf("targets without a file: %q, want the embedded local-armv7", out.String())
	}
}
