// Package compress encodes a file for the link it crosses: zstd whose
// level follows the bottleneck (the link or this machine's cores), and
// gzip for devices without zstd. A Gauge shares the cores between the
// uploads of one pool.
package compress

import (
	"io"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
)

// zstdLadder is the levels the adaptive compressor moves along, fastest
// first. On cmd/go for arm64 they give about 0.56, 0.54, 0.53 and 0.51 of
// the size, at roughly 300, 200, 60 and 17 MB/s on one core.
var zstdLadder = []zstd.EncoderLevel{zstd.SpeedFastest, zstd.SpeedDefault, zstd.SpeedBetterCompression, zstd.SpeedBestCompression}

// ladderSpeed and ladderRatio are those speeds (relative) and sizes: a
// level is worth climbing to only if it still outruns the link.
var (
	ladderSpeed = []float64{300, 200, 60, 17}
	ladderRatio = []float64{0.56, 0.54, 0.53, 0.51}
)

// adaptStep is how much input is compressed between two decisions.
const adaptStep = 1 << 20

// downWindow is how long the compressor must go without waiting for the
// link before it compresses faster.
const downWindow = 500 * time.Millisecond

// sshWindow is OpenSSH's session channel window (64 packets of 32 KiB):
// how much can be written before the link's speed shows.
const sshWindow = 2 << 20

// Options tune Adaptive.
type Options struct {
	Start    int                       // index in zstdLadder to begin with
	Ceiling  func() int                // the highest level allowed now; nil: any
	Encoders *EncoderCache             // closed encoders to reuse; nil: a new one each frame
	OnSent   func(in, wire int64)      // progress, from the sender
	OnLevel  func(level int, in int64) // level changes (tests, tracing)
}

// Adaptive streams r into w as zstd frames whose level follows
// the bottleneck, as `zstd --adapt` does: when the link cannot keep up
// (the compressor waits for room to queue its output) the next frame is
// compressed harder, when the compressor never waits it is the bottleneck
// and the next frame is compressed faster. A frame ends
// only when the level changes, so a steady link costs no ratio. The
// device's `zstd -d` decompresses the concatenated frames as one file.
//
// OnSent reports progress from the sender's side: input bytes whose
// compressed form has been written, and the compressed bytes written.
func Adaptive(w io.Writer, r io.Reader, o Options) error {
	q := newSendQueue(w, 256<<10, o.OnSent)
	if o.Ceiling == nil {
		o.Ceiling = func() int { return len(zstdLadder) - 1 }
	}
	level := min(o.Start, o.Ceiling())
	if o.OnLevel == nil {
		o.OnLevel = func(int, int64) {}
	}
	o.OnLevel(level, 0)
	enc, err := o.Encoders.get(q, level)
	if err != nil {
		return err
	}
	buf := make([]byte, 256<<10)
	now := time.Now()
	p := &levelPolicy{ceiling: o.Ceiling, lastDecision: now, downSince: now}
	for {
		n, rerr := r.Read(buf)
		if n > 0 {
			q.consumed(int64(n))
			if _, err := enc.Write(buf[:n]); err != nil {
				q.abort()
				return err
			}
			p.sinceDecision += n
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			enc.Close()
			q.abort()
			return rerr
		}
		if err := q.failed(); err != nil {
			return err
		}
		if p.sinceDecision < adaptStep {
			continue
		}
		if next := p.next(level, q); next != level {
			if err := enc.Close(); err != nil {
				q.abort()
				return err
			}
			o.Encoders.put(level, enc)
			level = next
			o.OnLevel(level, q.inPos())
			if enc, err = o.Encoders.get(q, level); err != nil {
				q.abort()
				return err
			}
		}
	}
	if err := enc.Close(); err != nil {
		q.abort()
		return err
	}
	o.Encoders.put(level, enc)
	return q.close()
}

// levelPolicy decides, after each adaptStep of input, the level of the
// next frame.
type levelPolicy struct {
	ceiling       func() int
	sinceDecision int // input since the last decision
	lastDecision  time.Time
	lastWire      int64
	// downSince starts the window in which the compressor must not wait
	// for the link before it goes faster; downBlocked is how long it did.
	downSince   time.Time
	downBlocked time.Duration
}

// next is the level to compress at from now on, judged by how long the
// compressor waited for the link since the last decision.
func (p *levelPolicy) next(level int, q *sendQueue) int {
	now := time.Now()
	blocked, wire := q.stats()
	el := now.Sub(p.lastDecision)
	stepIn, stepWire := p.sinceDecision, wire-p.lastWire
	p.sinceDecision, p.lastDecision, p.lastWire = 0, now, wire
	p.downBlocked += blocked
	next := level
	ceiling := p.ceiling()
	switch {
	case level > ceiling:
		next = ceiling // other uploads want the cores too
	case blocked > el/5 && level < ceiling && outrunsLink(level, stepIn, stepWire, el, blocked):
		next = level + 1 // link-bound: spend CPU on ratio
	case now.Sub(p.downSince) < downWindow || wire <= sshWindow:
		// Too early to call the compressor the bottleneck: OpenSSH
		// opens its window in bursts of 1 MiB, a third of a second
		// apart on a slow link, and until the peer's window is
		// full every write returns at once, fast link or slow.
	case p.downBlocked < now.Sub(p.downSince)/20 && level > 0:
		next = level - 1 // the compressor never waits: it is the bottleneck
	}
	if now.Sub(p.downSince) >= downWindow || next != level {
		p.downSince, p.downBlocked = now, 0
	}
	return next
}

