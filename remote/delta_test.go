package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"armbench/internal/shell"
	"armbench/internal/testdevice"
	"armbench/remote/delta"
	"armbench/remote/install"
)

// countingConn counts the bytes the client really puts on the TCP
// connection: SSH framing, MAC and padding included.
type countingConn struct {
	net.Conn
	sent *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.sent.Add(int64(n))
	return n, err
}

// deltaOpts gives each test its own delta cache and counts the bytes the
// client sends over TCP.
func deltaOpts(t *testing.T) (Options, *atomic.Int64) {
	o := testOpts
	o.DeltaCache = t.TempDir()
	sent := new(atomic.Int64)
	o.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{c, sent}, nil
	}
	return o, sent
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func noTempLeft(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), install.TmpMarker) {
			t.Errorf("left behind %s", e.Name())
		}
	}
}

func TestSSHDeltaRedeploy(t *testing.T) {
	requireTool(t, "zstd")
	td := testdevice.Start(t)
	o, sent := deltaOpts(t)
	dev := openT(t, td.Target, o)
	v1, v2 := buildARM(t, "delta one"), buildARM(t, "delta two")

	first, err := dev.Deploy(context.Background(), File{Path: v1}, "app", nil)
	if err != nil {
		t.Fatal(err)
	}
	if first.Delta || first.NoDelta != "" {
		t.Fatalf("first deploy: delta %v, %q", first.Delta, first.NoDelta)
	}

	var rec recorder
	before := sent.Load()
	inst, err := dev.Deploy(context.Background(), File{Path: v2}, "app", rec.emit)
	if err != nil {
		t.Fatal(err)
	}
	onTCP := sent.Load() - before
	size := fileSize(t, v2)
	if !inst.Delta || inst.NoDelta != "" {
		t.Fatalf("redeploy sent no delta: %q", inst.NoDelta)
	}
	if got := devSHA(t, dev, inst.Path); got != sha(t, v2) {
		t.Fatalf("device has %s, want %s", got, sha(t, v2))
	}
	if got := devSHA(t, dev, inst.Path+".prev"); got != sha(t, v1) || inst.Previous != inst.Path+".prev" {
		t.Fatalf(".prev has %s (want %s), Previous %q", got, sha(t, v1), inst.Previous)
	}
	// The payload and everything the client wrote to TCP for this deploy
	// (prepare and install scripts, SSH framing) are a small part of the
	// binary: a string changed.
	t.Logf("binary %d bytes, delta %d bytes, %d bytes on TCP", size, inst.WireBytes, onTCP)
	if inst.WireBytes <= 0 || inst.WireBytes > size/20 {
		t.Errorf("delta of %d bytes for a %d-byte binary", inst.WireBytes, size)
	}
	if onTCP > size/10 {
		t.Errorf("%d bytes on TCP for a %d-byte binary", onTCP, size)
	}
	want := []string{"connect", "connect done", "upload", "upload done", "verify", "verify done", "install", "install done"}
	if got := rec.steps(); !slices.Equal(got, want) {
		t.Errorf("steps %v", got)
	}
	if p, _ := rec.lastProgress(); p.Sent != size || p.Total != size || p.WireBytes != inst.WireBytes {
		t.Errorf("last progress %+v, want %d of %d, wire %d", p, size, size, inst.WireBytes)
	}
	out, err := dev.Exec(context.Background(), "ls -l "+shell.Quote(inst.Path))
	if err != nil || !strings.HasPrefix(string(out), "-rwxr-xr-x") {
		t.Errorf("mode: %q %v", out, err)
	}
	noTempLeft(t, td.Target.DeployDir)

	// The next delta was started against the binary installed last.
	cache := o.deltaCache()
	if got := cache.Last(td.Target.Name, "app"); got != sha(t, v2) {
		t.Fatalf("last installed %q, want %s", got, sha(t, v2))
	}
	// Back to v1: the cache has it too, so this is a delta again, even
	// when the guess of what the device has is wrong.
	if err := cache.SetLast(td.Target.Name, "app", strings.Repeat("0", 64)); err != nil {
		t.Fatal(err)
	}
	back, err := dev.Deploy(context.Background(), File{Path: v1}, "app", nil)
	if err != nil || !back.Delta || devSHA(t, dev, back.Path) != sha(t, v1) {
		t.Fatalf("redeploy v1: delta %v, %v", back.Delta, err)
	}
	// Rollback keeps working on delta-installed binaries.
	if err := dev.Rollback(context.Background(), "app"); err != nil || devSHA(t, dev, back.Path) != sha(t, v2) {
		t.Fatalf("rollback: %v", err)
	}
}

