package run

import "testing"

func TestSignalNames(t *testing.T) {
	for _, tc := range []struct {
		n    int
		name string
	}{{15, "TERM"}, {9, "KILL"}, {11, "SEGV"}, {7, "BUS"}, {31, "31"}} {
		if got := SignalName(tc.n); got != tc.name {
			t.Errorf("SignalName(%d) = %q, want %q", tc.n, got, tc.name)
		}
		if got := SignalNumber(tc.name); got != tc.n {
			t.Errorf("SignalNumber(%q) = %d, want %d", tc.name, got, tc.n)
		}
	}
	if got := SignalNumber("SIGINT"); got != 2 {
		t.Errorf("SignalNumber(SIGINT) = %d, want 2", got)
	}
	if got := SignalNumber("NOPE"); got != 0 {
		t.Errorf("SignalNumber(NOPE) = %d, want 0", got)
	}
}
