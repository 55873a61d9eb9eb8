//go:build linux || darwin

package build

import (
	"io/fs"
	"syscall"
)

// stampsComplete: change time and inode are part of every stamp.
const stampsComplete = true

// stampOf adds the change time and inode to size and mtime: together they
// see a rewrite that restored the old size and mtime (touch -r, a copy
// with its times kept), or a file replaced by rename.
func stampOf(fi fs.FileInfo) stamp {
	s := stamp{Size: fi.Size(), MTime: fi.ModTime().UnixNano(), Mode: uint32(fi.Mode())}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.CTime = changeNano(st)
		s.Ino = st.Ino
	}
	return s
}
