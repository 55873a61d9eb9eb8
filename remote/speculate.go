package remote

import (
	"context"
	"sync"

	"armbench/remote/artifact"
	"armbench/remote/delta"
	"armbench/remote/install"
	"armbench/targets"
)

// Speculations are deltas started before their deploy has a connection
// to ask the device anything. A command that deploys one artifact knows
// it while the SSH handshake is still under way (at once with
// --no-build, or when its build was up to date), and the handshake takes
// longer than encoding the delta: Start it then, and the Deploy on the
// connection that Options (with this Speculations) opened takes it over
// when the device turns out to have what the delta was made against.
// The zero value is not usable; use NewSpeculations.
type Speculations struct {
	mu      sync.Mutex
	pending map[specKey]*delta.Speculation
}

type specKey struct{ target, name, sha string }

// NewSpeculations returns an empty set.
func NewSpeculations() *Speculations {
	return &Speculations{pending: map[specKey]*delta.Speculation{}}
}

// Start encodes f's delta for a deploy as name on t against the binary
// last installed there, assuming what most devices have (zstd, and the
// delta helper when o has one), and gets the helper ready for t. It
// returns at once; a deploy that does not take the delta leaves it to
// Close.
func (s *Speculations) Start(ctx context.Context, t targets.Target, o Options, f File, name string) {
	if s == nil || t.IsLocal() || install.CheckName(name) != nil {
		return
	}
	f, err := artifact.Resolve(f)
	if err != nil {
		return
	}
	o.warmELFZ(t, f, name)
	sp := delta.Start(ctx, o.deltaCache(), t.Name, f, name, o.ELFZHelper != nil)
	if sp == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := specKey{t.Name, name, f.SHA256}
	if old := s.pending[k]; old != nil {
		old.Cancel()
	}
	s.pending[k] = sp
}

// take hands the delta started for this deploy to it, or nil.
func (s *Speculations) take(target, name, sha string) *delta.Speculation {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := specKey{target, name, sha}
	sp := s.pending[k]
	delete(s.pending, k)
	return sp
}

// Close stops the deltas no deploy took and waits for them.
func (s *Speculations) Close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	left := s.pending
	s.pending = map[specKey]*delta.Speculation{}
	s.mu.Unlock()
	for _, sp := range left {
		sp.Stop()
	}
}
