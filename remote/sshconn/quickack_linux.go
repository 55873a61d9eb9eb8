package sshconn

import (
	"net"
	"syscall"
)

// OpenSSH leaves Nagle's algorithm on for sessions without a terminal, so
// when it writes two small packets in a row (after authentication: the
// host keys announcement, then the confirmation of the first channel) the
// second waits for the ACK of the first, and Linux delays that ACK by up
// to 40 ms when the client has nothing to send. Every connection's first
// command paid those 40 ms. quickAck asks the kernel to acknowledge at
// once after each read: one setsockopt per read, which SSH's buffered
// reader makes per packet or per 32 KiB.
func quickAck(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	return &quickAckConn{TCPConn: tc, raw: rc}
}

type quickAckConn struct {
	*net.TCPConn
	raw syscall.RawConn
}

func (q *quickAckConn) Read(b []byte) (int, error) {
	n, err := q.TCPConn.Read(b)
	if n > 0 {
		// Linux clears the flag as it leaves quick-ack mode: set it
		// again each time, which also sends an ACK it was holding.
		q.raw.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
		})
	}
	return n, err
}
