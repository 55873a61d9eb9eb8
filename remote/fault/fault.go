// Package fault names the kinds of failure a user acts on differently,
// and the error that says which step of which operation on which target
// failed. Every package under remote wraps these, so a front end tests
// one set of values with errors.Is whatever part of a deploy failed.
package fault

import "errors"

// Kinds of failure a user acts on differently. Errors returned by remote
// and its packages wrap one of them when it applies: test with errors.Is.
var (
	ErrAuth         = errors.New("authentication failed")
	ErrUnreachable  = errors.New("host unreachable")
	ErrTimeout      = errors.New("timed out")
	ErrPermission   = errors.New("permission denied")
	ErrDiskFull     = errors.New("no space left on the device")
	ErrDisconnected = errors.New("connection lost")
	ErrNoPrevious   = errors.New("no previous binary to roll back to")
	ErrNotTrusted   = errors.New("host key not trusted")
)

// OpError is a failure of one step of an operation on a target; its text
// names both, as in
// `deploy pi4 (pi@raspberrypi.local:22): upload: no space left on the device`.
type OpError struct {
	Op     string // deploy, rollback, run, exec, connect, trust
	Target string
	Addr   string // user@host:port, or the local deploy directory
	Step   string // connect, prepare, upload, verify, install, …
	Err    error
}

func (e *OpError) Error() string {
	s := e.Op + " " + e.Target
	if e.Addr != "" {
		s += " (" + e.Addr + ")"
	}
	if e.Step != "" && e.Step != e.Op {
		s += ": " + e.Step
	}
	return s + ": " + e.Err.Error()
}

func (e *OpError) Unwrap() error { return e.Err }