// TestSSHDeltaFallsBack: whenever a delta cannot be used, the whole
// binary is sent and the right bytes are installed.
func TestSSHDeltaFallsBack(t *testing.T) {
	requireTool(t, "zstd")
	td := testdevice.Start(t)
	o, _ := deltaOpts(t)
	dev := openT(t, td.Target, o)
	v1, v2 := buildARM(t, "fallback one"), buildARM(t, "fallback two")
	onDevice := filepath.Join(td.Target.DeployDir, "app")
	deploy := func(path string, emit func(Event)) Installed {
		t.Helper()
		inst, err := dev.Deploy(context.Background(), File{Path: path}, "app", emit)
		if err != nil {
			t.Fatal(err)
		}
		if got := devSHA(t, dev, inst.Path); got != sha(t, path) {
			t.Fatalf("device has %s, want %s", got, sha(t, path))
		}
		noTempLeft(t, td.Target.DeployDir)
		return inst
	}

	t.Run("damaged local copy", func(t *testing.T) {
		deploy(v1, nil)
		copyPath := filepath.Join(o.DeltaCache, sha(t, v1))
		b, err := os.ReadFile(copyPath)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0xff
		writeFile(t, copyPath, string(b), 0o644)
		inst := deploy(v2, nil)
		if inst.Delta || !strings.Contains(inst.NoDelta, "damaged") {
			t.Fatalf("delta %v, note %q", inst.Delta, inst.NoDelta)
		}
		if _, err := os.Stat(copyPath); !os.IsNotExist(err) {
			t.Errorf("damaged copy kept: %v", err)
		}
	})

	t.Run("device binary changed under the delta", func(t *testing.T) {
		deploy(v1, nil)
		// Between the hash the device reported and the delta's arrival,
		// its binary changes: the rebuilt file fails the checks and the
		// whole binary follows.
		emit := func(e Event) {
			if s, ok := e.(Step); ok && s.Name == "upload" && !s.Done {
				f, err := os.OpenFile(onDevice, os.O_WRONLY, 0)
				if err != nil {
					t.Error(err)
					return
				}
				f.WriteAt(bytes.Repeat([]byte{0x5a}, 4096), 4096)
				f.Close()
			}
		}
		inst := deploy(v2, emit)
		if inst.Delta || !strings.Contains(inst.NoDelta, "could not apply") {
			t.Fatalf("delta %v, note %q", inst.Delta, inst.NoDelta)
		}
	})

	t.Run("no local copy", func(t *testing.T) {
		deploy(v1, nil)
		os.Remove(filepath.Join(o.DeltaCache, sha(t, v1)))
		inst := deploy(v2, nil)
		if inst.Delta || !strings.Contains(inst.NoDelta, "no local copy") {
			t.Fatalf("delta %v, note %q", inst.Delta, inst.NoDelta)
		}
	})

	t.Run("delta not smaller", func(t *testing.T) {
		deploy(v1, nil)
		inst := deploy(randomFile(t, 1<<20), nil)
		if inst.Delta || !strings.Contains(inst.NoDelta, "not smaller") {
			t.Fatalf("delta %v, note %q", inst.Delta, inst.NoDelta)
		}
	})

	t.Run("off", func(t *testing.T) {
		o2 := o
		o2.NoDelta = true
		dev2 := openT(t, td.Target, o2)
		deploy(v1, nil)
		inst, err := dev2.Deploy(context.Background(), File{Path: v2}, "app", nil)
		if err != nil || inst.Delta || inst.NoDelta != "" || devSHA(t, dev2, inst.Path) != sha(t, v2) {
			t.Fatalf("NoDelta deploy: delta %v, note %q, %v", inst.Delta, inst.NoDelta, err)
		}
	})
}

