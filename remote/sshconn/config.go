package sshconn

import (
	"context"
	"net"
	"time"
)

// DefaultConnectTimeout bounds the TCP connect plus SSH handshake.
const DefaultConnectTimeout = 10 * time.Second

// Config is how devices are reached. The zero value is usable.
type Config struct {
	// ConnectTimeout bounds dialing and the SSH handshake (default 10s).
	ConnectTimeout time.Duration
	// KnownHosts is the known_hosts file used when the target has none of
	// its own (default ~/.ssh/known_hosts).
	KnownHosts string
	// Passphrase is asked for the passphrase of an encrypted private key,
	// only when the server would accept that key. nil skips such keys.
	Passphrase func(keyPath string) ([]byte, error)
	// SSHConfig is an ssh_config file read instead of ~/.ssh/config and
	// /etc/ssh/ssh_config.
	SSHConfig string
	// KeepAlive is the interval of keepalive requests (default 15s); a
	// connection missing three in a row is treated as dropped.
	KeepAlive time.Duration
	// NoAgent ignores SSH_AUTH_SOCK.
	NoAgent bool
	// NoDefaultKeys skips ~/.ssh/id_*.
	NoDefaultKeys bool
	// ConfirmHostKey is asked by Trust before an unknown key is appended;
	// nil accepts (the caller already showed the fingerprint).
	ConfirmHostKey func(HostKey) bool
	// Warn receives the ssh_config lines that apply to a host and that
	// armbench cannot honour; nil prints each once to stderr.
	Warn func(Warning)
	// Dial replaces net.Dialer for the TCP connection (tests that cut links).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Timeout is ConnectTimeout or its default (ssh_config's ConnectTimeout,
// when set, is the endpoint's: see Endpoint.connectTimeout).
func (o Config) Timeout() time.Duration {
	if o.ConnectTimeout > 0 {
		return o.ConnectTimeout
	}
	return DefaultConnectTimeout
}

// KeepAliveEvery is KeepAlive or its default.
func (o Config) KeepAliveEvery() time.Duration {
	if o.KeepAlive > 0 {
		return o.KeepAlive
	}
	return 15 * time.Second
}
