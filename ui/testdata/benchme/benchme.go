// Package benchme is a tiny workload for the TUI's bench test: quick to
// build for arm64 and quick to run under qemu-user.
package benchme

// Sum adds the first n integers the slow way.
func Sum(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i
	}
	return s
}
