package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/melbahja/goph"
	"github.com/pkg/sftp"

	"armbench/remote/artifact"
	"armbench/remote/compress"
	"armbench/remote/event"
	"armbench/remote/install"
	"armbench/remote/sshconn"
)

// progressReader reports file bytes as they are read (by the compressor
// or by sftp's concurrent writer).
type progressReader struct {
	r    io.Reader
	mu   sync.Mutex
	p    *event.Meter
	wire func() int64
}

func (r *progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	if n > 0 {
		r.mu.Lock()
		r.p.SetWire(r.wire())
		r.p.Add(int64(n), 0)
		r.mu.Unlock()
	}
	return n, err
}

func (d *sshDevice) Deploy(ctx context.Context, f File, name string, emit func(Event)) (inst Installed, err error) {
	start := time.Now()
	emit, closeEmit := event.Gated(emit)
	defer closeEmit()
	step := "connect"
	defer func() {
		if err != nil {
			err = d.ep.OpErr("deploy", step, err)
			emit(Step{Name: event.StepName(step), Done: true, Err: err, Time: time.Now()})
		}
	}()
	if err := install.CheckName(name); err != nil {
		return inst, err
	}
	if f, err = artifact.Resolve(f); err != nil {
		return inst, err
	}
	if !artifact.ValidSHA256(f.SHA256) {
		return inst, fmt.Errorf("invalid sha256 %q", f.SHA256)
	}
	d.o.warmELFZ(d.t, f, name)
	emit(Step{Name: "connect", Time: time.Now()})
	d.mu.Lock()
	d.deploying[name]++
	warming := d.prewarming[name]
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.deploying[name]--
		d.mu.Unlock()
	}()
	c, err := d.getEmit(ctx, emit)
	if err != nil {
		return inst, err
	}

	step = "prepare"
	spec := d.speculateDelta(ctx, c, f, name)
	defer spec.stop()
	helper := d.startELFZ(ctx, c, f, name)
	defer helper.wait() // it must not outlive the deploy
	if warming != nil {
		// The answer is on its way: wait for it rather than ask twice.
		select {
		case <-warming:
		case <-ctx.Done():
			return inst, ctx.Err()
		}
	}
	p, err := d.prepare(ctx, c, name)
	if err != nil {
		return inst, err
	}
	if p.AvailKB >= 0 && p.AvailKB*1024 < f.Size {
		return inst, fmt.Errorf("%w: %s has %d KiB free, the binary needs %d KiB", ErrDiskFull, c.dir, p.AvailKB, (f.Size+1023)/1024)
	}
	if p.FP != "" && p.SHA != "" {
		d.remember(name, installRecord{FP: p.FP, SHA: p.SHA})
	}
	if spec != nil && spec.base != p.SHA {
		// The device has another binary, or none: the guessed delta is
		// of no use, and its encoder would take CPU from the upload's.
		spec.stop()
	}
	emit(Step{Name: "connect", Done: true, Time: time.Now()})
	dst := c.dir + "/" + name
	inst = Installed{Path: dst, SHA256: f.SHA256}
	if p.SHA == f.SHA256 {
		inst.Skipped = true
		if p.HasPrev {
			inst.Previous = dst + ".prev"
		}
		inst.Duration = time.Since(start)
		return inst, nil
	}

	step = "upload"
	emit(Step{Name: "upload", Time: time.Now()})
	recv, enc := decompressor(c.tools)
	// Deltas need zstd on the device; without it there is no point in
	// keeping copies either.
	var cache *deltaCache
	if enc == "zstd" {
		cache = d.o.deltaCache()
	}
	var src io.Reader
	var next []byte // the artifact, read once for the delta, the upload and the cache
	var copying *background
	if cache != nil {
		if next, err = os.ReadFile(f.Path); err != nil {
			return inst, err
		}
		src = bytes.NewReader(next)
		// The next delta's base, written while this upload goes on.
		copying = inBackground(func() error { return cache.storeCopy(next, f.SHA256) })
		defer copying.wait()
	} else {
		file, err := os.Open(f.Path)
		if err != nil {
			return inst, err
		}
		defer file.Close()
		src = file
	}
	if cache != nil && p.SHA != "" {
		res, err := d.deployDelta(ctx, c, cache, spec, helper, f, next, name, p.SHA, emit)
		xerr := res.expanding.wait()
		if err != nil {
			step = install.FailedStep(res.markers, "upload")
			return inst, err
		}
		if res.note == "" {
			inst.Delta, inst.DeltaKind = true, res.kind
			if xerr != nil {
				inst.NoDelta = "next deploy: " + xerr.Error()
			}
			return d.installed(inst, res.markers, res.wire, start, cache, copying, name), nil
		}
		inst.NoDelta = res.note
	}
	tmp := install.TmpPrefix(name) + install.RandomSuffix()
	pr := event.NewMeter(f.Size, emit)

	var wire int64
	var markers []string
	var stderr string
	if recv != "" {
		markers, wire, stderr, err = d.streamInstall(ctx, c, src, pr, enc, install.Script(c.dir, name, tmp, recv, f.SHA256, f.Size), emit)
		step = install.FailedStep(markers, "upload")
	} else {
		wire, err = d.sftpUpload(ctx, c, src, pr, c.dir+"/"+tmp)
		if err == nil {
			pr.Finish()
			emit(Step{Name: "upload", Done: true, Time: time.Now()})
			step = "verify"
			emit(Step{Name: "verify", Time: time.Now()})
			markers, _, stderr, err = d.streamInstall(ctx, c, nil, nil, "", install.Script(c.dir, name, tmp, "", f.SHA256, f.Size), emit)
			step = install.FailedStep(markers, "verify")
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return inst, ctx.Err()
		}
		if serr := sshconn.ScriptErr(err, stderr); serr != err {
			return inst, serr
		}
		if stderr != "" {
			return inst, fmt.Errorf("%w (device said: %s)", err, stderr)
		}
		return inst, err
	}
	return d.installed(inst, markers, wire, start, cache, copying, name), nil
}

