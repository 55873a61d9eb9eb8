package cli

import (
	"bufio"
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
	"armbench/remote"
)

// deviceConfig writes a targets.toml whose "dev" target is the sshd
// harness, with known_hosts file kh.
func deviceConfig(t *testing.T, d *testdevice.Device, kh string) string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "targets.toml")
	body := fmt.Sprintf(`[project]
pkg = "./examples/workload"

[[target]]
name = "dev"
host = "127.0.0.1"
port = %d
user = %q
goarch = "arm64"
goarm64 = "v8.0"
deploy_dir = %q
identity_file = %q
known_hosts = %q
runner = %q
`, d.Port, d.User, d.Target.DeployDir, d.KeyPath, kh, d.Target.Runner)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not JSON: %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func TestCLIDeployRunRollbackOverSSH(t *testing.T) {
	testenv.Slow(t, "cross-compiles the sample workload")
	chdirRepoCopy(t)
	d := testdevice.Start(t)
	cfg := deviceConfig(t, d, d.KnownHosts)

	code, stdout, stderr := runCLI(t, "deploy", "--config", cfg, "--target", "dev", "--profile", "release", "--json")
	if code != exitOK {
		t.Fatalf("deploy: exit %d\n%s", code, stderr)
	}
	lines := jsonLines(t, stdout)
	res := lines[len(lines)-1]
	if res["type"] != "result" || res["ok"] != true || res["skipped"] != false || res["name"] != "workload-release" {
		t.Fatalf("result %v", res)
	}
	types := map[string]int{}
	for _, l := range lines {
		types[l["type"].(string)]++
	}
	if types["step"] < 8 || types["progress"] < 1 || types["build"] < 1 {
		t.Errorf("event types %v", types)
	}
	path := res["path"].(string)
	if path != d.Target.DeployDir+"/workload-release" {
		t.Errorf("path %s", path)
	}
	local := filepath.Join(".armbench", "out", "dev", "release", "workload")
	if got, want := sha256Of(t, path), sha256Of(t, local); got != want || res["sha256"] != want {
		t.Errorf("device sha %s, artifact %s, result %v", got, want, res["sha256"])
	}

	// Unchanged: skipped.
	code, stdout, stderr = runCLI(t, "deploy", "--config", cfg, "--target", "dev", "--profile", "release")
	if code != exitOK || !strings.HasPrefix(stdout, "unchanged: ") {
		t.Fatalf("redeploy: exit %d, %q %q", code, stdout, stderr)
	}

	// Runs with the profile's runtime settings; output and exit status
	// pass through.
	code, stdout, stderr = runCLI(t, "run", "--config", cfg, "--target", "dev", "--profile", "release", "--", "-duration", "200ms", "-mode", "hash")
	if code != exitOK || !strings.Contains(stdout, "hash") {
		t.Errorf("run: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, _, stderr = runCLI(t, "run", "--config", cfg, "--target", "dev", "--profile", "release", "--", "-no-such-flag")
	if code != 2 || !strings.Contains(stderr, "no-such-flag") {
		t.Errorf("bad flag: exit %d (want the program's 2), stderr %q", code, stderr)
	}
	code, stdout, _ = runCLI(t, "run", "--config", cfg, "--target", "dev", "--profile", "release", "--json", "--", "-mode", "nope")
	lines = jsonLines(t, stdout)
	if code != 2 || lines[len(lines)-1]["exit_code"] != float64(2) {
		t.Errorf("run --json: exit %d, %q", code, stdout)
	}

	// Rollback: nothing to roll back to yet, then after a second deploy.
	code, _, stderr = runCLI(t, "rollback", "--config", cfg, "--target", "dev", "--profile", "release")
	if code != exitFailed || !strings.Contains(stderr, "no previous binary") {
		t.Errorf("rollback without .prev: exit %d, %q", code, stderr)
	}
	// An "older version" under the same name, then the real one over it.
	older := armProgram(t, `println("older")`)
	dev, err := remote.Open(context.Background(), d.Target, remote.Options{NoAgent: true})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	if _, err := dev.Deploy(context.Background(), remote.File{Path: older}, "workload-release", nil); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "deploy", "--config", cfg, "--target", "dev", "--profile", "release", "--no-build"); code != exitOK {
		t.Fatalf("deploy --no-build: %d %s", code, stderr)
	}
	code, stdout, stderr = runCLI(t, "rollback", "--config", cfg, "--target", "dev", "--profile", "release")
	if code != exitOK {
		t.Fatalf("rollback: exit %d, %q", code, stderr)
	}
	if sha256Of(t, path) != sha256Of(t, older) || sha256Of(t, path+".prev") != sha256Of(t, local) {
		t.Error("rollback did not swap the binaries")
	}
	code, stdout, stderr = runCLI(t, "run", "--config", cfg, "--target", "dev", "--profile", "release")
	if code != exitOK || !strings.Contains(stdout+stderr, "older") {
		t.Errorf("after rollback: %d %q", code, stdout)
	}
}

func sha256Of(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("sha256sum", path).Output()
	if err != nil {
		t.Fatalf("sha256sum %s: %v", path, err)
	}
	return strings.Fields(string(out))[0]
}

func TestCLITrust(t *testing.T) {
	d := testdevice.Start(t)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	cfg := deviceConfig(t, d, kh)
	fp := ssh.FingerprintSHA256(d.HostKey)

	// deploy to an unknown host: refused, with the fingerprint and the way out.
	code, _, stderr := runCLI(t, "deploy", "--config", cfg, "--target", "dev", "--no-build")
	if code == exitOK {
		t.Fatal("deploy to an unknown host succeeded")
	}
	code, _, stderr = runCLI(t, "rollback", "--config", cfg, "--target", "dev")
	if code != exitFailed || !strings.Contains(stderr, fp) || !strings.Contains(stderr, "armbench trust dev") {
		t.Errorf("unknown host: exit %d, %q", code, stderr)
	}

	// --json shows the key without adding it.
	code, stdout, _ := runCLI(t, "trust", "dev", "--config", cfg, "--json")
	var res map[string]any
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || code != exitOK {
		t.Fatalf("trust --json: %d %q %v", code, stdout, err)
	}
	if res["fingerprint"] != fp || res["added"] != false || res["known"] != false || !strings.HasPrefix(res["key"].(string), "ssh-ed25519 ") {
		t.Errorf("trust --json: %v", res)
	}
	// Declined on the prompt.
	code, _, stderr = runCLIInput(t, "n\n", "trust", "dev", "--config", cfg)
	if code != exitFailed || !strings.Contains(stderr, fp) {
		t.Errorf("declined: %d %q", code, stderr)
	}
	if b, _ := os.ReadFile(kh); len(b) != 0 {
		t.Fatalf("declined key written: %q", b)
	}
	// Accepted.
	code, stdout, stderr = runCLIInput(t, "y\n", "trust", "dev", "--config", cfg)
	if code != exitOK || !strings.Contains(stdout, fp) {
		t.Fatalf("accepted: %d %q %q", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, "trust", "--config", cfg, "--target", "dev")
	if code != exitOK || !strings.Contains(stdout, "already trusted") {
		t.Errorf("again: %d %q", code, stdout)
	}
	// Usage errors exit 2.
	if code, _, _ := runCLI(t, "trust", "dev", "other", "--config", cfg); code != exitUsage {
		t.Errorf("trust with two targets: exit %d", code)
	}
	if code, _, _ := runCLI(t, "trust", "nosuch", "--config", cfg); code != exitUsage {
		t.Errorf("unknown target: exit %d", code)
	}

	// A changed key is a hard error worded like OpenSSH's.
	os.WriteFile(kh, []byte(fmt.Sprintf("[127.0.0.1]:%d ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n", d.Port)), 0o600)
	code, _, stderr = runCLI(t, "trust", "dev", "--config", cfg, "--yes")
	if code != exitFailed || !strings.Contains(stderr, "REMOTE HOST IDENTIFICATION HAS CHANGED") {
		t.Errorf("changed key: %d %q", code, stderr)
	}
}

func TestCLIRunLocalTarget(t *testing.T) {
	testenv.Slow(t, "cross-compiles the sample workload")
	chdirRepoCopy(t)
	code, stdout, stderr := runCLI(t, "deploy", "--target", "local-arm64", "--profile", "default")
	if code != exitOK || !strings.HasPrefix(stdout, "installed ") {
		t.Fatalf("deploy local: %d %q %q", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(".armbench", "device", "local-arm64", "workload-default")); err != nil {
		t.Errorf("not in the local deploy_dir: %v", err)
	}
	code, stdout, stderr = runCLI(t, "run", "--target", "local-arm64", "--", "-duration", "100ms", "-mode", "chan")
	if code != exitOK || !strings.Contains(stdout, "chan") {
		t.Errorf("run local: %d %q %q", code, stdout, stderr)
	}
}

// Several profiles deploy over one connection, each under its own name, and
// --json gives one result per profile.
func TestCLIDeploySeveralProfiles(t *testing.T) {
	testenv.Slow(t, "cross-compiles the sample workload")
	chdirRepoCopy(t)
	d := testdevice.Start(t)
	cfg := deviceConfig(t, d, d.KnownHosts)

	code, stdout, stderr := runCLI(t, "deploy", "--config", cfg, "--target", "dev", "--profile", "release,debug", "--json")
	if code != exitOK {
		t.Fatalf("deploy: exit %d\n%s", code, stderr)
	}
	var results []map[string]any
	for _, l := range jsonLines(t, stdout) {
		if l["type"] == "result" {
			results = append(results, l)
		}
	}
	if len(results) != 2 {
		t.Fatalf("%d results, want 2: %v", len(results), results)
	}
	for i, name := range []string{"workload-release", "workload-debug"} {
		r := results[i]
		if r["ok"] != true || r["name"] != name {
			t.Errorf("result %d: %v", i, r)
			continue
		}
		if got := sha256Of(t, r["path"].(string)); got != r["sha256"] {
			t.Errorf("%s on the device has sha256 %s, result says %v", name, got, r["sha256"])
		}
	}
	if results[0]["sha256"] == results[1]["sha256"] {
		t.Error("release and debug builds should differ")
	}
	if n := strings.Count(stderr+stdout, "reconnected"); n != 0 {
		t.Errorf("one connection expected, saw %d reconnections", n)
	}
}

// armProgram builds a tiny arm64 program whose main body is body, so a
// test can deploy "another version" that runs like the real one (directly
// through binfmt_misc or through the target's qemu runner).
func armProgram(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module older\ngo 1.26\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() { "+body+" }\n"), 0o644)
	out := filepath.Join(dir, "older")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-mod=mod")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build arm64 program: %v\n%s", err, b)
	}
	return out
}

// A run of default-profile deploys, as a user iterates: a first deploy,
// unchanged redeploys and one-line changes (elfz deltas through the
// helper). No temporary file is left in the project, in the user's cache
// or on the device; the helper is built once and is not installed by the
// first deploy, which has no base to send a delta against.
func TestCLIDeploysLeaveNoTemporaryFiles(t *testing.T) {
	testenv.Slow(t, "cross-compiles the sample workload several times")
	testenv.Tool(t, "zstd", "zstd")
	dir := chdirRepoCopy(t)
	d := testdevice.Start(t)
	cfg := deviceConfig(t, d, d.KnownHosts)
	deploy := func(what string) map[string]any {
		t.Helper()
		code, stdout, stderr := runCLI(t, "deploy", "--config", cfg, "--target", "dev", "--profile", "default", "--json")
		if code != exitOK {
			t.Fatalf("%s: exit %d\n%s", what, code, stderr)
		}
		lines := jsonLines(t, stdout)
		return lines[len(lines)-1]
	}
	helper := filepath.Join(d.Target.DeployDir, ".armbench-elfz")

	if res := deploy("first deploy"); res["ok"] != true || res["delta"] == true {
		t.Fatalf("first deploy: %v", res)
	}
	if _, err := os.Stat(helper); err == nil {
		t.Error("the first deploy installed the delta helper: it has no base to use it with")
	}
	elfz := 0
	for i := range 3 {
		if res := deploy("unchanged redeploy"); res["skipped"] != true {
			t.Fatalf("unchanged redeploy %d: %v", i, res)
		}
		src := fmt.Sprintf("package main\n\nimport \"os\"\n\nfunc init() {\n\tif len(os.Args) > 99 {\n\t\tprintln(\"change %d\")\n\t}\n}\n", i)
		if err := os.WriteFile(filepath.Join(dir, "examples", "workload", "change.go"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		res := deploy("redeploy after a change")
		if res["ok"] != true || res["skipped"] == true || res["delta"] != true {
			t.Fatalf("redeploy after change %d: %v", i, res)
		}
		if res["delta_kind"] == remote.DeltaELFZ {
			elfz++
		}
	}
	if elfz == 0 {
		t.Error("no redeploy went as an elfz delta: the helper was never used")
	}
	helpers, _ := filepath.Glob(filepath.Join(dir, "user-cache", "armbench", "elfz", "*", "helper.stamp"))
	if len(helpers) != 1 {
		t.Errorf("%d helpers in the user's cache, want 1: %v", len(helpers), helpers)
	}

	var left []string
	for _, root := range []string{dir, d.Target.DeployDir} {
		filepath.WalkDir(root, func(path string, e os.DirEntry, err error) error {
			if err == nil && (strings.Contains(e.Name(), ".tmp") || strings.HasPrefix(e.Name(), ".stamp-")) {
				left = append(left, path)
			}
			return nil
		})
	}
	if len(left) > 0 {
		t.Errorf("temporary files left after 10 deploys:\n%s", strings.Join(left, "\n"))
	}
}
