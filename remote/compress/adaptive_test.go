package compress

import (
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"armbench/internal/testenv"

	"github.com/klauspost/compress/zstd"
)

// slowLink accepts bytes at a fixed rate, like a link behind a full ssh
// window.
type slowLink struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	delay time.Duration // per KiB
}

func (s *slowLink) Write(p []byte) (int, error) {
	time.Sleep(time.Duration(len(p)/1024) * s.delay)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

// sample is compressible, binary-like data: a Go binary's worth of
// repeated structure with noise.
func sample(n int) []byte {
	self, _ := os.ReadFile(os.Args[0]) // the test binary itself
	b := make([]byte, 0, n)
	for len(b) < n {
		b = append(b, self...)
		b = append(b, byte(len(b)), byte(len(b)>>8))
	}
	return b[:n]
}

// requireTool is the path of a tool the test runs, or the test's skip
// (its failure under CI) when the machine lacks it.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	return testenv.Tool(t, name, name)
}

func TestCompressAdaptiveRoundTripThroughZstdCLI(t *testing.T) {
	zstdBin := requireTool(t, "zstd")
	in := sample(6 << 20)
	// 1 ms per KiB is about 1 MB/s: slower than the fastest level even
	// under the race detector, so the level must climb.
	link := &slowLink{delay: time.Millisecond}
	var levels []int
	var sent, wire int64
	err := Adaptive(link, bytes.NewReader(in), Options{
		Start:   0,
		OnSent:  func(in, w int64) { sent, wire = in, w },
		OnLevel: func(l int, _ int64) { levels = append(levels, l) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(levels) < 2 || levels[len(levels)-1] <= levels[0] {
		t.Errorf("levels %v: a slow link should raise the level", levels)
	}
	if sent != int64(len(in)) || wire != int64(link.buf.Len()) {
		t.Errorf("progress said %d in / %d wire; %d in / %d wire", sent, wire, len(in), link.buf.Len())
	}
	// Several frames, one file: the device's own zstd must agree.
	cmd := exec.Command(zstdBin, "-d", "-q", "-c")
	cmd.Stdin = bytes.NewReader(link.buf.Bytes())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("zstd -d: %v", err)
	}
	if sha256.Sum256(out) != sha256.Sum256(in) {
		t.Fatalf("zstd -d gave %d bytes, not the %d sent", len(out), len(in))
	}
	if link.buf.Len() >= len(in)*3/4 {
		t.Errorf("compressed to %d of %d bytes", link.buf.Len(), len(in))
	}
}

type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, io.ErrClosedPipe
	}
	return len(p), nil
}

func TestCompressAdaptiveStopsOnWriteError(t *testing.T) {
	done := make(chan error, 1)
	go func() {
		done <- Adaptive(&failingWriter{n: 100 << 10}, bytes.NewReader(sample(8<<20)), Options{Start: 2})
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a dead link was not reported")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Adaptive hung on a dead link")
	}
}

func TestCeilingFollowsUploadsPerCore(t *testing.T) {
	top := len(zstdLadder) - 1
	for _, c := range []struct{ uploads, cores, want int }{
		{0, 2, top}, {1, 2, top}, {2, 2, top}, {3, 2, top - 1}, {4, 2, top - 1},
		{5, 2, top - 2}, {8, 2, 0}, {64, 2, 0}, {8, 8, top}, {9, 8, top - 1},
	} {
		if got := ceilingFor(c.uploads, c.cores); got != c.want {
			t.Errorf("ceilingFor(%d uploads, %d cores) = %d, want %d", c.uploads, c.cores, got, c.want)
		}
	}
}

// A ceiling below the start level wins from the first byte, and a lower
// ceiling met later brings the level down at the next decision.
func TestCompressAdaptiveObeysCeiling(t *testing.T) {
	data := bytes.Repeat([]byte("armbench ceiling "), 3*adaptStep/16)
	ceiling := 1
	var levels []int
	var out bytes.Buffer
	err := Adaptive(&out, bytes.NewReader(data), Options{
		Start:   2,
		Ceiling: func() int { return ceiling },
		OnLevel: func(level int, in int64) {
			levels = append(levels, level)
			ceiling = 0 // another upload started
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(levels) != 2 || levels[0] != 1 || levels[1] != 0 {
		t.Errorf("levels %v, want [1 0]: the start capped by the ceiling, then lowered to the new one", levels)
	}
	dec, err := zstd.NewReader(&out)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	got, err := io.ReadAll(dec)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("round trip: %v, %d bytes back of %d", err, len(got), len(data))
	}
}
