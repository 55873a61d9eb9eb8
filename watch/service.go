package watch

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"armbench/internal/shell"
	"armbench/remote"
	"armbench/targets"
)

// Steps of service mode, as ServiceError names them.
const (
	ServiceCheck   = "check"   // the device's checks, before anything on it changes
	ServiceInstall = "install" // writing the unit file
	ServiceEnable  = "enable"  // systemctl daemon-reload and enable
	ServiceRestart = "restart" // systemctl restart
)

// ServiceError is service mode failing on the device: a check that found
// the unit cannot work there (before anything on the device changed),
// or a step of installing and restarting the unit. It is an error of
// watch (a Failed cycle of StageService), never a program that exited.
type ServiceError struct {
	Target string // the target's name
	Addr   string // user@host[:port]
	Unit   string // the unit, with .service
	Step   string // ServiceCheck, ServiceInstall, ServiceEnable or ServiceRestart
	Err    error
}

func (e *ServiceError) Error() string {
	what := e.Step
	if e.Step != ServiceCheck && e.Unit != "" {
		what += " " + e.Unit
	}
	return fmt.Sprintf("service mode on %s (%s): %s: %v", e.Target, e.Addr, what, e.Err)
}

func (e *ServiceError) Unwrap() error { return e.Err }

// stageOf is the stage a Failed cycle reports for err, which stage
// failed: StageService for an error of service mode.
func stageOf(stage string, err error) string {
	var se *ServiceError
	if errors.As(err, &se) {
		return StageService
	}
	return stage
}

// unitName is the systemd unit a service-mode target runs the program as.
func unitName(svc targets.Service, binary string) string {
	if svc.Unit != "" {
		return svc.Unit
	}
	return "armbench-" + binary
}

// unitFile is the unit for cmd, whose Path is absolute on the device.
// systemd stops it as watch would (StopSignal, SIGKILL after KillDelay)
// and restarts it if it crashes. [Service] comes last: in system scope
// the install script appends User=, so the program runs as the SSH user
// (who owns deploy_dir), not as root.
func unitFile(svc targets.Service, cmd remote.Command, description string) (string, error) {
	for _, s := range append(append([]string{cmd.Path, description}, cmd.Args...), cmd.Env...) {
		if strings.ContainsAny(s, "\x00\n\r") {
			return "", fmt.Errorf("service mode: %q has a line break or NUL, which a unit file cannot hold", s)
		}
	}
	sig, delay, err := stopSettings(cmd.Stop)
	if err != nil {
		return "", err
	}
	wanted := "default.target"
	if svc.Scope == targets.ServiceSystem {
		wanted = "multi-user.target"
	}
	var b strings.Builder
	b.WriteString("# Written by armbench watch, again on every watch: edit targets.toml, not this file.\n")
	b.WriteString("[Unit]\nDescription=" + specifiers(description) + "\n")
	if svc.Scope == targets.ServiceSystem {
		b.WriteString("Wants=network-online.target\nAfter=network-online.target\n")
	}
	b.WriteString("\n[Install]\nWantedBy=" + wanted + "\n")
	b.WriteString("\n[Service]\nType=exec\n")
	b.WriteString("WorkingDirectory=" + specifiers(path.Dir(cmd.Path)) + "\n")
	for _, kv := range cmd.Env {
		b.WriteString("Environment=" + systemdQuote(kv) + "\n")
	}
	exec := []string{systemdQuote(cmd.Path)}
	for _, a := range cmd.Args {
		exec = append(exec, systemdQuote(a))
	}
	b.WriteString("ExecStart=" + strings.Join(exec, " ") + "\n")
	fmt.Fprintf(&b, "KillSignal=SIG%s\nTimeoutStopSec=%dms\nRestart=on-failure\nRestartSec=1s\n", sig, delay.Milliseconds())
	return b.String(), nil
}

// stopSettings is a stop policy with watch's defaults filled in.
func stopSettings(p remote.StopPolicy) (string, time.Duration, error) {
	sig := strings.TrimPrefix(strings.ToUpper(p.Signal), "SIG")
	if sig == "" {
		sig = DefaultStopSignal
	}
	if remote.SignalNumber(sig) == 0 {
		return "", 0, fmt.Errorf("service mode: stop signal %q: want a name such as INT or TERM", p.Signal)
	}
	delay := p.KillDelay
	if delay <= 0 {
		delay = DefaultKillDelay
	}
	return sig, delay, nil
}

