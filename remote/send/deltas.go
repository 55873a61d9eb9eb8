package send

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"golang.org/x/crypto/ssh"

	"armbench/remote/delta"
	"armbench/remote/event"
	"armbench/remote/fault"
	"armbench/remote/install"
	"armbench/remote/sshconn"
)

// What the two delta ways share: the delta, encoded once per job; how it
// is streamed into the install script; and what the script's end means
// for the deploy. A delta the device cannot apply, or one not worth
// sending, ends with a note (Job.NoDelta) and nothing installed, and the
// whole file follows. Cancellation and a lost connection are errors: the
// install script has removed its temporary files and the device runs
// what it ran before.

const noPatchNote = "the device's zstd cannot apply deltas (--patch-from needs zstd 1.4.5 or later)"

// deltaApplies says whether a delta may be tried: deltas are on, the
// device has a binary to diff against, and no delta gave up already.
func (j *Job) deltaApplies() bool {
	return j.Cache != nil && j.Old != "" && j.NoDelta == ""
}

// elfzOn says whether a delta may go through the helper.
func (j *Job) elfzOn() bool { return j.ELFZ && !j.NoELFZ.Load() }

// deltaFrame is the delta against the device's binary: the speculative
// one when it was against that binary, else one encoded now.
func (j *Job) deltaFrame(ctx context.Context) (delta.Frame, error) {
	if !j.framed {
		j.frame, j.frameErr = j.encode(ctx, j.Spec)
		j.framed = true
	}
	return j.frame, j.frameErr
}

// reframe encodes the delta again, without the speculation (the helper
// turned out to be missing: a plain delta still beats the whole file).
func (j *Job) reframe(ctx context.Context) {
	j.frame, j.frameErr = j.encode(ctx, nil)
	j.framed = true
}

func (j *Job) encode(ctx context.Context, spec *delta.Speculation) (delta.Frame, error) {
	sf, guessed, err := spec.Result(j.Old)
	if guessed {
		return sf, err
	}
	return delta.Make(ctx, j.Cache, j.Old, j.next, j.elfzOn(), delta.Limit(j.File.Size))
}

// giveUp records why no delta could be made as the note that says so,
// unless the deploy was cancelled meanwhile.
func (j *Job) giveUp(ctx context.Context, err error) (Sent, bool, error) {
	if ctx.Err() != nil {
		return Sent{}, false, ctx.Err()
	}
	if errors.Is(err, fs.ErrNotExist) {
		j.NoDelta = "no local copy of the device's binary (sha256 " + j.Old[:12] + "…) to diff against"
	} else {
		j.NoDelta = err.Error()
	}
	return Sent{}, false, nil
}

// sendDelta streams the delta into the install script, with recv
// rebuilding the binary on the device and after run once it is
// installed.
func (j *Job) sendDelta(ctx context.Context, frame delta.Frame, recv, after string) (install.Run, error) {
	tmp := install.TmpPrefix(j.Name) + install.RandomSuffix()
	script := install.ScriptAfter(j.Dir, j.Name, tmp, recv, j.File.SHA256, j.File.Size, after)
	pr := event.NewMeter(j.File.Size, j.Emit)
	src := &scaledReader{r: bytes.NewReader(frame.Data), total: int64(len(frame.Data)), fileSize: j.File.Size, p: pr}
	return install.Stream(ctx, j.Conn, script, &install.Body{Meter: pr, Send: copyFrom(src)}, j.Emit)
}

// copyFrom sends an encoded delta as it is.
func copyFrom(src io.Reader) func(w *install.CountingWriter) error {
	return func(w *install.CountingWriter) error {
		_, err := io.Copy(w, src)
		return err
	}
}

// deltaDone is the way's answer once the install script of a delta of
// this kind ended, and the expanded form of the new binary (elfz) is in
// the cache.
func (j *Job) deltaDone(ctx context.Context, kind string, run install.Run, err error, expanding *background) (Sent, bool, error) {
	xerr := expanding.wait()
	s, ok, err := j.deltaOutcome(ctx, kind, run, err)
	if err != nil {
		s.Step = install.FailedStep(run.Markers, "upload")
	}
	if ok {
		s.NextDelta = xerr
	}
	return s, ok, err
}

// deltaOutcome turns how the install script of a delta of this kind
// ended into the way's answer: installed, a note that the whole file
// must follow, or an error that ends the deploy.
func (j *Job) deltaOutcome(ctx context.Context, kind string, run install.Run, err error) (Sent, bool, error) {
	s := Sent{Markers: run.Markers, Wire: run.Wire, DeltaKind: kind}
	stderr := run.Stderr
	if err == nil {
		return s, true, nil
	}
	if ctx.Err() != nil {
		return s, false, ctx.Err()
	}
	if kind == delta.Patch && strings.Contains(stderr, delta.NoPatchMarker) {
		j.NoPatch.Store(true)
		j.NoDelta = noPatchNote
		return s, false, nil
	}
	var ee *ssh.ExitError
	if !errors.As(err, &ee) {
		if stderr != "" {
			return s, false, fmt.Errorf("%w (device said: %s)", err, stderr)
		}
		return s, false, err
	}
	why := sshconn.ScriptErr(err, stderr)
	if kind == delta.ELFZ {
		// The helper's base takes room the whole file does not need, and
		// a helper that fails once fails again: plain deltas from now on.
		j.NoELFZ.Store(true)
		j.NoDelta = "the device could not apply the elfz delta (" + strings.TrimSpace(why.Error()) + "): sent the whole binary"
		return s, false, nil
	}
	if errors.Is(why, fault.ErrDiskFull) || errors.Is(why, fault.ErrPermission) {
		return s, false, why // the whole file would fail the same way
	}
	j.NoDelta = "the device could not apply the delta (" + strings.TrimSpace(why.Error()) + "): sent the whole binary"
	return s, false, nil
}

// keepExpanded writes the new binary's expanded form (the next elfz
// delta's base, as the device keeps it too) into the cache while the
// device rebuilds the binary.
func keepExpanded(cache *delta.Cache, frame delta.Frame, sum string) *background {
	return inBackground(func() error { return cache.StoreExpanded(frame.Expanded, sum) })
}
