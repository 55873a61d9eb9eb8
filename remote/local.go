package remote

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"armbench/internal/procgroup"
	"armbench/remote/artifact"
	"armbench/remote/event"
	"armbench/remote/install"
	"armbench/remote/run"
	"armbench/targets"
)

// localDevice is the "local" target: deploy_dir is a directory here and
// commands run as child processes, through qemu-user when needed.
type localDevice struct {
	t   targets.Target
	dir string

	// binfmtDir, lookPath and host are fields, not globals, so tests can
	// show the runner choice without touching the machine's binfmt_misc,
	// or being on another OS or CPU.
	binfmtDir string
	lookPath  func(string) (string, error)
	host      struct{ os, arch string }
}

// DefaultLocalDeployDir is where a local target deploys without deploy_dir.
func DefaultLocalDeployDir(name string) string {
	return filepath.Join(".armbench", "device", name)
}

func openLocal(t targets.Target) (*localDevice, error) {
	dir := t.DeployDir
	if dir == "" {
		dir = DefaultLocalDeployDir(t.Name)
	}
	if dir == "~" || strings.HasPrefix(dir, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("deploy_dir %s: %w", dir, err)
		}
		dir = filepath.Join(home, strings.TrimPrefix(dir[1:], "/"))
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("deploy_dir %s: %w", dir, err)
	}
	d := &localDevice{t: t, dir: abs, binfmtDir: "/proc/sys/fs/binfmt_misc", lookPath: exec.LookPath}
	d.host.os, d.host.arch = runtime.GOOS, runtime.GOARCH
	return d, nil
}

func (d *localDevice) DeployDir() string { return d.dir }
func (d *localDevice) Close() error      { return nil }

func (d *localDevice) opErr(op, step string, err error) error {
	if err == nil {
		return nil
	}
	return &OpError{Op: op, Target: d.t.Name, Addr: "local " + d.dir, Step: step, Err: classifyLocal(err)}
}

func classifyLocal(err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("%w: %v", ErrDiskFull, err)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("%w: %v", ErrPermission, err)
	}
	return err
}

