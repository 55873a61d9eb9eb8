package fleet

import (
	"os"
	"syscall"
)

// changeSeconds is when fi's inode last changed (a rename changes it).
func changeSeconds(fi os.FileInfo) float64 {
	st := fi.Sys().(*syscall.Stat_t)
	return float64(st.Ctimespec.Sec) + float64(st.Ctimespec.Nsec)/1e9
}
