// Package codec turns a Go binary's zlib-compressed ELF sections (the
// DWARF the Go linker compresses) into their plain bytes and back.
//
// A one-line change moves every DWARF line table after it, and zlib
// spreads that over the whole compressed stream, so a binary delta of two
// default-profile builds is a quarter of the binary. Against the expanded
// form the same change is a few kilobytes. The device rebuilds the real
// file with Contract, which is exact because the Go linker writes these
// streams with compress/zlib at BestSpeed, and compress/flate at
// BestSpeed cuts its blocks at fixed 64 KiB input boundaries whatever
// sizes the writes come in: the same bytes compressed by the same Go give
// the same stream. A Go whose flate differs fails Reproducible, and the
// caller sends a plain delta.
//
// The expanded form is self-describing: a header (Magic, a version, the
// original size and one entry per stream: offset, compressed and plain
// length, crc32 of the compressed bytes) followed by the file with each
// stream replaced by its plain bytes.
package codec

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"runtime"
	"slices"
	"sync"
)

// Magic opens every expanded file.
const Magic = "ARMBELFZ"

const version = 1

// Limits that keep a hostile or broken file from costing more than a Go
// binary would: streams per file and plain bytes in all. maxPlain fits
// a 32-bit int: the helper runs on armv6 and armv7 boards too.
const (
	maxStreams = 1 << 12
	maxPlain   = 1<<31 - 1
)

const (
	headerSize = len(Magic) + 4 + 8 + 4 // magic, version, size, count
	entrySize  = 8 + 8 + 8 + 4          // offset, compressed, plain, crc32
)

// ErrNotReproducible says this host's compress/zlib does not write a
// stream of the file byte for byte: it was linked by a Go whose flate
// differs. The caller should not use the expanded form for a delta.
var ErrNotReproducible = errors.New("compressed sections are not reproducible by this Go's zlib")

// stream is one compressed section's zlib stream.
type stream struct {
	off, clen int64 // where in the file, and how long
	plain     []byte
	crc       uint32 // of the compressed bytes
}

// streams finds every SHF_COMPRESSED section's zlib stream and inflates
// it. A section compressed any other way (zstd) is an error: the caller
// falls back to a plain delta.
func streams(file []byte) ([]stream, error) {
	f, err := elf.NewFile(bytes.NewReader(file))
	if err != nil {
		return nil, fmt.Errorf("elfz: %w", err)
	}
	defer f.Close()
	var secs []*elf.Section
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_COMPRESSED != 0 && s.Type != elf.SHT_NOBITS {
			secs = append(secs, s)
		}
	}
	if len(secs) > maxStreams {
		return nil, fmt.Errorf("elfz: more than %d compressed sections", maxStreams)
	}
	// Sections inflate independently: on a device's four cores, or the
	// host's, that is most of the work done at once.
	out := make([]stream, len(secs))
	err = parallel(len(secs), func(i int) error {
		st, err := inflateSection(file, f, secs[i])
		if err != nil {
			return fmt.Errorf("elfz: section %s: %w", secs[i].Name, err)
		}
		out[i] = st
		return nil
	})
	if err != nil {
		return nil, err
	}
	var total int64
	for _, st := range out {
		if total += int64(len(st.plain)); total > maxPlain {
			return nil, fmt.Errorf("elfz: more than %d bytes of compressed sections", maxPlain)
		}
	}
	slices.SortFunc(out, func(a, b stream) int { return int(a.off - b.off) })
	for i := 1; i < len(out); i++ {
		if out[i].off < out[i-1].off+out[i-1].clen {
			return nil, fmt.Errorf("elfz: compressed sections overlap at offset %d", out[i].off)
		}
	}
	return out, nil
}

