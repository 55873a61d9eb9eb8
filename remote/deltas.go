package remote

import (
	"context"
	"fmt"

	"armbench/internal/elfz/codec"
	"armbench/remote/delta"
	"armbench/remote/send"
	"armbench/targets"
)

// How deltas are made (package delta), as Installed.DeltaKind reports
// them.
const (
	DeltaPatch = delta.Patch // zstd patch-from against the installed binary
	DeltaELFZ  = delta.ELFZ  // the same between the expanded forms, through the helper
)

// DefaultDeltaCache is where copies of deployed artifacts are kept when
// Options.DeltaCache is empty.
const DefaultDeltaCache = delta.DefaultCacheDir

// elfzName is the delta helper's file name in deploy_dir.
const elfzName = delta.HelperName

// deltaCache returns the cache deploys use, or nil when deltas are off.
func (o Options) deltaCache() *delta.Cache {
	if o.NoDelta {
		return nil
	}
	return delta.NewCache(o.DeltaCache)
}

// elfzOn says whether a delta of name may go through the helper.
func (d *sshDevice) elfzOn(c *sshConn, name string) bool {
	return d.o.ELFZHelper != nil && !c.noELFZ.Load() && name != elfzName
}

// warmELFZ has the helper built beside a deploy of f as name to t when
// deltas through it may follow (f's DWARF is compressed) and this is not
// an unchanged redeploy, which needs nothing built.
func (o Options) warmELFZ(t targets.Target, f File, name string) {
	if o.ELFZWarm == nil || name == elfzName {
		return
	}
	cache := o.deltaCache()
	if cache == nil || cache.Last(t.Name, name) == f.SHA256 || !codec.CompressedFile(f.Path) {
		return
	}
	o.ELFZWarm(t)
}

// ensureELFZ puts the helper on the device (once per connection: the
// deploy of an unchanged helper is skipped by its sha256 anyway, but
// costs a round trip).
func (d *sshDevice) ensureELFZ(ctx context.Context, c *sshConn) error {
	hf, err := d.o.ELFZHelper(ctx, d.t)
	if err != nil {
		return err
	}
	if v, _ := c.elfzSHA.Load().(string); v != "" && v == hf.SHA256 {
		return nil
	}
	inst, err := d.Deploy(ctx, hf, elfzName, nil)
	if err != nil {
		return fmt.Errorf("install the delta helper: %w", err)
	}
	c.elfzSHA.Store(inst.SHA256)
	return nil
}

// startELFZ starts installing the helper when this deploy will most
// likely send an elfz delta: a redeploy (the last binary installed as
// name here is another one) of a binary with compressed sections, to a
// device whose zstd can apply deltas. It runs beside the prepare round
// trip and the speculative delta, off the deploy's critical path.
func (d *sshDevice) startELFZ(ctx context.Context, c *sshConn, f File, name string) *send.Helper {
	if !d.elfzOn(c, name) || c.noPatch.Load() {
		return nil
	}
	cache := d.o.deltaCache()
	if _, enc := send.Decompressor(c.tools); enc != "zstd" || cache == nil {
		return nil
	}
	if last := cache.Last(d.t.Name, name); last == "" || last == f.SHA256 || !codec.CompressedFile(f.Path) {
		return nil
	}
	return send.StartHelper(func() error { return d.ensureELFZ(ctx, c) })
}

// speculateDelta starts the delta of f against the binary last installed
// as name here while the prepare round trip asks which binary the device
// really has, or returns nil when there is no guess (first deploy, deltas
// off, no zstd on the device). One the caller started before connecting
// (Options.Speculations) is taken over when it suits the connection.
func (d *sshDevice) speculateDelta(ctx context.Context, c *sshConn, f File, name string) *delta.Speculation {
	early := d.o.Speculations.take(d.t.Name, name, f.SHA256)
	if _, enc := send.Decompressor(c.tools); enc != "zstd" || c.noPatch.Load() {
		early.Stop()
		return nil
	}
	if early != nil && early.ThroughHelper() == d.elfzOn(c, name) {
		return early
	}
	early.Stop()
	return delta.Start(ctx, d.o.deltaCache(), d.t.Name, f, name, d.elfzOn(c, name))
}
