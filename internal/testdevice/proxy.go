package testdevice

import (
	"net"
	"sync"
	"testing"
	"time"
)

// proxy forwards TCP connections to sshd, optionally throttled, and can
// sever all of them at once.
type proxy struct {
	l      net.Listener
	port   int
	target string

	mu    sync.Mutex
	rate  int64
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func startProxy(t testing.TB, target string, rate int64) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, port: l.Addr().(*net.TCPAddr).Port, target: target, rate: rate, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	return p
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[up] = true, true
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(up, c, true)
		go p.pipe(c, up, false)
	}
}

// pipe copies src to dst; the client-to-device direction is throttled.
func (p *proxy) pipe(dst, src net.Conn, throttled bool) {
	defer p.wg.Done()
	defer func() {
		dst.Close()
		src.Close()
		p.mu.Lock()
		delete(p.conns, dst)
		delete(p.conns, src)
		p.mu.Unlock()
	}()
	buf := make([]byte, 16<<10)
	// The budget starts when the rate does: after sleeping until
	// t0 + sent/rate the average never exceeds the rate.
	var t0 time.Time
	var sent, lastRate int64
	for {
		n := len(buf)
		var rate int64
		if throttled {
			p.mu.Lock()
			rate = p.rate
			p.mu.Unlock()
			if rate != lastRate {
				t0, sent, lastRate = time.Now(), 0, rate
			}
			// Slices of about 10 ms keep the rate smooth.
			if rate > 0 && int64(n) > rate/100+1 {
				n = int(rate/100 + 1)
			}
		}
		k, err := src.Read(buf[:n])
		if k > 0 {
			if _, werr := dst.Write(buf[:k]); werr != nil {
				return
			}
			if rate > 0 {
				sent += int64(k)
				due := t0.Add(time.Duration(float64(sent) / float64(rate) * float64(time.Second)))
				if d := time.Until(due); d > 0 {
					time.Sleep(d)
				}
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *proxy) setRate(r int64) {
	p.mu.Lock()
	p.rate = r
	p.mu.Unlock()
}

func (p *proxy) sever() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.conns) / 2
	for c := range p.conns {
		c.Close()
	}
	return n
}

func (p *proxy) close() {
	p.l.Close()
	p.sever()
	p.wg.Wait()
}
