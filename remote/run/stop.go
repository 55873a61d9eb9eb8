package run

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"armbench/internal/shell"
)

// StopPolicy is how a cancelled Run ends its program: Signal to its
// process group, then SIGKILL when it is still there KillDelay later (as
// air's kill_delay). A watch loop sends INT, so a program stops as it
// would at a terminal's Ctrl-C.
type StopPolicy struct {
	Signal    string        // Linux name, "INT" or "SIGINT"; "" = TERM
	KillDelay time.Duration // 0 = 2 s
}

// killGrace is how long a cancelled command gets between SIGTERM and
// SIGKILL by default: enough for a Go program to flush, short enough for
// a user.
const killGrace = 2 * time.Second

// maxKillDelay keeps a typo (2h for 2s) from leaving a stop hanging.
const maxKillDelay = 5 * time.Minute

// Resolve returns the signal's number and name and the delay, or why the
// policy cannot be used.
func (p StopPolicy) Resolve() (n int, name string, delay time.Duration, err error) {
	name = strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(p.Signal)), "SIG")
	if name == "" {
		name = "TERM"
	}
	n = SignalNumber(name)
	if n == 0 || SignalName(n) != name {
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

// devicePath is p inside dir unless it is absolute.
func devicePath(dir, p string) string {
	if strings.HasPrefix(p, "/") {
		return p
	}
	return strings.TrimSuffix(dir, "/") + "/" + p
}

// recordPID writes Command.PIDFile for a local program, in the form the
// SSH run script writes: "PID PGID STARTTIME". Best effort, as there.
func recordPID(path string, pid int) {
	start := "-"
	if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		s := string(st)
		if i := strings.LastIndex(s, ") "); i >= 0 {
			if f := strings.Fields(s[i+2:]); len(f) > 19 {
				start = f[19]
			}
		}
	}
	_ = os.WriteFile(path, fmt.Appendf(nil, "%d %d %s\n", pid, pid, start), 0o644)
}

// Shell is what StopLeftover needs of a device: its deploy directory, and
// a shell snippet run there.
type Shell interface {
	DeployDir() string
	Exec(ctx context.Context, script string) ([]byte, error)
}

// StopLeftover stops the program a Run of a Command with this PIDFile
// lost track of (the SSH link dropped under it, or armbench was killed),
// as p says, and reports whether there was one. The recorded PID is
// signalled only while its process has the recorded start time: a PID
// the system gave to another process since is left alone.
func StopLeftover(ctx context.Context, dev Shell, pidFile string, p StopPolicy) (bool, error) {
	_, sig, delay, err := p.Resolve()
	if err != nil {
		return false, err
	}
	send := func(s string) string {
		return `if [ "$pg" -gt 1 ] 2>/dev/null; then kill -` + s + ` -"$pg" 2>/dev/null || kill -` + s + ` "$pid" 2>/dev/null || :; else kill -` + s + ` "$pid" 2>/dev/null || :; fi
`
	}
	script := `f=` + shell.Quote(devicePath(dev.DeployDir(), pidFile)) + `
pid= pg= st=
[ -r "$f" ] && read -r pid pg st < "$f"
rm -f -- "$f"
case $pid in ''|*[!0-9]*) echo none; exit 0;; esac
cur=
if read -r s < /proc/"$pid"/stat 2>/dev/null; then s=${s##*") "}; set -- $s; cur=${20}; fi
if [ -z "$cur" ] || [ "$cur" != "$st" ]; then echo none; exit 0; fi
echo found
` + send(sig) + `i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt ` + strconv.Itoa(int(delay/(100*time.Millisecond))) + ` ]; do sleep 0.1 2>/dev/null || sleep 1; i=$((i+1)); done
` + send("KILL")
	ctx, cancel := context.WithTimeout(ctx, delay+10*time.Second)
	defer cancel()
	out, err := dev.Exec(ctx, script)
	if err != nil {
		return false, fmt.Errorf("stop the program left running: %w", err)
	}
	return strings.HasPrefix(string(out), "found"), nil
}
