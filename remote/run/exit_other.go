//go:build !unix

package run

import "os"

// exitStatus is how a local process ended: its code (no signals here).
func exitStatus(ps *os.ProcessState) ExitStatus {
	return ExitStatus{Code: ps.ExitCode()}
}
