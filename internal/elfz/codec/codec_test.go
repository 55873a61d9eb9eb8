package codec

import (
	"bytes"
	"compress/zlib"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"armbench/internal/testenv"
)

// tinyBuilds are the tiny test program's default-profile builds (plain
// go build: DWARF kept, compressed by the linker) for 64-bit and 32-bit
// ARM, built once for all tests.
var tinyBuilds = struct {
	once sync.Once
	bins map[string][]byte
	err  error
}{}

func tiny(t testing.TB) map[string][]byte {
	testenv.Tool(t, "go", "golang-go") // builds them
	t.Helper()
	tinyBuilds.once.Do(func() {
		dir, err := os.MkdirTemp("", "elfz-tiny")
		if err != nil {
			tinyBuilds.err = err
			return
		}
		defer os.RemoveAll(dir)
		tinyBuilds.bins = map[string][]byte{}
		for _, arch := range []string{"arm64", "arm"} {
			out := filepath.Join(dir, arch)
			cmd := exec.Command("go", "build", "-o", out, ".")
			cmd.Dir = "testdata/tiny"
			cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "GOARM=7", "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off")
			if b, err := cmd.CombinedOutput(); err != nil {
				tinyBuilds.err = errors.New("go build " + arch + ": " + err.Error() + "\n" + string(b))
				return
			}
			if tinyBuilds.bins[arch], err = os.ReadFile(out); err != nil {
				tinyBuilds.err = err
				return
			}
		}
	})
	if tinyBuilds.err != nil {
		t.Fatal(tinyBuilds.err)
	}
	return tinyBuilds.bins
}

func TestExpandContractRealBinaries(t *testing.T) {
	for arch, bin := range tiny(t) {
		t.Run(arch, func(t *testing.T) {
			ss, err := streams(bin)
			if err != nil {
				t.Fatal(err)
			}
			if len(ss) < 3 {
				t.Fatalf("%d compressed sections in a default build, want the DWARF ones", len(ss))
			}
			x, err := ExpandReproducible(bin)
			if err != nil {
				t.Fatal(err)
			}
			if len(x) <= len(bin) || !bytes.Contains(x, []byte("runtime.main")) {
				t.Errorf("expanded %d bytes from %d, plain DWARF names missing", len(x), len(bin))
			}
			if !Reproducible(bin) {
				t.Error("Reproducible false for a binary this Go linked")
			}
			// The device reads through a pipe in whatever pieces it
			// gets: contract must not depend on them.
			for name, r := range map[string]io.Reader{
				"whole": bytes.NewReader(x),
				"half":  iotest.HalfReader(bytes.NewReader(x)),
				"odd":   &chunkReader{r: bytes.NewReader(x), rnd: rand.New(rand.NewPCG(1, 2))},
			} {
				var out bytes.Buffer
				if err := Contract(r, &out); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !bytes.Equal(out.Bytes(), bin) {
					t.Fatalf("%s: contracted %d bytes differ from the %d-byte binary", name, out.Len(), len(bin))
				}
			}
		})
	}
}

// TestBestSpeedIgnoresWriteSizes is why Contract is exact: flate at
// BestSpeed cuts blocks at fixed 64 KiB input boundaries, so the
// linker's writes (one per symbol) and ours (whatever a pipe delivers)
// give the same stream.
func TestBestSpeedIgnoresWriteSizes(t *testing.T) {
	ss, err := streams(tiny(t)["arm64"])
	if err != nil {
		t.Fatal(err)
	}
	bin := tiny(t)["arm64"]
	big := 0
	rnd := rand.New(rand.NewPCG(3, 4))
	for _, s := range ss {
		if len(s.plain) > 1<<16 {
			big++
		}
		var buf bytes.Buffer
		zw, _ := zlib.NewWriterLevel(&buf, zlib.BestSpeed)
		for rest := s.plain; len(rest) > 0; {
			n := min(len(rest), 1+rnd.IntN(100000))
			zw.Write(rest[:n])
			rest = rest[n:]
		}
		zw.Close()
		if !bytes.Equal(buf.Bytes(), bin[s.off:s.off+s.clen]) {
			t.Errorf("stream at %d: random write sizes gave %d bytes, the linker %d", s.off, buf.Len(), s.clen)
		}
	}
	if big == 0 {
		t.Error("no stream spans more than one 64 KiB block: the test proves nothing")
	}
}

func TestContractRefusesDamage(t *testing.T) {
	bin := tiny(t)["arm"]
	x, err := Expand(bin)
	if err != nil {
		t.Fatal(err)
	}
	_, es, err := readHeader(bytes.NewReader(x))
	if err != nil {
		t.Fatal(err)
	}
	// The first stream's plain bytes start where the header ends plus
	// the verbatim bytes before it.
	plainAt := headerSize + len(es)*entrySize + int(es[0].off)
	flipped := bytes.Clone(x)
	flipped[plainAt+10] ^= 0x55
	cases := map[string][]byte{
		"plain byte changed": flipped,
		"truncated":          x[:len(x)-1],
		"trailing byte":      append(bytes.Clone(x), 0),
		"no header":          x[:5],
		"bad magic":          append([]byte("NOTELFZ!"), x[8:]...),
	}
	for name, in := range cases {
		if err := Contract(bytes.NewReader(in), io.Discard); err == nil {
			t.Errorf("%s: contract succeeded", name)
		}
	}
	if err := Contract(bytes.NewReader(flipped), io.Discard); !errors.Is(err, ErrNotReproducible) {
		t.Errorf("changed plain byte: %v, want ErrNotReproducible", err)
	}
}

