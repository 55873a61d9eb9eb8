package image

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"armbench/build"
	"armbench/profiles"
)

// BinDir is where the binary sits in the image.
const BinDir = "/usr/local/bin"

// User is who the image runs as: the numeric nonroot user of distroless
// images. A static Go program needs no root, and a numeric user lets the
// kubelet enforce runAsNonRoot without an /etc/passwd in the image.
const User = "65532:65532"

// imagePATH is the usual PATH of a Linux image; the entrypoint is absolute,
// but a tool exec'ing into the container expects one.
const imagePATH = "PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// platformImage turns one verified artifact into an image: the binary as
// the only layer on an empty base, the profile's run settings as its
// environment, and the platform in its config.
func platformImage(plan profiles.Plan, art build.Artifact, o Options, emit func(Event)) (Built, v1.Image, error) {
	fail := func(err error) (Built, v1.Image, error) {
		return Built{}, nil, fmt.Errorf("image %s/%s: %w", plan.Target.Name, plan.Profile.Name, err)
	}
	if !art.Static {
		return fail(fmt.Errorf("%s is dynamically linked, and the image has no libc or loader", art.Path))
	}
	plat, err := PlatformOf(plan.Target)
	if err != nil {
		return fail(err)
	}
	name := o.Name
	if name == "" {
		name = filepath.Base(art.Path)
	}
	if name == "" || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return fail(fmt.Errorf("%q is not a file name for the binary", name))
	}
	b := Built{
		Platform: plat, Target: plan.Target.Name, Profile: plan.Profile.Name,
		Binary:   path.Join(BinDir, name),
		Env:      append([]string{imagePATH}, plan.RunEnvStrings()...),
		Artifact: art,
	}
	created := o.created()
	layer, err := binaryLayer(art, b.Binary, created)
	if err != nil {
		return fail(err)
	}
	if err := emitLayer(layer, PlatformString(plat), b.Binary, emit); err != nil {
		return fail(err)
	}
	img, err := imageOf(layer, b, created)
	if err != nil {
		return fail(err)
	}
	d, err := img.Digest()
	if err != nil {
		return fail(err)
	}
	b.Digest = d.String()
	emit(Image{Platform: PlatformString(plat), Digest: b.Digest})
	return b, img, nil
}

// binaryLayer is a gzipped tar holding the binary at inImage, mode 0755,
// owned by root, with its parent directories: every time and owner fixed,
// so the same binary always gives the same layer digest. The binary is
// checked against the hash the build recorded, since another build may
// have replaced the file since.
func binaryLayer(art build.Artifact, inImage string, mtime time.Time) (v1.Layer, error) {
	data, err := os.ReadFile(art.Path)
	if err != nil {
		return nil, fmt.Errorf("read binary: %w", err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != art.SHA256 {
		return nil, fmt.Errorf("%s changed since it was built and verified (sha256 %s, now %x); build again", art.Path, art.SHA256, sum)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	rel := strings.TrimPrefix(inImage, "/")
	for _, dir := range parents(rel) {
		hdr := &tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755, ModTime: mtime}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: rel, Mode: 0o755, Size: int64(len(data)), ModTime: mtime}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	tarBytes := buf.Bytes()
	opener := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(tarBytes)), nil }
	// Cached: otherwise the layer is gzipped again for its digest, for the
	// layout and for the push.
	return tarball.LayerFromOpener(opener, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
}

// parents lists the directories above a slash path, outermost first:
// "usr/local/bin/x" → usr, usr/local, usr/local/bin.
func parents(rel string) []string {
	var dirs []string
	for d := path.Dir(rel); d != "." && d != "/"; d = path.Dir(d) {
		dirs = append([]string{d}, dirs...)
	}
	return dirs
}

func emitLayer(l v1.Layer, platform, inImage string, emit func(Event)) error {
	d, err := l.Digest()
	if err != nil {
		return err
	}
	diff, err := l.DiffID()
	if err != nil {
		return err
	}
	size, err := l.Size()
	if err != nil {
		return err
	}
	emit(Layer{Platform: platform, Digest: d.String(), DiffID: diff.String(), Size: size, Path: inImage})
	return nil
}

// imageOf puts the layer on an empty base with OCI media types and the
// config a runtime needs: platform, entrypoint, environment, user.
func imageOf(layer v1.Layer, b Built, created time.Time) (v1.Image, error) {
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: created},
			CreatedBy: "armbench image",
			Comment:   fmt.Sprintf("%s built for %s with profile %s", path.Base(b.Binary), b.Target, b.Profile),
		},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = b.Platform.OS, b.Platform.Architecture, b.Platform.Variant
	cf.Created = v1.Time{Time: created}
	cf.Config.Entrypoint = []string{b.Binary}
	cf.Config.Env = b.Env
	cf.Config.User = User
	cf.Config.WorkingDir = "/"
	return mutate.ConfigFile(img, cf)
}
