package testdevice

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// banner reports whether an SSH server answers at addr.
func banner(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "SSH-")
}

// Stop stops sshd and every connection it is serving, as a powered-off
// device would.
func (d *Device) Stop() {
	d.CutConnections()
	d.stop()
}

// stop ends the listening sshd (not its per-connection children).
func (d *Device) stop() {
	d.mu.Lock()
	cmd, group, done := d.cmd, d.group, d.done
	d.cmd, d.group, d.done = nil, nil, nil
	d.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		group.Kill()
		<-done
	}
}

// Restart stops sshd and starts it again on the same port with the same
// keys.
func (d *Device) Restart() {
	d.t.Helper()
	d.Stop()
	if err := d.start(); err != nil {
		d.t.Fatalf("restart sshd: %v\n%s", err, d.log())
	}
}

// Running reports whether the listening sshd is up.
func (d *Device) Running() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cmd != nil
}

// CutConnections kills sshd's per-connection processes (and the sessions
// under them) while the listener stays up: every live SSH connection
// drops mid-stream, and new ones are accepted.
func (d *Device) CutConnections() int {
	d.mu.Lock()
	cmd := d.cmd
	d.mu.Unlock()
	if cmd == nil {
		return 0
	}
	kids := descendants(cmd.Process.Pid)
	for _, pid := range kids {
		if p, err := os.FindProcess(pid); err == nil {
			p.Kill()
		}
	}
	return len(kids)
}

// Sever closes every connection through the proxy (WithProxy) without
// touching sshd: the client sees its TCP stream die, the device sees the
// same, like a cable pulled between them.
func (d *Device) Sever() int {
	if d.proxy == nil {
		d.t.Fatal("testdevice: Sever needs WithProxy")
	}
	return d.proxy.sever()
}

// SetRate changes the proxy's client-to-device rate limit (0 = none).
func (d *Device) SetRate(bytesPerSec int64) {
	if d.proxy == nil {
		d.t.Fatal("testdevice: SetRate needs WithProxy")
	}
	d.proxy.setRate(bytesPerSec)
}

// SessionPIDs lists the processes sshd runs for its connections (the
// sessions' shells and commands among them).
func (d *Device) SessionPIDs() []int {
	d.mu.Lock()
	cmd := d.cmd
	d.mu.Unlock()
	if cmd == nil {
		return nil
	}
	return descendants(cmd.Process.Pid)
}

// descendants lists every process below pid, from /proc.
func descendants(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp := ppid(p); pp > 0 {
			children[pp] = append(children[pp], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

func ppid(pid int) int {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	// The command name may hold spaces and parentheses: fields start
	// after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

func (d *Device) log() string {
	b, _ := os.ReadFile(d.LogPath)
	return string(b)
}

// Log returns what sshd logged so far.
func (d *Device) Log() string { return d.log() }

func (d *Device) cleanup() {
	if d.t.Failed() {
		d.t.Logf("sshd log (%s):\n%s", d.LogPath, d.log())
	}
	if d.proxy != nil {
		d.proxy.close()
	}
	d.Stop()
}
