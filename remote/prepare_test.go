package remote

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"armbench/internal/testdevice"
)

// The prewarmed answer is what the deploy acts on, so it costs no round
// trip of its own: the device is changed behind armbench's back after the
// prewarm, and the deploy still believes what the prewarm saw.
func TestSSHPrewarmAnswersTheDeploysFirstQuestion(t *testing.T) {
	td := testdevice.Start(t)
	dir := filepath.Join(td.Dir, `it's "deploy" $(x)`)
	td.Target.DeployDir = dir
	bin := writeFile(t, filepath.Join(t.TempDir(), "bin"), "#!/bin/sh\necho v1\n", 0o755)
	name := `app 'one'`
	other := "other"

	for _, via := range []string{"connect", "connected"} {
		t.Run(via, func(t *testing.T) {
			os.RemoveAll(dir)
			var dev Device
			var err error
			if via == "connect" {
				// The probe of the connection carries the prepare.
				dev, err = OpenForDeploy(context.Background(), td.Target, testOpts, name, other)
			} else {
				// Already connected: one round trip of its own.
				if dev, err = Open(context.Background(), td.Target, testOpts); err == nil {
					err = Prewarm(context.Background(), dev, name, other)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			defer dev.Close()
			// The prewarm made deploy_dir and saw no binary there.
			if _, err := os.Stat(dir); err != nil {
				t.Fatalf("prewarm did not create deploy_dir: %v", err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\necho v1\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			inst, err := dev.Deploy(context.Background(), File{Path: bin}, name, nil)
			if err != nil {
				t.Fatal(err)
			}
			if inst.Skipped {
				t.Fatal("the deploy asked the device again instead of using the prewarmed answer")
			}
			// An answer serves one deploy: the next one asks again, and skips.
			inst, err = dev.Deploy(context.Background(), File{Path: bin}, name, nil)
			if err != nil || !inst.Skipped {
				t.Fatalf("second deploy: %+v %v", inst, err)
			}
			// Exec may change anything: it drops the other name's answer.
			if _, err := dev.Exec(context.Background(), ":"); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, other), []byte("#!/bin/sh\necho v1\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			inst, err = dev.Deploy(context.Background(), File{Path: bin}, other, nil)
			if err != nil || !inst.Skipped {
				t.Fatalf("deploy after Exec used a stale answer: %+v %v", inst, err)
			}
		})
	}
}

// A prepare that fails inside the probe does not fail the connection: the
// deploy asks again and reports the device's error at its own step.
func TestSSHPrewarmFailureIsTheDeploysToReport(t *testing.T) {
	td := testdevice.Start(t)
	tg := td.Target
	tg.DeployDir = filepath.Join(writeFile(t, filepath.Join(t.TempDir(), "file"), "", 0o644), "deploy")
	dev, err := OpenForDeploy(context.Background(), tg, testOpts, "app")
	if err != nil {
		t.Fatalf("connect failed with the prepare: %v", err)
	}
	defer dev.Close()
	_, err = dev.Deploy(context.Background(), File{Path: writeFile(t, filepath.Join(t.TempDir(), "f"), "x", 0o755)}, "app", nil)
	var oe *OpError
	if !errors.As(err, &oe) || oe.Step != "prepare" || !strings.Contains(err.Error(), "Not a directory") {
		t.Errorf("deploy under a file: %v", err)
	}
}

func TestPrewarmRejectsBadNames(t *testing.T) {
	td := testdevice.Start(t)
	if _, err := OpenForDeploy(context.Background(), td.Target, testOpts, "a/b"); err == nil || !strings.Contains(err.Error(), "no slashes") {
		t.Errorf("OpenForDeploy with a slash in the name: %v", err)
	}
}

// A Get while a prewarm connects waits for that connection instead of
// opening a second one, and the deploy through it uses the prewarmed
// answer.
func TestPoolPrewarmAndGetShareOneConnection(t *testing.T) {
	td := testdevice.Start(t)
	var dials atomic.Int32
	o := testOpts
	o.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	p := NewPool(o)
	defer p.Close()
	var wg sync.WaitGroup
	var prewarmErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		prewarmErr = p.Prewarm(context.Background(), td.Target, "app")
	}()
	time.Sleep(time.Millisecond) // let the prewarm be first, usually
	dev, err := p.Get(context.Background(), td.Target)
	wg.Wait()
	if err != nil || prewarmErr != nil {
		t.Fatalf("get: %v, prewarm: %v", err, prewarmErr)
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("%d connections for one target", n)
	}
	if err := os.MkdirAll(td.Target.DeployDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(td.Target.DeployDir, "app"), []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	inst, err := dev.Deploy(context.Background(), File{Path: writeFile(t, filepath.Join(t.TempDir(), "f"), "x", 0o755)}, "app", nil)
	if err != nil || inst.Skipped {
		t.Errorf("deploy after the pool's prewarm: %+v %v (want an upload: the prewarm saw no binary)", inst, err)
	}
	// A prewarm of a connected target is one round trip on the same
	// connection.
	if err := p.Prewarm(context.Background(), td.Target, "app"); err != nil {
		t.Fatal(err)
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("%d connections after a second prewarm", n)
	}
}

// With a state directory, what armbench installed is not hashed on the
// device again while the file's status is unchanged; any write or rename
// of it makes the device hash it again.
func TestSSHInstallRecordSparesTheDeviceAHash(t *testing.T) {
	td := testdevice.Start(t)
	o := testOpts
	o.StateDir = t.TempDir()
	v1 := writeFile(t, filepath.Join(t.TempDir(), "v1"), "#!/bin/sh\necho v1\n", 0o755)
	v2 := writeFile(t, filepath.Join(t.TempDir(), "v2"), "#!/bin/sh\necho v2\n", 0o755) // same size
	dev, err := Open(context.Background(), td.Target, o)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	deploy := func(path string) Installed {
		t.Helper()
		inst, err := dev.Deploy(context.Background(), File{Path: path}, "app", nil)
		if err != nil {
			t.Fatal(err)
		}
		return inst
	}
	deploy(v1)
	recs, _ := filepath.Glob(filepath.Join(o.StateDir, "installed-*"))
	if len(recs) != 1 {
		t.Fatalf("records after an install: %q", recs)
	}
	if inst := deploy(v1); !inst.Skipped {
		t.Fatalf("unchanged redeploy with a record: %+v", inst)
	}
	// The record, not the file, answers: a record claiming another sha256
	// for the same status makes the deploy send the file again.
	b, err := os.ReadFile(recs[0])
	if err != nil {
		t.Fatal(err)
	}
	fp, _, _ := strings.Cut(string(b), "\n")
	if err := os.WriteFile(recs[0], []byte(fp+"\n"+strings.Repeat("0", 64)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if inst := deploy(v1); inst.Skipped {
		t.Fatal("the device hashed the binary although its status was recorded")
	}
	if inst := deploy(v1); !inst.Skipped {
		t.Fatal("the upload did not record the new binary")
	}
	// Rewritten in place with the same size: the status changed, the
	// device hashes, and the deploy sees it is not v1.
	installed := filepath.Join(td.Target.DeployDir, "app")
	content, _ := os.ReadFile(v2)
	time.Sleep(10 * time.Millisecond) // a coarse clock must still tick
	if err := os.WriteFile(installed, content, 0o755); err != nil {
		t.Fatal(err)
	}
	if inst := deploy(v1); inst.Skipped {
		t.Fatal("a binary rewritten on the device was taken for the recorded one")
	}
	// Rolled back (a rename): hashed again, and found to be what it is.
	if err := dev.Rollback(context.Background(), "app"); err != nil {
		t.Fatal(err)
	}
	if inst := deploy(v2); !inst.Skipped {
		t.Fatalf("after the rollback the device holds v2 (rewritten above): %+v", inst)
	}
}

// A prewarm given up (its build cancelled) does not fail the Get that was
// waiting for its connection: that one connects by itself.
func TestPoolGetOutlivesACancelledPrewarm(t *testing.T) {
	td := testdevice.Start(t)
	p := NewPool(testOpts)
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Prewarm(ctx, td.Target, "app") }()
	time.Sleep(time.Millisecond)
	got := make(chan error, 1)
	go func() {
		dev, err := p.Get(context.Background(), td.Target)
		if err == nil {
			_, err = dev.Exec(context.Background(), ":")
		}
		got <- err
	}()
	cancel()
	if err := <-got; err != nil {
		t.Errorf("get while a cancelled prewarm connected: %v", err)
	}
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled prewarm: %v", err)
	}
}
