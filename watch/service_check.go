package watch

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"armbench/remote"
	"armbench/targets"
)

// Service mode asks the device, in one round trip once it is connected
// and before anything on it changes, whether the unit can work there:
// systemd, and sudo for a login other than root in system scope; in user
// scope a user manager that answers, lingering, and a journal the login
// can read its units' lines from. What cannot work is an error that says
// what to do; what works only while watch is connected is a warning.

// runtimeDirFallback points systemctl --user at the user's manager when
// the login did not say where it is (no pam_systemd) but lingering
// started one at boot. Without lingering a manager found there belongs
// to another session and stops with it, taking the unit along: then
// there is none.
const runtimeDirFallback = `if [ -z "${XDG_RUNTIME_DIR-}" ] && [ -e "/var/lib/systemd/linger/$(id -un)" ] && [ -S "/run/user/$(id -u)/systemd/private" ]; then export XDG_RUNTIME_DIR="/run/user/$(id -u)"; fi
`

// checkScript prints what the device has, one key=value a line, and
// changes nothing.
func checkScript(scope string) string {
	var b strings.Builder
	b.WriteString(`say() { printf '%s=%s\n' "$1" "$(printf '%s' "$2" | tr '\n' ' ')"; }
uid=$(id -u); user=$(id -un)
say uid "$uid"; say user "$user"
if command -v systemctl >/dev/null 2>&1; then
	say systemctl yes
	say state "$(systemctl is-system-running 2>/dev/null)"
else
	say systemctl no
fi
`)
	if scope == targets.ServiceSystem {
		b.WriteString(`if [ "$uid" != 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then say sudo missing
	elif e=$(sudo -n true 2>&1); then say sudo ok
	else say sudo "${e:-exit status $?}"; fi
fi
`)
		return b.String()
	}
	b.WriteString(runtimeDirFallback)
	b.WriteString(`say runtime_dir "${XDG_RUNTIME_DIR-}"
manager=ok
if ! e=$(systemctl --user show-environment 2>&1 >/dev/null); then manager="${e:-no answer}"; fi
say manager "$manager"
if [ "$(loginctl show-user "$user" -p Linger --value 2>/dev/null)" = yes ] || [ -e "/var/lib/systemd/linger/$user" ]; then say linger yes; else say linger no; fi
pam=no
for f in /lib/*/security/pam_systemd.so /usr/lib/*/security/pam_systemd.so /lib/security/pam_systemd.so /usr/lib/security/pam_systemd.so; do
	if [ -e "$f" ]; then pam=yes; fi
done
say pam_systemd $pam
[ "$manager" = ok ] || exit 0
seen() { "$@" -q -n 1 -o cat --show-cursor _UID="$uid" 2>/dev/null | grep -q '^-- cursor: '; }
if seen journalctl; then say journal ok
elif [ "$uid" != 0 ] && command -v sudo >/dev/null 2>&1 && seen sudo -n journalctl; then say journal sudo
else say journal no; fi
`)
	return b.String()
}

// facts is what checkScript found.
type facts struct {
	UID, User  string
	Systemctl  bool
	State      string // systemctl is-system-running: "offline" when systemd is not PID 1
	Sudo       string // system scope, not root: "ok", "missing" or what sudo -n said
	RuntimeDir string // user scope: XDG_RUNTIME_DIR, after runtimeDirFallback
	Manager    string // user scope: "ok" or what systemctl --user said
	Linger     bool
	PAM        bool   // pam_systemd is installed
	Journal    string // user scope: "ok", "sudo" (readable with sudo -n) or "no"
}

func parseFacts(out []byte) facts {
	var f facts
	for line := range strings.Lines(string(out)) {
		k, v, ok := strings.Cut(strings.TrimRight(line, "\n"), "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "uid":
			f.UID = v
		case "user":
			f.User = v
		case "systemctl":
			f.Systemctl = v == "yes"
		case "state":
			f.State = v
		case "sudo":
			f.Sudo = v
		case "runtime_dir":
			f.RuntimeDir = v
		case "manager":
			f.Manager = v
		case "linger":
			f.Linger = v == "yes"
		case "pam_systemd":
			f.PAM = v == "yes"
		case "journal":
			f.Journal = v
		}
	}
	return f
}