func (d *localDevice) sweep(name string) error {
	ents, err := os.ReadDir(d.dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), install.TmpPrefix(name)) {
			if err := os.Remove(filepath.Join(d.dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

func (d *localDevice) Deploy(ctx context.Context, f File, name string, emit func(Event)) (inst Installed, err error) {
	start := time.Now()
	emit = event.Serial(emit)
	step := "connect"
	defer func() {
		if err != nil {
			err = d.opErr("deploy", step, err)
			emit(Step{Name: event.StepName(step), Done: true, Err: err, Time: time.Now()})
		}
	}()
	if err := install.CheckName(name); err != nil {
		return inst, err
	}
	emit(Step{Name: "connect", Time: time.Now()})
	if f, err = artifact.Resolve(f); err != nil {
		return inst, err
	}
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		return inst, err
	}
	if err := d.sweep(name); err != nil {
		return inst, err
	}
	emit(Step{Name: "connect", Done: true, Time: time.Now()})
	dst := filepath.Join(d.dir, name)
	inst = Installed{Path: dst, SHA256: f.SHA256}
	if old, err := artifact.SHA256(dst); err == nil && old == f.SHA256 {
		inst.Skipped = true
		if _, err := os.Stat(dst + ".prev"); err == nil {
			inst.Previous = dst + ".prev"
		}
		inst.Duration = time.Since(start)
		return inst, nil
	}
	if err := ctx.Err(); err != nil {
		return inst, err
	}

	step = "upload"
	emit(Step{Name: "upload", Time: time.Now()})
	tmpPath, err := d.upload(ctx, f, name, emit)
	if err != nil {
		return inst, err
	}
	defer func() {
		if err != nil {
			os.Remove(tmpPath)
		}
	}()
	emit(Step{Name: "upload", Done: true, Time: time.Now()})

	step = "verify"
	if err := verifyLocal(ctx, tmpPath, f.SHA256, emit); err != nil {
		return inst, err
	}

	step = "install"
	emit(Step{Name: "install", Time: time.Now()})
	if inst.Previous, err = d.installTmp(tmpPath, dst); err != nil {
		return inst, err
	}
	emit(Step{Name: "install", Done: true, Time: time.Now()})
	inst.Duration = time.Since(start)
	inst.WireBytes = f.Size
	return inst, nil
}

// upload copies f into a temporary file of deploy_dir, executable and
// synced, and returns its path; on failure the file is removed.
func (d *localDevice) upload(ctx context.Context, f File, name string, emit func(Event)) (tmpPath string, err error) {
	tmp, err := os.CreateTemp(d.dir, install.TmpPrefix(name)+"*")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	src, err := os.Open(f.Path)
	if err != nil {
		return "", err
	}
	defer src.Close()
	pr := event.NewMeter(f.Size, emit)
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, rerr := src.Read(buf)
		if n > 0 {
			if _, err := tmp.Write(buf[:n]); err != nil {
				return "", err
			}
			pr.Add(int64(n), int64(n))
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return "", rerr
		}
	}
	pr.Finish()
	if err := tmp.Chmod(0o755); err != nil {
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return tmp.Name(), nil
}

// verifyLocal checks the sha256 of what upload wrote.
func verifyLocal(ctx context.Context, tmpPath, sum string, emit func(Event)) error {
	emit(Step{Name: "verify", Time: time.Now()})
	got, err := artifact.SHA256(tmpPath)
	if err != nil {
		return err
	}
	if got != sum {
		return fmt.Errorf("sha256 mismatch: wrote %s, device has %s", sum, got)
	}
	emit(Step{Name: "verify", Done: true, Time: time.Now()})
	return ctx.Err()
}

// installTmp keeps the installed binary as dst.prev (returned, "" when
// there was none) and renames the verified file over it.
func (d *localDevice) installTmp(tmpPath, dst string) (previous string, err error) {
	if _, err := os.Lstat(dst); err == nil {
		prev := dst + ".prev"
		if err := linkOrCopy(dst, prev); err != nil {
			return "", fmt.Errorf("keep previous binary: %w", err)
		}
		previous = prev
	}
	if err := os.Rename(tmpPath, dst); err != nil {
		return previous, err
	}
	syncDir(d.dir)
	return previous, nil
}

// linkOrCopy makes dst the same content as src without ever removing src:
// a hard link when the filesystem has them, else a copy through a
// temporary name and a rename.
func linkOrCopy(src, dst string) error {
	tmp := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+install.TmpMarker+"link")
	os.Remove(tmp)
	if err := os.Link(src, tmp); err != nil {
		in, err := os.Open(src)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			os.Remove(tmp)
			return err
		}
		if err := out.Close(); err != nil {
			os.Remove(tmp)
			return err
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		f.Sync()
		f.Close()
	}
}

func (d *localDevice) Rollback(ctx context.Context, name string) error {
	if err := install.CheckName(name); err != nil {
		return d.opErr("rollback", "", err)
	}
	dst := filepath.Join(d.dir, name)
	prev := dst + ".prev"
	if _, err := os.Stat(prev); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return d.opErr("rollback", "", fmt.Errorf("%w: %s", ErrNoPrevious, prev))
		}
		return d.opErr("rollback", "", err)
	}
	// Swap, so a second rollback goes forward again; dst exists throughout.
	hold := filepath.Join(d.dir, install.TmpPrefix(name)+"rollback")
	os.Remove(hold)
	if err := os.Link(dst, hold); err != nil && !errors.Is(err, os.ErrNotExist) {
		return d.opErr("rollback", "", err)
	}
	if err := os.Rename(prev, dst); err != nil {
		os.Remove(hold)
		return d.opErr("rollback", "", err)
	}
	if err := os.Rename(hold, prev); err != nil && !errors.Is(err, os.ErrNotExist) {
		return d.opErr("rollback", "", err)
	}
	syncDir(d.dir)
	return nil
}

func (d *localDevice) Exec(ctx context.Context, script string) ([]byte, error) {
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		return nil, d.opErr("exec", "", err)
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		return nil, d.opErr("exec", "", fmt.Errorf("the local target needs a POSIX sh on PATH for its scripts (Git for Windows brings one): %w", err))
	}
	cmd := exec.CommandContext(ctx, sh, "-c", script)
	cmd.Dir = d.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A group of its own, so that cancelling stops what the script started.
	group, err := procgroup.Start(cmd)
	if err == nil {
		err = cmd.Wait()
		group.Close()
	}
	out := stdout.Bytes()
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		} else if msg := strings.TrimSpace(stderr.String()); msg != "" {
			err = fmt.Errorf("%w: %s", err, msg)
		}
		return out, d.opErr("exec", "", err)
	}
	return out, nil
}

