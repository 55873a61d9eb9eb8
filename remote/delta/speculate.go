package delta

import (
	"context"
	"os"

	"armbench/remote/artifact"
)

// Speculation is a delta started against the binary the device most
// likely has (the last one installed there), while the prepare round trip
// asks which one it really has. On a Pi, that round trip hashes the old
// binary, which takes about as long as encoding the delta.
type Speculation struct {
	base   string // sha256 the delta is against
	elfz   bool   // through the helper's expanded forms, when the binary allows
	cancel context.CancelFunc
	done   chan struct{}
	frame  Frame
	err    error
}

// Start encodes f's delta against the binary last installed
// as name on target, in the background; nil when there is nothing to
// diff against.
func Start(ctx context.Context, cache *Cache, target string, f artifact.File, name string, elfz bool) *Speculation {
	if cache == nil {
		return nil
	}
	base := cache.Last(target, name)
	if base == "" || base == f.SHA256 {
		return nil // nothing to diff against, or most likely unchanged
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &Speculation{base: base, elfz: elfz, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.frame, s.err = encodeFromFiles(ctx, cache, base, f, elfz)
	}()
	return s
}

// Result waits for the speculative delta when it was against old (the
// guess was right); guessed is false otherwise, and the caller encodes.
func (s *Speculation) Result(old string) (frame Frame, guessed bool, err error) {
	if s == nil || s.base != old {
		return Frame{}, false, nil
	}
	<-s.done
	return s.frame, true, s.err
}

// Stop ends a Speculation nobody needs any more (an unchanged binary, a
// failed prepare) and waits for it, so no encoder outlives the deploy.
func (s *Speculation) Stop() {
	if s == nil {
		return
	}
	s.cancel()
	<-s.done
}

// encodeFromFiles reads the cached base and the artifact and encodes the
// delta between them, through the helper's expanded forms when it may.
func encodeFromFiles(ctx context.Context, cache *Cache, base string, f artifact.File, elfz bool) (Frame, error) {
	next, err := os.ReadFile(f.Path)
	if err != nil {
		return Frame{}, err
	}
	return Make(ctx, cache, base, next, elfz, Limit(f.Size))
}

// Base is the sha256 of the binary the delta is against.
func (s *Speculation) Base() string { return s.base }

// ThroughHelper says whether the delta was asked to go between expanded
// forms (the helper's), when the binary allows.
func (s *Speculation) ThroughHelper() bool { return s.elfz }

// Cancel stops the encoding without waiting for it.
func (s *Speculation) Cancel() { s.cancel() }

// Done is closed once the encoding ended.
func (s *Speculation) Done() <-chan struct{} { return s.done }
