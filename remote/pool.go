package remote

import (
	"context"
	"errors"
	"sync"

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

type poolEntry struct {
	t   targets.Target
	dev Device
}

// NewPool returns an empty pool whose devices use o.
func NewPool(o Options) *Pool {
	return &Pool{o: o, devices: map[string]*poolEntry{}}
}

// Get returns the device of t, connecting on first use. A target whose
// definition changed since (e.g. targets.toml was edited) gets a new
// connection.
func (p *Pool) Get(ctx context.Context, t targets.Target) (Device, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errors.New("remote pool is closed")
	}
	if e, ok := p.devices[t.Name]; ok {
		if sameTarget(e.t, t) {
			p.mu.Unlock()
			return e.dev, nil
		}
		delete(p.devices, t.Name)
		go e.dev.Close()
	}
	p.mu.Unlock()

	// Connect without the lock: a slow host must not block the others.
	dev, err := Open(ctx, t, p.o)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		dev.Close()
		return nil, errors.New("remote pool is closed")
	}
	if e, ok := p.devices[t.Name]; ok && sameTarget(e.t, t) {
		dev.Close() // another caller won the race
		return e.dev, nil
	}
	p.devices[t.Name] = &poolEntry{t: t, dev: dev}
	return dev, nil
}

func sameTarget(a, b targets.Target) bool {
	return a.Host == b.Host && a.User == b.User && a.Port == b.Port && a.DeployDir == b.DeployDir &&
		a.Identity == b.Identity && a.KnownHosts == b.KnownHosts && a.Runner == b.Runner
}

// Close closes every device.
func (p *Pool) Close() error {
	p.mu.Lock()
	devs := p.devices
	p.devices = nil
	p.closed = true
	p.mu.Unlock()
	var errs []error
	for _, e := range devs {
		if err := e.dev.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
