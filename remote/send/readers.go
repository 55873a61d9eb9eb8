package send

import (
	"io"
	"sync"

	"armbench/remote/event"
)

// progressReader reports file bytes as they are read (by the compressor
// or by sftp's concurrent writer).
type progressReader struct {
	r    io.Reader
	mu   sync.Mutex
	p    *event.Meter
	wire func() int64
}

func (r *progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	if n > 0 {
		r.mu.Lock()
		r.p.SetWire(r.wire())
		r.p.Add(int64(n), 0)
		r.mu.Unlock()
	}
	return n, err
}

// scaledReader reads the delta and reports progress in bytes of the file
// it rebuilds, so a delta upload shows like a full one, only faster.
type scaledReader struct {
	r           io.Reader
	read, total int64 // delta bytes
	fileSize    int64
	p           *event.Meter
}

func (s *scaledReader) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	if n > 0 {
		s.read += int64(n)
		s.p.Set(s.read*s.fileSize/max(s.total, 1), s.read)
	}
	return n, err
}

// pendingReader is an upload whose bytes are not known yet: Read waits
// until set gives them, or fail the error that ends the upload.
type pendingReader struct {
	once  sync.Once
	ready chan struct{}
	r     io.Reader
	err   error
}

func newPendingReader() *pendingReader { return &pendingReader{ready: make(chan struct{})} }

func (p *pendingReader) set(r io.Reader) {
	p.once.Do(func() { p.r = r; close(p.ready) })
}

func (p *pendingReader) fail(err error) {
	p.once.Do(func() { p.err = err; close(p.ready) })
}

func (p *pendingReader) Read(b []byte) (int, error) {
	<-p.ready
	if p.err != nil {
		return 0, p.err
	}
	return p.r.Read(b)
}