func TestExpandRefusesNonELF(t *testing.T) {
	if _, err := Expand([]byte("#!/bin/sh\necho hi\n")); err == nil {
		t.Error("a shell script expanded")
	}
	// A stripped-of-compression ELF (no SHF_COMPRESSED section) expands
	// to its bytes behind an empty table, and contracts back.
	bin := tiny(t)["arm64"]
	x, err := Expand(bin[:64]) // only the ELF header: no sections to read
	if err == nil {
		var out bytes.Buffer
		if err := Contract(bytes.NewReader(x), &out); err != nil || !bytes.Equal(out.Bytes(), bin[:64]) {
			t.Errorf("header-only ELF: %v", err)
		}
	}
}

// chunkReader returns reads of random sizes.
type chunkReader struct {
	r   io.Reader
	rnd *rand.Rand
}

func (c *chunkReader) Read(p []byte) (int, error) {
	n := min(len(p), 1+c.rnd.IntN(70000))
	return c.r.Read(p[:n])
}

// TestHandmadeClassesAndOrders covers what the Go linker does not make
// for ARM: ELF32 and ELF64, little- and big-endian, each with one
// compressed section (testdata/handmade, also the fuzz seeds).
func TestHandmadeClassesAndOrders(t *testing.T) {
	for _, name := range []string{"elf64-le", "elf64-be", "elf32-le", "elf32-be"} {
		bin, err := os.ReadFile(filepath.Join("testdata/handmade", name))
		if err != nil {
			t.Fatal(err)
		}
		x, err := ExpandReproducible(bin)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Contains(x, bytes.Repeat([]byte("dwarf line table "), 50)) {
			t.Errorf("%s: the section's plain bytes are not in the expanded form", name)
		}
		var out bytes.Buffer
		if err := Contract(bytes.NewReader(x), &out); err != nil || !bytes.Equal(out.Bytes(), bin) {
			t.Errorf("%s: contract %v, equal %v", name, err, bytes.Equal(out.Bytes(), bin))
		}
	}
}

// TestContractReusedWriters: with one CPU, one worker compresses every
// stream through a single zlib writer it Resets between them; the file
// must still come out byte for byte, largest stream first or not.
func TestContractReusedWriters(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for arch, bin := range tiny(t) {
		x, err := Expand(bin)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := Contract(bytes.NewReader(x), &out); err != nil {
			t.Fatalf("%s: %v", arch, err)
		}
		if !bytes.Equal(out.Bytes(), bin) {
			t.Fatalf("%s: one worker's contract differs from the binary", arch)
		}
	}
}

// BenchmarkContract is the device's side of an elfz delta on the tiny
// program, against the obvious way: a new zlib writer per stream, one
// stream after another.
func BenchmarkContract(b *testing.B) {
	bin := tiny(b)["arm64"]
	x, err := Expand(bin)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("contract", func(b *testing.B) {
		b.SetBytes(int64(len(bin)))
		for b.Loop() {
			if err := Contract(bytes.NewReader(x), io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fresh-writers-serial", func(b *testing.B) {
		ss, err := streams(bin)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(bin)))
		for b.Loop() {
			for _, s := range ss {
				deflate(s.plain)
			}
		}
	})
}

// TestExpandedSizeFromHeaders: the size a deploy announces to the device
// before expanding is the size Expand gives, for the linker's binaries
// and the hand-made ELF32/ELF64 files of either byte order.
func TestExpandedSizeFromHeaders(t *testing.T) {
	bins := map[string][]byte{}
	for arch, bin := range tiny(t) {
		bins[arch] = bin
	}
	for _, name := range []string{"elf64-le", "elf64-be", "elf32-le", "elf32-be"} {
		b, err := os.ReadFile(filepath.Join("testdata/handmade", name))
		if err != nil {
			t.Fatal(err)
		}
		bins[name] = b
	}
	for name, bin := range bins {
		x, err := Expand(bin)
		if err != nil {
			t.Fatal(err)
		}
		n, err := ExpandedSize(bytes.NewReader(bin), int64(len(bin)))
		if err != nil || n != int64(len(x)) {
			t.Errorf("%s: ExpandedSize %d, %v; Expand gave %d bytes", name, n, err, len(x))
		}
	}
	if _, err := ExpandedSize(bytes.NewReader([]byte("#!/bin/sh\n")), 10); err == nil {
		t.Error("a shell script has an expanded size")
	}
}

// TestContractOneWorkerManyStreams: with one CPU, a large stream being
// compressed, the writer waiting for it and 64 small streams filling the
// queue of parts, the reader must not leave the next (largest) stream
// queued but unfed for the lone worker to wait on.
func TestContractOneWorkerManyStreams(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	rnd := rand.New(rand.NewPCG(5, 6))
	text := func(n int) []byte { // compressible, not trivially so
		b := make([]byte, n)
		for i := range b {
			b[i] = "abcdefgh"[rnd.IntN(8)]
		}
		return b
	}
	plains := [][]byte{text(4 << 20)}
	for range 64 {
		plains = append(plains, text(100))
	}
	plains = append(plains, text(8<<20))
	var file []byte
	var ss []stream
	for _, p := range plains {
		c := deflate(p)
		ss = append(ss, stream{off: int64(len(file)), clen: int64(len(c)), plain: p, crc: crc32.ChecksumIEEE(c)})
		file = append(file, c...)
	}
	x := expand(file, ss)
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() { done <- Contract(bytes.NewReader(x), &out) }()
	select {
	case err := <-done:
		if err != nil || !bytes.Equal(out.Bytes(), file) {
			t.Fatalf("contract: %v, %d bytes back of %d", err, out.Len(), len(file))
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("contract hangs")
	}
}
