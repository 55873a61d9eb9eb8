package image

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// RefNameAnnotation names an index inside an OCI layout, as the tag in
// skopeo's oci:DIR:TAG and crane's layout commands.
const RefNameAnnotation = "org.opencontainers.image.ref.name"

// WriteLayout writes res's index into the OCI layout directory dir, as
// ko does: the layout's own index.json lists the image index (not its
// platform images), annotated with refName, so tools that copy a layout
// to a registry copy the whole multi-platform index under the same
// digest. An index already there under refName is replaced; blobs are
// content-addressed, so what is already there is not written again. dir
// must be new, empty, or an OCI layout.
func WriteLayout(ctx context.Context, dir, refName string, res *Result, emit func(Event)) error {
	if emit == nil {
		emit = func(Event) {}
	}
	if refName == "" {
		return errors.New("image layout: no ref name for the index")
	}
	p, err := openLayout(dir)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	err = p.ReplaceIndex(res.Index, match.Annotation(RefNameAnnotation, refName),
		layout.WithAnnotations(map[string]string{RefNameAnnotation: refName}))
	if err != nil {
		return fmt.Errorf("image layout %s: %w", dir, err)
	}
	emit(Written{Dir: dir, RefName: refName, Digest: res.Digest})
	return nil
}

// openLayout opens dir as an OCI layout, creating it when it does not
// exist or is empty; a directory holding something else is refused rather
// than filled with blobs/.
func openLayout(dir string) (layout.Path, error) {
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err == nil {
		p, err := layout.FromPath(dir)
		if err != nil {
			return "", fmt.Errorf("image layout %s: %w", dir, err)
		}
		return p, nil
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("image layout: %w", err)
		}
	case err != nil:
		return "", fmt.Errorf("image layout: %w", err)
	case len(entries) > 0:
		return "", &PlanError{fmt.Sprintf("image layout: %s is not empty and not an OCI layout (no oci-layout file); name a new directory", dir)}
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return "", fmt.Errorf("image layout %s: %w", dir, err)
	}
	return p, nil
}

// PushOptions say how to reach the registry.
type PushOptions struct {
	// Insecure talks plain HTTP to the registry. Loopback and private
	// (RFC 1918) registries get plain HTTP without it, as in crane.
	Insecure bool
	// Keychain finds credentials; nil is authn.DefaultKeychain (docker's
	// config.json and its credential helpers, as docker login leaves them).
	Keychain authn.Keychain
}

// ParseRef parses a reference to push to, e.g. registry:5000/app:v1.
func ParseRef(ref string, o PushOptions) (name.Reference, error) {
	var opts []name.Option
	if o.Insecure {
		opts = append(opts, name.Insecure)
	}
	r, err := name.ParseReference(ref, opts...)
	if err != nil {
		return nil, &PlanError{fmt.Sprintf("image: %q is not an image reference (want REGISTRY/REPOSITORY[:TAG]): %v", ref, err)}
	}
	return r, nil
}

// Push uploads res's index and its images to ref and returns the
// reference by digest (repository@sha256:…), which is what to deploy:
// a tag can move, the digest cannot.
func Push(ctx context.Context, ref string, res *Result, o PushOptions, emit func(Event)) (string, error) {
	if emit == nil {
		emit = func(Event) {}
	}
	r, err := ParseRef(ref, o)
	if err != nil {
		return "", err
	}
	keys := o.Keychain
	if keys == nil {
		keys = authn.DefaultKeychain
	}
	updates := make(chan v1.Update, 64)
	var wg sync.WaitGroup
	wg.Add(1)
	done := make(chan struct{})
	go func() {
		defer wg.Done()
		forwardProgress(updates, done, emit)
	}()
	err = remote.WriteIndex(r, res.Index,
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(keys),
		remote.WithUserAgent("armbench"),
		remote.WithProgress(updates))
	// WriteIndex has closed updates unless it failed before it began.
	close(done)
	wg.Wait()
	if err != nil {
		return "", fmt.Errorf("push %s: %w", r, err)
	}
	byDigest := r.Context().Digest(res.Digest).String()
	emit(Pushed{Ref: r.String(), Digest: byDigest})
	return byDigest, nil
}

// forwardProgress turns the registry client's updates into Progress
// events: the first, then at most four a second, and the last. done says
// WriteIndex returned: whatever it left in updates is still read.
func forwardProgress(updates <-chan v1.Update, done <-chan struct{}, emit func(Event)) {
	var last time.Time
	var pending *Progress
	handle := func(u v1.Update) {
		if u.Error != nil {
			return // WriteIndex returns the error too
		}
		ev := Progress{Complete: u.Complete, Total: u.Total}
		if now := time.Now(); now.Sub(last) >= 250*time.Millisecond || u.Complete == u.Total {
			last, pending = now, nil
			emit(ev)
		} else {
			pending = &ev
		}
	}
	flush := func() {
		if pending != nil {
			emit(*pending)
		}
	}
	for {
		select {
		case u, ok := <-updates:
			if !ok {
				flush()
				return
			}
			handle(u)
		case <-done:
			for {
				select {
				case u, ok := <-updates:
					if ok {
						handle(u)
						continue
					}
				default:
				}
				flush()
				return
			}
		}
	}
}
