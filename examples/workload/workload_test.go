package main

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
)

// The benchmarks keep one iteration small (well under a millisecond
// natively) so that `-test.benchtime=100ms -test.count=6` of all of them
// finishes quickly even under qemu-user.

func BenchmarkAllocTrees(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		allocTrees(4, 8)
	}
}

func BenchmarkAllocMaps(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		allocMaps(1, 128)
	}
}

// BenchmarkParallelHash does a fixed job per iteration, split across
// GOMAXPROCS workers: its ns/op falls as GOMAXPROCS rises, which is what
// the single-core profile shows.
func BenchmarkParallelHash(b *testing.B) {
	workers := parallelWorkers()
	b.ReportMetric(float64(workers), "workers")
	for b.Loop() {
		parallelHash(16, 128, workers)
	}
}

// BenchmarkParallelHashRP is the same kernel driven by b.RunParallel, which
// also runs GOMAXPROCS goroutines; ns/op is per chunk.
func BenchmarkParallelHashRP(b *testing.B) {
	b.RunParallel(func(pb *testing.PB) {
		var seed uint64
		for pb.Next() {
			hashChunk(seed, 16)
			seed++
		}
	})
}

func BenchmarkSHA256(b *testing.B) {
	buf := make([]byte, 4096)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		sha256Blocks(buf)
	}
}

func BenchmarkAESGCM(b *testing.B) {
	buf := make([]byte, 4096)
	g := newGCM(len(buf))
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		g.seal(buf)
	}
}

func BenchmarkChanPingPong(b *testing.B) {
	for b.Loop() {
		pingPong(100)
	}
}

func BenchmarkChanFanOut(b *testing.B) {
	for b.Loop() {
		fanOut(100, 4)
	}
}

func TestKernels(t *testing.T) {
	// A depth-d tree has 2^(d+1)-1 nodes; sum of vals is checkable by recursion:
	// s(0)=1, s(d)=d+2*s(d-1).
	want := 1
	for d := 1; d <= 5; d++ {
		want = d + 2*want
	}
	if got := buildTree(5).sum(); got != want {
		t.Errorf("buildTree(5).sum() = %d, want %d", got, want)
	}
	if got := allocMaps(3, 50); got != 150 {
		t.Errorf("allocMaps(3, 50) = %d, want 150", got)
	}
	if a, b := parallelHash(20, 3, 1), parallelHash(20, 3, 7); a != b {
		t.Errorf("parallelHash depends on the worker count: %d vs %d", a, b)
	}
	if got := pingPong(10); got != 10 {
		t.Errorf("pingPong(10) = %d, want 10", got)
	}
	if got := fanOut(10, 3); got != 90 {
		t.Errorf("fanOut(10, 3) = %d, want 90", got)
	}
	g := newGCM(64)
	if out := g.seal(make([]byte, 64)); len(out) != 64+16 {
		t.Errorf("GCM sealed %d bytes, want %d", len(out), 64+16)
	}
}

func TestRunPrintsOneLinePerPart(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-duration", "40ms"}, &out, &errOut); code != 0 {
		t.Fatalf("run exited %d: %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 5 {
		t.Fatalf("got %d lines, want a header and 4 parts:\n%s", len(lines), out.String())
	}
	if !strings.Contains(lines[0], runtime.GOARCH) {
		t.Errorf("header %q does not name GOARCH %s", lines[0], runtime.GOARCH)
	}
	for i, name := range []string{"alloc", "parallel", "hash", "chan"} {
		if !strings.HasPrefix(lines[i+1], name) {
			t.Errorf("line %d = %q, want it to start with %q", i+1, lines[i+1], name)
		}
	}
}

func TestRunMode(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-duration", "20ms", "-mode", "hash"}, &out, &errOut); code != 0 {
		t.Fatalf("run exited %d: %s", code, errOut.String())
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "hash") {
		t.Errorf("-mode hash printed:\n%s", out.String())
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-mode", "nope"}, {"-duration", "0s"}, {"extra"}, {"-bogus"}} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != 2 {
			t.Errorf("run(%q) = %d, want 2", args, code)
		}
		if errOut.Len() == 0 {
			t.Errorf("run(%q) wrote no error message", args)
		}
	}
}
