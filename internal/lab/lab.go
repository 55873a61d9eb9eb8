// Package lab boots the real ARM systems the end-to-end tests use:
// Debian 12 images built by scripts/lab/image.sh (arm64 on a Cortex-A72,
// armhf on a Cortex-A15 with the armmp-lpae kernel), each boot on a fresh
// copy-on-write overlay, with SSH forwarded to a free loopback port. Their
// kernels, systemd and OpenSSH are the real ones; the CPU is emulated by
// qemu-system, 10-20x slower than the host.
//
// A Machine is a powered board: Kill is a power cut (the emulator dies
// with the guest's page cache), Boot starts it again from the same disk.
package lab

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Arches are the lab's architectures, as Debian names them: arm64 and
// armhf, or those ARMBENCH_LAB_ARCHES lists (comma-separated), to try one
// board while working on the lab.
func Arches() []string {
	if s := os.Getenv("ARMBENCH_LAB_ARCHES"); s != "" {
		return strings.Split(s, ",")
	}
	return []string{"arm64", "armhf"}
}

// Image is a built lab image: the directory scripts/lab/image.sh prints.
type Image struct {
	Arch string
	Dir  string
}

// GOARCH is the Go architecture of the image's userland.
func (img Image) GOARCH() string {
	if img.Arch == "armhf" {
		return "arm"
	}
	return img.Arch
}

// Key is the private key root and pi accept.
func (img Image) Key() string { return filepath.Join(img.Dir, "id_ed25519") }

// BuildImage runs the recipe for arch (a no-op when its image is cached)
// and returns the image. log receives the script's progress lines.
func BuildImage(ctx context.Context, arch string, log func(string)) (Image, error) {
	script, err := recipe()
	if err != nil {
		return Image{}, err
	}
	cmd := exec.CommandContext(ctx, "bash", script, arch)
	var out bytes.Buffer
	cmd.Stdout = &out
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return Image{}, err
	}
	if err := cmd.Start(); err != nil {
		return Image{}, fmt.Errorf("lab image %s: %w", arch, err)
	}
	var tail []string
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		tail = append(tail, sc.Text())
		if log != nil {
			log(sc.Text())
		}
	}
	if err := cmd.Wait(); err != nil {
		return Image{}, fmt.Errorf("lab image %s: %w: %s", arch, err, strings.Join(tail, "\n"))
	}
	dir := strings.TrimSpace(out.String())
	if _, err := os.Stat(filepath.Join(dir, "done")); err != nil {
		return Image{}, fmt.Errorf("lab image %s: the recipe printed %q, which holds no finished image", arch, dir)
	}
	return Image{Arch: arch, Dir: dir}, nil
}

// recipe finds scripts/lab/image.sh from the working directory up: tests
// run in their package's directory inside the module.
func recipe() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "scripts", "lab", "image.sh")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("lab: scripts/lab/image.sh not found above the working directory")
		}
		dir = parent
	}
}

// Machine is one lab board: an overlay disk of its own over an image.
type Machine struct {
	Image Image
	Dir   string // the overlay, the console log, known_hosts
	Port  int    // SSH on 127.0.0.1, chosen at the first boot
	CPUs  int
	MemMB int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	boot int
}

// New makes a board with a fresh overlay over img in dir; it is off.
func New(img Image, dir string) (*Machine, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	disk := filepath.Join(dir, "disk.qcow2")
	out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2",
		"-b", filepath.Join(img.Dir, "disk.qcow2"), disk).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("lab %s: overlay: %v: %s", img.Arch, err, out)
	}
	return &Machine{Image: img, Dir: dir, CPUs: 2, MemMB: 1024}, nil
}

// KnownHosts is a known_hosts file that holds the image's host key for
// the board's current port.
func (m *Machine) KnownHosts() string { return filepath.Join(m.Dir, "known_hosts") }

// Console is the serial console's log of every boot.
func (m *Machine) Console() string { return filepath.Join(m.Dir, "console.log") }

// Boot powers the board on and waits until root can log in over SSH.
func (m *Machine) Boot(ctx context.Context) error {
	done, err := m.start()
	if err != nil {
		return err
	}
	if err := m.waitSSH(ctx, done); err != nil {
		m.Kill()
		return fmt.Errorf("lab %s: boot %d: %w\n%s", m.Image.Arch, m.boot, err, m.consoleTail(30))
	}
	return nil
}

