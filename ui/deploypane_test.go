package ui

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"armbench/remote"
	"armbench/targets"
)

var deployT0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// feedDeploy drives a pane through three binaries: one installed, one
// halfway through its upload, one failed on a full disk.
func feedDeploy(p *DeployPane) {
	tg := targets.Target{Name: "pi4", Host: "raspberrypi.local", User: "pi", DeployDir: "~/armbench"}
	p.Start(tg, []string{"workload-release", "workload-speed", "workload-lowmem"})
	step := func(i int, name string, done bool) {
		p.Push(i, remote.Step{Name: name, Done: done, Time: deployT0})
	}
	for i := range 3 {
		step(i, "connect", false)
		step(i, "connect", true)
		step(i, "upload", false)
	}
	p.Push(0, remote.Progress{Sent: 18 << 20, Total: 18 << 20, WireBytes: 9 << 20, Rate: 3 << 20})
	for _, s := range []string{"upload", "verify"} {
		step(0, s, true)
	}
	step(0, "install", false)
	p.Done(0, remote.Installed{Path: "/home/pi/armbench/workload-release", SHA256: strings.Repeat("ab", 32),
		Previous: "/home/pi/armbench/workload-release.prev", Duration: 3412 * time.Millisecond, WireBytes: 9 << 20}, nil)
	p.Push(1, remote.Progress{Sent: 7 << 20, Total: 18 << 20, WireBytes: 3 << 20, Rate: 2900 << 10, ETA: 3800 * time.Millisecond})
	p.Push(2, remote.Progress{Sent: 1 << 20, Total: 18 << 20, WireBytes: 1 << 19})
	err := &remote.OpError{Op: "deploy", Target: "pi4", Addr: "pi@raspberrypi.local:22", Step: "upload",
		Err: fmt.Errorf("%w: zstd: error 70 : Write error : No space left on device", remote.ErrDiskFull)}
	p.Push(2, remote.Step{Name: "upload", Done: true, Err: err})
	p.Done(2, remote.Installed{}, err)
}

func TestDeployPaneGolden(t *testing.T) {
	for _, size := range [][2]int{{100, 16}, {60, 12}} {
		p := NewDeployPane(DefaultStyles())
		feedDeploy(p)
		out := unframed(p, size[0], size[1])
		assertSize(t, out, size[0], size[1])
		golden(t, fmt.Sprintf("deploypane_%dx%d", size[0], size[1]), out)
	}
}

func TestDeployPaneStates(t *testing.T) {
	p := NewDeployPane(DefaultStyles())
	if s := plain(unframed(p, 120, 20)); !strings.Contains(s, "nothing deployed yet") {
		t.Errorf("empty pane:\n%s", s)
	}
	feedDeploy(p)
	s := plain(unframed(p, 120, 20))
	for _, w := range []string{
		"deploy to pi4", "pi@raspberrypi.local, ~/armbench",
		"✓ connect → ✓ upload → ✓ verify → ✓ install", "installed /home/pi/armbench/workload-release", "sha256 abababababab",
		"9.0 MiB sent for 18 MiB", "previous kept as workload-release.prev",
		"✓ connect → › upload → · verify → · install", " 39%", "7.0 MiB / 18 MiB · 2.8 MiB/s · ETA 3.8s · 3.0 MiB on the wire",
		"✓ connect → ✗ upload → · verify → · install", "FAILED disk full on the device — deploy pi4 (pi@raspberrypi.local:22): upload:",
	} {
		if !strings.Contains(s, w) {
			t.Errorf("pane lacks %q:\n%s", w, s)
		}
	}
	if !running(p) {
		t.Error("workload-speed is still uploading")
	}

	// A redeploy says it went as a delta, and which kind.
	d := NewDeployPane(DefaultStyles())
	d.Start(targets.Target{Name: "pi4", Host: "raspberrypi.local", User: "pi", DeployDir: "~/armbench"}, []string{"workload-default"})
	d.Push(0, remote.Progress{Sent: 2600 << 10, Total: 2600 << 10, WireBytes: 57 << 10})
	d.Done(0, remote.Installed{Path: "/home/pi/armbench/workload-default", SHA256: strings.Repeat("cd", 32), WireBytes: 57 << 10, Delta: true, DeltaKind: remote.DeltaELFZ}, nil)
	d.Done(0, remote.Installed{Path: "/home/pi/armbench/workload-default", SHA256: strings.Repeat("cd", 32), WireBytes: 57 << 10, Delta: true, DeltaKind: remote.DeltaELFZ,
		Previous: "/home/pi/armbench/workload-default.prev"}, nil)
	for _, width := range []int{120, 80} {
		// At 80 columns the two notes take a line each rather than be cut.
		s := plain(unframed(d, width, 10))
		if !strings.Contains(s, "57 KiB sent for 2.5 MiB (elfz delta)") || !strings.Contains(s, "previous kept as workload-default.prev") {
			t.Errorf("delta redeploy at %d columns:\n%s", width, s)
		}
	}

	// Late events of a finished binary are ignored.
	p.Push(1, remote.Step{Name: "verify"})
	p.Done(1, remote.Installed{Path: "/x/workload-speed", SHA256: strings.Repeat("cd", 32), Skipped: true}, nil)
	p.Push(1, remote.Step{Name: "upload"})
	s = plain(unframed(p, 120, 20))
	if !strings.Contains(s, "✓ connect → - upload → - verify → - install") || !strings.Contains(s, "unchanged /x/workload-speed") {
		t.Errorf("skipped deploy:\n%s", s)
	}
	if running(p) {
		t.Error("all three are done")
	}
}

