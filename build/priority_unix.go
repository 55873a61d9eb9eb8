//go:build unix

package build

import "syscall"

// lowerPriority gives the go command's process group (pgid is the go
// command's pid) the lowest CPU priority; the compilers and the linker it
// starts inherit it. A failure only leaves the build at normal priority.
func lowerPriority(pgid int) {
	_ = syscall.Setpriority(syscall.PRIO_PGRP, pgid, 19)
}
