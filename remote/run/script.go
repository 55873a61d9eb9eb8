package run

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"armbench/internal/lazyregexp"
	"armbench/internal/shell"
)

var envKey = lazyregexp.New(`^[A-Za-z_][A-Za-z0-9_]*$`)

// pidMarker starts the first line a wrapped command prints: its PID and
// process group, so that cancel can kill it on the device.
const pidMarker = "armbench-pid "

// runScript wraps cmd: report PID and process group (from /proc, since
// the login shell may or may not have exec'd sh), cd, then exec
// `env K=V … [runner] prog args…`, everything quoted. Env goes on the
// command line because stock sshd refuses other variables (AcceptEnv).
func runScript(dir string, runner string, cmd Command) (string, error) {
	q := shell.Quote
	prog := cmd.Path
	if !strings.HasPrefix(prog, "/") {
		prog = dir + "/" + prog
	}
	wd := dir
	if cmd.Dir != "" {
		wd = cmd.Dir
		if !strings.HasPrefix(wd, "/") {
			wd = dir + "/" + wd
		}
	}
	mk := ""
	if cmd.Dir == "" {
		// Running before the first deploy (a system tool, say) still
		// works from the deploy directory.
		mk = "mkdir -p -- " + q(dir) + " 2>/dev/null || :\n"
	}
	words := []string{"exec", "env"}
	for _, kv := range cmd.Env {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || !envKey.MatchString(k) {
			return "", fmt.Errorf("invalid environment entry %q (want KEY=VALUE)", kv)
		}
		words = append(words, q(kv))
	}
	for _, r := range strings.Fields(runner) {
		words = append(words, q(r))
	}
	words = append(words, q(prog))
	for _, a := range cmd.Args {
		words = append(words, q(a))
	}
	pidFile := ""
	if cmd.PIDFile != "" {
		pidFile = `echo "$$ $pg $st" > ` + q(devicePath(dir, cmd.PIDFile)) + " 2>/dev/null || :\n"
	}
	return `pg=- st=-
if read -r s < /proc/$$/stat 2>/dev/null; then s=${s##*") "}; set -- $s; pg=$3; st=${20}; fi
echo "` + pidMarker + `$$ $pg"
` + mk + pidFile + `cd -- ` + q(wd) + ` || exit 126
` + strings.Join(words, " ") + "\n", nil
}

// killScript stops a wrapped command: sig (TERM, INT…) to its process
// group (or the PID alone), a grace period, then KILL. It runs on the
// device in one session, so a slow link adds no round trips to the grace
// period.
func killScript(pid, pgid int, sig string, grace time.Duration) string {
	target := strconv.Itoa(pid)
	group := ""
	if pgid > 1 {
		group = "-" + strconv.Itoa(pgid)
	}
	send := func(s string) string {
		if group != "" {
			// No "--": dash's kill takes "-SIG -PGID" but not "-- -PGID".
			return "kill -" + s + " " + group + " 2>/dev/null || kill -" + s + " " + target + " 2>/dev/null || :\n"
		}
		return "kill -" + s + " " + target + " 2>/dev/null || :\n"
	}
	ticks := int(grace / (100 * time.Millisecond))
	return send(sig) + `i=0
while kill -0 ` + target + ` 2>/dev/null && [ $i -lt ` + strconv.Itoa(ticks) + ` ]; do sleep 0.1 2>/dev/null || sleep 1; i=$((i+1)); done
` + send("KILL")
}
