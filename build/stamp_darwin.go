package build

import (
	"io/fs"
	"syscall"
)

// stampsComplete: change time and inode are part of every stamp.
const stampsComplete = true

// stampOf adds the change time and inode to size and mtime, as on Linux.
func stampOf(fi fs.FileInfo) stamp {
	s := stamp{Size: fi.Size(), MTime: fi.ModTime().UnixNano(), Mode: uint32(fi.Mode())}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.CTime = st.Ctimespec.Nano()
		s.Ino = st.Ino
	}
	return s
}
