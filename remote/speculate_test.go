package remote

import (
	"bytes"
	"context"
	"os"
	"testing"

	"armbench/internal/elfz/codec"
	"armbench/internal/testdevice"
	"armbench/remote/delta"
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
	if path, x := cache.Expanded(sha(t, v1)); path == "" || !bytes.HasPrefix(x, []byte(codec.Magic)) {
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
	onSpot, err := delta.Make(context.Background(), cache, sha(t, v1), next, true, 1<<30)
	if err != nil || onSpot.Kind != DeltaELFZ {
		t.Fatalf("delta made on the spot: kind %q: %v", onSpot.Kind, err)
	}
	if inst.WireBytes != int64(len(onSpot.Data)) {
		t.Errorf("sent %d bytes, the delta made on the spot has %d", inst.WireBytes, len(onSpot.Data))
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
	if err := cache.Store(prev, sha(t, v1), "dev", "app"); err != nil {
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
	case <-sp.Done():
	default:
		t.Fatal("Close returned with the speculation still encoding")
	}
}
