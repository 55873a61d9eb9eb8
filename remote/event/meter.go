package event

import (
	"sync"
	"time"
)

// Meter turns byte counts into Progress events, at most ten a second.
// Its methods may be called from the reading and the reporting goroutine.
type Meter struct {
	mu          sync.Mutex
	total       int64
	sent, wire  int64
	start, last time.Time
	emit        func(Event)
}

// NewMeter reports an upload of total bytes to emit, starting with an
// empty Progress.
func NewMeter(total int64, emit func(Event)) *Meter {
	now := time.Now()
	p := &Meter{total: total, start: now, emit: emit}
	emit(Progress{Total: total})
	return p
}

// Add counts file and wire bytes more.
func (p *Meter) Add(file, wire int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent += file
	p.wire += wire
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond {
		p.last = now
		p.emit(p.event(now))
	}
}

// Set records absolute counts (the adaptive compressor knows them).
func (p *Meter) Set(sent, wire int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent, p.wire = sent, wire
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond {
		p.last = now
		p.emit(p.event(now))
	}
}

// SetWire records the bytes sent so far without reporting them.
func (p *Meter) SetWire(wire int64) {
	p.mu.Lock()
	p.wire = wire
	p.mu.Unlock()
}

func (p *Meter) event(now time.Time) Progress {
	ev := Progress{Sent: p.sent, Total: p.total, WireBytes: p.wire}
	if el := now.Sub(p.start).Seconds(); el > 0 {
		ev.Rate = float64(p.sent) / el
		if ev.Rate > 0 && p.total > p.sent {
			ev.ETA = time.Duration(float64(p.total-p.sent) / ev.Rate * float64(time.Second))
		}
	}
	return ev
}

// Finish reports the counts as they are now, however soon after the last
// report.
func (p *Meter) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.emit(p.event(time.Now()))
}