// installed completes inst after a successful install, and keeps a copy
// of the binary as the base of the next delta. A copy that cannot be
// kept costs the next deploy its delta, not this one its success.
func (d *sshDevice) installed(inst Installed, markers []string, wire int64, start time.Time, cache *deltaCache, copying *background, name string) Installed {
	for _, m := range markers {
		if m == "prev" {
			inst.Previous = inst.Path + ".prev"
		}
		if fp, ok := strings.CutPrefix(m, "fp "); ok {
			d.remember(name, installRecord{FP: fp, SHA: inst.SHA256})
		}
	}
	inst.WireBytes = wire
	if cache != nil {
		err := copying.wait()
		if err == nil {
			if err = cache.setLast(d.t.Name, name, inst.SHA256); err != nil {
				err = fmt.Errorf("delta cache: %w", err)
			}
		}
		if err != nil && inst.NoDelta == "" {
			inst.NoDelta = "next deploy: " + err.Error()
		}
	}
	inst.Duration = time.Since(start)
	return inst
}

// decompressor picks how to send: a zstd or gzip stream into the
// device's own decompressor, or "" for sftp.
func decompressor(tools []string) (recv, enc string) {
	for _, t := range tools {
		if t == "zstd" {
			return "zstd -d -q -c", "zstd"
		}
	}
	for _, t := range tools {
		if t == "gzip" {
			return "gzip -d -c", "gzip"
		}
	}
	return "", ""
}

// sftpUpload is the fallback when the device has no decompressor: sftp
// with many writes in flight, not goph's one-32KiB-round-trip-at-a-time
// Upload.
func (d *sshDevice) sftpUpload(ctx context.Context, c *sshConn, src io.Reader, pr *event.Meter, path string) (int64, error) {
	client, err := goph.Client{Client: c.Client}.NewSftp(sftp.UseConcurrentWrites(true), sftp.MaxConcurrentRequestsPerFile(64))
	if err != nil {
		return 0, c.ConnErr(fmt.Errorf("sftp: %w", err))
	}
	defer client.Close()
	stop := context.AfterFunc(ctx, func() { client.Close() })
	defer stop()
	f, err := client.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_EXCL)
	if err != nil {
		return 0, classifySFTP(err)
	}
	var n int64
	pr2 := &progressReader{r: src, p: pr, wire: func() int64 { return n }}
	n, err = f.ReadFromWithConcurrency(pr2, 64)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		client.Remove(path)
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		return n, c.ConnErr(classifySFTP(err))
	}
	return n, nil
}

func classifySFTP(err error) error {
	var se *sftp.StatusError
	if errors.As(err, &se) {
		switch se.FxCode() {
		case sftp.ErrSSHFxPermissionDenied:
			return fmt.Errorf("%w: %v", ErrPermission, err)
		}
		if strings.Contains(strings.ToLower(se.Error()), "no space") {
			return fmt.Errorf("%w: %v", ErrDiskFull, err)
		}
	}
	if errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("%w: %v", ErrPermission, err)
	}
	return err
}

func (d *sshDevice) Rollback(ctx context.Context, name string) error {
	if err := install.CheckName(name); err != nil {
		return d.ep.OpErr("rollback", "", err)
	}
	c, err := d.get(ctx)
	if err != nil {
		return err
	}
	c.forgetPrepared(name)
	_, stderr, err := c.Exec(ctx, install.RollbackScript(c.dir, name), nil, nil)
	if err != nil {
		if strings.Contains(stderr, "no-previous") {
			return d.ep.OpErr("rollback", "", fmt.Errorf("%w: %s/%s.prev", ErrNoPrevious, c.dir, name))
		}
		return d.ep.OpErr("rollback", "", sshconn.ScriptErr(err, stderr))
	}
	return nil
}

// streamInstall runs script through install.Stream, with src (when not
// nil) encoded as enc into its stdin.
func (d *sshDevice) streamInstall(ctx context.Context, c *sshConn, src io.Reader, pr *event.Meter, enc, script string, emit func(Event)) (markers []string, wire int64, stderr string, err error) {
	var body *install.Body
	if src != nil {
		body = &install.Body{Meter: pr, Send: func(w *install.CountingWriter) error { return d.encode(w, src, pr, enc) }}
	}
	run, err := install.Stream(ctx, c.Conn, script, body, emit)
	return run.Markers, run.Wire, run.Stderr, err
}

// encode writes src to w as enc: adaptive zstd, gzip, or "" as it is
// (a delta, already encoded and reporting its own progress).
func (d *sshDevice) encode(w *install.CountingWriter, src io.Reader, pr *event.Meter, enc string) error {
	switch enc {
	case "zstd":
		done := d.o.uploads.Enter()
		defer done()
		return compress.Adaptive(w, src, compress.Options{Start: 2, Ceiling: d.o.uploads.Ceiling, Encoders: d.o.uploads.Encoders(), OnSent: pr.Set, OnLevel: d.o.traceLevel})
	case "":
		_, err := io.Copy(w, src)
		return err
	}
	return compress.Gzip(w, &progressReader{r: src, p: pr, wire: w.Count})
}

// HashFuncs are sh functions printing a sha256 with whatever the device
// has (see install.HashFuncs), for scripts of other packages that hash on
// the device, as fleet's status does.
const HashFuncs = install.HashFuncs
