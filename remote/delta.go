package remote

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/bits"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/crypto/ssh"

	"armbench/internal/shell"
	"armbench/remote/artifact"
	"armbench/remote/event"
	"armbench/remote/install"
	"armbench/remote/sshconn"
)

// A redeploy sends a zstd frame that uses the binary already on the
// device as a raw-content dictionary: zstd's "patch-from" mode, which the
// device's own `zstd -d --patch-from=OLD` (zstd 1.4.5 and later) decodes.
// It takes no helper on the device and no format of our own; the install
// script then checks the sha256 of the rebuilt file exactly as it checks
// a full upload, so a wrong base can never be installed.
//
// The sender needs the bytes of the device's binary, so every deploy keeps
// a copy of what it installed, named by its sha256 (DeltaCache). The
// device reports the sha256 of its binary in the prepare step; only a
// local copy with that very hash is used as the base.

// DefaultDeltaCache is where copies of deployed artifacts are kept when
// Options.DeltaCache is empty.
const DefaultDeltaCache = ".armbench/deployed"

// deltaCacheKeep is how many deployed artifacts the cache keeps: enough
// for a few targets and profiles iterating at once, and bounded so a day
// of redeploys does not fill the disk.
const deltaCacheKeep = 8

// maxDeltaWindowLog bounds the zstd window (old plus new binary) at 1 GiB:
// zstd on 32-bit ARM cannot decode larger windows, and such binaries are
// better sent whole than held twice in a Pi's memory.
const maxDeltaWindowLog = 30

// defaultDecoderWindowLog is the largest window `zstd -d` accepts without
// --long or --memory.
const defaultDecoderWindowLog = 27

// deltaCache holds copies of deployed artifacts by sha256.
type deltaCache struct{ dir string }

// deltaCache returns the cache deploys use, or nil when deltas are off.
func (o Options) deltaCache() *deltaCache {
	if o.NoDelta {
		return nil
	}
	dir := o.DeltaCache
	if dir == "" {
		dir = DefaultDeltaCache
	}
	return &deltaCache{dir: dir}
}

func (c *deltaCache) path(sum string) string { return filepath.Join(c.dir, sum) }

// load returns the cached artifact with this sha256, checked against it:
// a copy damaged on disk must not become the base of a delta.
func (c *deltaCache) load(sum string) ([]byte, error) {
	if !artifact.ValidSHA256(sum) {
		return nil, fmt.Errorf("invalid sha256 %q", sum)
	}
	b, err := os.ReadFile(c.path(sum))
	if err != nil {
		return nil, err
	}
	got := sha256.Sum256(b)
	if hex.EncodeToString(got[:]) != sum {
		os.Remove(c.path(sum))
		return nil, fmt.Errorf("local copy %s is damaged (sha256 %x): removed", c.path(sum), got)
	}
	return b, nil
}

// store keeps a copy of data (whose sha256 is sum) for the next delta. It
// writes a temporary file and renames it, so a reader never sees half a
// copy, and refreshes the mtime of a copy already there, which is what
// prune goes by. A copy, not a link: the build rewrites its output file.
//
// It also records sum as what target has as name, the guess that lets the
// next deploy start its delta before the device answers.
func (c *deltaCache) store(data []byte, sum, target, name string) error {
	if err := c.storeCopy(data, sum); err != nil {
		return err
	}
	if err := c.setLast(target, name, sum); err != nil {
		return fmt.Errorf("delta cache: %w", err)
	}
	return nil
}

// storeCopy is store without the record of what is installed: a deploy
// writes its copy while the device installs, and records it once the
// device has it.
func (c *deltaCache) storeCopy(data []byte, sum string) error {
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return fmt.Errorf("delta cache: %w", err)
	}
	dst := c.path(sum)
	if st, err := os.Stat(dst); err == nil && st.Size() == int64(len(data)) {
		now := time.Now()
		return os.Chtimes(dst, now, now)
	}
	tmp, err := os.CreateTemp(c.dir, "."+sum+install.TmpMarker+"*")
	if err != nil {
		return fmt.Errorf("delta cache: %w", err)
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("delta cache: %w", err)
	}
	return c.prune(deltaCacheKeep)
}

