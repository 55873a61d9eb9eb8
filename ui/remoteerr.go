package ui

import (
	"context"
	"errors"
	"strings"

	"armbench/remote"
)

// connectErrorText says what went wrong in a user's words first, then the
// engine's full error (host and step).
func connectErrorText(err error) string {
	what := errorWords(err)
	msg := firstLine(err.Error())
	if what == "" {
		return msg
	}
	return what + ": " + msg
}

// errorWords names the kind of a remote error in a user's words, with
// what to check where that helps; "" for other errors. The status line
// and the deploy pane both lead with these words.
func errorWords(err error) string {
	switch {
	case errors.Is(err, remote.ErrAuth):
		return "authentication failed (check user, identity and ssh-agent)"
	case errors.Is(err, remote.ErrTimeout):
		return "timed out"
	case errors.Is(err, remote.ErrUnreachable):
		return "host unreachable"
	case errors.Is(err, remote.ErrDiskFull):
		return "disk full on the device"
	case errors.Is(err, remote.ErrPermission):
		return "permission denied on the device (check deploy_dir)"
	case errors.Is(err, remote.ErrDisconnected):
		return "connection lost"
	case errors.Is(err, errPassphraseDeclined):
		return "no passphrase given for the key"
	}
	return ""
}

// DeployErrorText says what a deploy error means for the user, then the
// error itself: the kind first (auth, unreachable, disk full…), since the
// full text can be long.
func DeployErrorText(err error) string {
	var ue *remote.UnknownHostError
	var ce *remote.HostKeyChangedError
	what := ""
	switch {
	case errors.As(err, &ue):
		what = "unknown host key " + ue.Fingerprint
	case errors.As(err, &ce):
		what = "HOST KEY CHANGED (possible man-in-the-middle)"
	case errors.Is(err, context.Canceled):
		what = "cancelled: the device keeps its previous binary"
	case errors.Is(err, remote.ErrDisconnected):
		what = "connection lost: the device keeps its previous binary"
	case errors.Is(err, remote.ErrNotTrusted):
		what = "host key not trusted"
	default:
		what = errorWords(err)
	}
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if what == "" {
		return msg
	}
	return what + " — " + msg
}
