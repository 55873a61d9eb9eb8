package delta

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"os/exec"
	"runtime"
	"strconv"

	"github.com/klauspost/compress/zstd"

	"armbench/internal/elfz/codec"
	"armbench/remote/install"
)

// Delta kinds, as Installed.DeltaKind reports them.
const (
	Patch = "patch" // zstd patch-from against the installed binary
	ELFZ  = "elfz"  // the same between the expanded forms, through the helper
)

// Frame is an encoded delta and what the device needs to apply it.
type Frame struct {
	Data              []byte
	Kind              string // Patch or ELFZ
	BaseSize, NewSize int    // of what the zstd window spans
	Expanded          []byte // ELFZ: the new binary's expanded form, kept once it is installed
}

// ErrTooBig stops an encoding that has already outgrown the full
// upload.
var ErrTooBig = errors.New("delta is not smaller than the full upload")

// windowLog is the zstd window that lets the new file refer to any
// byte of the old one.
func windowLog(oldSize, newSize int) int {
	return max(bits.Len(uint(oldSize+newSize-1)), 20)
}

// Encode compresses next with prev as a raw-content dictionary, the
// frame `zstd -d --patch-from=prev` decodes. It gives up with
// ErrTooBig as soon as the frame passes limit bytes. Only the best
// level matches against the whole dictionary: the faster ones keep too
// small a table to find a 20 MB binary's unchanged parts (measured on
// cmd/go: 5.3 MB at the default level, 86 kB at the best).
//
// It stops early when ctx ends: a speculative delta nobody needs must not
// hold up the deploy that abandons it.
func Encode(ctx context.Context, prev, next []byte, limit int) ([]byte, error) {
	wl := windowLog(len(prev), len(next))
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

// EncodeFastest encodes with the host's zstd when it has one, else
// with Encode. Both write the same kind of frame. On cmd/go for arm64
// (26 MB with uncompressed DWARF) after a one-line change,
// `zstd -1 --single-thread --patch-from` takes 0.36 s of CPU for a 133 kB
// delta (its default one-worker mode: 0.54 s for 619 kB); klauspost's best
// level takes about four times as long. prevPath holds prev
// (the verified cached copy, which is only ever replaced by a copy with
// the same content).
func EncodeFastest(ctx context.Context, prevPath string, prev, next []byte, limit int) ([]byte, error) {
	zstdPath, err := exec.LookPath("zstd")
	if err != nil {
		return Encode(ctx, prev, next, limit)
	}
	wl := windowLog(len(prev), len(next))
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
		return Encode(ctx, prev, next, limit)
	}
	if len(frame) > limit {
		return nil, ErrTooBig
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
		return 0, ErrTooBig
	}
	l.left -= len(p)
	return l.w.Write(p)
}

// Limit is the largest delta worth sending: less than the full
// upload. zstd takes Go binaries to about half their size, so a delta
// must beat that to pay for the device's work.
func Limit(size int64) int { return int(size / 2) }

// Make encodes next against the cached copy whose sha256 is base:
// between the expanded forms when the helper may be used (elfz) and next
// is a binary this host's zlib reproduces, plainly otherwise. The copy
// is read (and checked) only when needed: an elfz delta whose expanded
// base the cache kept does without it.
func Make(ctx context.Context, cache *Cache, base string, next []byte, elfz bool, limit int) (Frame, error) {
	var prev []byte
	load := func() ([]byte, error) {
		if prev != nil {
			return prev, nil
		}
		var err error
		prev, err = cache.Load(base)
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
		return Frame{}, err
	}
	frame, err := EncodeFastest(ctx, cache.Path(base), p, next, limit)
	return Frame{Data: frame, Kind: Patch, BaseSize: len(p), NewSize: len(next)}, err
}

// encodeELFZ encodes the expanded next against the expanded prev (base
// is its sha256). The expanded prev is the one the cache kept when prev
// was installed, or else expanded now into a temporary file in the cache
// (the zstd command wants its base in a file), which prune sweeps if
// this process dies. The check that this host's zlib rebuilds next runs
// while zstd encodes, unless next was linked by this very Go: then it is
// this process's compress/flate that wrote its sections.
func encodeELFZ(ctx context.Context, cache *Cache, base string, loadPrev func() ([]byte, error), next []byte, limit int) (Frame, error) {
	basePath, px := cache.Expanded(base)
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
		return Frame{}, err
	}
	if perr != nil {
		return Frame{}, perr
	}
	if basePath == "" {
		if basePath, err = writeTemp(cache.dir, ".elfz-base"+install.TmpMarker+"*", px); err != nil {
			return Frame{}, err
		}
		defer os.Remove(basePath)
	}
	checked := make(chan error, 1)
	if linkedByThisGo(next) {
		checked <- nil
	} else {
		go func() { checked <- check() }()
	}
	frame, err := EncodeFastest(ctx, basePath, px, nx, limit)
	if cerr := <-checked; cerr != nil {
		return Frame{}, cerr
	}
	return Frame{Data: frame, Kind: ELFZ, BaseSize: len(px), NewSize: len(nx), Expanded: nx}, err
}

// linkedByThisGo says whether the Go that built this process linked
// file, by the version both carry.
func linkedByThisGo(file []byte) bool {
	bi, err := buildinfo.Read(bytes.NewReader(file))
	return err == nil && bi.GoVersion == runtime.Version()
}

// ExpandedSizeOf is codec.ExpandedSize of the file at path.
func ExpandedSizeOf(path string) (int64, error) {
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