// servicePlan is how the install script reaches systemd on this device.
type servicePlan struct {
	Scope string
	// Sudo prefixes the commands that write the unit file: "sudo -n "
	// in system scope for a login other than root, else "".
	Sudo string
	Ctl  string // systemctl, with --user or sudo -n as needed
	Dir  string // the unit file's directory, as a shell word
	// JournalCmd reads the journal (journalctl, or sudo -n journalctl);
	// JournalMatch selects the unit's lines, "$u" being the unit.
	JournalCmd, JournalMatch string
}

// journal is the journal command with opts, for the unit's lines.
func (p servicePlan) journal(opts string) string {
	return p.JournalCmd + " " + opts + " " + p.JournalMatch
}

// env is what the script sets up before it calls systemctl.
func (p servicePlan) env() string {
	if p.Scope == targets.ServiceSystem {
		return ""
	}
	return runtimeDirFallback
}

// plan is how to run svc on the device these facts describe: the
// problems that stop it (each with what to do), and the warnings of what
// works only while watch is connected.
func (f facts) plan(svc targets.Service) (p servicePlan, warnings, problems []string) {
	who := f.User
	if who == "" {
		who = "the login"
	}
	if f.UID == "" || strings.Trim(f.UID, "0123456789") != "" {
		return p, nil, []string{fmt.Sprintf("the device did not say who the login is (id -u printed %q)", f.UID)}
	}
	noSystemd := `service mode needs systemd (or remove service from this target in targets.toml, and watch runs the program over SSH)`
	switch {
	case !f.Systemctl:
		problems = append(problems, "there is no systemctl: "+noSystemd)
	case f.State == "offline":
		problems = append(problems, "systemd is not running (systemctl is-system-running: offline): "+noSystemd)
	}
	p.Scope = svc.Scope
	if svc.Scope == targets.ServiceSystem {
		p.Dir, p.Ctl, p.JournalCmd = "/etc/systemd/system", "systemctl", "journalctl"
		p.JournalMatch = `-u "$u"`
		if f.UID != "0" {
			p.Sudo, p.Ctl, p.JournalCmd = "sudo -n ", "sudo -n systemctl", "sudo -n journalctl"
			alt := fmt.Sprintf(`log in as root (user = "root" in targets.toml), or set scope = "user" in the target's [target.service] to run it under %s's own systemd`, who)
			switch f.Sudo {
			case "ok":
			case "missing":
				problems = append(problems, fmt.Sprintf("sudo is not installed and %s is not root, so the unit cannot go in /etc/systemd/system: as root, install sudo (apt install sudo) and give %s passwordless sudo, or %s", who, who, alt))
			default:
				problems = append(problems, fmt.Sprintf("sudo -n does not work for %s (%s): give %s passwordless sudo (the line %q in /etc/sudoers.d/%s), or %s", who, f.Sudo, who, who+" ALL=(ALL) NOPASSWD: ALL", who, alt))
			}
		}
		return p, nil, problems
	}

	p.Dir, p.Ctl, p.JournalCmd = `"$HOME/.config/systemd/user"`, "systemctl --user", "journalctl"
	p.JournalMatch = `--user-unit="$u"`
	if !f.Systemctl {
		return p, nil, problems
	}
	if f.Manager != "ok" {
		msg := fmt.Sprintf("no systemd user manager answers for %s (systemctl --user: %s): an SSH login gets one from pam_systemd", who, f.Manager)
		switch {
		case !f.PAM:
			msg += ", which is not installed"
		case f.RuntimeDir == "":
			msg += ", which is installed but gave this login no XDG_RUNTIME_DIR (is UsePAM yes in sshd_config?)"
		}
		msg += "; as root, apt install libpam-systemd dbus and connect again"
		if !f.Linger {
			msg += fmt.Sprintf(", or turn lingering on (loginctl enable-linger %s) to start the manager at boot", who)
		}
		msg += `, or set scope = "system" in the target's [target.service] in targets.toml`
		return p, nil, append(problems, msg)
	}
	if !f.Linger {
		warnings = append(warnings, fmt.Sprintf("lingering is off for %s: the unit runs while watch is connected, and systemd stops it when %s's last session ends; to keep it running after watch: loginctl enable-linger %s (as root)", who, who, who))
	}
	switch f.Journal {
	case "ok":
	case "sudo":
		// The user's units write to a journal only root can read (a
		// volatile journal keeps no per-user files): read it with sudo,
		// matching what --user-unit would for this uid.
		p.JournalCmd = "sudo -n journalctl"
		p.JournalMatch = `_SYSTEMD_USER_UNIT="$u" _UID=` + f.UID + ` + USER_UNIT="$u" _UID=` + f.UID
	default:
		warnings = append(warnings, fmt.Sprintf("%s cannot read the journal its units write to, and sudo -n does not work: the unit runs, but watch cannot show its output; as root, add %s to group systemd-journal (usermod -aG systemd-journal %s) and connect again", who, who, who))
	}
	return p, warnings, problems
}

