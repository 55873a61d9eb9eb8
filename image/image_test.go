package image

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"armbench/build"
	"armbench/internal/testenv"
	"armbench/profiles"
	"armbench/targets"
)

// edge is a user profile with runtime settings, on release's build flags
// (so the standard library compiles as for the build package's tests).
var edge = profiles.Profile{
	Name:  "edge",
	Build: profiles.Build{Trimpath: true, Ldflags: "-s -w", PGO: "off"},
	Run: profiles.Run{GOMAXPROCS: 3, GOGC: "50", GOMEMLIMIT: "auto",
		Env: []profiles.EnvVar{{Key: "APP_MODE", Value: "edge"}}},
}

// board is one target of the fixture and what its binary must say.
type board struct {
	target   targets.Target
	platform string
	machine  elf.Machine
	key, val string // the build info setting of its architecture level
}

var boards = []board{
	{targets.Target{Name: "pi-zero", Host: "local", GOARCH: "arm", GOARM: "6", Memory: 512 << 20}, "linux/arm/v6", elf.EM_ARM, "GOARM", "6"},
	{targets.Target{Name: "pi3", Host: "local", GOARCH: "arm", GOARM: "7", Memory: 1 << 30}, "linux/arm/v7", elf.EM_ARM, "GOARM", "7"},
	{targets.Target{Name: "pi4", Host: "local", GOARCH: "arm64", GOARM64: "v8.0", Memory: 4 << 30}, "linux/arm64", elf.EM_AARCH64, "GOARM64", "v8.0"},
}

func plansFor(t testing.TB, outRoot string, bs []board, p profiles.Profile) []profiles.Plan {
	t.Helper()
	var plans []profiles.Plan
	for _, b := range bs {
		plan, err := profiles.Resolve(b.target, p, profiles.Options{Pkg: "./testdata/hello", OutRoot: outRoot})
		if err != nil {
			t.Fatal(err)
		}
		plans = append(plans, plan)
	}
	return plans
}

// The three platforms are built once for the whole package: every
// GOARCH/GOARM compiles the standard library again.
var fixture struct {
	once   sync.Once
	plans  []profiles.Plan
	res    *Result
	events []Event
	err    error
}

// built returns the fixture's plans, their build results (for Assemble)
// and the index Build made of them.
func built(t *testing.T) ([]profiles.Plan, []build.Result, *Result) {
	t.Helper()
	testenv.Slow(t, "cross-compiles a program for three platforms")
	fixture.once.Do(func() {
		dir, err := os.MkdirTemp("", "armbench-image-test-")
		if err != nil {
			fixture.err = err
			return
		}
		fixture.plans = plansFor(t, dir, boards, edge)
		fixture.res, fixture.err = Build(context.Background(), fixture.plans, Options{},
			func(ev Event) { fixture.events = append(fixture.events, ev) })
	})
	if fixture.err != nil {
		var be *BuildError
		if errors.As(fixture.err, &be) {
			for _, r := range be.Results {
				t.Logf("%s/%s: %v", r.Target, r.Profile, r.Err)
			}
		}
		t.Fatal(fixture.err)
	}
	results := make([]build.Result, len(fixture.res.Images))
	for i, b := range fixture.res.Images {
		results[i] = build.Result{Target: b.Target, Profile: b.Profile, Artifact: &b.Artifact}
	}
	return fixture.plans, results, fixture.res
}