// outrunsLink reports whether the next level would still produce output
// faster than the link took it in the last step: the compressor's speed
// while not waiting, scaled by the ladder's relative speeds. A receiver
// that is slow for other reasons (sharing a CPU with the sender, say)
// must not push the level to where compression becomes the bottleneck.
func outrunsLink(level, in int, wire int64, el, blocked time.Duration) bool {
	busy := (el - blocked).Seconds()
	if busy <= 0 || el <= 0 {
		return true
	}
	next := level + 1
	inSpeed := float64(in) / busy * ladderSpeed[next] / ladderSpeed[level]
	drain := float64(wire) / el.Seconds()
	return inSpeed*ladderRatio[next] > 1.25*drain
}

func newZstd(w io.Writer, l zstd.EncoderLevel) (*zstd.Encoder, error) {
	// One goroutine per frame keeps the output in order and leaves the
	// other core to ssh's encryption. The best level, used only on slow
	// links, also looks further back: a 32 MiB window takes cmd/go from
	// 0.511 to 0.507 of its size, and zstd -d accepts up to 128 MiB.
	window := 8 << 20
	if l == zstd.SpeedBestCompression {
		window = 32 << 20
	}
	return zstd.NewWriter(w, zstd.WithEncoderLevel(l), zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(window))
}

// sendQueue decouples compressing from sending, and measures how long the
// compressor waits for the link (never waiting makes it the bottleneck).
type sendQueue struct {
	w      io.Writer
	max    int
	onSent func(in, wire int64)

	mu      sync.Mutex
	cond    *sync.Cond
	in      int64 // input consumed by the compressor so far
	wire    int64 // output written so far
	bufs    []queued
	size    int
	closed  bool
	err     error
	blocked time.Duration // producer waiting for room: the link is slow
	done    chan struct{}
}

// queued is compressed output and how much input it accounts for.
type queued struct {
	b  []byte
	in int64
}

func newSendQueue(w io.Writer, max int, onSent func(in, wire int64)) *sendQueue {
	if onSent == nil {
		onSent = func(int64, int64) {}
	}
	q := &sendQueue{w: w, max: max, onSent: onSent, done: make(chan struct{})}
	q.cond = sync.NewCond(&q.mu)
	go q.send()
	return q
}

// Write queues a copy of p, waiting while the queue is full.
func (q *sendQueue) Write(p []byte) (int, error) {
	b := append([]byte(nil), p...)
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.size+len(b) > q.max && q.size > 0 && q.err == nil {
		t := time.Now()
		for q.size+len(b) > q.max && q.size > 0 && q.err == nil {
			q.cond.Wait()
		}
		q.blocked += time.Since(t)
	}
	if q.err != nil {
		return 0, q.err
	}
	q.bufs = append(q.bufs, queued{b, q.in})
	q.size += len(b)
	q.cond.Broadcast()
	return len(p), nil
}

func (q *sendQueue) consumed(n int64) {
	q.mu.Lock()
	q.in += n
	q.mu.Unlock()
}

func (q *sendQueue) send() {
	defer close(q.done)
	var wire int64
	for {
		q.mu.Lock()
		for len(q.bufs) == 0 && !q.closed && q.err == nil {
			q.cond.Wait()
		}
		if q.err != nil || len(q.bufs) == 0 {
			q.mu.Unlock()
			return
		}
		e := q.bufs[0]
		q.bufs = q.bufs[1:]
		q.mu.Unlock()

		n, err := q.w.Write(e.b)
		wire += int64(n)
		if err == nil {
			q.onSent(e.in, wire)
		}

		q.mu.Lock()
		q.wire = wire
		q.size -= len(e.b)
		if err != nil && q.err == nil {
			q.err = err
		}
		q.cond.Broadcast()
		q.mu.Unlock()
	}
}

// stats returns and resets the time the producer waited for the link,
// with the bytes sent so far.
func (q *sendQueue) stats() (blocked time.Duration, wire int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	blocked, wire = q.blocked, q.wire
	q.blocked = 0
	return
}

func (q *sendQueue) inPos() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.in
}

func (q *sendQueue) failed() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.err
}

// close sends what is queued and returns the first write error.
func (q *sendQueue) close() error {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
	<-q.done
	return q.failed()
}

// abort stops sending.
func (q *sendQueue) abort() {
	q.mu.Lock()
	if q.err == nil {
		q.err = io.ErrClosedPipe
	}
	q.cond.Broadcast()
	q.mu.Unlock()
	<-q.done
}