// serviceState is what the checks found, for the installs that follow.
type serviceState struct {
	target, addr string
	plan         servicePlan
	follow       *handshake // the last cycle's, whose cursor the next one follows from
}

func (st *serviceState) fail(unit, step string, err error) error {
	return &ServiceError{Target: st.target, Addr: st.addr, Unit: unit, Step: step, Err: err}
}

// deviceAddr is user@host[:port] of t, user being the login the device
// reported when the target does not name one.
func deviceAddr(t targets.Target, user string) string {
	if t.User != "" {
		user = t.User
	}
	a := t.Host
	if user != "" {
		a = user + "@" + a
	}
	if t.Port != 0 {
		a += ":" + strconv.Itoa(t.Port)
	}
	return a
}

// checkService runs the checks on dev, reports their warnings and
// returns how to run the unit there, or a ServiceError of ServiceCheck.
func (s *session) checkService(ctx context.Context, dev remote.Device) (*serviceState, error) {
	t := s.o.Plan.Target
	svc := *t.Service
	unit := unitName(svc, s.o.Name) + ".service"
	out, err := dev.Exec(ctx, checkScript(svc.Scope))
	if err != nil {
		return nil, &ServiceError{Target: t.Name, Addr: deviceAddr(t, ""), Unit: unit, Step: ServiceCheck, Err: err}
	}
	f := parseFacts(out)
	st := &serviceState{target: t.Name, addr: deviceAddr(t, f.User)}
	p, warnings, problems := f.plan(svc)
	st.plan = p
	for _, w := range warnings {
		s.emit(Warning{Time: time.Now(), Err: st.fail(unit, ServiceCheck, errors.New(w))})
	}
	if len(problems) > 0 {
		return nil, st.fail(unit, ServiceCheck, errors.New(strings.Join(problems, "; and ")))
	}
	return st, nil
}

// serviceConnect is connect checking, in service mode, that the unit
// can work on the device before the deploy changes anything there. A
// device that fails the checks is closed and the error is Connect's:
// the next change connects and checks again, after the user fixed it.
func (s *session) serviceConnect(connect func(context.Context) (remote.Device, error)) func(context.Context) (remote.Device, error) {
	if s.o.Plan.Target.Service == nil {
		return connect
	}
	return func(ctx context.Context) (remote.Device, error) {
		dev, err := connect(ctx)
		if err != nil {
			return nil, err
		}
		st, err := s.checkService(ctx, dev)
		if err != nil {
			dev.Close()
			return nil, err
		}
		s.service = st
		return dev, nil
	}
}
