package remote

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"armbench/internal/lazyregexp"
	"armbench/internal/shell"
	"armbench/remote/event"
	"armbench/remote/sshconn"
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

func (d *sshDevice) Run(ctx context.Context, cmd Command, emit func(Event)) (ExitStatus, error) {
	emit, closeEmit := event.Gated(emit)
	defer closeEmit()
	fail := func(step string, err error) (ExitStatus, error) {
		return ExitStatus{Code: -1}, d.ep.OpErr("run", step, err)
	}
	if cmd.Path == "" {
		return fail("", errors.New("no program to run"))
	}
	_, stopSig, killDelay, err := cmd.Stop.resolve()
	if err != nil {
		return fail("", err)
	}
	c, err := d.getEmit(ctx, emit)
	if err != nil {
		return ExitStatus{Code: -1}, err
	}
	script, err := runScript(c.dir, d.t.Runner, cmd)
	if err != nil {
		return fail("", err)
	}
	s, err := c.Client.NewSession()
	if err != nil {
		return fail("start", c.ConnErr(err))
	}
	defer s.Close()
	stdout, err := s.StdoutPipe()
	if err != nil {
		return fail("start", err)
	}
	stderr, err := s.StderrPipe()
	if err != nil {
		return fail("start", err)
	}
	start := time.Now()
	if err := s.Start("sh -c " + shell.Quote(script)); err != nil {
		return fail("start", c.ConnErr(err))
	}

	type ids struct{ pid, pgid int }
	pidc := make(chan ids, 1)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		br := bufio.NewReaderSize(stdout, maxLine)
		first, err := br.ReadString('\n')
		if rest, ok := strings.CutPrefix(first, pidMarker); ok {
			var id ids
			f := strings.Fields(rest)
			if len(f) >= 1 {
				id.pid, _ = strconv.Atoi(f[0])
			}
			if len(f) >= 2 {
				id.pgid, _ = strconv.Atoi(f[1])
			}
			pidc <- id
		} else if first != "" {
			emit(Output{Time: time.Now(), Text: strings.TrimRight(first, "\r\n")})
		}
		if err == nil {
			streamLines(br, false, emit)
		}
	}()
	go func() { defer wg.Done(); streamLines(stderr, true, emit) }()

	waited := make(chan error, 1)
	go func() {
		wg.Wait() // all output first, so the caller sees every line
		waited <- s.Wait()
	}()

	var werr, stopErr error
	cancelled := false
	select {
	case werr = <-waited:
	case <-ctx.Done():
		cancelled = true
		var id ids
		select {
		case id = <-pidc:
		case <-time.After(time.Second):
		}
		if id.pid > 0 {
			stopErr = d.kill(c, id.pid, id.pgid, stopSig, killDelay)
		}
		select {
		case werr = <-waited:
		case <-time.After(killDelay + 5*time.Second):
			// The kill did not end the session (a dead link?): stop
			// waiting for it.
			s.Close()
			select {
			case werr = <-waited:
			case <-time.After(2 * time.Second):
				werr = errors.New("no exit status after kill")
				if stopErr == nil {
					stopErr = werr
				}
			}
		}
	}
	st := ExitStatus{Duration: time.Since(start)}
	var ee *ssh.ExitError
	switch {
	case werr == nil:
	case errors.As(werr, &ee):
		st.Code = ee.ExitStatus()
		if sig := ee.Signal(); sig != "" {
			st.Code, st.Signal = -1, sig
		} else if st.Code > 128 && st.Code < 160 && cancelled {
			// A login shell that forked instead of exec'ing reports the
			// signal as 128+n; name it as ssh and the local device do.
			st.Signal = signalName(st.Code - 128)
		}
	default:
		st.Code = -1
		if !cancelled {
			return st, d.ep.OpErr("run", "", c.ConnErr(werr))
		}
	}
	if cancelled {
		if stopErr != nil {
			return st, d.ep.OpErr("run", "stop", fmt.Errorf("%w; the program may still be running on the device (%v)", ctx.Err(), stopErr))
		}
		return st, d.ep.OpErr("run", "", ctx.Err())
	}
	return st, nil
}

// kill stops a running command on the device over a second session.
func (d *sshDevice) kill(c *sshConn, pid, pgid int, sig string, grace time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace+10*time.Second)
	defer cancel()
	_, stderr, err := c.Exec(ctx, killScript(pid, pgid, sig, grace), nil, io.Discard)
	return sshconn.ScriptErr(err, stderr)
}