func TestDeployPaneConnectFailedAndErrors(t *testing.T) {
	p := NewDeployPane(DefaultStyles())
	p.Start(targets.Target{Name: "pi5", Host: "pi5.local", Port: 2222}, []string{"a", "b"})
	ue := &remote.UnknownHostError{Host: "[pi5.local]:2222", KeyType: "ssh-ed25519", Fingerprint: "SHA256:abc"}
	p.ConnectFailed(&remote.OpError{Op: "connect", Target: "pi5", Err: ue})
	s := plain(unframed(p, 140, 10))
	if !strings.Contains(s, "unknown host key SHA256:abc") || strings.Count(s, "✗ connect") != 2 || !strings.Contains(s, "pi5.local:2222") {
		t.Errorf("connect failure:\n%s", s)
	}
	for err, want := range map[error]string{
		fmt.Errorf("x: %w", remote.ErrAuth):         "authentication failed (check user, identity and ssh-agent)",
		fmt.Errorf("x: %w", remote.ErrUnreachable):  "host unreachable",
		fmt.Errorf("x: %w", remote.ErrTimeout):      "timed out",
		fmt.Errorf("x: %w", remote.ErrPermission):   "permission denied on the device (check deploy_dir)",
		fmt.Errorf("x: %w", remote.ErrDisconnected): "connection lost: the device keeps its previous binary",
		fmt.Errorf("x: %w", context.Canceled):       "cancelled: the device keeps its previous binary",
		&remote.HostKeyChangedError{Host: "h"}:      "HOST KEY CHANGED",
	} {
		if got := DeployErrorText(err); !strings.HasPrefix(got, want) {
			t.Errorf("DeployErrorText(%v) = %q, want prefix %q", err, got, want)
		}
	}
}

func TestDeployPaneScroll(t *testing.T) {
	p := NewDeployPane(DefaultStyles())
	feedDeploy(p)
	top := unframed(p, 80, 4)
	p.Update(press("down"))
	p.Update(press("down"))
	if unframed(p, 80, 4) == top {
		t.Error("down did not scroll")
	}
	for range 50 {
		p.Update(press("down"))
	}
	assertSize(t, unframed(p, 80, 4), 80, 4)
	for range 60 {
		p.Update(press("up"))
	}
	if unframed(p, 80, 4) != top {
		t.Error("up did not return to the top")
	}
}

// A real deploy to the local target feeds the pane.
func TestDeployPaneFromRealDeploy(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(t.TempDir(), "bin")
	content := strings.Repeat("armbench deploy pane\n", 200000)
	if err := os.WriteFile(bin, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(content))
	tg := targets.Target{Name: "local", Host: targets.LocalHost, DeployDir: dir}
	dev, err := remote.Open(context.Background(), tg, remote.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	p := NewDeployPane(DefaultStyles())
	p.Start(tg, []string{"bin-default"})
	var progress int
	inst, err := dev.Deploy(context.Background(), remote.File{Path: bin}, "bin-default", func(ev remote.Event) {
		if _, ok := ev.(remote.Progress); ok {
			progress++
		}
		p.Push(0, ev)
	})
	p.Done(0, inst, err)
	if err != nil {
		t.Fatal(err)
	}
	s := plain(unframed(p, 120, 8))
	for _, w := range []string{"✓ connect → ✓ upload → ✓ verify → ✓ install", "installed " + filepath.Join(dir, "bin-default"), "sha256 " + hex.EncodeToString(sum[:])[:12]} {
		if !strings.Contains(s, w) {
			t.Errorf("lacks %q:\n%s", w, s)
		}
	}
	if progress == 0 {
		t.Error("no progress events")
	}
}

// running reports whether some binary is still being deployed.
func running(p *DeployPane) bool {
	for _, b := range p.items {
		if !b.done {
			return true
		}
	}
	return false
}
