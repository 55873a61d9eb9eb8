//go:build !linux

package build

import "io/fs"

// stampOf is size, mtime and mode where the change time and inode are
// not read portably.
func stampOf(fi fs.FileInfo) stamp {
	return stamp{Size: fi.Size(), MTime: fi.ModTime().UnixNano(), Mode: uint32(fi.Mode())}
}
