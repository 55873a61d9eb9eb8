package remote

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"armbench/remote/install"
	"armbench/remote/sshconn"
	"armbench/targets"
)

// preparedMaxAge bounds how old a prewarmed answer a deploy trusts: long
// enough for the build it overlapped, short enough that a device changed
// by someone else meanwhile is asked again.
const preparedMaxAge = time.Minute

// prepared is what the device said about one binary name before a
// deploy (package install).
type prepared = install.Prepared

// keepPrepared stores a prewarmed answer for the next deploy of each name
// on this connection.
func (c *sshConn) keepPrepared(names []string, ps []prepared) {
	c.prepMu.Lock()
	defer c.prepMu.Unlock()
	if c.prepared == nil {
		c.prepared = map[string]prepared{}
	}
	for i, name := range names {
		c.prepared[name] = ps[i]
	}
}

// takePrepared hands a fresh prewarmed answer for name to one deploy: the
// deploy changes what it describes.
func (c *sshConn) takePrepared(name string) (prepared, bool) {
	c.prepMu.Lock()
	defer c.prepMu.Unlock()
	p, ok := c.prepared[name]
	delete(c.prepared, name)
	return p, ok && time.Since(p.At) < preparedMaxAge
}

// forgetPrepared drops prewarmed answers an action may have made wrong:
// those of names, or all of them when names is empty.
func (c *sshConn) forgetPrepared(names ...string) {
	c.prepMu.Lock()
	defer c.prepMu.Unlock()
	if len(names) == 0 {
		clear(c.prepared)
	}
	for _, n := range names {
		delete(c.prepared, n)
	}
}

// prepare returns what the device says about name before a deploy: the
// prewarmed answer when there is a fresh one, else a round trip now.
func (d *sshDevice) prepare(ctx context.Context, c *sshConn, name string) (prepared, error) {
	if p, ok := c.takePrepared(name); ok {
		return p, nil
	}
	names := []string{name}
	out, stderr, err := c.Exec(ctx, install.PrepareScript(c.dir, names, d.records(names)), nil, nil)
	if err != nil {
		return prepared{}, sshconn.ScriptErr(err, stderr)
	}
	ps, ok := install.ParsePrepared(out, 1, time.Now())
	if !ok {
		return prepared{}, fmt.Errorf("the device's answer to the prepare step was cut short: %q", strings.TrimSpace(string(out)))
	}
	return ps[0], nil
}

// prewarm prepares the deploys of names now, in the round trip that
// connects when there is no connection yet. Names being deployed right now
// are left alone: their temporary files are in use.
func (d *sshDevice) prewarm(ctx context.Context, names []string) error {
	for _, n := range names {
		if err := install.CheckName(n); err != nil {
			return d.ep.OpErr("prewarm", "", err)
		}
	}
	d.mu.Lock()
	var mine []string
	for _, n := range names {
		if d.deploying[n] == 0 && d.prewarming[n] == nil && !slices.Contains(mine, n) {
			mine = append(mine, n)
		}
	}
	names = mine
	done := make(chan struct{})
	for _, n := range names {
		d.prewarming[n] = done
	}
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		for _, n := range names {
			delete(d.prewarming, n)
		}
		d.mu.Unlock()
		close(done)
	}()
	c, fresh, err := d.connectFor(ctx, names)
	if err != nil || fresh || len(names) == 0 {
		return err
	}
	out, _, err := c.Exec(ctx, install.PrepareScript(c.dir, names, d.records(names)), nil, nil)
	if err != nil {
		return d.ep.OpErr("prewarm", "", err)
	}
	if ps, ok := install.ParsePrepared(out, len(names), time.Now()); ok {
		c.keepPrepared(names, ps)
	}
	return nil
}

// prewarmer is a device that can do a deploy's first round trip ahead.
type prewarmer interface {
	prewarm(ctx context.Context, names []string) error
}

// Prewarm connects dev when it is not connected yet and asks the device
// now what a deploy of each name asks first (the installed binary's
// sha256, leftovers to sweep, free space), in the same round trip as the
// connection's own probe when it is the one connecting. A Deploy of one of
// the names within a minute uses that answer instead of asking again: call
// Prewarm when a build whose result will be deployed starts, so the
// handshake and the round trip overlap the build. Errors are worth showing
// but not fatal: the deploy asks again and reports its own. Devices with no
// round trips to save (the local target) do nothing.
func Prewarm(ctx context.Context, dev Device, names ...string) error {
	if p, ok := dev.(prewarmer); ok {
		return p.prewarm(ctx, names)
	}
	return nil
}

// OpenForDeploy is Open followed by Prewarm(names), in one round trip
// after the handshake instead of two.
func OpenForDeploy(ctx context.Context, t targets.Target, o Options, names ...string) (Device, error) {
	if t.IsLocal() {
		return openLocal(t)
	}
	for _, n := range names {
		if err := install.CheckName(n); err != nil {
			return nil, &OpError{Op: "connect", Target: t.Name, Addr: t.Host, Err: err}
		}
	}
	return openSSH(ctx, t, o, names)
}
