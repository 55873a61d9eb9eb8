package remote

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"armbench/remote/artifact"
	"armbench/remote/compress"
	"armbench/remote/delta"
	"armbench/remote/event"
	"armbench/remote/install"
	"armbench/remote/send"
	"armbench/remote/sshconn"
)

// Deploy connects (or reuses the connection), asks the device what it
// has (prepare), and sends the file the first way that applies (package
// send); the install script on the device verifies and installs it.
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
	if f, err = checkDeploy(f, name); err != nil {
		return inst, err
	}
	d.o.warmELFZ(d.t, f, name)
	emit(Step{Name: "connect", Time: time.Now()})
	warming, done := d.deployingNow(name)
	defer done()
	c, err := d.getEmit(ctx, emit)
	if err != nil {
		return inst, err
	}

	step = "prepare"
	spec := d.speculateDelta(ctx, c, f, name)
	defer spec.Stop()
	helper := d.startELFZ(ctx, c, f, name)
	defer helper.Wait() // it must not outlive the deploy
	p, err := d.prepareDeploy(ctx, c, f, name, warming, spec)
	if err != nil {
		return inst, err
	}
	emit(Step{Name: "connect", Done: true, Time: time.Now()})
	inst = Installed{Path: c.dir + "/" + name, SHA256: f.SHA256}
	j := &send.Job{
		Conn: c.Conn, Dir: c.dir, Tools: c.tools, Runner: d.t.Runner,
		NoPatch: &c.noPatch, NoELFZ: &c.noELFZ,
		File: f, Name: name, Old: p.SHA,
		Cache: d.o.deltaCache(), Spec: spec, Helper: helper, ELFZ: d.o.ELFZHelper != nil && name != elfzName,
		Compress: d.compress, Emit: emit,
	}
	defer j.WaitCopy()
	sent, err := send.Send(ctx, j)
	if err != nil {
		step = sent.Step
		return inst, err
	}
	return d.installed(inst, p, j, sent, start), nil
}

// checkDeploy refuses a name or a file a deploy cannot go on with, and
// fills in the file's size and sha256.
func checkDeploy(f File, name string) (File, error) {
	if err := install.CheckName(name); err != nil {
		return f, err
	}
	f, err := artifact.Resolve(f)
	if err != nil {
		return f, err
	}
	if !artifact.ValidSHA256(f.SHA256) {
		return f, fmt.Errorf("invalid sha256 %q", f.SHA256)
	}
	return f, nil
}

// deployingNow counts a deploy of name in flight, which a prewarm must
// not sweep the temporary files of, until done; warming is closed once
// the prewarm in flight for name, if any, has its answer.
func (d *sshDevice) deployingNow(name string) (warming chan struct{}, done func()) {
	d.mu.Lock()
	d.deploying[name]++
	warming = d.prewarming[name]
	d.mu.Unlock()
	return warming, func() {
		d.mu.Lock()
		d.deploying[name]--
		d.mu.Unlock()
	}
}

// prepareDeploy has the device's answer about name before a deploy of f
// (the prewarmed one when it is on its way), checks that f fits, and
// stops the speculative delta when the device has another binary than
// the one it was made against.
func (d *sshDevice) prepareDeploy(ctx context.Context, c *sshConn, f File, name string, warming chan struct{}, spec *delta.Speculation) (prepared, error) {
	if warming != nil {
		// The answer is on its way: wait for it rather than ask twice.
		select {
		case <-warming:
		case <-ctx.Done():
			return prepared{}, ctx.Err()
		}
	}
	p, err := d.prepare(ctx, c, name)
	if err != nil {
		return p, err
	}
	if p.AvailKB >= 0 && p.AvailKB*1024 < f.Size {
		return p, fmt.Errorf("%w: %s has %d KiB free, the binary needs %d KiB", ErrDiskFull, c.dir, p.AvailKB, (f.Size+1023)/1024)
	}
	if p.FP != "" && p.SHA != "" {
		d.remember(name, installRecord{FP: p.FP, SHA: p.SHA})
	}
	if spec != nil && spec.Base() != p.SHA {
		// The device has another binary, or none: the guessed delta is
		// of no use, and its encoder would take CPU from the upload's.
		spec.Stop()
	}
	return p, nil
}

// installed completes inst after the file was sent (or found there), and
// keeps a copy of the binary as the base of the next delta. A copy that
// cannot be kept costs the next deploy its delta, not this one its
// success.
func (d *sshDevice) installed(inst Installed, p prepared, j *send.Job, sent send.Sent, start time.Time) Installed {
	if sent.Skipped {
		inst.Skipped = true
		if p.HasPrev {
			inst.Previous = inst.Path + ".prev"
		}
		inst.Duration = time.Since(start)
		return inst
	}
	inst.NoDelta = j.NoDelta
	if sent.DeltaKind != "" {
		inst.Delta, inst.DeltaKind, inst.NoDelta = true, sent.DeltaKind, ""
		if sent.NextDelta != nil {
			inst.NoDelta = "next deploy: " + sent.NextDelta.Error()
		}
	}
	for _, m := range sent.Markers {
		if m == "prev" {
			inst.Previous = inst.Path + ".prev"
		}
		if fp, ok := strings.CutPrefix(m, "fp "); ok {
			d.remember(j.Name, installRecord{FP: fp, SHA: inst.SHA256})
		}
	}
	inst.WireBytes = sent.Wire
	if j.Cache != nil {
		err := j.WaitCopy()
		if err == nil {
			if err = j.Cache.SetLast(d.t.Name, j.Name, inst.SHA256); err != nil {
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

// compress writes src to w as zstd whose level follows the link and
// the cores the pool's other uploads leave it.
func (d *sshDevice) compress(w io.Writer, src io.Reader, m *event.Meter) error {
	done := d.o.uploads.Enter()
	defer done()
	return compress.Adaptive(w, src, compress.Options{Start: 2, Ceiling: d.o.uploads.Ceiling, Encoders: d.o.uploads.Encoders(), OnSent: m.Set, OnLevel: d.o.traceLevel})
}

// HashFuncs are sh functions printing a sha256 with whatever the device
// has (see install.HashFuncs), for scripts of other packages that hash on
// the device, as fleet's status does.
const HashFuncs = install.HashFuncs
