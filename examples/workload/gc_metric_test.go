package main

import (
	"runtime/metrics"
	"testing"
)

// gcCycles reads the runtime's count of completed GC cycles. runtime/metrics
// does not stop the world, unlike runtime.ReadMemStats.
func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// BenchmarkAllocGC is AllocTrees with the number of GC cycles per
// iteration as a metric (gc/op): GOGC and GOMEMLIMIT change it directly,
// which is what armbench's lowmem profile is compared on.
func BenchmarkAllocGC(b *testing.B) {
	b.ReportAllocs()
	before := gcCycles()
	for b.Loop() {
		allocTrees(4, 8)
	}
	b.ReportMetric(float64(gcCycles()-before)/float64(b.N), "gc/op")
}

func TestGCCyclesCounts(t *testing.T) {
	before := gcCycles()
	for i := 0; i < 400; i++ {
		allocTrees(4, 8)
	}
	// 400 × 4 trees of 511 nodes is ~25 MB of garbage: several times the
	// initial 4 MB heap goal, so cycles must have run.
	if after := gcCycles(); after <= before {
		t.Errorf("no GC cycle counted after allocating (before %d, after %d)", before, after)
	}
}