// TestSSHDeltaInterrupted: a delta upload cancelled or cut halfway leaves
// the old binary installed, and the next deploy succeeds.
func TestSSHDeltaInterrupted(t *testing.T) {
	requireTool(t, "zstd")
	for _, how := range []string{"cancel", "kill sshd sessions"} {
		t.Run(how, func(t *testing.T) {
			td := testdevice.Start(t, testdevice.WithProxy())
			o, _ := deltaOpts(t)
			dev := openT(t, td.Target, o)
			// old, then old with 512 KiB of new random bytes: a delta of
			// about 512 KiB, eight seconds at 64 KiB/s. The SSH window
			// and the socket buffers take all of it at once, so the
			// client's byte count says nothing of what the device has:
			// the interruption comes a second into the upload, well
			// before the link can have carried the delta.
			old := make([]byte, 1<<20)
			rand.Read(old)
			more := make([]byte, 512<<10)
			rand.Read(more)
			dir := t.TempDir()
			oldPath := writeFile(t, filepath.Join(dir, "old"), string(old), 0o755)
			newPath := writeFile(t, filepath.Join(dir, "new"), string(append(old, more...)), 0o755)
			if _, err := dev.Deploy(context.Background(), File{Path: oldPath}, "app", nil); err != nil {
				t.Fatal(err)
			}
			td.SetRate(64 << 10)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var hit atomic.Bool
			emit := func(e Event) {
				if st, ok := e.(Step); ok && st.Name == "upload" && !st.Done {
					time.AfterFunc(time.Second, func() {
						hit.Store(true)
						if how == "cancel" {
							cancel()
						} else {
							td.CutConnections()
						}
					})
				}
			}
			inst, err := dev.Deploy(ctx, File{Path: newPath}, "app", emit)
			if !hit.Load() {
				t.Fatalf("deploy ended before the interruption: %+v %v", inst, err)
			}
			switch how {
			case "cancel":
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("cancelled delta: %v", err)
				}
			default:
				if !errors.Is(err, ErrDisconnected) {
					t.Fatalf("cut delta: %v", err)
				}
			}
			td.SetRate(0)
			if got := devSHA(t, dev, td.Target.DeployDir+"/app"); got != sha(t, oldPath) {
				t.Fatalf("old binary replaced: %s", got)
			}
			// The script removes its temporary file as it dies; the next
			// deploy sweeps any it could not.
			inst, err = dev.Deploy(context.Background(), File{Path: newPath}, "app", nil)
			if err != nil || !inst.Delta || devSHA(t, dev, inst.Path) != sha(t, newPath) {
				t.Fatalf("redeploy after %s: delta %v note %q: %v", how, inst.Delta, inst.NoDelta, err)
			}
			noTempLeft(t, td.Target.DeployDir)
		})
	}
}

// BenchmarkEncodeDelta is the sender's cost of a redeploy after a
// one-string change of a small arm64 binary; bytes/op is the delta.
func BenchmarkEncodeDelta(b *testing.B) {
	v1, v2 := buildARM(b, "bench one"), buildARM(b, "bench two")
	prev, err := os.ReadFile(v1)
	if err != nil {
		b.Fatal(err)
	}
	next, err := os.ReadFile(v2)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(next)))
	var n int
	for b.Loop() {
		frame, err := delta.Encode(context.Background(), prev, next, len(next))
		if err != nil {
			b.Fatal(err)
		}
		n = len(frame)
	}
	b.ReportMetric(float64(n), "delta-bytes")
}

// TestSSHDeltaOldZstd: a device whose zstd predates --patch-from gets the
// whole binary, and no more delta attempts on that connection.
func TestSSHDeltaOldZstd(t *testing.T) {
	real := requireTool(t, "zstd")
	bin := t.TempDir()
	writeFile(t, filepath.Join(bin, "zstd"), `#!/bin/sh
# zstd 1.4.4: no --patch-from
for a; do
	case $a in
	--patch-from*) echo "Incorrect parameters" >&2; exit 1 ;;
	-H) `+shell.Quote(real)+` -H 2>&1 | grep -v -e --patch-from; exit 0 ;;
	esac
done
exec `+shell.Quote(real)+` "$@"
`, 0o755)
	// sshd keeps the first SetEnv: SHLVL=1 is the one testdevice needs too.
	td := testdevice.Start(t, testdevice.WithConfig("SetEnv SHLVL=1 PATH="+bin+":/usr/bin:/bin"))
	o, _ := deltaOpts(t)
	dev := openT(t, td.Target, o)
	v1, v2 := buildARM(t, "old zstd one"), buildARM(t, "old zstd two")
	for i, v := range []string{v1, v2, v1} {
		inst, err := dev.Deploy(context.Background(), File{Path: v}, "app", nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := devSHA(t, dev, inst.Path); got != sha(t, v) {
			t.Fatalf("deploy %d: device has %s, want %s", i, got, sha(t, v))
		}
		if i > 0 && (inst.Delta || inst.NoDelta != "the device's zstd cannot apply deltas (--patch-from needs zstd 1.4.5 or later)") {
			t.Fatalf("deploy %d: delta %v, note %q", i, inst.Delta, inst.NoDelta)
		}
	}
	if !dev.conn.noPatch.Load() {
		t.Error("the connection does not remember that the device's zstd lacks --patch-from")
	}
}
