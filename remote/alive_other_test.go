//go:build !unix

package remote

import "os"

// alive: on Windows, opening a process that has ended fails.
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return true
}
