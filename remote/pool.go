package remote

import (
	"context"
	"errors"
	"sync"

	"armbench/remote/compress"
	"armbench/targets"
)

// Pool keeps one Device per target, so a deploy and the runs after it share
// one SSH connection (a fresh handshake costs a few hundred ms). An SSH
// device reconnects by itself on the next action after a drop.
type Pool struct {
	o Options

	mu      sync.Mutex
	devices map[string]*poolEntry
	closed  bool
}

// poolEntry is a target's device, or the connection being opened for it:
// callers arriving meanwhile wait for that one instead of paying a second
// handshake.
type poolEntry struct {
	t     targets.Target
	ready chan struct{} // closed once dev or err is set
	dev   Device
	err   error
}

// NewPool returns an empty pool whose devices use o.
func NewPool(o Options) *Pool {
	if o.uploads == nil {
		o.uploads = &compress.Gauge{}
	}
	return &Pool{o: o, devices: map[string]*poolEntry{}}
}

// ExpectUploads says that n uploads are about to run at once (a rollout's
// staging), so that each compresses for its share of the cores from its
// first byte, not as if it were alone until the others start. done ends
// the announcement.
func (p *Pool) ExpectUploads(n int) (done func()) {
	return p.o.uploads.Expect(n)
}

// Get returns the device of t, connecting on first use. A target whose
// definition changed since (e.g. targets.toml was edited) gets a new
// connection.
func (p *Pool) Get(ctx context.Context, t targets.Target) (Device, error) {
	dev, _, err := p.get(ctx, t, nil)
	return dev, err
}

// Prewarm starts what a deploy of names to t will wait for, so it can
// overlap the build of those binaries: the connection, when the pool has
// none yet, and the deploy's first round trip (see the package function
// Prewarm). Call it when such a build starts, in the background; a later
// Get or Prewarm while it connects waits for this connection instead of
// opening another. Its error is the one the deploy would meet first;
// the deploy still reports its own.
func (p *Pool) Prewarm(ctx context.Context, t targets.Target, names ...string) error {
	dev, opened, err := p.get(ctx, t, names)
	if err != nil || opened {
		return err
	}
	return Prewarm(ctx, dev, names...)
}

// get returns t's device; opened says this call connected it, with names
// prepared in the connection's probe.
func (p *Pool) get(ctx context.Context, t targets.Target, names []string) (Device, bool, error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, false, errors.New("remote pool is closed")
		}
		e, ok := p.devices[t.Name]
		if ok && !sameTarget(e.t, t) {
			delete(p.devices, t.Name)
			go func() {
				<-e.ready
				if e.dev != nil {
					e.dev.Close()
				}
			}()
			ok = false
		}
		if !ok {
			e = &poolEntry{t: t, ready: make(chan struct{})}
			p.devices[t.Name] = e
			p.mu.Unlock()
			return p.open(ctx, e, names)
		}
		p.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
		if e.err == nil {
			return e.dev, false, nil
		}
		// The connection this call waited for failed. Its error is ours
		// too, unless it was only the other caller giving up: then try
		// again (open removed the failed entry).
		if !errors.Is(e.err, context.Canceled) && !errors.Is(e.err, context.DeadlineExceeded) {
			return nil, false, e.err
		}
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
	}
}

// open connects e's target without the pool's lock: a slow host must not
// block the others.
func (p *Pool) open(ctx context.Context, e *poolEntry, names []string) (Device, bool, error) {
	dev, err := OpenForDeploy(ctx, e.t, p.o, names...)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil && p.closed {
		dev.Close()
		dev, err = nil, errors.New("remote pool is closed")
	}
	e.dev, e.err = dev, err
	close(e.ready)
	if err != nil && p.devices[e.t.Name] == e {
		delete(p.devices, e.t.Name) // the next Get tries again
	}
	return dev, err == nil, err
}

func sameTarget(a, b targets.Target) bool {
	return a.Host == b.Host && a.User == b.User && a.Port == b.Port && a.DeployDir == b.DeployDir &&
		a.Identity == b.Identity && a.KnownHosts == b.KnownHosts && a.Runner == b.Runner
}

// Close closes every device, and those still connecting once they are.
func (p *Pool) Close() error {
	p.mu.Lock()
	entries := p.devices
	p.devices = nil
	p.closed = true
	p.mu.Unlock()
	var errs []error
	for _, e := range entries {
		select {
		case <-e.ready:
		default:
			continue // open closes it when it finds the pool closed
		}
		if e.dev != nil {
			if err := e.dev.Close(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
