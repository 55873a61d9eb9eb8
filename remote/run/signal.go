package run

import (
	"strconv"
	"strings"
)

// signals are the Linux numbers of the signals a program usually dies
// of. The device runs Linux whatever the host is, so these are not the
// host's syscall constants.
var signals = []struct {
	n    int
	name string
}{
	{1, "HUP"}, {2, "INT"}, {3, "QUIT"}, {4, "ILL"}, {6, "ABRT"}, {7, "BUS"},
	{9, "KILL"}, {11, "SEGV"}, {13, "PIPE"}, {14, "ALRM"}, {15, "TERM"},
}

// SignalName is signal n as ssh reports it ("TERM", "KILL", …), or its
// number when it has no name here (as the bench probe reports it).
func SignalName(n int) string {
	for _, s := range signals {
		if s.n == n {
			return s.name
		}
	}
	return strconv.Itoa(n)
}

// SignalNumber is the Linux number of ExitStatus.Signal ("TERM" or
// "SIGTERM", or a number), 0 if unknown: a front end exits 128+n as a
// shell does for a killed child.
func SignalNumber(name string) int {
	name = strings.TrimPrefix(name, "SIG")
	for _, s := range signals {
		if s.name == name {
			return s.n
		}
	}
	if n, err := strconv.Atoi(name); err == nil && n > 0 {
		return n
	}
	return 0
}
