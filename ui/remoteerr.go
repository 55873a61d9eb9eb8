package ui

import (
	"context"
	"errors"
	"strings"

	"armbench/remote"
)

// connectErrorText says what went wrong in a user's words first (the one
// explanation remote.Explain gives the CLI too), then the engine's error
// (host and step).
func connectErrorText(err error) string {
	words, _ := remote.Explain(err)
	msg := firstLine(err.Error())
	if words == "" {
		return msg
	}
	return words + ": " + msg
}

// DeployErrorText is the deploy pane's form of the same: the words, then
// the whole error on one line, since the pane has room for it.
//
// In the deploy pane every cancel and every lost connection happened
// during a deploy, so it always says what the device keeps, even when
// the error did not come through the remote engine (x during the build).
func DeployErrorText(err error) string {
	words, _ := remote.Explain(err)
	if (errors.Is(err, context.Canceled) || errors.Is(err, remote.ErrDisconnected)) && !strings.Contains(words, "previous binary") {
		words += ": the device keeps its previous binary"
	}
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if words == "" {
		return msg
	}
	return words + " — " + msg
}
