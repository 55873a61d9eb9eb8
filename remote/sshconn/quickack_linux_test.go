package sshconn

import (
	"net"
	"syscall"
	"testing"
)

// After each read the socket is back in quick-ack mode (the kernel clears
// the flag as it leaves it), and the bytes read are the bytes sent.
func TestQuickAckAfterEveryRead(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		for _, msg := range []string{"host keys", "channel open confirmation"} {
			c.Write([]byte(msg))
			var b [1]byte
			c.Read(b[:]) // the client's answer: one packet each
		}
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := quickAck(raw)
	defer c.Close()
	if _, ok := c.(*quickAckConn); !ok {
		t.Fatalf("a TCP connection was not wrapped: %T", c)
	}
	for _, want := range []string{"host keys", "channel open confirmation"} {
		b := make([]byte, 64)
		n, err := c.Read(b)
		if err != nil || string(b[:n]) != want {
			t.Fatalf("read %q, %v; want %q", b[:n], err, want)
		}
		var on int
		c.(*quickAckConn).raw.Control(func(fd uintptr) {
			on, err = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK)
		})
		if err != nil || on != 1 {
			t.Fatalf("after reading %q: TCP_QUICKACK %d, %v", want, on, err)
		}
		if _, err := c.Write([]byte{1}); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := quickAck(pipeConn()).(*quickAckConn); ok {
		t.Error("a connection that is not TCP was wrapped")
	}
}

func pipeConn() net.Conn {
	a, _ := net.Pipe()
	return a
}
