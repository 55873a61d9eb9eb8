//go:build unix

package run

import (
	"os"
	"syscall"
)

// exitStatus is how a local process ended: its code, or the signal that
// ended it.
func exitStatus(ps *os.ProcessState) ExitStatus {
	var st ExitStatus
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok {
		switch {
		case ws.Signaled():
			st.Code = -1
			st.Signal = SignalName(int(ws.Signal()))
		default:
			st.Code = ws.ExitStatus()
		}
	}
	return st
}
