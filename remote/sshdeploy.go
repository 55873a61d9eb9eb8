package remote

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/melbahja/goph"
	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"armbench/internal/lazyregexp"
	"armbench/internal/shell"
	"armbench/remote/event"
	"armbench/remote/sshconn"
)

// HashFuncs are sh functions printing a sha256 with whatever the device
// has (for scripts of other packages that hash on the device, as fleet's
// status does): hs of stdin (draining it when there is no tool, so the writer is
// not killed by SIGPIPE), h of the file "$1". Go picks the 64 hex digits
// out of their output.
const HashFuncs = `hs() {
	if command -v sha256sum >/dev/null 2>&1; then sha256sum
	elif command -v shasum >/dev/null 2>&1; then shasum -a 256
	elif command -v openssl >/dev/null 2>&1; then openssl dgst -sha256
	elif command -v busybox >/dev/null 2>&1; then busybox sha256sum
	else cat >/dev/null; echo nohash; fi
}
h() { hs < "$1"; }
`

var hexSHA = lazyregexp.New(`\b[0-9a-f]{64}\b`)

// installScript receives the file (when recv is set: a decompressor
// reading stdin), then makes it executable, syncs, verifies its sha256 on
// the device, keeps the old binary as name.prev and renames the new one
// over it. It prints a marker after each step. Any failure, a cut
// connection included, removes the temporary file and leaves the
// installed binary as it was.
//
// A streamed file is hashed on the device as tee writes it, while the
// device would otherwise wait for the network: reading 20 MB back costs a
// Pi about 0.1 s after the transfer. Every write error (tee's, the
// decompressor's on a truncated stream) fails the deploy, and so does a
// file of the wrong size, in case the shell could not even record the
// failure (no inode left for the marker file).
func installScript(dir, name, tmp, recv, sum string, size int64) string {
	return installScriptAfter(dir, name, tmp, recv, sum, size, "")
}

// installScriptAfter is installScript with after run once the new binary
// is in place (what an elfz delta keeps for the next one); it must not
// fail.
func installScriptAfter(dir, name, tmp, recv, sum string, size int64, after string) string {
	q := shell.Quote
	// An install that keeps no expanded form (a whole upload, a plain
	// delta) drops those earlier elfz deploys kept, with its own files:
	// they describe binaries no longer installed, and an inflated cmd/go
	// is 26 MB of a Pi's SD card.
	dropBases := ""
	if after == "" {
		dropBases = " ./" + q(elfzBasePrefix(name)) + "*"
	}
	var b strings.Builder
	b.WriteString("set -e\n" + HashFuncs)
	b.WriteString("cd -- " + q(dir) + "\n")
	b.WriteString("t=./" + q(tmp) + "\n")
	b.WriteString("trap 'rm -f -- \"$t\" \"$t.prev\" \"$t.fail\" \"$t.sum\" \"$t.base\" \"$t.x\"' EXIT\ntrap 'exit 1' HUP INT TERM PIPE\n")
	if recv != "" {
		// The file is made executable before its bytes come (tee keeps
		// the mode of the file it truncates), and the shell reads the
		// sum itself: each process a slow device starts after the last
		// byte is time the deploy waits.
		b.WriteString(`: > "$t"
chmod 0755 "$t"
{ ` + recv + ` || echo "receive failed" > "$t.fail"; } | { tee -- "$t" || echo "write failed" > "$t.fail"; } | hs > "$t.sum"
if [ -e "$t.fail" ]; then cat "$t.fail" >&2; exit 1; fi
n=$(wc -c < "$t")
if [ $((n)) -ne ` + strconv.FormatInt(size, 10) + ` ]; then echo "received $((n)) of ` + strconv.FormatInt(size, 10) + ` bytes" >&2; exit 1; fi
read -r got < "$t.sum" || got=
echo uploaded
`)
	} else {
		b.WriteString(`echo uploaded
chmod 0755 "$t"
`)
	}
	b.WriteString(`sync -- "$t" 2>/dev/null || sync
`)
	if recv == "" {
		b.WriteString("got=$(h \"$t\")\n")
	}
	b.WriteString(`case $got in
*` + sum + `*) ;;
nohash) echo "no sha256 tool on the device (sha256sum, shasum, openssl or busybox)" >&2; exit 3 ;;
*) echo "sha256 mismatch after upload: expected ` + sum + `, device computed $got" >&2; exit 3 ;;
esac
echo verified
if [ -e ./` + q(name) + ` ]; then
	if ! ln -f ./` + q(name) + ` ./` + q(name+".prev") + ` 2>/dev/null; then
		cp -p ./` + q(name) + ` "$t.prev" && mv -f -- "$t.prev" ./` + q(name+".prev") + `
	fi
	echo prev
fi
mv -f -- "$t" ./` + q(name) + `
k=$(stat -c ` + q(statFormat) + ` ./` + q(name) + ` 2>/dev/null) && printf 'fp %s\n' "$k" || :
` + after + `
rm -f -- "$t.sum" "$t.fail" "$t.base" "$t.x"` + dropBases + ` 2>/dev/null || :
sync . 2>/dev/null || :
trap - EXIT
echo installed
`)
	return b.String()
}

