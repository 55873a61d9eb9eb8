package cli

import (
	"bufio"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"sigs.k8s.io/yaml"

	"armbench/internal/testenv"
)

// Mistakes are caught before anything is built, with exit 2 and a message
// that says what to do.
func TestImageUsageErrors(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "targets.toml")
	os.WriteFile(cfg, []byte(`
[[target]]
name = "pi2"
host = "local"
goarch = "arm"
goarm = "7"

[[target]]
name = "pi3"
host = "local"
goarch = "arm"
goarm = "7,hardfloat"
memory = "1GiB"

[[target]]
name = "bsd"
host = "local"
goos = "freebsd"
goarch = "arm64"
`), 0o644)
	out := filepath.Join(t.TempDir(), "oci")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--target", "pi3"}, "say where the image goes: --out DIR"},
		{[]string{"--target", "pi2,pi3", "--out", out}, "targets pi2 and pi3 are both linux/arm/v7"},
		{[]string{"--target", "bsd", "--out", out}, "GOOS=freebsd"},
		{[]string{"--target", "pi3", "--profile", "release,lowmem", "--out", out}, "--profile takes one profile"},
		{[]string{"--target", "pi3", "--out", out, "--manifest", "d.yaml"}, "add --push REGISTRY/REPOSITORY[:TAG], or --image"},
		{[]string{"--target", "pi2", "--out", out, "--manifest", "d.yaml", "--image", "r/app"}, "target pi2 has no memory"},
		{[]string{"--target", "pi3", "--push", "Bad Ref!"}, "is not an image reference"},
		{[]string{"--target", "pi3", "--profile", "cgo", "--out", out}, `unknown profile "cgo"`},
		{[]string{"--target", "pi3", "--out", out, "--manifest", "d.yaml", "--image", "r/app", "--max-unavailable", "0"}, "cannot both be 0"},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"image", "--config", cfg}, tc.args...)...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 saying %q", code, stderr, tc.want)
			}
		})
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused command created the layout directory")
	}
	t.Run("SOURCE_DATE_EPOCH", func(t *testing.T) {
		t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
		code, _, stderr := runCLI(t, "image", "--config", cfg, "--target", "pi3", "--out", out)
		if code != exitUsage || !strings.Contains(stderr, `SOURCE_DATE_EPOCH="yesterday"`) {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
}

// The shipped targets make a two-platform image of the sample workload:
// pushed to a registry, written as a layout, with a manifest naming the
// pushed digest; run again without --json, the digest is the same.
func TestImageShippedTargetsPushLayoutAndManifest(t *testing.T) {
	testenv.Slow(t, "cross-compiles the sample workload for two platforms")
	dir := chdirRepoCopy(t)
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	ref := strings.TrimPrefix(srv.URL, "http://") + "/armbench/workload:lowmem"
	oci, manifest := filepath.Join(dir, "oci"), filepath.Join(dir, "deploy.yaml")
	args := []string{"image", "--target", "local-armv7,local-arm64", "--profile", "lowmem", "--out", oci, "--push", ref, "--manifest", manifest}

	code, stdout, stderr := runCLI(t, append(args, "--json")...)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var res imageResultJSON
	types := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var ev struct{ Type string }
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("not JSON lines: %q: %v", sc.Text(), err)
		}
		types[ev.Type]++
		if ev.Type == "result" {
			json.Unmarshal(sc.Bytes(), &res)
		}
	}
	for typ, n := range map[string]int{"started": 2, "layer": 2, "image": 2, "index": 1, "written": 1, "pushed": 1, "manifest": 1, "result": 1} {
		if types[typ] != n {
			t.Errorf("%d %q events, want %d (all: %v)", types[typ], typ, n, types)
		}
	}
	if !res.OK || len(res.Images) != 2 || res.Images[0].Platform != "linux/arm/v7" || res.Images[1].Platform != "linux/arm64" {
		t.Fatalf("result %+v", res)
	}

	// The registry, the layout and the manifest agree on one digest.
	d, err := name.NewDigest(res.Pushed)
	if err != nil {
		t.Fatalf("pushed %q: %v", res.Pushed, err)
	}
	pulled, err := remote.Index(d)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := pulled.Digest(); got.String() != res.Digest || d.DigestStr() != res.Digest {
		t.Errorf("registry has %s, result says %s (pushed %s)", got, res.Digest, res.Pushed)
	}
	outer, err := layout.ImageIndexFromPath(oci)
	if err != nil {
		t.Fatal(err)
	}
	om, _ := outer.IndexManifest()
	if len(om.Manifests) != 1 || om.Manifests[0].Digest.String() != res.Digest {
		t.Errorf("layout index.json %+v, want the index %s", om, res.Digest)
	}
	checkManifestNames(t, manifest, res.Pushed)

	code, stdout, stderr = runCLI(t, args...)
	if code != exitOK || strings.TrimSpace(stdout) != res.Pushed {
		t.Errorf("again without --json: exit %d, stdout %q, want %q\nstderr:\n%s", code, stdout, res.Pushed, stderr)
	}
}

func checkManifestNames(t *testing.T, file, image string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct {
						Image     string
						Resources struct{ Limits map[string]string }
					}
				}
			}
		}
	}
	if err := yaml.Unmarshal(b, &d); err != nil {
		t.Fatalf("manifest does not parse: %v\n%s", err, b)
	}
	cs := d.Spec.Template.Spec.Containers
	// local-armv7's 512MiB is the smaller target's memory; half is the limit.
	if len(cs) != 1 || cs[0].Image != image || cs[0].Resources.Limits["memory"] != "256Mi" {
		t.Errorf("manifest containers %+v, want image %s with a 256Mi limit", cs, image)
	}
}
