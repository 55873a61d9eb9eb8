package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"armbench/internal/testdevice"
	"armbench/internal/testenv"
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

// runCLIInput is runCLI with something typed on stdin.
func runCLIInput(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), args, Options{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut, DefaultTargets: shippedTargets})
	return code, out.String(), errOut.String()
}

// On the sshd harness (this x86-64 machine) detect must say plainly that
// the device is not ARM, exit 1, and write nothing with --add.
func TestDetectHarnessIsNotARM(t *testing.T) {
	if m, _ := exec.Command("uname", "-m").Output(); strings.TrimSpace(string(m)) != "x86_64" {
		testenv.Missing(t, "the harness is this machine; the test expects an x86-64 one")
	}
	d := testdevice.Start(t)
	spec := fmt.Sprintf("%s@%s:%d", d.User, d.Host, d.Port)
	cfg := filepath.Join(t.TempDir(), "targets.toml")
	common := []string{"--identity", d.KeyPath, "--known-hosts", d.KnownHosts, "--config", cfg}

	code, stdout, stderr := runCLI(t, append([]string{"detect", spec, "--json"}, common...)...)
	if code != exitFailed {
		t.Fatalf("exit %d, want 1; stderr %s", code, stderr)
	}
	var out struct {
		OK      bool
		Error   string
		Target  *json.RawMessage
		Reasons []struct{ Why string }
	}
	// JSON Lines: the detection result, then the error object every
	// failing --json command ends with.
	first, rest, _ := strings.Cut(stdout, "\n")
	if err := json.Unmarshal([]byte(first), &out); err != nil {
		t.Fatalf("json %q: %v", stdout, err)
	}
	if !strings.HasPrefix(rest, `{"type":"error"`) {
		t.Errorf("no error object after the result: %q", rest)
	}
	if out.OK || out.Target != nil || out.Error != "x86_64: not an ARM device; armbench targets arm and arm64" ||
		len(out.Reasons) != 1 || !strings.Contains(out.Reasons[0].Why, "the device reports x86_64 (Linux ") {
		t.Errorf("json = %s", stdout)
	}

	code, stdout, stderr = runCLI(t, append([]string{"detect", spec, "--add", "nuc"}, common...)...)
	if code != exitFailed || !strings.Contains(stderr, "x86_64: not an ARM device; armbench targets arm and arm64") ||
		!strings.Contains(stdout, spec+": the device reports x86_64") {
		t.Errorf("--add: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, err := os.Stat(cfg); !os.IsNotExist(err) {
		t.Errorf("--add on a non-ARM device wrote %s (%v)", cfg, err)
	}
}

// An unknown device is refused with its fingerprint and a way to trust it;
// --trust asks, and only a yes writes known_hosts.
func TestDetectTrust(t *testing.T) {
	d := testdevice.Start(t)
	spec := fmt.Sprintf("%s@%s:%d", d.User, d.Host, d.Port)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	fp := ssh.FingerprintSHA256(d.HostKey)
	args := []string{"detect", spec, "--identity", d.KeyPath, "--known-hosts", kh}

	code, _, stderr := runCLI(t, args...)
	if code != exitFailed || !strings.Contains(stderr, fp) || !strings.Contains(stderr, "armbench detect --trust "+spec) {
		t.Errorf("unknown host: exit %d, stderr %q", code, stderr)
	}

	code, _, stderr = runCLIInput(t, "n\n", append(args, "--trust")...)
	if code != exitFailed || !strings.Contains(stderr, fp) || !strings.Contains(stderr, "declined") {
		t.Errorf("declined: exit %d, stderr %q", code, stderr)
	}
	if b, _ := os.ReadFile(kh); len(b) != 0 {
		t.Errorf("a declined key was written: %q", b)
	}

	// Detection ran: exit 0 with a target on an ARM machine, or the plain
	// "not an ARM device" (exit 1) here.
	detected := func(code int, stdout string) bool {
		return code == exitOK && strings.Contains(stdout, "[[target]]") ||
			code == exitFailed && strings.Contains(stdout, ": the device reports ")
	}
	code, stdout, stderr := runCLIInput(t, "y\n", append(args, "--trust")...)
	if !strings.Contains(stderr, fp) || !strings.Contains(stderr, "armbench: added ") || !detected(code, stdout) {
		t.Errorf("trusted: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if b, _ := os.ReadFile(kh); !strings.Contains(string(b), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(d.HostKey)))) {
		t.Errorf("known_hosts after yes: %q", b)
	}
	// Now known: no question asked, detection runs.
	code, stdout, stderr = runCLI(t, args...)
	if strings.Contains(stderr, "can't be established") || !detected(code, stdout) {
		t.Errorf("after trust: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
