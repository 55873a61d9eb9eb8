package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"

	"armbench/internal/testdevice"
	"armbench/internal/testenv"
)

// groupConfig writes a targets.toml whose targets dev0… are the sshd
// devices, all in the group "lab", the last one with a health check.
func groupConfig(t *testing.T, devs []*testdevice.Device, health string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("[project]\npkg = \"./examples/workload\"\n\n[[group]]\nname = \"lab\"\ntargets = [\"dev0\"]\n")
	for i, d := range devs {
		fmt.Fprintf(&b, `
[[target]]
name = "dev%d"
host = "127.0.0.1"
port = %d
user = %q
goarch = "arm64"
goarm64 = "v8.0"
deploy_dir = %q
identity_file = %q
known_hosts = %q
runner = %q
groups = ["lab"]
`, i, d.Port, d.User, d.Target.DeployDir, d.KeyPath, d.KnownHosts, d.Target.Runner)
	}
	b.WriteString(health)
	cfg := filepath.Join(t.TempDir(), "targets.toml")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// deploy --target GROUP rolls out over three devices, one wave each, with
// one build; status then names what each runs; run runs it on each.
func TestFleetDeployStatusRunGroup(t *testing.T) {
	testenv.Slow(t, "cross-compiles the sample workload")
	testenv.Qemu(t, "arm64")
	chdirRepoCopy(t)
	devs := make([]*testdevice.Device, 3)
	var wg sync.WaitGroup
	for i := range devs {
		wg.Add(1)
		go func() { defer wg.Done(); devs[i] = testdevice.Start(t) }()
	}
	wg.Wait()
	// The last device's check runs the binary it checks.
	cfg := groupConfig(t, devs, "[target.health]\ncommand = '$ARMBENCH_RUNNER \"$ARMBENCH_BINARY\" -duration 10ms -mode hash'\n")

	code, stdout, stderr := runCLI(t, "targets", "--config", cfg, "--json")
	if code != exitOK || !strings.Contains(stdout, `"groups":[{"name":"lab","targets":["dev0","dev1","dev2"]`) {
		t.Errorf("targets --json: exit %d %s %s", code, stdout, stderr)
	}

	code, stdout, stderr = runCLI(t, "deploy", "--config", cfg, "--target", "lab", "--profile", "release", "--json")
	if code != exitOK {
		t.Fatalf("deploy: exit %d\n%s\n%s", code, stdout, stderr)
	}
	lines := jsonLines(t, stdout)
	res := lines[len(lines)-1]
	devices, _ := res["devices"].([]any)
	if res["type"] != "result" || res["ok"] != true || res["max_unavailable"] != float64(1) || len(devices) != 3 {
		t.Fatalf("result %v", res)
	}
	local := sha256Of(t, filepath.Join(".armbench", "out", "dev0", "release", "workload"))
	for i, v := range devices {
		d := v.(map[string]any)
		path := filepath.Join(devs[i].Target.DeployDir, "workload-release")
		if d["target"] != fmt.Sprint("dev", i) || d["state"] != "deployed" || d["wave"] != float64(i+1) || d["sha256"] != local || sha256Of(t, path) != local {
			t.Errorf("device %d: %v", i, d)
		}
	}
	if d := devices[2].(map[string]any); d["health_attempts"] != float64(1) {
		t.Errorf("dev2 health attempts %v", d["health_attempts"])
	}
	builds, phases := 0, map[string]bool{}
	for _, l := range lines {
		switch l["type"] {
		case "build":
			if strings.HasPrefix(fmt.Sprint(l["text"]), "env ") {
				builds++
			}
		case "device":
			phases[fmt.Sprint(l["target"], " ", l["wave"], " ", l["phase"])] = true
		}
	}
	if builds != 1 || !phases["dev2 3 health"] || !phases["dev0 1 done"] || phases["dev0 1 health"] {
		t.Errorf("%d builds, phases %v", builds, phases)
	}

	code, stdout, stderr = runCLI(t, "status", "--config", cfg, "--target", "lab", "--json")
	if code != exitOK {
		t.Fatalf("status: exit %d %s", code, stderr)
	}
	st := jsonLines(t, stdout)[0]
	for i, v := range st["devices"].([]any) {
		d := v.(map[string]any)
		bins := d["binaries"].([]any)
		if d["target"] != fmt.Sprint("dev", i) || len(bins) != 1 {
			t.Fatalf("status device %v", d)
		}
		b := bins[0].(map[string]any)
		if b["name"] != "workload-release" || b["sha256"] != local || b["known"] != true || b["profile"] != "release" || b["deployed"] == nil {
			t.Errorf("status binary %v", b)
		}
	}
	code, stdout, _ = runCLI(t, "status", "--config", cfg, "--target", "dev1", "--profile", "release")
	if code != exitOK || !strings.Contains(stdout, "dev1    workload-release  "+local[:12]+"  release") {
		t.Errorf("status text: exit %d\n%s", code, stdout)
	}

	code, stdout, stderr = runCLI(t, "run", "--config", cfg, "--target", "lab", "--profile", "release", "--", "-duration", "10ms", "-mode", "hash")
	for i := range devs {
		if !strings.Contains(stdout, fmt.Sprintf("dev%d: ", i)) {
			t.Errorf("run on the group: no line from dev%d (exit %d)\n%s\n%s", i, code, stdout, stderr)
		}
	}
	if code != exitOK {
		t.Errorf("run on the group: exit %d\n%s", code, stderr)
	}

	// rollback on the group: each device in turn; dev2 has no previous
	// binary, which fails it alone.
	old := "#!/bin/sh\necho old\n"
	for _, d := range devs[:2] {
		if err := os.WriteFile(filepath.Join(d.Target.DeployDir, "workload-release.prev"), []byte(old), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr = runCLI(t, "rollback", "--config", cfg, "--target", "lab", "--profile", "release")
	if code == exitOK || !strings.Contains(stderr, "failed on 1 of 3 devices: dev2") || !strings.Contains(stdout, "dev0: rolled back") {
		t.Errorf("rollback on the group: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for i, d := range devs[:2] {
		bin := filepath.Join(d.Target.DeployDir, "workload-release")
		if got, _ := os.ReadFile(bin); string(got) != old || sha256Of(t, bin+".prev") != local {
			t.Errorf("dev%d after the rollback: %q, .prev sha256 %s", i, got, sha256Of(t, bin+".prev"))
		}
	}
	if sha256Of(t, filepath.Join(devs[2].Target.DeployDir, "workload-release")) != local {
		t.Error("dev2, with nothing to roll back to, lost its binary")
	}
}

func TestGroupTargetErrors(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "targets.toml")
	os.WriteFile(cfg, []byte("[[target]]\nname = 'pi4'\nhost = 'h'\ngoarch = 'arm64'\ngroups = ['lab']\n"), 0o644)
	code, _, stderr := runCLI(t, "deploy", "--config", cfg, "--target", "lbb", "--no-build")
	if code != exitUsage || !strings.Contains(stderr, `unknown target "lbb"`) || !strings.Contains(stderr, `did you mean "lab"?`) || !strings.Contains(stderr, "groups: lab") {
		t.Errorf("unknown group: exit %d %s", code, stderr)
	}
	code, _, stderr = runCLI(t, "watch", "--config", cfg, "--target", "lab")
	if code != exitUsage || !strings.Contains(stderr, `"lab" is a group (pi4); this command takes one target here`) {
		t.Errorf("watch on a group: exit %d %s", code, stderr)
	}
	code, _, stderr = runCLI(t, "deploy", "--config", cfg, "--target", "lab", "--profile", "release,speed", "--no-build")
	if code != exitUsage || !strings.Contains(stderr, "a rolling deploy takes one profile") {
		t.Errorf("two profiles on a group: exit %d %s", code, stderr)
	}
	code, stdout, _ := runCLI(t, "targets", "--config", cfg)
	if code != exitOK || !strings.Contains(stdout, "GROUP  TARGETS  DESCRIPTION\nlab    pi4") {
		t.Errorf("targets: %s", stdout)
	}
}

// trust GROUP shows and asks for each device's key in turn: a device
// declined is reported and leaves the others trusted; asked again, the
// trusted one says so and the other is added.
func TestCLITrustGroup(t *testing.T) {
	devs := []*testdevice.Device{testdevice.Start(t), testdevice.Start(t)}
	kh := filepath.Join(t.TempDir(), "known_hosts")
	var b strings.Builder
	b.WriteString("[[group]]\nname = \"lab\"\ntargets = [\"dev0\", \"dev1\"]\n")
	for i, d := range devs {
		fmt.Fprintf(&b, "\n[[target]]\nname = \"dev%d\"\nhost = \"127.0.0.1\"\nport = %d\nuser = %q\ngoarch = \"arm64\"\nidentity_file = %q\nknown_hosts = %q\n",
			i, d.Port, d.User, d.KeyPath, kh)
	}
	cfg := filepath.Join(t.TempDir(), "targets.toml")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	fp0, fp1 := ssh.FingerprintSHA256(devs[0].HostKey), ssh.FingerprintSHA256(devs[1].HostKey)

	code, stdout, stderr := runCLIInput(t, "y\nn\n", "trust", "lab", "--config", cfg)
	if code != exitFailed || !strings.Contains(stdout, "added ssh-ed25519 key "+fp0) || !strings.Contains(stderr, fp1) || !strings.Contains(stderr, "not trusted: dev1") {
		t.Fatalf("y then n: exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
	known := readFileCLI(t, kh)
	if !strings.Contains(known, fmt.Sprintf("[127.0.0.1]:%d ", devs[0].Port)) || strings.Contains(known, fmt.Sprintf("[127.0.0.1]:%d ", devs[1].Port)) {
		t.Fatalf("known_hosts after y then n:\n%s", known)
	}
	code, stdout, stderr = runCLIInput(t, "y\n", "trust", "lab", "--config", cfg)
	if code != exitOK || !strings.Contains(stdout, "dev0 (") || !strings.Contains(stdout, "already trusted") || !strings.Contains(stdout, "added ssh-ed25519 key "+fp1) {
		t.Fatalf("again: exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
}

func readFileCLI(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