// Expanded forms (package codec) of installed copies are kept in
// expandedDir as SUM.XSUM, the sha256 of the copy and of the form: the
// next elfz delta's base, without expanding the copy again. They are
// large (an inflated cmd/go is 26 MB), so only the newest few stay.
const (
	expandedDir  = "expanded"
	expandedKeep = 2
)

// expanded returns the kept expanded form of the copy sum and its path,
// checked against its name; nil when there is none (or it was damaged,
// and is removed).
func (c *deltaCache) expanded(sum string) (string, []byte) {
	paths, _ := filepath.Glob(filepath.Join(c.dir, expandedDir, sum+".*"))
	for _, p := range paths {
		_, want, _ := strings.Cut(filepath.Base(p), ".")
		if !artifact.ValidSHA256(want) {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != want {
			os.Remove(p)
			continue
		}
		return p, b
	}
	return "", nil
}

// storeExpanded keeps x as the expanded form of the copy sum, and prunes
// the older ones. Like store, through a temporary file.
func (c *deltaCache) storeExpanded(x []byte, sum string) error {
	dir := filepath.Join(c.dir, expandedDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("delta cache: %w", err)
	}
	xs := sha256.Sum256(x)
	dst := filepath.Join(dir, sum+"."+hex.EncodeToString(xs[:]))
	if _, err := os.Stat(dst); err != nil {
		tmp, err := writeTemp(dir, "."+sum+install.TmpMarker+"*", x)
		if err != nil {
			return fmt.Errorf("delta cache: %w", err)
		}
		if err := os.Rename(tmp, dst); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("delta cache: %w", err)
		}
	} else if err := os.Chtimes(dst, time.Now(), time.Now()); err != nil {
		return fmt.Errorf("delta cache: %w", err)
	}
	if err := keepNewest(dir, expandedKeep, func(string) bool { return true }); err != nil {
		return fmt.Errorf("delta cache: %w", err)
	}
	return nil
}

// prune keeps the keep most recently stored copies and removes leftovers
// of interrupted stores.
func (c *deltaCache) prune(keep int) error {
	return keepNewest(c.dir, keep, func(name string) bool { return artifact.ValidSHA256(name) })
}

// keepNewest keeps the keep most recently written files of dir that
// count (by name), and removes leftovers of interrupted writes (an hour
// old: another armbench may be writing).
func keepNewest(dir string, keep int, counts func(name string) bool) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	type copyInfo struct {
		name string
		mod  int64
	}
	var copies []copyInfo
	for _, e := range ents {
		name := e.Name()
		if strings.Contains(name, install.TmpMarker) {
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > time.Hour {
				os.Remove(filepath.Join(dir, name))
			}
			continue
		}
		if e.IsDir() || !counts(name) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		copies = append(copies, copyInfo{name, info.ModTime().UnixNano()})
	}
	slices.SortFunc(copies, func(a, b copyInfo) int { return cmp.Compare(b.mod, a.mod) })
	for _, old := range copies[min(keep, len(copies)):] {
		os.Remove(filepath.Join(dir, old.name))
	}
	return nil
}

// lastPath is the file naming the sha256 last installed as name on target.
// Target and binary names cannot hold a slash or be "." or ".." (targets
// and checkName refuse them).
func (c *deltaCache) lastPath(target, name string) string {
	return filepath.Join(c.dir, "last", target, name)
}