// path resolves a command path or directory: relative means inside
// deploy_dir.
func (d *localDevice) path(p string) string {
	if p == "" {
		return d.dir
	}
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(d.dir, p)
}

// Argv returns the program and arguments that run cmd here: the target's
// runner when it has one, else qemu-user when the binary is for another
// architecture and binfmt_misc would not run it, else the binary itself.
func (d *localDevice) Argv(cmd Command) ([]string, error) {
	prog := d.path(cmd.Path)
	if r := strings.Fields(d.t.Runner); len(r) > 0 {
		return append(append(r, prog), cmd.Args...), nil
	}
	arch := elfArch(prog)
	switch {
	case arch == "":
		return append([]string{prog}, cmd.Args...), nil // not a Linux program: a script, a native tool
	case d.host.os != "linux":
		return nil, fmt.Errorf("this %s host cannot run Linux %s programs (qemu-user is Linux only): deploy to a device, "+
			"or set runner to a --platform linux/%s container (docker, podman) that mounts %s at the same path",
			d.host.os, arch, arch, d.dir)
	case arch == d.host.arch || d.binfmtEnabled(arch):
		return append([]string{prog}, cmd.Args...), nil
	case arch == "arm" && d.host.arch == "arm64":
		// Most arm64 CPUs and kernels run 32-bit ARM programs natively
		// (AArch32); where not, starting it fails with an explanation.
		return append([]string{prog}, cmd.Args...), nil
	}
	q := qemuName(arch)
	for _, name := range []string{q + "-static", q} {
		if p, err := d.lookPath(name); err == nil {
			return append([]string{p, prog}, cmd.Args...), nil
		}
	}
	return nil, fmt.Errorf("%s is a %s binary and this machine is %s: install qemu-user-static (%s-static), register binfmt_misc, or set runner in targets.toml",
		prog, arch, d.host.arch, q)
}

func qemuName(goarch string) string {
	switch goarch {
	case "arm64":
		return "qemu-aarch64"
	case "arm":
		return "qemu-arm"
	case "amd64":
		return "qemu-x86_64"
	}
	return "qemu-" + goarch
}

// binfmtEnabled reports whether the kernel would run a binary of arch
// through a registered, enabled qemu handler.
func (d *localDevice) binfmtEnabled(goarch string) bool {
	status, err := os.ReadFile(filepath.Join(d.binfmtDir, "status"))
	if err != nil || !strings.HasPrefix(string(status), "enabled") {
		return false
	}
	entry, err := os.ReadFile(filepath.Join(d.binfmtDir, qemuName(goarch)))
	return err == nil && strings.HasPrefix(string(entry), "enabled")
}

// elfArch returns the GOARCH of an ELF file, or "" when it is not one.
func elfArch(path string) string {
	f, err := elf.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	switch f.Machine {
	case elf.EM_AARCH64:
		return "arm64"
	case elf.EM_ARM:
		return "arm"
	case elf.EM_X86_64:
		return "amd64"
	case elf.EM_386:
		return "386"
	case elf.EM_RISCV:
		return "riscv64"
	}
	return strings.ToLower(strings.TrimPrefix(f.Machine.String(), "EM_"))
}

func (d *localDevice) Run(ctx context.Context, c Command, emit func(Event)) (ExitStatus, error) {
	emit = event.Serial(emit)
	fail := func(step string, err error) error { return d.opErr("run", step, err) }
	if _, _, _, err := c.Stop.Resolve(); err != nil {
		return ExitStatus{Code: -1}, fail("", err)
	}
	argv, err := d.Argv(c)
	if err != nil {
		return ExitStatus{Code: -1}, fail("", err)
	}
	if c.Dir == "" {
		if err := os.MkdirAll(d.dir, 0o755); err != nil {
			return ExitStatus{Code: -1}, fail("", err)
		}
	}
	pidPath := ""
	if c.PIDFile != "" {
		pidPath = d.path(c.PIDFile)
	}
	return run.Local(ctx, argv, d.path(c.Dir), pidPath, c, emit, fail)
}