// specifiers escapes systemd's % specifiers in a value taken literally.
func specifiers(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// systemdQuote is s as one word of ExecStart= or Environment=: % and $
// doubled (specifiers, variable expansion), and in C-style double quotes
// when it holds a space, a quote, a backslash or a semicolon.
func systemdQuote(s string) string {
	s = strings.NewReplacer("%", "%%", "$", "$$").Replace(s)
	if s != "" && !strings.ContainsAny(s, " \t\"'\\;") {
		return s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// The lines a service script prints on stdout before the unit's journal:
// the step it is at, then that the unit was restarted. Everything after
// startedLine is the journal.
const (
	stepPrefix  = "@armbench-service step "
	startedLine = "@armbench-service started"
)

// followOpts is how a service script follows the unit's journal: one
// JSON object a line holding the message and its cursor (and the few
// fields journalctl always adds), so the next cycle goes on right after
// the last line shown, and nothing is lost or shown twice between two.
const followOpts = "-f --no-tail -q -a -o json --output-fields=MESSAGE"

// serviceScript installs unit text as name when it changed (enable and
// reload it then), restarts it, and follows its journal after cursor
// (the last line the previous cycle showed) or, in a session's first
// cycle, from just before the restart, as the program's output. It runs
// on the device in one session, so a redeploy costs one round trip; the
// lines it prints before startedLine say how far it got. Everything is
// quoted.
func serviceScript(p servicePlan, name, text, cursor string) string {
	q := shell.Quote
	user := ""
	if p.Scope == targets.ServiceSystem {
		user = `; printf 'User=%s\n' "$(id -un)"`
	}
	return `u=` + q(name+".service") + `
f=` + p.Dir + `/$u
` + p.env() + `new=$(printf '%s' ` + q(text) + user + `)
if ! printf '%s\n' "$new" | cmp -s - "$f" 2>/dev/null; then
	echo ` + q(stepPrefix+ServiceInstall) + `
	` + p.Sudo + `mkdir -p -- "${f%/*}" || exit 1
	printf '%s\n' "$new" | ` + p.Sudo + `tee "$f.tmp" >/dev/null && ` + p.Sudo + `mv -f -- "$f.tmp" "$f" || exit 1
	echo ` + q(stepPrefix+ServiceEnable) + `
	` + p.Ctl + ` enable -q --no-reload "$u" || exit 1
	` + p.Ctl + ` daemon-reload || exit 1
	echo "armbench: installed $f and enabled it"
fi
echo ` + q(stepPrefix+ServiceRestart) + `
c=` + q(cursor) + `
[ -n "$c" ] || c=$(` + p.journal("-n 1 -q -o cat --show-cursor") + ` 2>/dev/null | sed -n 's/^-- cursor: //p')
t=$(date +%s)
` + p.Ctl + ` restart "$u" || {
	s=$?
	` + p.journal(`--since "@$t" -n 10 -q -o cat --no-pager`) + ` >&2 2>/dev/null
	exit $s
}
echo ` + q(startedLine) + `
if [ -n "$c" ]; then exec ` + p.journal(followOpts+` --after-cursor="$c"`) + `; fi
exec ` + p.journal(followOpts+` --since "@$t"`) + `
`
}

// restartService is restart in service mode: the unit is (re)installed
// and restarted by systemd, and its journal followed until the next
// cycle. The unit outlives the session: that is what it is for. The
// program counts as started once systemd restarted the unit; a failure
// before that is a ServiceError naming the step.
func (s *session) restartService(n int) error {
	svc := *s.o.Plan.Target.Service
	name := unitName(svc, s.o.Name)
	cmd := remote.Command{
		Path: strings.TrimSuffix(s.dev.DeployDir(), "/") + "/" + s.o.Name,
		Args: s.o.Args,
		Env:  s.env.take(s.o.Plan.RunEnvStrings()), // Control's overrides, as Environment= lines
		Stop: s.stopPolicy(),
	}
	text, err := unitFile(svc, cmd, fmt.Sprintf("armbench: %s on %s (profile %s)", s.o.Name, s.o.Plan.Target.Name, s.o.Plan.Profile.Name))
	if err != nil {
		return err
	}
	if s.service == nil {
		// Connect checks the device as it opens it; a device opened some
		// other way is checked here, still before the unit changes.
		st, err := s.checkService(s.ctx, s.dev)
		if err != nil {
			return err
		}
		s.service = st
	}
	s.stopProgram(true) // the journal of the previous cycle; systemd restarts the program itself
	if err := s.ctx.Err(); err != nil {
		return err
	}
	cursor := ""
	if prev := s.service.follow; prev != nil {
		cursor = prev.lastCursor() // its run has ended: nothing moves it now
	}

	ctx, cancel := context.WithCancel(s.ctx)
	h := newHandshake()
	s.service.follow = h
	follow := remote.Command{Path: "/bin/sh", Args: []string{"-c", serviceScript(s.service.plan, name, text, cursor)}}
	go func() {
		st, err := s.dev.Run(ctx, follow, h.event)
		h.finish(st, err)
	}()
	select {
	case <-h.ready:
	case <-h.done:
		cancel()
		if err := s.ctx.Err(); err != nil {
			return err
		}
		step, err := h.failure()
		return s.service.fail(name+".service", step, err)
	}
	s.startProgram(n, cmd, name, func(pctx context.Context, emit func(remote.Event)) (remote.ExitStatus, error) {
		stop := context.AfterFunc(pctx, cancel) // the next restart, or the session's end
		defer stop()
		defer cancel()
		return h.attach(emit)
	})
	return nil
}
