package procgroup

import (
	"bytes"
	"os"
	"strconv"
)

// Alive reports whether a process of the group is still running. Zombies
// do not count: they are dead, and once the first process is killed its
// children's zombies belong to init, which may reap them much later
// (kill(-pgid, 0) would keep succeeding until it does).
func (g *Group) Alive() bool {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	want := []byte(strconv.Itoa(g.pgid))
	for _, e := range ents {
		name := e.Name()
		if name[0] < '0' || name[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + name + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid pgrp …; comm may hold spaces and parens.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(b[i+1:])
		if len(f) >= 3 && bytes.Equal(f[2], want) && !bytes.Equal(f[0], []byte("Z")) {
			return true
		}
	}
	return false
}
