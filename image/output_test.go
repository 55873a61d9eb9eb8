package image

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"armbench/internal/testenv"
)

// The layout directory and the registry hold the same index, byte for
// byte, and assembling the same binaries again gives that digest again.
func TestLayoutHoldsTheIndexPushedAndDigestsAreReproducible(t *testing.T) {
	plans, results, res := built(t)
	dir := filepath.Join(t.TempDir(), "oci")
	if err := WriteLayout(context.Background(), dir, "edge", res, nil); err != nil {
		t.Fatal(err)
	}
	ref := newRegistry(t) + "/armbench/hello:edge"
	if _, err := Push(context.Background(), ref, res, PushOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	r, err := ParseRef(ref, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	head, err := remote.Head(r)
	if err != nil {
		t.Fatal(err)
	}

	// Written twice under the same name, the layout lists it once.
	if err := WriteLayout(context.Background(), dir, "edge", res, nil); err != nil {
		t.Fatal(err)
	}
	outer, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	om, err := outer.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(om.Manifests) != 1 {
		t.Fatalf("layout index.json lists %d entries, want the image index once", len(om.Manifests))
	}
	desc := om.Manifests[0]
	if desc.Digest.String() != head.Digest.String() || desc.Annotations[RefNameAnnotation] != "edge" {
		t.Errorf("layout has %s (%v), registry has %s", desc.Digest, desc.Annotations, head.Digest)
	}
	inner, err := outer.ImageIndex(desc.Digest)
	if err != nil {
		t.Fatal(err)
	}
	im, err := inner.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range im.Manifests {
		img, err := inner.Image(m.Digest)
		if err != nil {
			t.Fatal(err)
		}
		// The layer's blob in the layout is what the registry got.
		checkImage(t, img, boards[i])
	}

	again, err := Assemble(context.Background(), plans, results, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Digest != res.Digest {
		t.Errorf("same binaries, digest %s then %s", res.Digest, again.Digest)
	}
	later, err := Assemble(context.Background(), plans, results, Options{Created: time.Unix(1700000000, 0)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if later.Digest == res.Digest {
		t.Error("a different creation time gave the same digest: Created is not in the image")
	}
}

func TestLayoutRefusesADirectoryWithOtherFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := WriteLayout(context.Background(), dir, "x", &Result{}, nil)
	if !IsPlanError(err) || !strings.Contains(err.Error(), "not an OCI layout") {
		t.Fatalf("got %v, want a refusal naming the directory", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "blobs")); err == nil {
		t.Error("blobs/ written into a directory that was not a layout")
	}
}

// The arm64 image's binary runs (binfmt_misc or qemu-user) and its runtime
// picks up the environment the image config carries.
func TestImageBinaryRunsWithTheConfigEnv(t *testing.T) {
	_, _, res := built(t)
	runner := testenv.Qemu(t, "arm64")
	b := res.Images[2]
	if b.Target != "pi4" {
		t.Fatalf("image 2 is %s", b.Target)
	}
	img, err := res.Index.Image(mustHash(t, b.Digest))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "hello")
	if err := os.WriteFile(bin, binaryIn(t, img, b.Binary), 0o755); err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	if runner != "" {
		cmd = exec.Command(runner, bin)
	}
	cmd.Env = cf.Config.Env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
	}
	// GOMEMLIMIT=2GiB: half of pi4's 4GiB.
	want := "arch=arm64 gomaxprocs=3 gogc=50 memlimit=2147483648 mode=edge\n"
	if string(out) != want {
		t.Errorf("output %q, want %q", out, want)
	}
}

func mustHash(t *testing.T, s string) v1.Hash {
	t.Helper()
	h, err := v1.NewHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