// start starts the emulator; done is closed when it has exited.
func (m *Machine) start() (done chan struct{}, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd != nil {
		return nil, fmt.Errorf("lab %s: already running", m.Image.Arch)
	}
	// A board keeps its port across boots, as a real one keeps its
	// address: targets.toml and known_hosts name it.
	if m.Port == 0 {
		if m.Port, err = freePort(); err != nil {
			return nil, err
		}
	}
	m.boot++
	if err := m.writeKnownHosts(); err != nil {
		return nil, err
	}
	args, err := m.qemuArgs()
	if err != nil {
		return nil, err
	}
	console, err := os.OpenFile(m.Console(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(console, "\n==== armbench lab: boot %d, ssh on 127.0.0.1:%d ====\n", m.boot, m.Port)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = console, console
	if err := cmd.Start(); err != nil {
		console.Close()
		return nil, fmt.Errorf("lab %s: start %s: %w", m.Image.Arch, args[0], err)
	}
	done = make(chan struct{})
	go func() { cmd.Wait(); console.Close(); close(done) }()
	m.cmd, m.done = cmd, done
	return done, nil
}

func (m *Machine) qemuArgs() ([]string, error) {
	raw, err := os.ReadFile(filepath.Join(m.Image.Dir, "boot"))
	if err != nil {
		return nil, fmt.Errorf("lab %s: %w", m.Image.Arch, err)
	}
	args := strings.Fields(string(raw))
	if len(args) == 0 {
		return nil, fmt.Errorf("lab %s: empty boot file", m.Image.Arch)
	}
	console := "ttyAMA0"
	args = append(args,
		"-m", strconv.Itoa(m.MemMB), "-smp", strconv.Itoa(m.CPUs),
		"-nographic", "-monitor", "none", "-serial", "stdio",
		"-kernel", filepath.Join(m.Image.Dir, "vmlinuz"),
		"-initrd", filepath.Join(m.Image.Dir, "initrd"),
		// A filesystem scrub at boot costs half a minute of emulated
		// CPU and checks nothing a test needs.
		"-append", "root=/dev/vda rw rootwait console="+console+" quiet systemd.mask=e2scrub_reap.service",
		// The default cache mode: a guest flush reaches the overlay file,
		// and what the guest did not flush dies with the emulator.
		"-drive", "if=none,id=hd,format=qcow2,file="+filepath.Join(m.Dir, "disk.qcow2"),
		"-device", "virtio-blk-device,drive=hd",
		"-netdev", fmt.Sprintf("user,id=net,hostfwd=tcp:127.0.0.1:%d-:22", m.Port),
		"-device", "virtio-net-device,netdev=net",
	)
	return args, nil
}

func (m *Machine) writeKnownHosts() error {
	pub, err := os.ReadFile(filepath.Join(m.Image.Dir, "host_ed25519.pub"))
	if err != nil {
		return fmt.Errorf("lab %s: host key: %w", m.Image.Arch, err)
	}
	f := strings.Fields(string(pub))
	if len(f) < 2 {
		return fmt.Errorf("lab %s: host key file is not a public key", m.Image.Arch)
	}
	line := fmt.Sprintf("[127.0.0.1]:%d %s %s\n", m.Port, f[0], f[1])
	return os.WriteFile(m.KnownHosts(), []byte(line), 0o644)
}

// waitSSH polls until root runs a command over SSH: sshd listening is
// not enough, logind and the user manager must be up for the tests.
func (m *Machine) waitSSH(ctx context.Context, done <-chan struct{}) error {
	deadline := time.Now().Add(6 * time.Minute)
	for {
		select {
		case <-done:
			return errors.New("the emulator exited before SSH came up")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		_, err := m.ssh(cctx, "root", "systemctl is-system-running --wait >/dev/null 2>&1; true")
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no SSH login within 6 minutes: %w", err)
		}
		time.Sleep(2 * time.Second)
	}
}

// Run runs script with sh on the board as user and returns its output.
func (m *Machine) Run(ctx context.Context, user, script string) (string, error) {
	out, err := m.ssh(ctx, user, script)
	if err != nil {
		return out, fmt.Errorf("lab %s: %s@: %w: %s", m.Image.Arch, user, err, strings.TrimSpace(out))
	}
	return out, nil
}

func (m *Machine) ssh(ctx context.Context, user, script string) (string, error) {
	cmd := exec.CommandContext(ctx, "ssh", m.SSHArgs(user, "sh -s")...)
	cmd.Stdin = strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// SSHArgs are ssh's arguments to log in as user and run command, with
// no config of this machine's user in the way.
func (m *Machine) SSHArgs(user, command string) []string {
	return []string{"-F", "none", "-T",
		"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=15",
		"-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + m.KnownHosts(),
		"-o", "GlobalKnownHostsFile=/dev/null",
		"-i", m.Image.Key(), "-p", strconv.Itoa(m.Port), user + "@127.0.0.1", command}
}

// TargetTOML is a [[target]] for this board as user, for a targets.toml.
func (m *Machine) TargetTOML(name, user string) string {
	goarm := ""
	if m.Image.GOARCH() == "arm" {
		goarm = "goarm = \"7\"\n"
	}
	return fmt.Sprintf(`[[target]]
name = %q
description = "lab: Debian 12 %s under qemu-system"
host = "127.0.0.1"
port = %d
user = %q
identity_file = %q
known_hosts = %q
goarch = %q
%smemory = "%dMiB"
`, name, m.Image.Arch, m.Port, user, m.Image.Key(), m.KnownHosts(), m.Image.GOARCH(), goarm, m.MemMB)
}

// Kill cuts the power: the emulator dies at once, with whatever the
// guest had not written to its disk.
func (m *Machine) Kill() {
	m.mu.Lock()
	cmd, done := m.cmd, m.done
	m.cmd = nil
	m.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Kill()
	<-done
}

// Shutdown powers the board off cleanly, or cuts the power when the
// guest does not stop within a minute.
func (m *Machine) Shutdown(ctx context.Context) {
	m.mu.Lock()
	done := m.done
	running := m.cmd != nil
	m.mu.Unlock()
	if !running {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	m.ssh(cctx, "root", "systemctl poweroff")
	cancel()
	select {
	case <-done:
	case <-time.After(time.Minute):
	}
	m.Kill()
}

func (m *Machine) consoleTail(n int) string {
	b, _ := os.ReadFile(m.Console())
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "console:\n" + strings.Join(lines, "\n")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("lab: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
