package build

import "syscall"

func changeNano(st *syscall.Stat_t) int64 { return st.Ctim.Nano() }