// rollbackScript swaps name and name.prev; name exists throughout.
func rollbackScript(dir, name string) string {
	q := shell.Quote
	hold := "./" + q(tmpPrefix(name)+"rollback")
	return `set -e
cd -- ` + q(dir) + `
if [ ! -e ./` + q(name+".prev") + ` ]; then echo "no-previous" >&2; exit 3; fi
rm -f -- ` + hold + `
if [ -e ./` + q(name) + ` ]; then ln -f ./` + q(name) + ` ` + hold + ` 2>/dev/null || cp -p ./` + q(name) + ` ` + hold + `; fi
mv -f -- ./` + q(name+".prev") + ` ./` + q(name) + `
if [ -e ` + hold + ` ]; then mv -f -- ` + hold + ` ./` + q(name+".prev") + `; fi
sync . 2>/dev/null || :
`
}

func randomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// countingWriter counts what goes on the wire.
type countingWriter struct {
	w io.Writer
	n atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

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
	if err := checkName(name); err != nil {
		return inst, err
	}
	if f, err = localFile(f); err != nil {
		return inst, err
	}
	if !hexSHA.MatchString(f.SHA256) || len(f.SHA256) != 64 {
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
	if p.availKB >= 0 && p.availKB*1024 < f.Size {
		return inst, fmt.Errorf("%w: %s has %d KiB free, the binary needs %d KiB", ErrDiskFull, c.dir, p.availKB, (f.Size+1023)/1024)
	}
	if p.fp != "" && p.sha != "" {
		d.remember(name, installRecord{fp: p.fp, sha: p.sha})
	}
	if spec != nil && spec.base != p.sha {
		// The device has another binary, or none: the guessed delta is
		// of no use, and its encoder would take CPU from the upload's.
		spec.stop()
	}
	emit(Step{Name: "connect", Done: true, Time: time.Now()})
	dst := c.dir + "/" + name
	inst = Installed{Path: dst, SHA256: f.SHA256}
	if p.sha == f.SHA256 {
		inst.Skipped = true
		if p.hasPrev {
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
	if cache != nil && p.sha != "" {
		res, err := d.deployDelta(ctx, c, cache, spec, helper, f, next, name, p.sha, emit)
		xerr := res.expanding.wait()
		if err != nil {
			step = failedStep(res.markers, "upload")
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
	tmp := tmpPrefix(name) + randomSuffix()
	pr := event.NewMeter(f.Size, emit)

	var wire int64
	var markers []string
	var stderr string
	if recv != "" {
		markers, wire, stderr, err = d.streamInstall(ctx, c, src, pr, enc, installScript(c.dir, name, tmp, recv, f.SHA256, f.Size), emit)
		step = failedStep(markers, "upload")
	} else {
		wire, err = d.sftpUpload(ctx, c, src, pr, c.dir+"/"+tmp)
		if err == nil {
			pr.Finish()
			emit(Step{Name: "upload", Done: true, Time: time.Now()})
			step = "verify"
			emit(Step{Name: "verify", Time: time.Now()})
			markers, _, stderr, err = d.streamInstall(ctx, c, nil, nil, "", installScript(c.dir, name, tmp, "", f.SHA256, f.Size), emit)
			step = failedStep(markers, "verify")
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
			d.remember(name, installRecord{fp: fp, sha: inst.SHA256})
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

// streamInstall runs the install script; with src, it streams the file
// compressed into the script's stdin. It follows the script's markers to
// report the steps.
func (d *sshDevice) streamInstall(ctx context.Context, c *sshConn, src io.Reader, pr *event.Meter, enc, script string, emit func(Event)) (markers []string, wire int64, stderr string, err error) {
	s, err := c.Client.NewSession()
	if err != nil {
		return nil, 0, "", c.ConnErr(err)
	}
	defer s.Close()
	errBuf := sshconn.NewLimitedBuffer(8 << 10)
	s.Stderr = errBuf
	stdout, err := s.StdoutPipe()
	if err != nil {
		return nil, 0, "", err
	}
	var stdin io.WriteCloser
	if src != nil {
		if stdin, err = s.StdinPipe(); err != nil {
			return nil, 0, "", err
		}
	}
	if err := s.Start("sh -c " + shell.Quote(script)); err != nil {
		return nil, 0, "", c.ConnErr(err)
	}

	cw := &countingWriter{}
	sendErr := make(chan error, 1)
	if src != nil {
		cw.w = stdin
		go func() {
			var err error
			switch enc {
			case "zstd":
				done := d.o.uploads.enter()
				err = compressAdaptive(cw, src, adaptOptions{start: 2, ceiling: d.o.uploads.ceiling, encoders: d.o.uploads.encoderCache(), onSent: pr.Set, onLevel: d.o.traceLevel})
				done()
			case "":
				// Already encoded (a delta), and reporting its own progress.
				_, err = io.Copy(cw, src)
			default:
				err = compress(cw, &progressReader{r: src, p: pr, wire: cw.n.Load}, enc)
			}
			if cerr := stdin.Close(); err == nil {
				err = cerr
			}
			sendErr <- err
		}()
	} else {
		sendErr <- nil
	}

	var werr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			m := strings.TrimSpace(sc.Text())
			markers = append(markers, m)
			now := time.Now()
			switch m {
			case "uploaded":
				if pr != nil {
					pr.SetWire(cw.n.Load())
					pr.Finish()
					emit(Step{Name: "upload", Done: true, Time: now})
					emit(Step{Name: "verify", Time: now})
				}
			case "verified":
				emit(Step{Name: "verify", Done: true, Time: now})
				emit(Step{Name: "install", Time: now})
			case "installed":
				emit(Step{Name: "install", Done: true, Time: now})
			}
		}
		io.Copy(io.Discard, stdout)
		werr = s.Wait()
	}()
	select {
	case <-done:
	case <-ctx.Done():
		// Closing the channel ends the device's decompressor with a
		// truncated stream: the script removes its temporary file and
		// leaves the installed binary alone.
		s.Close()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
		}
		return nil, cw.n.Load(), "", ctx.Err()
	}
	serr := <-sendErr
	wire = cw.n.Load()
	if werr != nil {
		var ee *ssh.ExitError
		if errors.As(werr, &ee) {
			return markers, wire, errBuf.String(), werr
		}
		return markers, wire, errBuf.String(), c.ConnErr(werr)
	}
	if serr != nil {
		return markers, wire, errBuf.String(), c.ConnErr(serr)
	}
	if len(markers) == 0 || markers[len(markers)-1] != "installed" {
		return markers, wire, errBuf.String(), fmt.Errorf("%w: the install script stopped after %q", ErrDisconnected, strings.Join(markers, ","))
	}
	return markers, wire, errBuf.String(), nil
}

// failedStep names the step a script stopped in, from its markers.
func failedStep(markers []string, first string) string {
	step := first
	for _, m := range markers {
		switch m {
		case "uploaded":
			step = "verify"
		case "verified":
			step = "install"
		}
	}
	return step
}

// compress streams r into w as gzip (zstd goes through compressAdaptive):
// level 3 of klauspost's gzip runs at well over 100 MB/s, ahead of any
// link a device without zstd sits on.
func compress(w io.Writer, r io.Reader, enc string) error {
	var zw io.WriteCloser
	var err error
	switch enc {
	case "gzip":
		zw, err = gzip.NewWriterLevel(w, 3)
	default:
		_, err = io.Copy(w, r)
		return err
	}
	if err != nil {
		return err
	}
	if _, err := io.Copy(zw, r); err != nil {
		zw.Close()
		return err
	}
	return zw.Close()
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
	if err := checkName(name); err != nil {
		return d.ep.OpErr("rollback", "", err)
	}
	c, err := d.get(ctx)
	if err != nil {
		return err
	}
	c.forgetPrepared(name)
	_, stderr, err := c.Exec(ctx, rollbackScript(c.dir, name), nil, nil)
	if err != nil {
		if strings.Contains(stderr, "no-previous") {
			return d.ep.OpErr("rollback", "", fmt.Errorf("%w: %s/%s.prev", ErrNoPrevious, c.dir, name))
		}
		return d.ep.OpErr("rollback", "", sshconn.ScriptErr(err, stderr))
	}
	return nil
}
