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
	"slices"
)

// Magic opens every expanded file.
const Magic = "ARMBELFZ"

const version = 1

// Limits that keep a hostile or broken file from costing more than a Go
// binary would: streams per file and plain bytes in all.
const (
	maxStreams = 1 << 12
	maxPlain   = 1 << 31
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
	var out []stream
	var total int64
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_COMPRESSED == 0 || s.Type == elf.SHT_NOBITS {
			continue
		}
		st, err := inflateSection(file, f, s)
		if err != nil {
			return nil, fmt.Errorf("elfz: section %s: %w", s.Name, err)
		}
		if total += int64(len(st.plain)); total > maxPlain {
			return nil, fmt.Errorf("elfz: more than %d bytes of compressed sections", maxPlain)
		}
		out = append(out, st)
		if len(out) > maxStreams {
			return nil, fmt.Errorf("elfz: more than %d compressed sections", maxStreams)
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
	ss, err := streams(file)
	if err != nil {
		return nil, err
	}
	if err := reproduce(file, ss); err != nil {
		return nil, err
	}
	return expand(file, ss), nil
}

// Reproducible says whether Contract(Expand(file)) is file, byte for byte,
// with this Go's compress/zlib.
func Reproducible(file []byte) bool {
	ss, err := streams(file)
	return err == nil && reproduce(file, ss) == nil
}

func reproduce(file []byte, ss []stream) error {
	var buf bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&buf, zlib.BestSpeed)
	for _, s := range ss {
		buf.Reset()
		zw.Reset(&buf)
		zw.Write(s.plain)
		zw.Close()
		if !bytes.Equal(buf.Bytes(), file[s.off:s.off+s.clen]) {
			return fmt.Errorf("%w (stream at offset %d)", ErrNotReproducible, s.off)
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

// countingCRC counts and checksums what passes to w.
type countingCRC struct {
	w   io.Writer
	n   int64
	crc uint32
}

func (c *countingCRC) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.crc = crc32.Update(c.crc, crc32.IEEETable, p[:n])
	return n, err
}

// Contract reads an expanded file from r and writes the original to w,
// compressing each stream again with zlib at BestSpeed. It fails when a
// stream does not come out as the header recorded it (length and crc32)
// or the input ends early or runs long; w may then have received part of
// a wrong file, so the caller must not keep it.
func Contract(r io.Reader, w io.Writer) error {
	br := bufio.NewReaderSize(r, 1<<16)
	size, es, err := readHeader(br)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	var zw *zlib.Writer
	pos := int64(0)
	for i, e := range es {
		if err := copyN(bw, br, e.off-pos); err != nil {
			return fmt.Errorf("elfz: bytes before stream %d: %w", i, err)
		}
		cw := &countingCRC{w: bw}
		if zw == nil {
			zw, _ = zlib.NewWriterLevel(cw, zlib.BestSpeed)
		} else {
			zw.Reset(cw)
		}
		if err := copyN(zw, br, e.plen); err != nil {
			return fmt.Errorf("elfz: stream %d: %w", i, err)
		}
		if err := zw.Close(); err != nil {
			return fmt.Errorf("elfz: stream %d: %w", i, err)
		}
		if cw.n != e.clen || cw.crc != e.crc {
			return fmt.Errorf("elfz: stream %d at offset %d compressed to %d bytes (crc32 %08x), the original had %d (%08x): %w",
				i, e.off, cw.n, cw.crc, e.clen, e.crc, ErrNotReproducible)
		}
		pos = e.off + e.clen
	}
	if err := copyN(bw, br, size-pos); err != nil {
		return fmt.Errorf("elfz: bytes after the last stream: %w", err)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return errors.New("elfz: input runs past the expanded file")
	}
	return bw.Flush()
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

// Compressed says whether file is an ELF file with a compressed section,
// reading only its headers: the files worth expanding.
func Compressed(file []byte) bool {
	f, err := elf.NewFile(bytes.NewReader(file))
	if err != nil {
		return false
	}
	defer f.Close()
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_COMPRESSED != 0 && s.Type != elf.SHT_NOBITS {
			return true
		}
	}
	return false
}
