package run

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
)

// An exec format error on an arm64 host says what it most likely means
// (no 32-bit ARM support) and what to do; any other error, or the same
// error elsewhere, passes through unchanged.
func TestExplainStart(t *testing.T) {
	enoexec := &os.PathError{Op: "fork/exec", Path: "/x/workload-default", Err: syscall.ENOEXEC}
	got := explainStart(enoexec, "arm64")
	if !errors.Is(got, syscall.ENOEXEC) || !strings.Contains(got.Error(), "no AArch32") || !strings.Contains(got.Error(), "qemu-arm") {
		t.Errorf("arm64: %v", got)
	}
	if got := explainStart(enoexec, "amd64"); got != error(enoexec) {
		t.Errorf("amd64: %v", got)
	}
	other := &os.PathError{Op: "fork/exec", Path: "/x", Err: syscall.ENOENT}
	if got := explainStart(other, "arm64"); got != error(other) {
		t.Errorf("another error: %v", got)
	}
}
