package watch

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"armbench/internal/shell"
	"armbench/remote"
	"armbench/targets"
)

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

// serviceScript installs unit text as name when it changed (reload and
// enable it then), restarts it, and follows its journal from just before
// the restart, as the program's output. It runs on the device in one
// session, so a redeploy costs one round trip. Everything is quoted.
func serviceScript(svc targets.Service, name, text string) string {
	q := shell.Quote
	sudo, ctl, dir := "", "systemctl --user", `"$HOME/.config/systemd/user"`
	journal := "journalctl --user"
	user := ""
	if svc.Scope == targets.ServiceSystem {
		sudo, ctl, dir = "sudo -n ", "sudo -n systemctl", "/etc/systemd/system"
		journal = "sudo -n journalctl"
		user = `; printf 'User=%s\n' "$(id -un)"`
	}
	return `u=` + q(name) + `
f=` + dir + `/$u.service
new=$(printf '%s' ` + q(text) + user + `)
if ! printf '%s\n' "$new" | cmp -s - "$f" 2>/dev/null; then
	` + sudo + `mkdir -p -- "${f%/*}" || exit 1
	printf '%s\n' "$new" | ` + sudo + `tee "$f.tmp" >/dev/null && ` + sudo + `mv -f -- "$f.tmp" "$f" || exit 1
	` + ctl + ` daemon-reload || exit 1
	` + ctl + ` enable -q "$u" || exit 1
	echo "armbench: installed $f and enabled it"
fi
` + lingerCheck(svc) + `c=$(` + journal + ` -u "$u" -n 1 -q -o cat --show-cursor 2>/dev/null | sed -n 's/^-- cursor: //p')
` + ctl + ` restart "$u" || exit 1
if [ -n "$c" ]; then exec ` + journal + ` -u "$u" -f -q -o cat --after-cursor="$c"; fi
exec ` + journal + ` -u "$u" -f -q -o cat -n 0
`
}

// lingerCheck warns that a user unit stops at logout unless lingering
// is on for the user, which is the point of service mode.
func lingerCheck(svc targets.Service) string {
	if svc.Scope == targets.ServiceSystem {
		return ""
	}
	return `if [ "$(loginctl show-user "$(id -un)" -p Linger --value 2>/dev/null)" = no ]; then
	echo "armbench: lingering is off for $(id -un): $u stops when you log out (to keep it running: loginctl enable-linger)" >&2
fi
`
}

// restartService is restart in service mode: the unit is (re)installed
// and restarted by systemd, and its journal followed until the next
// cycle. The unit outlives the session: that is what it is for.
func (s *session) restartService(n int) error {
	svc := *s.o.Plan.Target.Service
	name := unitName(svc, s.o.Name)
	cmd := remote.Command{
		Path: strings.TrimSuffix(s.dev.DeployDir(), "/") + "/" + s.o.Name,
		Args: s.o.Args,
		Env:  s.o.Plan.RunEnvStrings(),
		Stop: s.stopPolicy(),
	}
	text, err := unitFile(svc, cmd, fmt.Sprintf("armbench: %s on %s (profile %s)", s.o.Name, s.o.Plan.Target.Name, s.o.Plan.Profile.Name))
	if err != nil {
		return err
	}
	s.stopProgram(true) // the journal of the previous cycle; systemd restarts the program itself
	if err := s.ctx.Err(); err != nil {
		return err
	}
	follow := remote.Command{Path: "/bin/sh", Args: []string{"-c", serviceScript(svc, name, text)}}
	s.startProgram(n, cmd, name, func(ctx context.Context, emit func(remote.Event)) (remote.ExitStatus, error) {
		return s.dev.Run(ctx, follow, emit)
	})
	return nil
}
