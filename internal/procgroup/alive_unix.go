//go:build unix && !linux

package procgroup

import "syscall"

// Alive reports whether any process of the group remains. Without /proc,
// zombies waiting for init count as alive.
func (g *Group) Alive() bool { return syscall.Kill(-g.pgid, 0) == nil }
