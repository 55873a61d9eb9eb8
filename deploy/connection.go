package deploy

import (
	"context"

	"armbench/remote"
	"armbench/targets"
)

// connection is the device of one Run, reached while the first build
// runs: a handshake costs a few hundred milliseconds on a real device,
// an up-to-date build about as much.
type connection struct {
	done   chan struct{}
	cancel context.CancelFunc
	dev    remote.Device
	err    error

	// Set when Run opened the connection itself: it closes it, and
	// encodes each delta during the handshake (remote.Speculations).
	own  bool
	spec *remote.Speculations
	opts remote.Options
}

// connect starts reaching t's device and returns at once.
func (p Pipeline) connect(ctx context.Context, t targets.Target, names []string) *connection {
	ctx, cancel := context.WithCancel(ctx)
	c := &connection{done: make(chan struct{}), cancel: cancel}
	connect := p.Connect
	if connect == nil {
		c.own, c.spec, c.opts = true, remote.NewSpeculations(), p.Remote
		c.opts.Speculations = c.spec
		connect = func(ctx context.Context, t targets.Target, names []string) (remote.Device, error) {
			return remote.OpenForDeploy(ctx, t, c.opts, names...)
		}
	}
	go func() {
		defer close(c.done)
		c.dev, c.err = connect(ctx, t, names)
	}()
	return c
}

// speculate starts encoding f's delta against what the device most
// likely has, while the handshake may still be going on.
func (c *connection) speculate(ctx context.Context, t targets.Target, f remote.File, name string) {
	if c.spec != nil {
		c.spec.Start(ctx, t, c.opts, f, name)
	}
}

// device waits for the connection.
func (c *connection) device() (remote.Device, error) {
	<-c.done
	return c.dev, c.err
}

// close ends a connection attempt nobody needs any more, stops the
// speculative deltas and closes a device Run opened itself.
func (c *connection) close() {
	c.cancel()
	<-c.done
	if c.spec != nil {
		c.spec.Close()
	}
	if c.own && c.err == nil && c.dev != nil {
		c.dev.Close()
	}
}
