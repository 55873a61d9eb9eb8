package remote

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"armbench/internal/shell"
	"armbench/remote/install"
	"armbench/targets"
)

func localTarget(t *testing.T, dir string) targets.Target {
	return targets.Target{Name: "local", Host: targets.LocalHost, GOOS: "linux", GOARCH: "arm64", DeployDir: dir}
}

func openLocalT(t *testing.T, tg targets.Target) *localDevice {
	t.Helper()
	dev, err := Open(context.Background(), tg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	return dev.(*localDevice)
}

func TestLocalDeployAtomicSkipRollback(t *testing.T) {
	// deploy_dir with every character that would break naive shell use.
	dir := filepath.Join(t.TempDir(), `it's a "dir" $(touch pwned); rm -rf x`)
	dev := openLocalT(t, localTarget(t, dir))
	src := t.TempDir()
	v1 := writeFile(t, filepath.Join(src, "v1"), "#!/bin/sh\necho one\n", 0o644)
	v2 := writeFile(t, filepath.Join(src, "v2"), "#!/bin/sh\necho two\n", 0o644)
	name := "work load;$(x)"

	// A stale temporary file from an interrupted deploy, and one of
	// another binary that must survive.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stale := writeFile(t, filepath.Join(dir, install.TmpPrefix(name)+"123"), "junk", 0o644)
	other := writeFile(t, filepath.Join(dir, install.TmpPrefix("other")+"123"), "junk", 0o644)

	var rec recorder
	inst, err := dev.Deploy(context.Background(), File{Path: v1}, name, rec.emit)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, name)
	if inst.Path != dst || inst.Skipped || inst.SHA256 != sha(t, v1) || inst.Previous != "" {
		t.Fatalf("first deploy: %+v", inst)
	}
	if got := sha(t, dst); got != sha(t, v1) {
		t.Fatalf("device sha %s, want %s", got, sha(t, v1))
	}
	if st, err := os.Stat(dst); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("mode of %s: %v %v, want 0755", dst, st, err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temporary file not swept: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another binary's temporary file was removed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "pwned")); err == nil {
		t.Error("deploy_dir was interpreted by a shell")
	}
	want := []string{"connect", "connect done", "upload", "upload done", "verify", "verify done", "install", "install done"}
	if got := rec.steps(); !slices.Equal(got, want) {
		t.Errorf("steps %v, want %v", got, want)
	}
	if p, n := rec.lastProgress(); n == 0 || p.Sent != p.Total || p.Total != int64(len("#!/bin/sh\necho one\n")) {
		t.Errorf("progress %+v (%d events)", p, n)
	}

	// Unchanged: skipped, no upload step.
	rec = recorder{}
	inst, err = dev.Deploy(context.Background(), File{Path: v1, SHA256: sha(t, v1)}, name, rec.emit)
	if err != nil || !inst.Skipped {
		t.Fatalf("redeploy: %+v %v", inst, err)
	}
	if slices.Contains(rec.steps(), "upload") {
		t.Errorf("redeploy uploaded: %v", rec.steps())
	}

	// New version: the old one is kept as .prev.
	inst, err = dev.Deploy(context.Background(), File{Path: v2}, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if inst.Previous != dst+".prev" || sha(t, dst) != sha(t, v2) || sha(t, dst+".prev") != sha(t, v1) {
		t.Fatalf("second deploy: %+v", inst)
	}
	out, err := dev.Exec(context.Background(), "./"+shell.Quote(name))
	if err != nil || string(out) != "two\n" {
		t.Fatalf("run deployed: %q %v", out, err)
	}

	// Rollback swaps, twice.
	if err := dev.Rollback(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	if sha(t, dst) != sha(t, v1) || sha(t, dst+".prev") != sha(t, v2) {
		t.Fatal("rollback did not restore the previous binary")
	}
	if err := dev.Rollback(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	if sha(t, dst) != sha(t, v2) {
		t.Fatal("second rollback did not go forward again")
	}
	if err := dev.Rollback(context.Background(), "never-deployed"); !errors.Is(err, ErrNoPrevious) {
		t.Errorf("rollback of nothing: %v", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.Contains(e.Name(), install.TmpMarker) && !strings.HasPrefix(e.Name(), install.TmpPrefix("other")) {
			t.Errorf("left behind %s", e.Name())
		}
	}
}

func TestLocalDeployCancelKeepsOld(t *testing.T) {
	dir := t.TempDir()
	dev := openLocalT(t, localTarget(t, dir))
	v1 := writeFile(t, filepath.Join(t.TempDir(), "v1"), "old", 0o755)
	if _, err := dev.Deploy(context.Background(), File{Path: v1}, "app", nil); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(big, make([]byte, 64<<20), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	// Cancel as soon as the upload has started.
	emit := func(e Event) {
		if p, ok := e.(Progress); ok && p.Sent > 0 {
			cancel()
		}
	}
	_, err := dev.Deploy(ctx, File{Path: big}, "app", emit)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled deploy returned %v", err)
	}
	if sha(t, filepath.Join(dir, "app")) != sha(t, v1) {
		t.Fatal("cancelled deploy replaced the binary")
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.Contains(e.Name(), install.TmpMarker) {
			t.Errorf("cancelled deploy left %s", e.Name())
		}
	}
}

func TestLocalDeployRejectsBadNames(t *testing.T) {
	dev := openLocalT(t, localTarget(t, t.TempDir()))
	f := writeFile(t, filepath.Join(t.TempDir(), "f"), "x", 0o755)
	for _, name := range []string{"", ".", "..", "../escape", "a/b", "x" + install.TmpMarker + "y"} {
		if _, err := dev.Deploy(context.Background(), File{Path: f}, name, nil); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	// A wrong expected checksum must never be installed.
	_, err := dev.Deploy(context.Background(), File{Path: f, SHA256: strings.Repeat("0", 64)}, "app", nil)
	if err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Errorf("wrong sha accepted: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dev.DeployDir(), "app")); err == nil {
		t.Error("file with a wrong checksum was installed")
	}
}

func TestLocalRunStreamsAndExitCode(t *testing.T) {
	dir := t.TempDir()
	dev := openLocalT(t, localTarget(t, dir))
	writeFile(t, filepath.Join(dir, "prog"), "#!/bin/sh\necho \"out $1|$2\"\necho \"err $FOO\" >&2\npwd\nexit 3\n", 0o755)
	var rec recorder
	st, err := dev.Run(context.Background(), Command{Path: "prog", Args: []string{"a b", "$(c)"}, Env: []string{"FOO=bar baz"}}, rec.emit)
	if err != nil {
		t.Fatal(err)
	}
	if st.Code != 3 {
		t.Errorf("exit %+v, want 3", st)
	}
	lines := rec.lines()
	for _, want := range []string{"out: out a b|$(c)", "err: err bar baz", "out: " + dir} {
		if !slices.Contains(lines, want) {
			t.Errorf("missing %q in %q", want, lines)
		}
	}
}

func TestLocalRunCancelKillsGroup(t *testing.T) {
	dir := t.TempDir()
	dev := openLocalT(t, localTarget(t, dir))
	marker := "armbench-local-cancel-" + filepath.Base(dir)
	// The child ignores nothing, but it is a grandchild: only killing the
	// group gets it.
	writeFile(t, filepath.Join(dir, "prog"), "#!/bin/sh\nsh -c 'sleep 1000; echo "+marker+"' &\necho started\nwait\n", 0o755)
	ctx, cancel := context.WithCancel(context.Background())
	var sawChild bool
	emit := func(e Event) {
		if o, ok := e.(Output); ok && o.Text == "started" {
			// The test must be able to fail: the child is there before.
			for i := 0; i < 50 && !sawChild; i++ {
				sawChild = exec.Command("pgrep", "-f", marker).Run() == nil
				time.Sleep(20 * time.Millisecond)
			}
			cancel()
		}
	}
	done := make(chan struct{})
	var st ExitStatus
	var err error
	go func() { st, err = dev.Run(ctx, Command{Path: "prog"}, emit); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("cancelled run did not return")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v", err)
	}
	if !sawChild {
		t.Error("the child process never showed up in pgrep")
	}
	if st.Signal == "" {
		t.Errorf("status %+v, want a signal", st)
	}
	if out, err := exec.Command("pgrep", "-f", marker).Output(); err == nil {
		t.Errorf("processes left behind: %s", out)
	}
}

func TestLocalRunARMBinary(t *testing.T) {
	requireTool(t, "qemu-aarch64-static")
	bin := buildARM(t, "local")
	dir := t.TempDir()
	for _, runner := range []string{"", "qemu-aarch64-static"} {
		tg := localTarget(t, dir)
		tg.Runner = runner
		dev := openLocalT(t, tg)
		if _, err := dev.Deploy(context.Background(), File{Path: bin}, "armtest", nil); err != nil {
			t.Fatal(err)
		}
		var rec recorder
		st, err := dev.Run(context.Background(), Command{Path: "armtest", Args: []string{"x y"}, Env: []string{"ARMBENCH_TEST=hi", "ARMBENCH_EXIT=7"}}, rec.emit)
		if err != nil {
			t.Fatalf("runner %q: %v", runner, err)
		}
		lines := rec.lines()
		for _, want := range []string{"out: arch arm64 local", "out: arg [x y]", "out: env hi", "err: to stderr"} {
			if !slices.Contains(lines, want) {
				t.Errorf("runner %q: missing %q in %q", runner, want, lines)
			}
		}
		if st.Code != 7 {
			t.Errorf("runner %q: exit %+v", runner, st)
		}
	}
}

func TestLocalRunnerChoice(t *testing.T) {
	bin := buildARM(t, "choice")
	dir := t.TempDir()
	binfmt := t.TempDir()
	dev := openLocalT(t, localTarget(t, dir))
	dev.binfmtDir = binfmt
	dev.lookPath = func(name string) (string, error) {
		if name == "qemu-aarch64" {
			return "/opt/qemu/qemu-aarch64", nil
		}
		return "", exec.ErrNotFound
	}
	cmd := Command{Path: bin, Args: []string{"a"}}

	// No binfmt handler: qemu from PATH (the -static one is missing here).
	argv, err := dev.Argv(cmd)
	if err != nil || !slices.Equal(argv, []string{"/opt/qemu/qemu-aarch64", bin, "a"}) {
		t.Errorf("no binfmt: %q %v", argv, err)
	}
	// Registered and enabled: run directly.
	writeFile(t, filepath.Join(binfmt, "status"), "enabled\n", 0o644)
	writeFile(t, filepath.Join(binfmt, "qemu-aarch64"), "enabled\ninterpreter /x\n", 0o644)
	if argv, err := dev.Argv(cmd); err != nil || !slices.Equal(argv, []string{bin, "a"}) {
		t.Errorf("binfmt: %q %v", argv, err)
	}
	// Registered but disabled.
	writeFile(t, filepath.Join(binfmt, "qemu-aarch64"), "disabled\n", 0o644)
	if argv, _ := dev.Argv(cmd); len(argv) == 0 || argv[0] != "/opt/qemu/qemu-aarch64" {
		t.Errorf("disabled binfmt: %q", argv)
	}
	// An explicit runner always wins, with its own arguments.
	dev.t.Runner = "qemu-aarch64 -cpu max"
	if argv, _ := dev.Argv(cmd); !slices.Equal(argv, []string{"qemu-aarch64", "-cpu", "max", bin, "a"}) {
		t.Errorf("runner: %q", argv)
	}
	// No qemu anywhere: a clear error.
	dev.t.Runner = ""
	dev.lookPath = func(string) (string, error) { return "", exec.ErrNotFound }
	if _, err := dev.Argv(cmd); err == nil || !strings.Contains(err.Error(), "qemu-aarch64-static") {
		t.Errorf("no qemu: %v", err)
	}
	// A native script runs directly.
	script := writeFile(t, filepath.Join(dir, "s"), "#!/bin/sh\n", 0o755)
	if argv, _ := dev.Argv(Command{Path: script}); !slices.Equal(argv, []string{script}) {
		t.Errorf("script: %q", argv)
	}
}

func TestLocalRelativeDeployDir(t *testing.T) {
	wd := t.TempDir()
	t.Chdir(wd)
	dev := openLocalT(t, targets.Target{Name: "loc", Host: targets.LocalHost})
	if want := filepath.Join(wd, ".armbench", "device", "loc"); dev.DeployDir() != want {
		t.Errorf("deploy dir %s, want %s", dev.DeployDir(), want)
	}
	out, err := dev.Exec(context.Background(), "pwd; exit 0")
	if err != nil || strings.TrimSpace(string(out)) != dev.DeployDir() {
		t.Errorf("exec: %q %v", out, err)
	}
	if _, err := dev.Exec(context.Background(), "echo oops >&2; exit 4"); err == nil || !strings.Contains(err.Error(), "oops") {
		t.Errorf("failing exec: %v", err)
	}
}

// The runner choice follows the host: a Linux ARM program on macOS or
// Windows gets an explanation that names what would run it, and a 32-bit
// ARM program on an arm64 Linux host runs natively (AArch32).
func TestLocalRunnerChoiceByHost(t *testing.T) {
	bin := buildARM(t, "host")
	dir := t.TempDir()
	dev := openLocalT(t, localTarget(t, dir))
	dev.binfmtDir = t.TempDir()
	dev.lookPath = func(string) (string, error) { return "", exec.ErrNotFound }
	cmd := Command{Path: bin}

	for _, goos := range []string{"darwin", "windows"} {
		dev.host.os, dev.host.arch = goos, "arm64"
		_, err := dev.Argv(cmd)
		if err == nil || !strings.Contains(err.Error(), "this "+goos+" host cannot run Linux arm64 programs") || !strings.Contains(err.Error(), "--platform linux/arm64") {
			t.Errorf("%s: %v", goos, err)
		}
	}

	dev.host.os, dev.host.arch = "linux", "arm64"
	if argv, err := dev.Argv(cmd); err != nil || !slices.Equal(argv, []string{bin}) {
		t.Errorf("arm64 program on an arm64 host: %q %v", argv, err)
	}
	// The same file marked as 32-bit ARM (e_machine 40).
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	data[18], data[19] = 40, 0
	arm := writeFile(t, filepath.Join(dir, "arm"), string(data), 0o755)
	if argv, err := dev.Argv(Command{Path: arm}); err != nil || !slices.Equal(argv, []string{arm}) {
		t.Errorf("arm program on an arm64 host: %q %v", argv, err)
	}
	// On an x86-64 host it needs qemu.
	dev.host.arch = "amd64"
	if _, err := dev.Argv(Command{Path: arm}); err == nil || !strings.Contains(err.Error(), "qemu-arm-static") {
		t.Errorf("arm program on an amd64 host without qemu: %v", err)
	}
}