// Build reports each platform's build, then its layer and image, then
// the index, in that order.
func TestBuildReportsBuildsLayersImagesThenTheIndex(t *testing.T) {
	_, _, res := built(t)
	var seq []string
	started := map[string]bool{}
	for _, ev := range fixture.events {
		switch ev := ev.(type) {
		case Building:
			if _, ok := ev.Event.(build.Started); ok {
				started[ev.Platform+" "+ev.Target] = true
			}
		case Layer:
			seq = append(seq, "layer "+ev.Platform)
		case Image:
			seq = append(seq, "image "+ev.Platform)
		case Index:
			seq = append(seq, "index "+strings.Join(ev.Platforms, ",")+" "+ev.Digest)
		}
	}
	for _, b := range boards {
		if !started[b.platform+" "+b.target.Name] {
			t.Errorf("no build started for %s %s (saw %v)", b.platform, b.target.Name, started)
		}
	}
	want := []string{
		"layer linux/arm/v6", "image linux/arm/v6", "layer linux/arm/v7", "image linux/arm/v7",
		"layer linux/arm64", "image linux/arm64", "index linux/arm/v6,linux/arm/v7,linux/arm64 " + res.Digest,
	}
	if !slices.Equal(seq, want) {
		t.Errorf("events\n%q\nwant\n%q", seq, want)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if len(fixture.plans) > 0 {
		// The outputs live under <tmp>/<target>/<profile>/.
		os.RemoveAll(filepath.Dir(filepath.Dir(filepath.Dir(fixture.plans[0].OutputPath()))))
	}
	os.Exit(code)
}

// newRegistry is an in-process registry on loopback, quiet.
func newRegistry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestPushedIndexHoldsEachPlatformsBinaryAndEnv(t *testing.T) {
	_, _, res := built(t)
	ref := newRegistry(t) + "/armbench/hello:edge"
	var events []Event
	byDigest, err := Push(context.Background(), ref, res, PushOptions{}, func(ev Event) { events = append(events, ev) })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(byDigest, "/armbench/hello@"+res.Digest) {
		t.Errorf("pushed %s, want the repository by the index digest %s", byDigest, res.Digest)
	}
	if last, ok := events[len(events)-1].(Pushed); !ok || last.Digest != byDigest {
		t.Errorf("last event %#v, want Pushed %s", events[len(events)-1], byDigest)
	}

	// Pulled back by tag, from the registry: what a node would see.
	r, err := ParseRef(ref, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pulled, err := remote.Index(r)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := pulled.Digest(); d.String() != res.Digest {
		t.Errorf("registry has %s under the tag, pushed %s", d, res.Digest)
	}
	if mt, _ := pulled.MediaType(); mt != types.OCIImageIndex {
		t.Errorf("index media type %s", mt)
	}
	im, err := pulled.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, desc := range im.Manifests {
		got = append(got, PlatformString(*desc.Platform))
	}
	want := []string{"linux/arm/v6", "linux/arm/v7", "linux/arm64"}
	if !slices.Equal(got, want) {
		t.Fatalf("index platforms %v, want %v", got, want)
	}
	for i, desc := range im.Manifests {
		t.Run(boards[i].target.Name, func(t *testing.T) {
			img, err := pulled.Image(desc.Digest)
			if err != nil {
				t.Fatal(err)
			}
			checkImage(t, img, boards[i])
		})
	}
}

// checkImage reads one platform's image: its binary from the layer (ELF
// machine, architecture level in the build info) and its config.
func checkImage(t *testing.T, img v1.Image, b board) {
	t.Helper()
	if mt, _ := img.MediaType(); mt != types.OCIManifestSchema1 {
		t.Errorf("manifest media type %s", mt)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if p := (v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}); PlatformString(p) != b.platform {
		t.Errorf("config platform %s, want %s", PlatformString(p), b.platform)
	}
	bin := binaryIn(t, img, "/usr/local/bin/hello")
	ef, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		t.Fatal(err)
	}
	if ef.Machine != b.machine {
		t.Errorf("ELF machine %v, want %v", ef.Machine, b.machine)
	}
	bi, err := buildinfo.Read(bytes.NewReader(bin))
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if settings[b.key] != b.val {
		t.Errorf("buildinfo %s=%q, want %q", b.key, settings[b.key], b.val)
	}
	if !slices.Equal(cf.Config.Entrypoint, []string{"/usr/local/bin/hello"}) {
		t.Errorf("entrypoint %q", cf.Config.Entrypoint)
	}
	// lowmem's GOMEMLIMIT=auto is half of this board's memory.
	memlimit := targets.FormatMemory(b.target.Memory / 2)
	for _, kv := range []string{"GOMAXPROCS=3", "GOGC=50", "GOMEMLIMIT=" + memlimit, "APP_MODE=edge"} {
		if !slices.Contains(cf.Config.Env, kv) {
			t.Errorf("config env %q lacks %s", cf.Config.Env, kv)
		}
	}
	if cf.Config.User != User {
		t.Errorf("user %q, want %q", cf.Config.User, User)
	}
}

// binaryIn returns the file at path from the image's only layer, checking
// it is an executable regular file.
func binaryIn(t *testing.T, img v1.Image, path string) []byte {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Fatalf("%d layers, want the binary's alone", len(layers))
	}
	if mt, _ := layers[0].MediaType(); mt != types.OCILayer {
		t.Errorf("layer media type %s", mt)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			t.Fatalf("%s not in the layer", path)
		}
		if err != nil {
			t.Fatal(err)
		}
		if "/"+strings.TrimPrefix(hdr.Name, "/") != path {
			continue
		}
		if hdr.Typeflag != tar.TypeReg || hdr.Mode&0o777 != 0o755 {
			t.Errorf("%s: type %c mode %o, want a regular file 0755", path, hdr.Typeflag, hdr.Mode)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}
