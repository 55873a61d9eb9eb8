//go:build !linux && !darwin

package build

import "io/fs"

// stampsComplete is false where the change time and inode are not read:
// size, mtime and mode alone miss a rewrite that kept both (a copy with
// its times kept), so no fingerprint is trusted and the go command
// decides every build (Windows, whose files have neither).
const stampsComplete = false

// stampOf is size, mtime and mode.
func stampOf(fi fs.FileInfo) stamp {
	return stamp{Size: fi.Size(), MTime: fi.ModTime().UnixNano(), Mode: uint32(fi.Mode())}
}