// inflateSection reads s's compression header (Chdr32 or Chdr64 in the
// file's byte order) and inflates the zlib stream after it.
func inflateSection(file []byte, f *elf.File, s *elf.Section) (stream, error) {
	off, size := s.Offset, s.FileSize
	if off > uint64(len(file)) || size > uint64(len(file))-off {
		return stream{}, fmt.Errorf("offset %d size %d outside the file (%d bytes)", off, size, len(file))
	}
	data := file[off : off+size]
	var typ uint32
	var hdr int
	switch f.Class {
	case elf.ELFCLASS64:
		hdr = 24
	case elf.ELFCLASS32:
		hdr = 12
	default:
		return stream{}, fmt.Errorf("unknown ELF class %v", f.Class)
	}
	if len(data) < hdr {
		return stream{}, errors.New("shorter than its compression header")
	}
	typ = f.ByteOrder.Uint32(data)
	if elf.CompressionType(typ) != elf.COMPRESS_ZLIB {
		return stream{}, fmt.Errorf("compression type %d is not zlib", typ)
	}
	r := bytes.NewReader(data[hdr:])
	zr, err := zlib.NewReader(r)
	if err != nil {
		return stream{}, err
	}
	plain, err := io.ReadAll(io.LimitReader(zr, maxPlain+1))
	if err != nil {
		return stream{}, err
	}
	if len(plain) > maxPlain {
		return stream{}, fmt.Errorf("more than %d bytes inflated", maxPlain)
	}
	// bytes.Reader is an io.ByteReader, so flate read no further than the
	// stream's end and the checksum: what is left is not part of it.
	clen := int64(len(data)-hdr) - int64(r.Len())
	start := int64(off) + int64(hdr)
	return stream{off: start, clen: clen, plain: plain, crc: crc32.ChecksumIEEE(file[start : start+clen])}, nil
}

// Expand returns the expanded form of an ELF file: Contract turns it back
// into the file when Reproducible(file) holds. Every device and host
// running the same code expand a file to the same bytes, which is what
// lets both sides use it as the base of a delta.
func Expand(file []byte) ([]byte, error) {
	ss, err := streams(file)
	if err != nil {
		return nil, err
	}
	return expand(file, ss), nil
}

func expand(file []byte, ss []stream) []byte {
	n := headerSize + len(ss)*entrySize + len(file)
	for _, s := range ss {
		n += len(s.plain) - int(s.clen)
	}
	out := make([]byte, 0, n)
	out = append(out, Magic...)
	out = binary.LittleEndian.AppendUint32(out, version)
	out = binary.LittleEndian.AppendUint64(out, uint64(len(file)))
	out = binary.LittleEndian.AppendUint32(out, uint32(len(ss)))
	for _, s := range ss {
		out = binary.LittleEndian.AppendUint64(out, uint64(s.off))
		out = binary.LittleEndian.AppendUint64(out, uint64(s.clen))
		out = binary.LittleEndian.AppendUint64(out, uint64(len(s.plain)))
		out = binary.LittleEndian.AppendUint32(out, s.crc)
	}
	pos := int64(0)
	for _, s := range ss {
		out = append(out, file[pos:s.off]...)
		out = append(out, s.plain...)
		pos = s.off + s.clen
	}
	return append(out, file[pos:]...)
}

// ExpandReproducible is Expand that also checks Reproducible, sharing the
// inflating: it fails with ErrNotReproducible when Contract could not
// rebuild file.
func ExpandReproducible(file []byte) ([]byte, error) {
	x, check, err := ExpandWithCheck(file)
	if err != nil {
		return nil, err
	}
	if err := check(); err != nil {
		return nil, err
	}
	return x, nil
}

// ExpandWithCheck is Expand, and returns the check ExpandReproducible
// makes as a function, so the caller can run it alongside other work
// (the delta's encoding); the expanded form is of no use unless it
// returns nil.
func ExpandWithCheck(file []byte) ([]byte, func() error, error) {
	ss, err := streams(file)
	if err != nil {
		return nil, nil, err
	}
	return expand(file, ss), func() error { return reproduce(file, ss) }, nil
}

// Reproducible says whether Contract(Expand(file)) is file, byte for byte,
// with this Go's compress/zlib.
func Reproducible(file []byte) bool {
	ss, err := streams(file)
	return err == nil && reproduce(file, ss) == nil
}

