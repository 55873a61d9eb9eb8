package send

import (
	"bytes"
	"context"
	"errors"

	"armbench/internal/elfz/codec"
	"armbench/remote/delta"
	"armbench/remote/event"
	"armbench/remote/install"
)

// earlyELFZ is the device's side of an elfz delta, started before the
// delta is made. The install script, the device's zstd and the helper
// then start (the helper is a Go program: 50 ms to start under
// qemu-user, a few on a Pi) while this host still encodes, and wait on
// stdin; everything the script says is known beforehand but the delta.
type earlyELFZ struct {
	src               *pendingReader
	pr                *event.Meter
	fileSize          int64
	baseSize, newSize int
	done              chan struct{}
	run               install.Run
	err               error
}

// startEarly starts the install of an elfz delta against the device's
// binary when one is likely: a helper on its way, a binary with
// compressed sections, and a local copy of the device's one to read the
// sizes of the expanded forms from. nil otherwise.
func (j *Job) startEarly(ctx context.Context) *earlyELFZ {
	if j.Helper == nil || !j.elfzOn() || !codec.Compressed(j.next) {
		return nil
	}
	baseSize, err := delta.ExpandedSizeOf(j.Cache.Path(j.Old))
	if err != nil {
		return nil
	}
	newSize, err := codec.ExpandedSize(bytes.NewReader(j.next), int64(len(j.next)))
	if err != nil {
		return nil
	}
	f, name := j.File, j.Name
	e := &earlyELFZ{src: newPendingReader(), fileSize: f.Size, baseSize: int(baseSize), newSize: int(newSize), done: make(chan struct{})}
	e.pr = event.NewMeter(f.Size, j.Emit)
	go func() {
		defer close(e.done)
		if err := j.Helper.Wait(); err != nil {
			e.err = err
			return
		}
		tmp := install.TmpPrefix(name) + install.RandomSuffix()
		recv := delta.ELFZRecv(j.Runner, name, j.Old, e.baseSize, e.newSize)
		script := install.ScriptAfter(j.Dir, name, tmp, recv, f.SHA256, f.Size, delta.ELFZKeep(name, f.SHA256, e.newSize))
		e.run, e.err = install.Stream(ctx, j.Conn, script, &install.Body{Meter: e.pr, Send: copyFrom(e.src)}, j.Emit)
	}()
	return e
}

// fits says whether frame is the delta the early install expects: elfz,
// between expanded forms of the sizes its script was written for.
func (e *earlyELFZ) fits(frame delta.Frame) bool {
	return frame.Kind == delta.ELFZ && frame.BaseSize == e.baseSize && frame.NewSize == e.newSize
}

// send gives the early install its delta and waits for it to end.
func (e *earlyELFZ) send(frame delta.Frame) (install.Run, error) {
	e.src.set(&scaledReader{r: bytes.NewReader(frame.Data), total: int64(len(frame.Data)), fileSize: e.fileSize, p: e.pr})
	<-e.done
	return e.run, e.err
}

// abandon ends the early install without a delta: its stdin closes
// empty, the script fails and removes its files, the installed binary
// stays. It waits for that, so nothing of it outlives the deploy.
func (e *earlyELFZ) abandon() {
	e.src.fail(errNoEarlyDelta)
	<-e.done
}

var errNoEarlyDelta = errors.New("no elfz delta after all")
