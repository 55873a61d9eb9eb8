package remote

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"armbench/internal/elfz/codec"
	"armbench/internal/testdevice"
	"armbench/targets"
)

// A delta started before the connection is the one the deploy sends,
// and the expanded form the deploy keeps is the next delta's base: the
// same bytes go on the wire as when each is made on the spot.
func TestSSHSpeculationTakenOver(t *testing.T) {
	requireTool(t, "zstd")
	v1, v2, helper := buildELFZ(t)
	td := testdevice.Start(t)
	o, _ := deltaOpts(t)
	o.ELFZHelper = helperFile(helper)
	first := openT(t, td.Target, o)
	for _, p := range []string{v1, v2, v1} {
		if _, err := first.Deploy(context.Background(), File{Path: p}, "app", nil); err != nil {
			t.Fatal(err)
		}
	}
	first.Close()
	cache := o.deltaCache()
	if path, x := cache.expanded(sha(t, v1)); path == "" || !bytes.HasPrefix(x, []byte(codec.Magic)) {
		t.Fatalf("no expanded form of the installed binary kept (%q)", path)
	}

	o.Speculations = NewSpeculations()
	defer o.Speculations.Close()
	f := File{Path: v2}
	o.Speculations.Start(context.Background(), td.Target, o, f, "app")
	o.Speculations.mu.Lock()
	started := len(o.Speculations.pending)
	o.Speculations.mu.Unlock()
	if started != 1 {
		t.Fatalf("%d speculations started, want 1", started)
	}
	dev := openT(t, td.Target, o)
	inst, err := dev.Deploy(context.Background(), f, "app", nil)
	if err != nil || inst.DeltaKind != DeltaELFZ || devSHA(t, dev, inst.Path) != sha(t, v2) {
		t.Fatalf("deploy after the speculation: kind %q note %q: %v", inst.DeltaKind, inst.NoDelta, err)
	}
	if sp := o.Speculations.take(td.Target.Name, "app", sha(t, v2)); sp != nil {
		t.Error("the deploy did not take the speculation over")
	}
	// The speculation's delta is byte for byte the one made on the spot.
	next, err := os.ReadFile(v2)
	if err != nil {
		t.Fatal(err)
	}
	onSpot, err := makeDelta(context.Background(), cache, sha(t, v1), next, true, 1<<30)
	if err != nil || onSpot.kind != DeltaELFZ {
		t.Fatalf("delta made on the spot: kind %q: %v", onSpot.kind, err)
	}
	if inst.WireBytes != int64(len(onSpot.data)) {
		t.Errorf("sent %d bytes, the delta made on the spot has %d", inst.WireBytes, len(onSpot.data))
	}
	noTempLeft(t, td.Target.DeployDir)
}

// A speculation for another file is left alone by the deploy and
// stopped by Close.
func TestSpeculationForAnotherFile(t *testing.T) {
	requireTool(t, "zstd")
	v1, v2, _ := buildELFZ(t)
	o, _ := deltaOpts(t)
	cache := o.deltaCache()
	prev, err := os.ReadFile(v1)
	if err != nil {
		t.Fatal(err)
	}
	if err := cache.store(prev, sha(t, v1), "dev", "app"); err != nil {
		t.Fatal(err)
	}
	s := NewSpeculations()
	tg := targets.Target{Name: "dev", Host: "127.0.0.1"}
	s.Start(context.Background(), tg, o, File{Path: v2}, "app")
	if sp := s.take("dev", "app", sha(t, v1)); sp != nil {
		t.Fatal("a speculation for v2 was handed to a deploy of v1")
	}
	s.mu.Lock()
	sp := s.pending[specKey{"dev", "app", sha(t, v2)}]
	s.mu.Unlock()
	if sp == nil {
		t.Fatal("no speculation started for v2")
	}
	// Close stops the encoder and waits for it.
	s.Close()
	select {
	case <-sp.done:
	default:
		t.Fatal("Close returned with the speculation still encoding")
	}
}

func TestDeltaCacheExpanded(t *testing.T) {
	c := &deltaCache{dir: t.TempDir()}
	sums := []string{}
	for i := range 4 {
		x := bytes.Repeat([]byte{byte(i)}, 1000)
		xs := sha256.Sum256(x)
		sum := hex.EncodeToString(xs[:])
		sums = append(sums, sum)
		if err := c.storeExpanded(x, sum); err != nil {
			t.Fatal(err)
		}
		if path, got := c.expanded(sum); path == "" || !bytes.Equal(got, x) {
			t.Fatalf("stored form %d not found", i)
		}
	}
	if path, _ := c.expanded(sums[0]); path != "" {
		t.Errorf("%d expanded forms kept, want the newest %d", 4, expandedKeep)
	}
	path, _ := c.expanded(sums[3])
	if err := os.WriteFile(path, []byte("damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	if p, x := c.expanded(sums[3]); p != "" || x != nil {
		t.Error("a damaged expanded form was handed out")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the damaged form is still there: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(c.dir, expandedDir)); len(ents) != 1 {
		t.Errorf("%d files left in the expanded cache, want 1", len(ents))
	}
}

func TestLinkedByThisGo(t *testing.T) {
	v1, _, _ := buildELFZ(t)
	b, err := os.ReadFile(v1)
	if err != nil {
		t.Fatal(err)
	}
	if !linkedByThisGo(b) {
		t.Error("a binary the test's own go linked is not recognized")
	}
	if linkedByThisGo([]byte("#!/bin/sh\n")) {
		t.Error("a shell script was linked by this Go")
	}
}
