// Package send is the ways of getting a file onto a device over SSH:
// skipping it, a delta between expanded forms (elfz), a zstd patch-from
// delta, the whole file through the device's decompressor, or over sftp.
// Each is a Way, and the registry (registry.go) lists them in the order
// they are tried: the first that applies to a Job sends the file.
package send

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"armbench/remote/artifact"
	"armbench/remote/delta"
	"armbench/remote/event"
	"armbench/remote/sshconn"
)

// Way is one way of getting a file onto the device.
type Way interface {
	// Send installs j's file this way. ok false says the way does not
	// apply, or gave up (j.NoDelta says why), and the next way is tried.
	// An error ends the deploy; Sent.Step names the step it failed in.
	Send(ctx context.Context, j *Job) (s Sent, ok bool, err error)
}

// Sent is how the file got onto the device.
type Sent struct {
	Skipped   bool     // the device already had it
	Markers   []string // what the install script printed
	Wire      int64    // bytes on the wire
	DeltaKind string   // delta.Patch or delta.ELFZ when a delta was sent
	// NextDelta is why the next deploy may have no delta to send (the
	// expanded form of this one could not be kept).
	NextDelta error
	// Step is the deploy step a failure happened in.
	Step string
}

// Job is one file to send to one device, and what the ways learn about
// it as they are tried.
type Job struct {
	Conn   *sshconn.Conn
	Dir    string   // deploy_dir, resolved on the device
	Tools  []string // the device's decompressors: "zstd", "gzip"
	Runner string   // the target's runner, which the delta helper runs under
	// NoPatch and NoELFZ are what this connection learnt: the device's
	// zstd cannot apply deltas; the delta helper failed there.
	NoPatch, NoELFZ *atomic.Bool
	File            artifact.File
	Name            string
	Old             string       // sha256 of the installed binary, "" when none
	Cache           *delta.Cache // copies of deployed binaries; nil: no deltas
	Spec            *delta.Speculation
	Helper          *Helper // the delta helper being installed, nil when none is
	ELFZ            bool    // a delta of this binary may go through the helper
	// Compress writes src to w as adaptive zstd, reporting to m.
	Compress func(w io.Writer, src io.Reader, m *event.Meter) error
	Emit     func(event.Event)

	// NoDelta says why the whole file was sent after a delta was tried.
	NoDelta string

	started  bool
	startErr error
	next     []byte    // the artifact, when deltas may need its bytes
	src      io.Reader // the artifact, for a whole upload
	file     *os.File
	copying  *background // the artifact's copy going into the cache

	framed   bool
	frame    delta.Frame
	frameErr error
}

// Send sends j's file the first way that applies.
func Send(ctx context.Context, j *Job) (Sent, error) {
	defer j.close()
	if _, enc := Decompressor(j.Tools); enc != "zstd" {
		// Deltas need zstd on the device; without it there is no point
		// in keeping copies either.
		j.Cache = nil
	}
	for _, w := range registry() {
		s, ok, err := w.Send(ctx, j)
		if err != nil && s.Step == "" {
			s.Step = "upload"
		}
		if err != nil || ok {
			return s, err
		}
	}
	return Sent{Step: "upload"}, errors.New("no way to send the file")
}

// start begins the upload: the step's event, and the artifact opened, or
// read whole when deltas may need its bytes (its copy then goes into the
// cache while the upload goes on, as the next delta's base).
func (j *Job) start() error {
	if j.started {
		return j.startErr
	}
	j.started = true
	j.Emit(event.Step{Name: "upload", Time: time.Now()})
	if j.Cache != nil {
		next, err := os.ReadFile(j.File.Path)
		if err != nil {
			j.startErr = err
			return err
		}
		j.next, j.src = next, bytes.NewReader(next)
		cache, sum := j.Cache, j.File.SHA256
		j.copying = inBackground(func() error { return cache.StoreCopy(next, sum) })
		return nil
	}
	f, err := os.Open(j.File.Path)
	if err != nil {
		j.startErr = err
		return err
	}
	j.file, j.src = f, f
	return nil
}

// WaitCopy waits for the artifact's copy into the cache and returns its
// error; nil when no copy was made.
func (j *Job) WaitCopy() error { return j.copying.wait() }

func (j *Job) close() {
	if j.file != nil {
		j.file.Close()
	}
}

// wholeFileErr words the failure of a whole upload: the device's words
// when it said any.
func wholeFileErr(ctx context.Context, err error, stderr string) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if serr := sshconn.ScriptErr(err, stderr); serr != err {
		return serr
	}
	if stderr != "" {
		return fmt.Errorf("%w (device said: %s)", err, stderr)
	}
	return err
}
