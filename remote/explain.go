package remote

import (
	"context"
	"errors"
)

// ErrNoPassphrase is what an Options.Passphrase callback returns (or
// wraps) when the user declines to give the passphrase, so Explain can
// say so rather than report a failed login.
var ErrNoPassphrase = errors.New("passphrase not given")

// Explain says what err means for the user of a front end, the one place
// that knows: words name what happened in plain terms, with the state it
// left the device in when that matters ("authentication failed (check
// user, identity and ssh-agent)", "unknown host key SHA256:…",
// "cancelled: the device keeps its previous binary"), "" when err is
// none of the kinds this package reports; hint says what to do about it
// (the command that trusts a new host key, OpenSSH's warning for a
// changed one), "" when there is nothing to do from here. The error's
// own text (host, step) is left to the caller to show.
func Explain(err error) (words, hint string) {
	var unknown *UnknownHostError
	var changed *HostKeyChangedError
	switch {
	case err == nil:
		return "", ""
	case errors.As(err, &unknown):
		return "unknown host key " + unknown.Fingerprint, "to check the fingerprint and accept it: armbench trust " + targetName(err)
	case errors.As(err, &changed):
		return "HOST KEY CHANGED (possible man-in-the-middle)", changed.Warning()
	case errors.Is(err, ErrNotTrusted):
		return "host key not trusted", ""
	case errors.Is(err, context.Canceled):
		return "cancelled" + afterDeploy(err), ""
	case errors.Is(err, ErrDisconnected):
		return "connection lost" + afterDeploy(err), ""
	}
	return plainWords(err), ""
}

// plainWords names the failures that need no hint beyond their words.
func plainWords(err error) string {
	switch {
	case errors.Is(err, ErrNoPassphrase):
		return "no passphrase given for the key"
	case errors.Is(err, ErrAuth):
		return "authentication failed (check user, identity and ssh-agent)"
	case errors.Is(err, ErrTimeout):
		return "timed out"
	case errors.Is(err, ErrUnreachable):
		return "host unreachable"
	case errors.Is(err, ErrDiskFull):
		return "disk full on the device"
	case errors.Is(err, ErrPermission):
		return "permission denied on the device (check deploy_dir)"
	}
	return ""
}

// targetName is the target err happened on, for a command to paste.
func targetName(err error) string {
	var op *OpError
	if errors.As(err, &op) && op.Target != "" {
		return op.Target
	}
	return "TARGET"
}

// afterDeploy is the reassurance an interrupted deploy deserves: deploys
// are atomic, so the device runs what it ran before.
func afterDeploy(err error) string {
	var op *OpError
	if errors.As(err, &op) && op.Op == "deploy" {
		return ": the device keeps its previous binary"
	}
	return ""
}