func reproduce(file []byte, ss []stream) error {
	return parallel(len(ss), func(i int) error {
		s := ss[i]
		if !bytes.Equal(deflate(s.plain), file[s.off:s.off+s.clen]) {
			return fmt.Errorf("%w (stream at offset %d)", ErrNotReproducible, s.off)
		}
		return nil
	})
}

// deflate compresses plain as the Go linker does.
func deflate(plain []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(plain) / 3)
	zw, _ := zlib.NewWriterLevel(&buf, zlib.BestSpeed)
	zw.Write(plain)
	zw.Close()
	return buf.Bytes()
}

// parallel runs fn(0) … fn(n-1), as many at once as there are CPUs,
// and returns the first error.
func parallel(n int, fn func(i int) error) error {
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = fn(i)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// entry is a stream as the header records it.
type entry struct {
	off, clen, plen int64
	crc             uint32
}

// readHeader reads and checks the expanded form's header.
func readHeader(r io.Reader) (size int64, es []entry, err error) {
	var h [headerSize]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, fmt.Errorf("elfz: header: %w", err)
	}
	if string(h[:len(Magic)]) != Magic {
		return 0, nil, errors.New("elfz: not an expanded file (bad magic)")
	}
	le := binary.LittleEndian
	if v := le.Uint32(h[len(Magic):]); v != version {
		return 0, nil, fmt.Errorf("elfz: version %d, this helper reads %d", v, version)
	}
	usize := le.Uint64(h[len(Magic)+4:])
	n := le.Uint32(h[len(Magic)+12:])
	if n > maxStreams || usize > 1<<40 {
		return 0, nil, fmt.Errorf("elfz: header claims %d streams in %d bytes", n, usize)
	}
	size = int64(usize)
	var end, plain int64
	for i := range int(n) {
		var b [entrySize]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, nil, fmt.Errorf("elfz: header entry %d: %w", i, err)
		}
		e := entry{int64(le.Uint64(b[0:])), int64(le.Uint64(b[8:])), int64(le.Uint64(b[16:])), le.Uint32(b[24:])}
		plain += e.plen
		if e.off < end || e.clen < 0 || e.off > size || e.clen > size-e.off || e.plen < 0 || e.plen > maxPlain || plain > maxPlain {
			return 0, nil, fmt.Errorf("elfz: header entry %d (offset %d, %d bytes, %d plain) out of order or outside %d bytes", i, e.off, e.clen, e.plen, size)
		}
		end = e.off + e.clen
		es = append(es, e)
	}
	return size, es, nil
}

// Contract reads an expanded file from r and writes the original to w,
// compressing each stream again with zlib at BestSpeed. It fails when a
// stream does not come out as the header recorded it (length and crc32)
// or the input ends early or runs long; w may then have received part of
// a wrong file, so the caller must not keep it.
//
// Streams compress concurrently, as many as there are CPUs, while the
// input is read on; the writer puts the pieces out in order. This runs on
// the device in the middle of a deploy, where a Pi (or qemu-user) pays
// for every page it touches: each worker keeps one zlib writer, whose
// compressor is most of a megabyte, and buffers are allocated at the
// sizes the header gives.
func Contract(r io.Reader, w io.Writer) error {
	br := bufio.NewReaderSize(r, 1<<16)
	size, es, err := readHeader(br)
	if err != nil {
		return err
	}
	q := newJobQueue()
	var workers sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(len(es), 1)) {
		workers.Go(q.work)
	}
	// The reader runs ahead of the writer by at most this many pieces,
	// which bounds memory on a damaged header, not on a real file.
	parts := make(chan *part, 64)
	werr := make(chan error, 1)
	go func() {
		var err error
		for p := range parts {
			<-p.done
			if err == nil {
				err = p.err
			}
			if err == nil {
				_, err = w.Write(p.data)
			}
		}
		werr <- err
	}()
	rerr := readParts(br, size, es, parts, q)
	close(parts)
	q.close()
	workers.Wait()
	if err := <-werr; rerr == nil {
		rerr = err
	}
	return rerr
}

// part is a piece of the output, ready once done is closed.
type part struct {
	data []byte
	done chan struct{}
	err  error
}

func readyPart(b []byte) *part {
	p := &part{data: b, done: make(chan struct{})}
	close(p.done)
	return p
}

