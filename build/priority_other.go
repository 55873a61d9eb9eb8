//go:build !unix

package build

// lowerPriority is a no-op where there are no process priorities to set.
func lowerPriority(int) {}
