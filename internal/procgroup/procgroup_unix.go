//go:build unix

package procgroup

import (
	"os/exec"
	"syscall"
)

// Group is a process group, named by its first process's pid.
type Group struct {
	pgid   int
	cancel cancel
}

func prepare(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
}

func (g *Group) attach(cmd *exec.Cmd) error {
	g.pgid = cmd.Process.Pid
	return nil
}

// ID is the process group's id (its first process's pid).
func (g *Group) ID() int { return g.pgid }

// Kill kills every process of the group at once.
func (g *Group) Kill() error {
	if g.pgid <= 0 {
		return nil
	}
	return syscall.Kill(-g.pgid, syscall.SIGKILL)
}

// Signal sends sig to every process of the group, as a terminal's
// Ctrl-C reaches a foreground job.
func (g *Group) Signal(sig syscall.Signal) error { return syscall.Kill(-g.pgid, sig) }

// LowerPriority gives the group the lowest CPU priority; the processes it
// starts later inherit it. A failure only leaves it at normal priority.
func (g *Group) LowerPriority() { _ = syscall.Setpriority(syscall.PRIO_PGRP, g.pgid, 19) }

// Close releases what the group holds (nothing, on Unix).
func (g *Group) Close() {}