// job is a stream to compress into its part, fed in chunks as the input
// brings them: compression starts with a stream's first bytes, not
// after its last.
type job struct {
	i      int
	e      entry
	chunks chan []byte // closed after the stream's last chunk
	p      *part
}

// chunkSize is how much of a stream the reader hands on at a time: one
// block of flate at BestSpeed.
const chunkSize = 64 << 10

// newJob makes a job whose channel holds all of the stream's chunks, so
// the reader never waits for a worker; a damaged header claiming a huge
// stream gets a bounded channel, and its reader waits instead.
func newJob(i int, e entry, p *part) *job {
	return &job{i: i, e: e, p: p, chunks: make(chan []byte, min(e.plen/chunkSize+1, 1<<12))}
}

// jobQueue hands the largest waiting stream to the next free worker, so
// .debug_info, a third of the work, does not start last.
type jobQueue struct {
	mu     sync.Mutex
	ready  *sync.Cond
	jobs   []*job
	closed bool
}

func newJobQueue() *jobQueue {
	q := &jobQueue{}
	q.ready = sync.NewCond(&q.mu)
	return q
}

func (q *jobQueue) push(j *job) {
	q.mu.Lock()
	q.jobs = append(q.jobs, j)
	q.mu.Unlock()
	q.ready.Signal()
}

func (q *jobQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.ready.Broadcast()
}

// take returns the largest waiting job, or nil once the queue is closed
// and empty.
func (q *jobQueue) take() *job {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.jobs) == 0 && !q.closed {
		q.ready.Wait()
	}
	if len(q.jobs) == 0 {
		return nil
	}
	k := 0
	for i, j := range q.jobs {
		if j.e.plen > q.jobs[k].e.plen {
			k = i
		}
	}
	j := q.jobs[k]
	q.jobs = slices.Delete(q.jobs, k, k+1)
	return j
}

// work compresses jobs until the queue closes, with one zlib writer:
// Reset makes it the same as a new one, without its allocation, which
// is made while the first stream is still being read. Chunk sizes do not
// matter: flate at BestSpeed cuts its blocks at fixed input offsets.
func (q *jobQueue) work() {
	zw, _ := zlib.NewWriterLevel(io.Discard, zlib.BestSpeed)
	for j := q.take(); j != nil; j = q.take() {
		out := bytes.NewBuffer(make([]byte, 0, min(j.e.clen, maxUpfront)+64))
		zw.Reset(out)
		for c := range j.chunks {
			zw.Write(c)
		}
		zw.Close()
		j.p.data = out.Bytes()
		if n, sum := int64(len(j.p.data)), crc32.ChecksumIEEE(j.p.data); n != j.e.clen || sum != j.e.crc {
			j.p.err = fmt.Errorf("elfz: stream %d at offset %d compressed to %d bytes (crc32 %08x), the original had %d (%08x): %w",
				j.i, j.e.off, n, sum, j.e.clen, j.e.crc, ErrNotReproducible)
		}
		close(j.p.done)
	}
}

// maxUpfront is the most a buffer is given ahead of the bytes that fill
// it: a damaged header must not cost gigabytes, and no Go binary's
// section comes near it.
const maxUpfront = 64 << 20

// readParts reads the expanded body and sends the output's pieces in
// order: verbatim bytes, and streams, queued for compression as soon as
// they begin.
func readParts(br *bufio.Reader, size int64, es []entry, parts chan<- *part, q *jobQueue) error {
	pos := int64(0)
	for i, e := range es {
		if err := verbatim(br, e.off-pos, parts); err != nil {
			return fmt.Errorf("elfz: bytes before stream %d: %w", i, err)
		}
		p := &part{done: make(chan struct{})}
		j := newJob(i, e, p)
		// The part goes to the writer before its job to the workers:
		// were the reader to wait for room among the parts with its job
		// queued but not fed, a lone worker could take that job and wait
		// for bytes that never come, while the writer waits for a job
		// behind it.
		parts <- p
		q.push(j)
		err := feed(br, e.plen, j.chunks)
		close(j.chunks)
		if err != nil {
			return fmt.Errorf("elfz: stream %d: %w", i, err)
		}
		pos = e.off + e.clen
	}
	if err := verbatim(br, size-pos, parts); err != nil {
		return fmt.Errorf("elfz: bytes after the last stream: %w", err)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return errors.New("elfz: input runs past the expanded file")
	}
	return nil
}

