package remote

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"armbench/internal/elfz/codec"
	"armbench/internal/shell"
	"armbench/remote/event"
	"armbench/remote/install"
	"armbench/targets"
)

// The Go linker zlib-compresses DWARF, so after a one-line change the
// compressed sections of a default-profile binary differ from the change
// on and a plain delta is a quarter of the binary. With a helper on the
// device (Options.ELFZHelper) the delta goes between the expanded forms
// instead (package codec: those sections inflated): the device expands
// its binary into a base, applies the delta to it with its own zstd, and
// the helper compresses the sections again, byte for byte as the linker
// did. The install script checks the sha256 of the result as always.

// elfzName is the helper's file name in deploy_dir: hidden, like the
// device-side state.
const elfzName = ".armbench-elfz"

// Delta kinds, as Installed.DeltaKind reports them.
const (
	DeltaPatch = "patch" // zstd patch-from against the installed binary
	DeltaELFZ  = "elfz"  // the same between the expanded forms, through the helper
)

// deltaFrame is an encoded delta and what the device needs to apply it.
type deltaFrame struct {
	data              []byte
	kind              string
	baseSize, newSize int    // of what the zstd window spans
	expanded          []byte // elfz: the new binary's expanded form, kept once it is installed
}

// elfzOn says whether a delta of name may go through the helper.
func (d *sshDevice) elfzOn(c *sshConn, name string) bool {
	return d.o.ELFZHelper != nil && !c.noELFZ.Load() && name != elfzName
}

// makeDelta encodes next against the cached copy whose sha256 is base:
// between the expanded forms when the helper may be used (elfz) and next
// is a binary this host's zlib reproduces, plainly otherwise. The copy
// is read (and checked) only when needed: an elfz delta whose expanded
// base the cache kept does without it.
func makeDelta(ctx context.Context, cache *deltaCache, base string, next []byte, elfz bool, limit int) (deltaFrame, error) {
	var prev []byte
	load := func() ([]byte, error) {
		if prev != nil {
			return prev, nil
		}
		var err error
		prev, err = cache.load(base)
		return prev, err
	}
	if elfz && codec.Compressed(next) {
		fr, err := encodeELFZ(ctx, cache, base, load, next, limit)
		if err == nil || ctx.Err() != nil {
			return fr, err
		}
		// Not expandable, not reproducible, or no smaller: a plain delta
		// may still do.
	}
	p, err := load()
	if err != nil {
		return deltaFrame{}, err
	}
	frame, err := encodeDeltaFastest(ctx, cache.path(base), p, next, limit)
	return deltaFrame{data: frame, kind: DeltaPatch, baseSize: len(p), newSize: len(next)}, err
}

// encodeELFZ encodes the expanded next against the expanded prev (base
// is its sha256). The expanded prev is the one the cache kept when prev
// was installed, or else expanded now into a temporary file in the cache
// (the zstd command wants its base in a file), which prune sweeps if
// this process dies. The check that this host's zlib rebuilds next runs
// while zstd encodes, unless next was linked by this very Go: then it is
// this process's compress/flate that wrote its sections.
func encodeELFZ(ctx context.Context, cache *deltaCache, base string, loadPrev func() ([]byte, error), next []byte, limit int) (deltaFrame, error) {
	basePath, px := cache.expanded(base)
	var perr error
	expanded := make(chan struct{})
	go func() {
		defer close(expanded)
		if px == nil {
			var prev []byte
			if prev, perr = loadPrev(); perr == nil {
				px, perr = codec.Expand(prev)
			}
		}
	}()
	nx, check, err := codec.ExpandWithCheck(next)
	<-expanded
	if err != nil {
		return deltaFrame{}, err
	}
	if perr != nil {
		return deltaFrame{}, perr
	}
	if basePath == "" {
		if basePath, err = writeTemp(cache.dir, ".elfz-base"+install.TmpMarker+"*", px); err != nil {
			return deltaFrame{}, err
		}
		defer os.Remove(basePath)
	}
	checked := make(chan error, 1)
	if linkedByThisGo(next) {
		checked <- nil
	} else {
		go func() { checked <- check() }()
	}
	frame, err := encodeDeltaFastest(ctx, basePath, px, nx, limit)
	if cerr := <-checked; cerr != nil {
		return deltaFrame{}, cerr
	}
	return deltaFrame{data: frame, kind: DeltaELFZ, baseSize: len(px), newSize: len(nx), expanded: nx}, err
}