func (c *deltaCache) setLast(target, name, sum string) error {
	p := c.lastPath(target, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp := p + install.TmpMarker + install.RandomSuffix()
	if err := os.WriteFile(tmp, []byte(sum+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func (c *deltaCache) last(target, name string) string {
	b, err := os.ReadFile(c.lastPath(target, name))
	if err != nil {
		return ""
	}
	sum := strings.TrimSpace(string(b))
	if !artifact.ValidSHA256(sum) {
		return ""
	}
	return sum
}

// speculation is a delta started against the binary the device most
// likely has (the last one installed there), while the prepare round trip
// asks which one it really has. On a Pi, that round trip hashes the old
// binary, which takes about as long as encoding the delta.
type speculation struct {
	base   string // sha256 the delta is against
	elfz   bool   // through the helper's expanded forms, when the binary allows
	cancel context.CancelFunc
	done   chan struct{}
	frame  deltaFrame
	err    error
}

// speculateDelta starts that delta, or returns nil when there is no
// guess (first deploy, deltas off, no zstd on the device). One the
// caller started before connecting (Options.Speculations) is taken over
// when it suits the connection.
func (d *sshDevice) speculateDelta(ctx context.Context, c *sshConn, f File, name string) *speculation {
	early := d.o.Speculations.take(d.t.Name, name, f.SHA256)
	if _, enc := decompressor(c.tools); enc != "zstd" || c.noPatch.Load() {
		early.stop()
		return nil
	}
	if early != nil && early.elfz == d.elfzOn(c, name) {
		return early
	}
	early.stop()
	return startSpeculation(ctx, d.o.deltaCache(), d.t.Name, f, name, d.elfzOn(c, name))
}

// startSpeculation encodes f's delta against the binary last installed
// as name on target, in the background; nil when there is nothing to
// diff against.
func startSpeculation(ctx context.Context, cache *deltaCache, target string, f File, name string, elfz bool) *speculation {
	if cache == nil {
		return nil
	}
	base := cache.last(target, name)
	if base == "" || base == f.SHA256 {
		return nil // nothing to diff against, or most likely unchanged
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &speculation{base: base, elfz: elfz, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.frame, s.err = encodeFromFiles(ctx, cache, base, f, elfz)
	}()
	return s
}

// result waits for the speculative delta when it was against old (the
// guess was right); guessed is false otherwise, and the caller encodes.
func (s *speculation) result(old string) (frame deltaFrame, guessed bool, err error) {
	if s == nil || s.base != old {
		return deltaFrame{}, false, nil
	}
	<-s.done
	return s.frame, true, s.err
}

// stop ends a speculation nobody needs any more (an unchanged binary, a
// failed prepare) and waits for it, so no encoder outlives the deploy.
func (s *speculation) stop() {
	if s == nil {
		return
	}
	s.cancel()
	<-s.done
}

// encodeFromFiles reads the cached base and the artifact and encodes the
// delta between them, through the helper's expanded forms when it may.
func encodeFromFiles(ctx context.Context, cache *deltaCache, base string, f File, elfz bool) (deltaFrame, error) {
	next, err := os.ReadFile(f.Path)
	if err != nil {
		return deltaFrame{}, err
	}
	return makeDelta(ctx, cache, base, next, elfz, deltaLimit(f.Size))
}

// errDeltaTooBig stops an encoding that has already outgrown the full
// upload.
var errDeltaTooBig = errors.New("delta is not smaller than the full upload")

// deltaWindowLog is the zstd window that lets the new file refer to any
// byte of the old one.
func deltaWindowLog(oldSize, newSize int) int {
	return max(bits.Len(uint(oldSize+newSize-1)), 20)
}

// encodeDelta compresses next with prev as a raw-content dictionary, the
// frame `zstd -d --patch-from=prev` decodes. It gives up with
// errDeltaTooBig as soon as the frame passes limit bytes. Only the best
// level matches against the whole dictionary: the faster ones keep too
// small a table to find a 20 MB binary's unchanged parts (measured on
// cmd/go: 5.3 MB at the default level, 86 kB at the best).
//
// It stops early when ctx ends: a speculative delta nobody needs must not
// hold up the deploy that abandons it.
func encodeDelta(ctx context.Context, prev, next []byte, limit int) ([]byte, error) {
	wl := deltaWindowLog(len(prev), len(next))
	if wl > maxDeltaWindowLog {
		return nil, fmt.Errorf("binaries too large for a delta (%d + %d bytes)", len(prev), len(next))
	}
	var buf bytes.Buffer
	out := &limitWriter{w: &buf, left: limit}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(1<<wl), zstd.WithEncoderDictRaw(0, prev))
	if err != nil {
		return nil, err
	}
	enc.ResetContentSize(out, int64(len(next)))
	for rest := next; len(rest) > 0; {
		n := min(len(rest), 1<<20)
		if err := ctx.Err(); err != nil {
			enc.Close()
			return nil, err
		}
		if _, err := enc.Write(rest[:n]); err != nil {
			enc.Close()
			return nil, err
		}
		rest = rest[n:]
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encodeDeltaFastest encodes with the host's zstd when it has one, else
// with encodeDelta. Both write the same kind of frame. On cmd/go for arm64
// (26 MB with uncompressed DWARF) after a one-line change,
// `zstd -1 --single-thread --patch-from` takes 0.36 s of CPU for a 133 kB
// delta (its default one-worker mode: 0.54 s for 619 kB); klauspost's best
// level takes about four times as long. prevPath holds prev
// (the verified cached copy, which is only ever replaced by a copy with
// the same content).
func encodeDeltaFastest(ctx context.Context, prevPath string, prev, next []byte, limit int) ([]byte, error) {
	zstdPath, err := exec.LookPath("zstd")
	if err != nil {
		return encodeDelta(ctx, prev, next, limit)
	}
	wl := deltaWindowLog(len(prev), len(next))
	if wl > maxDeltaWindowLog {
		return nil, fmt.Errorf("binaries too large for a delta (%d + %d bytes)", len(prev), len(next))
	}
	cmd := exec.CommandContext(ctx, zstdPath, "-q", "-1", "-c", "--single-thread", "--patch-from="+prevPath,
		"--long="+strconv.Itoa(wl), "--stream-size="+strconv.Itoa(len(next)))
	cmd.Stdin = bytes.NewReader(next)
	frame, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// A zstd too old for these flags: the library makes the same frame.
		return encodeDelta(ctx, prev, next, limit)
	}
	if len(frame) > limit {
		return nil, errDeltaTooBig
	}
	return frame, nil
}

// limitWriter fails once more than left bytes were written.
type limitWriter struct {
	w    io.Writer
	left int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if len(p) > l.left {
		return 0, errDeltaTooBig
	}
	l.left -= len(p)
	return l.w.Write(p)
}

// patchRecv is the device command that rebuilds the new binary from the
// installed one (./name in deploy_dir) and the delta on stdin. When that
// fails it asks whether the device's zstd knows --patch-from at all (1.4.5
// and later do) and says noPatchMarker on stderr when not, so the sender
// stops trying deltas on this connection; asking only after a failure
// spares every delta two processes, which a Pi Zero feels.
func patchRecv(name string, oldSize, newSize int) string {
	cmd := "zstd -d -q -c --patch-from=./" + shell.Quote(name)
	if wl := deltaWindowLog(oldSize, newSize); wl > defaultDecoderWindowLog {
		cmd += " --long=" + strconv.Itoa(wl)
	}
	return cmd + " || { zstd -H 2>&1 | grep -q -e --patch-from || echo " + noPatchMarker + " >&2; false; }"
}

const noPatchMarker = "armbench-no-patch-from"

// deltaLimit is the largest delta worth sending: less than the full
// upload. zstd takes Go binaries to about half their size, so a delta
// must beat that to pay for the device's work.
func deltaLimit(size int64) int { return int(size / 2) }

// scaledReader reads the delta and reports progress in bytes of the file
// it rebuilds, so a delta upload shows like a full one, only faster.
type scaledReader struct {
	r           io.Reader
	read, total int64 // delta bytes
	fileSize    int64
	p           *event.Meter
}

func (s *scaledReader) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	if n > 0 {
		s.read += int64(n)
		s.p.Set(s.read*s.fileSize/max(s.total, 1), s.read)
	}
	return n, err
}

// background is cache work done while the device installs. Copies are
// named by their sha256, so one written for a deploy that then fails
// costs only room until prune.
type background struct {
	done chan struct{}
	err  error
}

func inBackground(fn func() error) *background {
	b := &background{done: make(chan struct{})}
	go func() {
		defer close(b.done)
		b.err = fn()
	}()
	return b
}

// wait returns the work's error; nil for no work.
func (b *background) wait() error {
	if b == nil {
		return nil
	}
	<-b.done
	return b.err
}

// deltaResult is how a delta attempt ended: installed (note ""), or not
// worth it or not possible, with why (note), so the full upload follows.
type deltaResult struct {
	markers   []string
	wire      int64
	kind      string // DeltaPatch or DeltaELFZ, when installed
	note      string
	expanding *background // DeltaELFZ: the new binary's expanded form going into the cache
}

// deployDelta sends f as a delta against the device's binary, whose
// sha256 is old. A base it has no copy of, a delta no smaller than the
// full upload, a device zstd without patch-from, or a delta the device
// could not apply (a base changed behind armbench's back fails the
// sha256 check, a helper that cannot rebuild the binary fails before)
// all end with a note and nothing installed, and the caller sends the
// whole file. Cancellation and a lost connection are errors: the install
// script has removed its temporary files and the device runs what it ran
// before.
//
// An elfz delta needs the helper on the device: job (startELFZ) is
// installing it.
func (d *sshDevice) deployDelta(ctx context.Context, c *sshConn, cache *deltaCache, spec *speculation, job *helperJob, f File, next []byte, name, old string, emit func(Event)) (deltaResult, error) {
	if c.noPatch.Load() {
		return deltaResult{note: noPatchNote}, nil
	}
	early := d.startEarlyELFZ(ctx, c, cache, job, f, next, name, old, emit)
	frame, err := d.frameFor(ctx, c, cache, spec, next, name, old, deltaLimit(f.Size))
	if early != nil {
		if err == nil && early.fits(frame) && job.wait() == nil {
			expanding := keepExpanded(cache, frame, f.SHA256)
			res, err := d.deltaOutcome(ctx, c, DeltaELFZ, early.send(frame))
			res.expanding = expanding
			return res, err
		}
		early.abandon()
	}
	if err != nil {
		return deltaNote(ctx, old, err)
	}
	recv, after := patchRecv(name, frame.baseSize, frame.newSize), ""
	if frame.kind == DeltaELFZ {
		if herr := job.wait(); herr != nil {
			if ctx.Err() != nil {
				return deltaResult{}, ctx.Err()
			}
			// No helper on the device: a plain delta still beats the
			// whole file.
			c.noELFZ.Store(true)
			if frame, err = d.frameFor(ctx, c, cache, nil, next, name, old, deltaLimit(f.Size)); err != nil {
				return deltaNote(ctx, old, err)
			}
			recv = patchRecv(name, frame.baseSize, frame.newSize)
		} else {
			recv = elfzRecv(d.t.Runner, name, old, frame.baseSize, frame.newSize)
			after = elfzKeep(name, f.SHA256, frame.newSize)
		}
	}
	if err := ctx.Err(); err != nil {
		return deltaResult{}, err
	}
	var expanding *background
	if after != "" {
		expanding = keepExpanded(cache, frame, f.SHA256)
	}
	res, err := d.sendDelta(ctx, c, f, frame, recv, after, name, emit)
	res.expanding = expanding
	return res, err
}

// keepExpanded writes the new binary's expanded form (the next elfz
// delta's base, as the device keeps it too) into the cache while the
// device rebuilds the binary.
func keepExpanded(cache *deltaCache, frame deltaFrame, sum string) *background {
	return inBackground(func() error { return cache.storeExpanded(frame.expanded, sum) })
}

// frameFor is the speculative delta when it was against old, or a new
// one.
func (d *sshDevice) frameFor(ctx context.Context, c *sshConn, cache *deltaCache, spec *speculation, next []byte, name, old string, limit int) (deltaFrame, error) {
	sf, guessed, err := spec.result(old)
	if guessed {
		return sf, err
	}
	return makeDelta(ctx, cache, old, next, d.elfzOn(c, name), limit)
}

// sendDelta streams the delta into the install script, with recv
// rebuilding the binary on the device and after run once it is
// installed.
func (d *sshDevice) sendDelta(ctx context.Context, c *sshConn, f File, frame deltaFrame, recv, after, name string, emit func(Event)) (deltaResult, error) {
	tmp := install.TmpPrefix(name) + install.RandomSuffix()
	script := install.ScriptAfter(c.dir, name, tmp, recv, f.SHA256, f.Size, after)
	pr := event.NewMeter(f.Size, emit)
	src := &scaledReader{r: bytes.NewReader(frame.data), total: int64(len(frame.data)), fileSize: f.Size, p: pr}
	markers, wire, stderr, err := d.streamInstall(ctx, c, src, pr, "", script, emit)
	return d.deltaOutcome(ctx, c, frame.kind, installRun{markers, wire, stderr, err})
}

// installRun is what streamInstall returned.
type installRun struct {
	markers []string
	wire    int64
	stderr  string
	err     error
}

// deltaOutcome turns how the install script of a delta of this kind
// ended into the deploy's result: installed, a note that the whole file
// must follow, or an error that ends the deploy.
func (d *sshDevice) deltaOutcome(ctx context.Context, c *sshConn, kind string, run installRun) (deltaResult, error) {
	res := deltaResult{markers: run.markers, wire: run.wire, kind: kind}
	err, stderr := run.err, run.stderr
	if err == nil {
		return res, nil
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if kind == DeltaPatch && strings.Contains(stderr, noPatchMarker) {
		c.noPatch.Store(true)
		res.note = noPatchNote
		return res, nil
	}
	var ee *ssh.ExitError
	if !errors.As(err, &ee) {
		if stderr != "" {
			return res, fmt.Errorf("%w (device said: %s)", err, stderr)
		}
		return res, err
	}
	why := sshconn.ScriptErr(err, stderr)
	if kind == DeltaELFZ {
		// The helper's base takes room the whole file does not need, and
		// a helper that fails once fails again: plain deltas from now on.
		c.noELFZ.Store(true)
		res.note = "the device could not apply the elfz delta (" + strings.TrimSpace(why.Error()) + "): sent the whole binary"
		return res, nil
	}
	if errors.Is(why, ErrDiskFull) || errors.Is(why, ErrPermission) {
		return res, why // the whole file would fail the same way
	}
	res.note = "the device could not apply the delta (" + strings.TrimSpace(why.Error()) + "): sent the whole binary"
	return res, nil
}

// deltaNote turns why no delta could be made into the note that says so,
// unless the deploy was cancelled meanwhile.
func deltaNote(ctx context.Context, old string, err error) (deltaResult, error) {
	if ctx.Err() != nil {
		return deltaResult{}, ctx.Err()
	}
	if errors.Is(err, fs.ErrNotExist) {
		return deltaResult{note: "no local copy of the device's binary (sha256 " + old[:12] + "…) to diff against"}, nil
	}
	return deltaResult{note: err.Error()}, nil
}

const noPatchNote = "the device's zstd cannot apply deltas (--patch-from needs zstd 1.4.5 or later)"
