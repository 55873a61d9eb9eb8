package remote

import (
	"context"

	"golang.org/x/crypto/ssh"

	"armbench/remote/sshconn"
	"armbench/targets"
)

// DefaultConnectTimeout bounds the TCP connect plus SSH handshake.
const DefaultConnectTimeout = sshconn.DefaultConnectTimeout

// Host keys as the SSH transport (package sshconn) checks them.
type (
	HostKey             = sshconn.HostKey
	UnknownHostError    = sshconn.UnknownHostError
	HostKeyChangedError = sshconn.HostKeyChangedError
	// SSHWarning is an ssh_config line armbench cannot honour.
	SSHWarning = sshconn.Warning
)

// transport is what of o the SSH transport uses.
func (o Options) transport() sshconn.Config {
	return sshconn.Config{
		ConnectTimeout: o.ConnectTimeout,
		KnownHosts:     o.KnownHosts,
		Passphrase:     o.Passphrase,
		SSHConfig:      o.SSHConfig,
		KeepAlive:      o.KeepAlive,
		NoAgent:        o.NoAgent,
		NoDefaultKeys:  o.NoDefaultKeys,
		ConfirmHostKey: o.ConfirmHostKey,
		Warn:           o.SSHWarn,
		Dial:           o.Dial,
	}
}

// AddKnownHost appends key for host to file (see sshconn.AddKnownHost).
func AddKnownHost(file, host string, key ssh.PublicKey) (HostKey, error) {
	return sshconn.AddKnownHost(file, host, key)
}

// ScanHostKey connects to t only far enough to receive its host key and
// reports it with what known_hosts says: nil error (already trusted),
// *UnknownHostError (the key, ready to show), or *HostKeyChangedError.
func ScanHostKey(ctx context.Context, t targets.Target, o Options) (HostKey, error) {
	return sshconn.ScanHostKey(ctx, t, o.transport())
}

// Trust fetches t's host key and, unless known_hosts already has it,
// appends it (after o.ConfirmHostKey says yes, when set). A changed key is
// refused: the old line must be removed by hand, as with OpenSSH.
func Trust(ctx context.Context, t targets.Target, o Options) (HostKey, error) {
	return sshconn.Trust(ctx, t, o.transport())
}

// TrustKey appends the exact key a user was shown (from an
// *UnknownHostError) to the target's known_hosts, without reconnecting.
func TrustKey(t targets.Target, o Options, e *UnknownHostError) (HostKey, error) {
	return sshconn.TrustKey(t, o.transport(), e)
}

// Replaced is what ReplaceHostKey did (see sshconn.Replaced).
type Replaced = sshconn.Replaced

// ReplaceHostKey makes key, the one the user was shown with a
// *HostKeyChangedError, t's only host key: every entry naming the host
// (hashed, under its HostKeyAlias, with a port) goes, the new key is
// added as ssh_config says (see sshconn.ReplaceHostKey).
func ReplaceHostKey(t targets.Target, o Options, key ssh.PublicKey) (Replaced, error) {
	return sshconn.ReplaceHostKey(t, o.transport(), key)
}
