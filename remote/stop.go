package remote

import (
	"fmt"
	"strings"
	"time"
)

// StopPolicy is how a cancelled Run ends its program: Signal to its
// process group, then SIGKILL when it is still there KillDelay later (as
// air's kill_delay). A watch loop sends INT, so a program stops as it
// would at a terminal's Ctrl-C.
type StopPolicy struct {
	Signal    string        // Linux name, "INT" or "SIGINT"; "" = TERM
	KillDelay time.Duration // 0 = 2 s
}

// maxKillDelay keeps a typo (2h for 2s) from leaving a stop hanging.
const maxKillDelay = 5 * time.Minute

// resolve returns the signal's number and name and the delay, or why the
// policy cannot be used.
func (p StopPolicy) resolve() (n int, name string, delay time.Duration, err error) {
	name = strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(p.Signal)), "SIG")
	if name == "" {
		name = "TERM"
	}
	n = SignalNumber(name)
	if n == 0 || signalName(n) != name {
		return 0, "", 0, fmt.Errorf("stop signal %q: want a signal name such as INT, TERM or HUP", p.Signal)
	}
	delay = p.KillDelay
	switch {
	case delay < 0 || delay > maxKillDelay:
		return 0, "", 0, fmt.Errorf("kill delay %v: want between 0 and %v", p.KillDelay, maxKillDelay)
	case delay == 0:
		delay = killGrace
	}
	return n, name, delay, nil
}
