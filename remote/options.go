package remote

import (
	"context"
	"net"
	"time"

	"armbench/remote/compress"
	"armbench/remote/fault"
	"armbench/targets"
)

// Options configure how devices are reached. The zero value is usable.
type Options struct {
	// ConnectTimeout bounds dialing and the SSH handshake (default 10s).
	ConnectTimeout time.Duration
	// KnownHosts is the known_hosts file used when the target has none of
	// its own (default ~/.ssh/known_hosts).
	KnownHosts string
	// Passphrase is asked for the passphrase of an encrypted private key,
	// only when the server would accept that key. nil skips such keys.
	Passphrase func(keyPath string) ([]byte, error)

	// SSHConfig is an ssh_config file read instead of ~/.ssh/config and
	// /etc/ssh/ssh_config (tests, or users with a workspace-local config).
	SSHConfig string
	// KeepAlive is the interval of keepalive requests (default 15s); a
	// connection missing three in a row is treated as dropped.
	KeepAlive time.Duration
	// NoAgent ignores SSH_AUTH_SOCK (tests that must control the keys used).
	NoAgent bool
	// NoDefaultKeys skips ~/.ssh/id_* (tests, again).
	NoDefaultKeys bool
	// ConfirmHostKey is asked by Trust before an unknown key is appended;
	// nil accepts (the caller already showed the fingerprint).
	ConfirmHostKey func(HostKey) bool
	// StateDir is where armbench remembers, per device and binary, the
	// file status (inode, size, times) and sha256 of what it installed, so
	// an unchanged redeploy need not have the device hash the installed
	// binary again (a third of a second for 19 MB on a Pi). "" remembers
	// nothing: the device hashes every time.
	StateDir string
	// DeltaCache is the folder where deploys keep a copy of each binary
	// they installed, named by its sha256, so that redeploying the same
	// name sends only a delta against it (default .armbench/deployed).
	DeltaCache string
	// NoDelta always sends whole binaries and keeps no copies.
	NoDelta bool
	// ELFZHelper returns the delta helper built for a target, the same
	// way and with the same Go as the binaries deployed there (package
	// internal/elfz). With it, a delta of a binary whose DWARF the linker
	// compressed goes between the inflated forms, a few percent of the
	// binary instead of a quarter; the helper is installed once as
	// .armbench-elfz in deploy_dir. nil sends plain deltas.
	ELFZHelper func(ctx context.Context, t targets.Target) (File, error)
	// ELFZWarm starts building the helper for a target in the
	// background, at idle priority, when it is not built yet: a first
	// deploy needs no helper (it has no base), but the redeploy after it
	// will. It must return at once. nil builds the helper only when a
	// delta needs it.
	ELFZWarm func(t targets.Target)
	// Speculations are deltas the caller started before connecting;
	// Deploy takes over the one made for its file (see Speculations).
	Speculations *Speculations
	// traceLevel sees the adaptive compressor's level changes (tests).
	traceLevel func(level int, in int64)
	// uploads counts the compressed uploads in flight across the devices
	// of one Pool, which share this machine's cores (NewPool sets it).
	uploads *compress.Gauge
	// SSHWarn receives the ssh_config lines that apply to a device and
	// that armbench cannot honour (file, line, why); nil prints each once
	// to stderr.
	SSHWarn func(SSHWarning)
	// Dial replaces net.Dialer for the TCP connection (tests that cut links).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Kinds of failure a user acts on differently (package fault). Errors
// returned by this package wrap one of them when it applies: test with
// errors.Is.
var (
	ErrAuth         = fault.ErrAuth
	ErrUnreachable  = fault.ErrUnreachable
	ErrTimeout      = fault.ErrTimeout
	ErrPermission   = fault.ErrPermission
	ErrDiskFull     = fault.ErrDiskFull
	ErrDisconnected = fault.ErrDisconnected
	ErrNoPrevious   = fault.ErrNoPrevious
	ErrNotTrusted   = fault.ErrNotTrusted
)

// OpError is a failure of one step of an operation on a target (package
// fault).
type OpError = fault.OpError
