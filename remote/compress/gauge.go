package compress

import (
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
)

// Gauge counts the compressed uploads in flight in one process.
// Each upload's compressor judges the link alone: waiting for the link
// makes it climb to slower levels, which is right while it has a core to
// itself. A rolling deploy to eight devices runs eight at once, each
// link slow and each compressor waiting, and at the levels they climb to
// the cores become the bottleneck of all eight.
type Gauge struct {
	n        atomic.Int32 // in flight
	expected atomic.Int32 // announced by Expect, started or not
	encoders EncoderCache
}

// EncoderCache keeps closed zstd encoders by level for the next frame or
// upload: a new encoder allocates and clears its window (8 MiB, 32 at the
// best level), which for eight small uploads at once cost a third as much
// CPU as compressing them.
type EncoderCache struct{ byLevel [4]sync.Pool } // one per zstdLadder level

func (c *EncoderCache) get(w io.Writer, level int) (*zstd.Encoder, error) {
	if c != nil {
		if e, ok := c.byLevel[level].Get().(*zstd.Encoder); ok {
			e.Reset(w)
			return e, nil
		}
	}
	return newZstd(w, zstdLadder[level])
}

// put keeps a closed encoder (one that failed to close is not put back).
func (c *EncoderCache) put(level int, e *zstd.Encoder) {
	if c != nil {
		c.byLevel[level].Put(e)
	}
}

// Encoders are the pool's shared encoders (nil without a pool).
func (g *Gauge) Encoders() *EncoderCache {
	if g == nil {
		return nil
	}
	return &g.encoders
}

// Enter counts one more upload; the returned func ends it.
func (g *Gauge) Enter() func() {
	if g == nil {
		return func() {}
	}
	g.n.Add(1)
	return func() { g.n.Add(-1) }
}

// Ceiling is the highest ladder level an upload may use now: any while
// there are no more uploads than cores, then one level less for each
// further multiple of the cores (with 8 uploads on 2 cores, the fastest),
// so that together they compress at least as fast as one upload at
// the level it would climb to alone.
func (g *Gauge) Ceiling() int {
	if g == nil {
		return len(zstdLadder) - 1
	}
	return ceilingFor(int(max(g.n.Load(), g.expected.Load())), runtime.NumCPU())
}

func ceilingFor(uploads, cores int) int {
	top := len(zstdLadder) - 1
	k := (max(uploads, 1) + cores - 1) / cores // uploads per core, rounded up
	return max(top-(k-1), 0)
}

// Expect says that n uploads are about to run at once (a rollout's
// staging), so that each compresses for its share of the cores from its
// first byte, not as if it were alone until the others start. done ends
// the announcement.
func (g *Gauge) Expect(n int) (done func()) {
	g.expected.Add(int32(n))
	var once sync.Once
	return func() { once.Do(func() { g.expected.Add(-int32(n)) }) }
}
