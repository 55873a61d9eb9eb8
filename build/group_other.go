//go:build !linux

package build

import "syscall"

// groupAlive reports whether any process of group pgid remains. Without
// /proc, zombies waiting for init count as alive.
func groupAlive(pgid int) bool {
	return syscall.Kill(-pgid, 0) == nil
}