// linkedByThisGo says whether the Go that built this process linked
// file, by the version both carry.
func linkedByThisGo(file []byte) bool {
	bi, err := buildinfo.Read(bytes.NewReader(file))
	return err == nil && bi.GoVersion == runtime.Version()
}

// writeTemp writes data to a new temporary file in dir.
func writeTemp(dir, pattern string, data []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// elfzRecv is the device command that rebuilds the binary: zstd applies
// the delta to the expanded form of the installed binary (sha256 old),
// and the helper contracts the result. The expanded form is the one the
// last elfz deploy kept (elfzKeep), or else the helper expands the
// installed binary into "$t.base". What zstd writes is also kept in
// "$t.x" for the next delta. The install script removes both on every
// path. The helper runs under the target's runner, as any program
// armbench runs there.
func elfzRecv(runner, name, old string, baseSize, newSize int) string {
	var words []string
	for _, r := range strings.Fields(runner) {
		words = append(words, shell.Quote(r))
	}
	helper := strings.Join(append(words, "./"+shell.Quote(elfzName)), " ")
	z := `zstd -d -q -c --patch-from="$b"`
	if wl := deltaWindowLog(baseSize, newSize); wl > defaultDecoderWindowLog {
		z += " --long=" + strconv.Itoa(wl)
	}
	kept := "./" + shell.Quote(install.ELFZBase(name, old))
	return "{ if [ -f " + kept + " ]; then b=" + kept + "; else " + helper + " expand ./" + shell.Quote(name) + ` > "$t.base" && b="$t.base"; fi && ` +
		z + `; } | tee -- "$t.x" | ` + helper + " contract"
}

// elfzKeep, run once the binary whose sha256 is sum is installed, keeps
// its expanded form (written whole: newSize bytes) as the next delta's
// base, in place of the one before. A base kept wrong only costs a delta:
// the sha256 check catches what it rebuilds.
func elfzKeep(name, sum string, newSize int) string {
	return `if [ -f "$t.x" ] && [ "$(wc -c < "$t.x")" -eq ` + strconv.Itoa(newSize) + ` ]; then rm -f -- ./` + shell.Quote(install.ELFZBasePrefix(name)) + `*; mv -f -- "$t.x" ./` +
		shell.Quote(install.ELFZBase(name, sum)) + ` || :; fi`
}

// warmELFZ has the helper built beside a deploy of f as name to t when
// deltas through it may follow (f's DWARF is compressed) and this is not
// an unchanged redeploy, which needs nothing built.
func (o Options) warmELFZ(t targets.Target, f File, name string) {
	if o.ELFZWarm == nil || name == elfzName {
		return
	}
	cache := o.deltaCache()
	if cache == nil || cache.last(t.Name, name) == f.SHA256 || !codec.CompressedFile(f.Path) {
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

// helperJob installs the helper in the background while the delta is
// encoded; wait returns its error.
type helperJob struct {
	done chan struct{}
	err  error
}

// startELFZ starts installing the helper when this deploy will most
// likely send an elfz delta: a redeploy (the last binary installed as
// name here is another one) of a binary with compressed sections, to a
// device whose zstd can apply deltas. It runs beside the prepare round
// trip and the speculative delta, off the deploy's critical path.
func (d *sshDevice) startELFZ(ctx context.Context, c *sshConn, f File, name string) *helperJob {
	if !d.elfzOn(c, name) || c.noPatch.Load() {
		return nil
	}
	cache := d.o.deltaCache()
	if _, enc := decompressor(c.tools); enc != "zstd" || cache == nil {
		return nil
	}
	if last := cache.last(d.t.Name, name); last == "" || last == f.SHA256 || !codec.CompressedFile(f.Path) {
		return nil
	}
	j := &helperJob{done: make(chan struct{})}
	go func() {
		defer close(j.done)
		j.err = d.ensureELFZ(ctx, c)
	}()
	return j
}

func (j *helperJob) wait() error {
	if j == nil {
		return errors.New("no delta helper")
	}
	<-j.done
	return j.err
}

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
	run               installRun
}

// startEarlyELFZ starts the install of an elfz delta against the
// device's binary (sha256 old) when one is likely: a helper on its way, a
// binary with compressed sections, and a local copy of the device's one
// to read the sizes of the expanded forms from. nil otherwise.
func (d *sshDevice) startEarlyELFZ(ctx context.Context, c *sshConn, cache *deltaCache, job *helperJob, f File, next []byte, name, old string, emit func(Event)) *earlyELFZ {
	if job == nil || !d.elfzOn(c, name) || !codec.Compressed(next) {
		return nil
	}
	baseSize, err := expandedSizeOf(cache.path(old))
	if err != nil {
		return nil
	}
	newSize, err := codec.ExpandedSize(bytes.NewReader(next), int64(len(next)))
	if err != nil {
		return nil
	}
	e := &earlyELFZ{src: newPendingReader(), fileSize: f.Size, baseSize: int(baseSize), newSize: int(newSize), done: make(chan struct{})}
	e.pr = event.NewMeter(f.Size, emit)
	go func() {
		defer close(e.done)
		if err := job.wait(); err != nil {
			e.run.err = err
			return
		}
		tmp := install.TmpPrefix(name) + install.RandomSuffix()
		script := install.ScriptAfter(c.dir, name, tmp, elfzRecv(d.t.Runner, name, old, e.baseSize, e.newSize), f.SHA256, f.Size, elfzKeep(name, f.SHA256, e.newSize))
		m, w, se, err := d.streamInstall(ctx, c, e.src, e.pr, "", script, emit)
		e.run = installRun{m, w, se, err}
	}()
	return e
}

// fits says whether frame is the delta the early install expects: elfz,
// between expanded forms of the sizes its script was written for.
func (e *earlyELFZ) fits(frame deltaFrame) bool {
	return frame.kind == DeltaELFZ && frame.baseSize == e.baseSize && frame.newSize == e.newSize
}

// send gives the early install its delta and waits for it to end.
func (e *earlyELFZ) send(frame deltaFrame) installRun {
	e.src.set(&scaledReader{r: bytes.NewReader(frame.data), total: int64(len(frame.data)), fileSize: e.fileSize, p: e.pr})
	<-e.done
	return e.run
}

// abandon ends the early install without a delta: its stdin closes
// empty, the script fails and removes its files, the installed binary
// stays. It waits for that, so nothing of it outlives the deploy.
func (e *earlyELFZ) abandon() {
	e.src.fail(errNoEarlyDelta)
	<-e.done
}

var errNoEarlyDelta = errors.New("no elfz delta after all")

// expandedSizeOf is codec.ExpandedSize of the file at path.
func expandedSizeOf(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return codec.ExpandedSize(f, st.Size())
}

// pendingReader is an upload whose bytes are not known yet: Read waits
// until set gives them, or fail the error that ends the upload.
type pendingReader struct {
	once  sync.Once
	ready chan struct{}
	r     io.Reader
	err   error
}

func newPendingReader() *pendingReader { return &pendingReader{ready: make(chan struct{})} }

func (p *pendingReader) set(r io.Reader) {
	p.once.Do(func() { p.r = r; close(p.ready) })
}

func (p *pendingReader) fail(err error) {
	p.once.Do(func() { p.err = err; close(p.ready) })
}

func (p *pendingReader) Read(b []byte) (int, error) {
	<-p.ready
	if p.err != nil {
		return 0, p.err
	}
	return p.r.Read(b)
}