// feed sends the next n input bytes in chunks.
func feed(r io.Reader, n int64, chunks chan<- []byte) error {
	for n > 0 {
		k := min(n, chunkSize)
		b, err := readN(r, k)
		if err != nil {
			return err
		}
		chunks <- b
		n -= k
	}
	return nil
}

// verbatim sends the next n input bytes as they are, in pieces of at
// most 1 MiB.
func verbatim(r io.Reader, n int64, parts chan<- *part) error {
	for n > 0 {
		k := min(n, 1<<20)
		b, err := readN(r, k)
		if err != nil {
			return err
		}
		parts <- readyPart(b)
		n -= k
	}
	return nil
}

// readN reads exactly n bytes, an early end of input being an error;
// beyond maxUpfront the buffer grows only as bytes come.
func readN(r io.Reader, n int64) ([]byte, error) {
	if n <= maxUpfront {
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			if err == io.EOF {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		return b, nil
	}
	var b bytes.Buffer
	err := copyN(&b, r, n)
	return b.Bytes(), err
}

// copyN copies exactly n bytes, an early end of input being an error.
func copyN(w io.Writer, r io.Reader, n int64) error {
	if _, err := io.CopyN(w, r, n); err != nil {
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	return nil
}

// ExpandedSize is len(Expand(file)) as the headers of the file in r
// (size bytes) tell it, reading only those: each compressed section's
// plain size from its compression header, its zlib stream taken to fill
// the section, as the Go linker writes it. A deploy needs it before the
// delta is made, to start the device's side early; Expand's result is
// what counts, and a file whose headers say otherwise merely loses that
// head start.
func ExpandedSize(r io.ReaderAt, size int64) (int64, error) {
	f, err := elf.NewFile(r)
	if err != nil {
		return 0, fmt.Errorf("elfz: %w", err)
	}
	n := int64(headerSize) + size
	count := 0
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_COMPRESSED == 0 || s.Type == elf.SHT_NOBITS {
			continue
		}
		var hdr [24]byte
		var plain, clen int64
		switch f.Class {
		case elf.ELFCLASS64:
			if _, err := r.ReadAt(hdr[:24], int64(s.Offset)); err != nil {
				return 0, fmt.Errorf("elfz: section %s: %w", s.Name, err)
			}
			plain, clen = int64(f.ByteOrder.Uint64(hdr[8:])), int64(s.FileSize)-24
		case elf.ELFCLASS32:
			if _, err := r.ReadAt(hdr[:12], int64(s.Offset)); err != nil {
				return 0, fmt.Errorf("elfz: section %s: %w", s.Name, err)
			}
			plain, clen = int64(f.ByteOrder.Uint32(hdr[4:])), int64(s.FileSize)-12
		default:
			return 0, fmt.Errorf("elfz: unknown ELF class %v", f.Class)
		}
		if plain < 0 || plain > maxPlain || clen < 0 {
			return 0, fmt.Errorf("elfz: section %s claims %d plain bytes in %d", s.Name, plain, clen)
		}
		n += int64(entrySize) + plain - clen
		count++
	}
	if count > maxStreams {
		return 0, fmt.Errorf("elfz: more than %d compressed sections", maxStreams)
	}
	return n, nil
}

// Compressed says whether file is an ELF file with a compressed section,
// reading only its headers: the files worth expanding.
func Compressed(file []byte) bool {
	return compressed(bytes.NewReader(file))
}

// CompressedFile is Compressed of the file at path, which it reads only
// the headers of.
func CompressedFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return compressed(f)
}

func compressed(r io.ReaderAt) bool {
	f, err := elf.NewFile(r)
	if err != nil {
		return false
	}
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_COMPRESSED != 0 && s.Type != elf.SHT_NOBITS {
			return true
		}
	}
	return false
}
