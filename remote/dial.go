package remote

import (
	"context"
	"net"
)

// Dialer is a device that opens TCP connections from its own side: over
// SSH through the connection's direct-tcpip channel (as `ssh -L` does),
// so "localhost:8080" is the device's port 8080 and nothing needs to be
// installed on the device or open on its firewall. Both kinds of Device
// implement it.
type Dialer interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// DialContext opens a connection to addr as the device sees it. A refused
// forward (nothing listening, or sshd's AllowTcpForwarding no) is an
// error; the SSH connection stays up.
func (d *sshDevice) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := d.get(ctx)
	if err != nil {
		return nil, err
	}
	conn, err := c.Client.DialContext(ctx, network, addr)
	if err != nil {
		if !c.Alive() {
			err = c.ConnErr(err)
		}
		return nil, d.ep.OpErr("dial", "", err)
	}
	return conn, nil
}

// DialContext on the local target is an ordinary dial.
func (d *localDevice) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}
