package remote

import (
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
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

func TestCompressAdaptiveRoundTripThroughZstdCLI(t *testing.T) {
	zstdBin := requireTool(t, "zstd")
	in := sample(6 << 20)
	// 1 ms per KiB is about 1 MB/s: slower than the fastest level even
	// under the race detector, so the level must climb.
	link := &slowLink{delay: time.Millisecond}
	var levels []int
	var sent, wire int64
	err := compressAdaptive(link, bytes.NewReader(in), adaptOptions{
		start:   0,
		onSent:  func(in, w int64) { sent, wire = in, w },
		onLevel: func(l int, _ int64) { levels = append(levels, l) },
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
		done <- compressAdaptive(&failingWriter{n: 100 << 10}, bytes.NewReader(sample(8<<20)), adaptOptions{start: 2})
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a dead link was not reported")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("compressAdaptive hung on a dead link")
	}
}
