package watch

import (
	"cmp"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"armbench/internal/shell"
	"armbench/internal/testdevice"
	"armbench/internal/testenv"
	"armbench/profiles"
	"armbench/remote"
	"armbench/targets"
)

// The unit of a program whose path, arguments and environment hold
// everything systemd or sh would otherwise interpret.
func TestUnitFile(t *testing.T) {
	cmd := remote.Command{
		Path: "/home/pi/arm bench/work%load",
		Args: []string{"-addr", ":8080", "a b", `say "hi"`, "$HOME", "50%", `back\slash`, ";"},
		Env:  []string{"GOGC=200", "GODEBUG=a=1,b=2", "MSG=two words"},
		Stop: remote.StopPolicy{Signal: "INT", KillDelay: 1500 * time.Millisecond},
	}
	got, err := unitFile(targets.Service{Scope: targets.ServiceUser}, cmd, "armbench: work%load on pi4 (profile release)")
	if err != nil {
		t.Fatal(err)
	}
	want := `# Written by armbench watch, again on every watch: edit targets.toml, not this file.
[Unit]
Description=armbench: work%%load on pi4 (profile release)

[Install]
WantedBy=default.target

[Service]
Type=exec
WorkingDirectory=/home/pi/arm bench
Environment=GOGC=200
Environment=GODEBUG=a=1,b=2
Environment="MSG=two words"
ExecStart="/home/pi/arm bench/work%%load" -addr :8080 "a b" "say \"hi\"" $$HOME 50%% "back\\slash" ";"
KillSignal=SIGINT
TimeoutStopSec=1500ms
Restart=on-failure
RestartSec=1s
`
	if got != want {
		t.Errorf("unit:\n%s\nwant:\n%s", got, want)
	}
	sys, err := unitFile(targets.Service{Scope: targets.ServiceSystem}, remote.Command{Path: "/opt/app"}, "d")
	if err != nil || !strings.Contains(sys, "WantedBy=multi-user.target") || !strings.Contains(sys, "After=network-online.target") ||
		!strings.Contains(sys, "KillSignal=SIGINT\nTimeoutStopSec=2000ms") || !strings.HasSuffix(sys, "RestartSec=1s\n") {
		t.Errorf("system unit (%v):\n%s", err, sys)
	}
	if _, err := unitFile(targets.Service{}, remote.Command{Path: "/x", Args: []string{"two\nlines"}}, "d"); err == nil {
		t.Error("a line break in an argument: no error")
	}
}

// standIn is a device's systemd as stand-in tools play it: systemd
// cannot run in the test sandbox, but every script armbench sends runs
// for real in sh against these.
type standIn struct {
	uid, user string // what id says; "" = 1000 and pi
	sudo      string // "" = not installed, "ok" = passwordless, else what sudo -n says as it refuses
	offline   bool   // systemd is not PID 1
	manager   string // what systemctl --user says when no user manager answers; "" = one does
	linger    bool
	journal   string // "" = the login reads its units' lines, "sudo" = only root does
	fail      string // a systemctl verb that fails, such as "daemon-reload" or "restart"
	forever   bool   // journalctl -f follows until stopped, as the real one does
}

// tools writes the stand-ins into a new directory, with links to the few
// real tools the scripts use (so a PATH of that directory alone is a
// device without sudo), and returns it with the file the stand-ins log
// their calls to.
func (d standIn) tools(t *testing.T) (bin, logPath string) {
	t.Helper()
	bin = t.TempDir()
	logPath = filepath.Join(t.TempDir(), "calls")
	q := shell.Quote
	uid, user := cmp.Or(d.uid, "1000"), cmp.Or(d.user, "pi")
	state := "running"
	if d.offline {
		state = "offline"
	}
	linger := "no"
	if d.linger {
		linger = "yes"
	}
	gate := ""
	if d.journal == "sudo" {
		gate = `[ -n "${FAKE_SUDOED-}" ] || exit 0` // -q: the real one says nothing either
	}
	follow := ""
	if d.forever {
		follow = "; exec sleep 1000"
	}
	tools := map[string]string{
		"id": `case "$1" in -u) echo ` + q(uid) + ` ;; -un) echo ` + q(user) + ` ;; esac`,
		"systemctl": `case " $* " in
*" is-system-running "*) echo ` + state + `; exit 0 ;;
*" show-environment "*) if [ -n ` + q(d.manager) + ` ]; then echo ` + q(d.manager) + ` >&2; exit 1; fi; echo HOME=/; exit 0 ;;
esac
echo "systemctl $*" >>` + q(logPath) + `
case " $* " in *" ` + cmp.Or(d.fail, "-") + ` "*) echo "systemctl $*: the stand-in fails" >&2; exit 1 ;; esac`,
		"loginctl": `echo ` + linger,
		"journalctl": `echo "journalctl $*" >>` + q(logPath) + `
` + gate + `
case " $* " in
*--show-cursor*) echo "last line"; echo "-- cursor: s=abc;i=1" ;;
*" -f "*) n=$(grep -c ' restart ' ` + q(logPath) + `); echo "{\"__CURSOR\":\"follow-$n\",\"MESSAGE\":\"journal of $n restarts\"}"` + follow + ` ;;
*) echo "the unit's last line" ;;
esac`,
	}
	switch d.sudo {
	case "":
	case "ok":
		tools["sudo"] = `echo "sudo $*" >>` + q(logPath) + `
[ "$1" = -n ] && shift
FAKE_SUDOED=1 exec "$@"`
	default:
		tools["sudo"] = `echo ` + q(d.sudo) + ` >&2; exit 1`
	}
	for name, body := range tools {
		write(t, filepath.Join(bin, name), "#!/bin/sh\n"+body+"\n")
		if err := os.Chmod(filepath.Join(bin, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"tr", "grep", "sed", "cmp", "tee", "mv", "mkdir", "date", "cat", "sleep", "head", "true"} {
		if err := os.Symlink(mustLookPath(t, name), filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	return bin, logPath
}

// sh runs script with PATH the stand-ins alone and HOME home.
func sh(t *testing.T, bin, home, script string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(testenv.Tool(t, "sh", "dash"), "-c", script)
	cmd.Env = []string{"PATH=" + bin, "HOME=" + home}
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// checkOn runs the checks of scope on d.
func checkOn(t *testing.T, d standIn, scope string) (servicePlan, []string, []string) {
	t.Helper()
	bin, _ := d.tools(t)
	out, stderr, code := sh(t, bin, t.TempDir(), checkScript(scope))
	if code != 0 {
		t.Fatalf("check script: exit %d: %s", code, stderr)
	}
	return parseFacts([]byte(out)).plan(targets.Service{Scope: scope})
}

// Every row of issue 17's table, and the ways around them, as the checks
// see them: what stops service mode is a problem that says what to do,
// what works only while watch is connected a warning.
func TestServiceChecks(t *testing.T) {
	user, system := targets.ServiceUser, targets.ServiceSystem
	for _, c := range []struct {
		name     string
		scope    string
		dev      standIn
		problems []string // what the one problem says
		warnings []string // what the one warning says
		sudo     string   // servicePlan.Sudo
		journal  string   // servicePlan.journal("-f")
	}{
		{name: "pi, sudo, lingering on, user scope", scope: user, dev: standIn{sudo: "ok", linger: true},
			journal: `journalctl -f --user-unit="$u"`},
		{name: "pi, system scope", scope: system, dev: standIn{sudo: "ok"},
			sudo: "sudo -n ", journal: `sudo -n journalctl -f -u "$u"`},
		{name: "root without sudo, system scope", scope: system, dev: standIn{uid: "0", user: "root"},
			journal: `journalctl -f -u "$u"`},
		{name: "pi without sudo, system scope", scope: system, dev: standIn{},
			problems: []string{"sudo is not installed and pi is not root", "apt install sudo", `user = "root"`, `scope = "user"`}},
		{name: "pi, sudo asks for a password, system scope", scope: system, dev: standIn{sudo: "sudo: a password is required"},
			problems: []string{"sudo -n does not work for pi (sudo: a password is required)", "pi ALL=(ALL) NOPASSWD: ALL", `scope = "user"`}},
		{name: "root, lingering off, user scope", scope: user, dev: standIn{uid: "0", user: "root"},
			warnings: []string{"lingering is off for root", "runs while watch is connected", "loginctl enable-linger root"},
			journal:  `journalctl -f --user-unit="$u"`},
		{name: "root, no user manager, user scope", scope: user, dev: standIn{uid: "0", user: "root", manager: "Failed to connect to bus: No medium found"},
			problems: []string{"no systemd user manager answers for root (systemctl --user: Failed to connect to bus: No medium found)",
				"apt install libpam-systemd dbus", "loginctl enable-linger root", `scope = "system"`}},
		{name: "pi, a journal only root reads, user scope", scope: user, dev: standIn{sudo: "ok", linger: true, journal: "sudo"},
			journal: `sudo -n journalctl -f _SYSTEMD_USER_UNIT="$u" _UID=1000 + USER_UNIT="$u" _UID=1000`},
		{name: "pi, a journal only root reads, no sudo, user scope", scope: user, dev: standIn{linger: true, journal: "sudo"},
			warnings: []string{"pi cannot read the journal", "usermod -aG systemd-journal pi"},
			journal:  `journalctl -f --user-unit="$u"`},
		{name: "no systemd, system scope", scope: system, dev: standIn{uid: "0", user: "root", offline: true},
			problems: []string{"systemd is not running", "remove service from this target"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, warnings, problems := checkOn(t, c.dev, c.scope)
			match := func(what string, got []string, want []string) {
				t.Helper()
				if len(want) == 0 {
					if len(got) != 0 {
						t.Errorf("%s: %q, want none", what, got)
					}
					return
				}
				if len(got) != 1 {
					t.Fatalf("%s: %q, want one", what, got)
				}
				for _, w := range want {
					if !strings.Contains(got[0], w) {
						t.Errorf("%s %q lacks %q", what, got[0], w)
					}
				}
			}
			match("problems", problems, c.problems)
			match("warnings", warnings, c.warnings)
			if len(problems) > 0 {
				return
			}
			if p.Sudo != c.sudo {
				t.Errorf("sudo %q, want %q", p.Sudo, c.sudo)
			}
			if got := p.journal("-f"); got != c.journal {
				t.Errorf("journal %q, want %q", got, c.journal)
			}
		})
	}
}

func TestParseFactsRejectsNoUID(t *testing.T) {
	_, _, problems := parseFacts([]byte("user=pi\nsystemctl=yes\n")).plan(targets.Service{Scope: targets.ServiceUser})
	if len(problems) != 1 || !strings.Contains(problems[0], "id -u") {
		t.Errorf("problems %q", problems)
	}
}

// planOn is the plan the checks make on d, which must have no problem.
func planOn(t *testing.T, d standIn, scope string) servicePlan {
	t.Helper()
	p, _, problems := checkOn(t, d, scope)
	if len(problems) > 0 {
		t.Fatalf("problems: %q", problems)
	}
	return p
}

func TestServiceScriptInstallsRestartsAndFollows(t *testing.T) {
	d := standIn{sudo: "ok", linger: true}
	bin, logPath := d.tools(t)
	home := t.TempDir()
	text := "[Service]\nExecStart=/x 'it''s'\n"
	p := planOn(t, d, targets.ServiceUser)
	out, stderr, code := sh(t, bin, home, serviceScript(p, "armbench-work_load.v2", text, ""))
	if code != 0 {
		t.Fatalf("script: exit %d: %s", code, stderr)
	}
	unit := filepath.Join(home, ".config", "systemd", "user", "armbench-work_load.v2.service")
	if b, err := os.ReadFile(unit); err != nil || string(b) != text {
		t.Errorf("unit file %q (%v), want %q", b, err, text)
	}
	wantOut := stepPrefix + "install\n" + stepPrefix + "enable\narmbench: installed " + unit + " and enabled it\n" +
		stepPrefix + "restart\n" + startedLine + "\n" + `{"__CURSOR":"follow-1","MESSAGE":"journal of 1 restarts"}` + "\n"
	if out != wantOut {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, wantOut)
	}
	calls, _ := os.ReadFile(logPath)
	want := `systemctl --user enable -q --no-reload armbench-work_load.v2.service
systemctl --user daemon-reload
journalctl -n 1 -q -o cat --show-cursor --user-unit=armbench-work_load.v2.service
systemctl --user restart armbench-work_load.v2.service
journalctl -f --no-tail -q -a -o json --output-fields=MESSAGE --after-cursor=s=abc;i=1 --user-unit=armbench-work_load.v2.service
`
	if string(calls) != want {
		t.Errorf("calls:\n%s\nwant:\n%s", calls, want)
	}

	// The same unit again, after the last line the first follow showed:
	// no install, no reload, the restart, and the journal from there on.
	os.Remove(logPath)
	out, _, _ = sh(t, bin, home, serviceScript(p, "armbench-work_load.v2", text, "follow-1"))
	calls, _ = os.ReadFile(logPath)
	want = `systemctl --user restart armbench-work_load.v2.service
journalctl -f --no-tail -q -a -o json --output-fields=MESSAGE --after-cursor=follow-1 --user-unit=armbench-work_load.v2.service
`
	if string(calls) != want {
		t.Errorf("second run calls:\n%s\nwant:\n%s", calls, want)
	}
	if strings.Contains(out, "install") || !strings.HasPrefix(out, stepPrefix+"restart\n"+startedLine+"\n") {
		t.Errorf("second run stdout:\n%s", out)
	}
}

// In system scope root writes the unit and runs systemctl itself: a
// board without sudo works; any other login goes through sudo -n.
func TestServiceScriptSystemScope(t *testing.T) {
	for _, c := range []struct {
		dev  standIn
		sudo bool
	}{
		{standIn{uid: "0", user: "root"}, false},
		{standIn{sudo: "ok"}, true},
	} {
		t.Run(cmp.Or(c.dev.user, "pi"), func(t *testing.T) {
			bin, logPath := c.dev.tools(t)
			p := planOn(t, c.dev, targets.ServiceSystem)
			if p.Dir != "/etc/systemd/system" {
				t.Errorf("unit directory %q", p.Dir)
			}
			p.Dir = t.TempDir() // not this machine's
			out, stderr, code := sh(t, bin, t.TempDir(), serviceScript(p, "app", "[Service]\n", ""))
			if code != 0 || !strings.Contains(out, startedLine+"\n") {
				t.Fatalf("script: exit %d\n%s\n%s", code, out, stderr)
			}
			who := cmp.Or(c.dev.user, "pi")
			if b, err := os.ReadFile(filepath.Join(p.Dir, "app.service")); err != nil || string(b) != "[Service]\nUser="+who+"\n" {
				t.Errorf("unit file %q (%v)", b, err)
			}
			calls, _ := os.ReadFile(logPath)
			for _, want := range []string{"systemctl daemon-reload\n", "systemctl enable -q --no-reload app.service\n", "systemctl restart app.service\n", "journalctl " + followOpts + " --after-cursor=s=abc;i=1 -u app.service\n"} {
				if c.sudo {
					want = "sudo -n " + want
				}
				if !strings.Contains(string(calls), want) {
					t.Errorf("no call %q:\n%s", want, calls)
				}
			}
			if strings.Contains(string(calls), "--user") || strings.Contains(string(calls), "sudo") != c.sudo {
				t.Errorf("calls (sudo %v):\n%s", c.sudo, calls)
			}
		})
	}
}

// A unit that fails to install or restart is the script's failure, at a
// named step, with what systemctl said: the handshake never starts the
// program.
func TestServiceScriptFailures(t *testing.T) {
	for _, c := range []struct {
		fail, step string
		want       []string
	}{
		{"daemon-reload", ServiceEnable, []string{"systemctl --user daemon-reload: the stand-in fails"}},
		{"restart", ServiceRestart, []string{"systemctl --user restart u.service: the stand-in fails", "the unit's last line"}},
	} {
		t.Run(c.fail, func(t *testing.T) {
			d := standIn{linger: true, fail: c.fail}
			bin, _ := d.tools(t)
			out, stderr, code := sh(t, bin, t.TempDir(), serviceScript(planOn(t, d, targets.ServiceUser), "u", "[Service]\n", ""))
			if code == 0 {
				t.Fatalf("exit 0:\n%s", out)
			}
			h := newHandshake()
			for line := range strings.Lines(out) {
				h.event(remote.Output{Text: strings.TrimSuffix(line, "\n")})
			}
			for line := range strings.Lines(stderr) {
				h.event(remote.Output{Stderr: true, Text: strings.TrimSuffix(line, "\n")})
			}
			h.finish(remote.ExitStatus{Code: code}, nil)
			select {
			case <-h.ready:
				t.Fatalf("started:\n%s", out)
			default:
			}
			step, err := h.failure()
			if step != c.step || err == nil {
				t.Fatalf("step %q, err %v; want step %q", step, err, c.step)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
		})
	}
}

func TestHandshake(t *testing.T) {
	out := func(s string) remote.Event { return remote.Output{Text: s} }
	h := newHandshake()
	h.event(out(stepPrefix + "install"))
	h.event(out("armbench: installed it"))
	h.event(out(startedLine))
	h.event(out(`{"__CURSOR":"c1","MESSAGE":"first journal line"}`))
	h.event(out(`{"__CURSOR":"c2","MESSAGE":[104,105,255]}`)) // not UTF-8
	h.event(out(`{"__CURSOR":"c3","MESSAGE":"two\nlines"}`))
	h.event(out(`{"__CURSOR":"c4","MESSAGE":null}`))
	<-h.ready
	var got []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		st, err := h.attach(func(ev remote.Event) { got = append(got, ev.(remote.Output).Text) })
		if st.Code != 3 || err != nil {
			t.Errorf("attach: %+v, %v", st, err)
		}
	}()
	for { // attach has taken over once the buffered lines are gone
		h.mu.Lock()
		attached := h.sink != nil
		h.mu.Unlock()
		if attached {
			break
		}
		time.Sleep(time.Millisecond)
	}
	h.event(out(stepPrefix + "restart")) // journal text now, not a step
	h.event(out(`{"__CURSOR":"c5","MESSAGE":["a","b"]}`))
	h.event(remote.Output{Stderr: true, Text: "Failed to follow"})
	h.finish(remote.ExitStatus{Code: 3}, nil)
	<-done
	want := []string{"armbench: installed it", "first journal line", "hi\uFFFD", "two", "lines", stepPrefix + "restart", "a", "b", "Failed to follow"}
	if !slices.Equal(got, want) {
		t.Errorf("emitted %q, want %q", got, want)
	}
	if c := h.lastCursor(); c != "c5" {
		t.Errorf("cursor %q, want c5", c)
	}

	h = newHandshake()
	h.event(out(stepPrefix + "enable"))
	h.finish(remote.ExitStatus{Code: 1}, errors.New("link down"))
	if step, err := h.failure(); step != ServiceEnable || err == nil || err.Error() != "link down" {
		t.Errorf("failure: %q, %v", step, err)
	}
}

// deviceWith is a test device whose sessions find d's stand-ins first on
// PATH (sshd's SetEnv), with a HOME of their own.
func deviceWith(t *testing.T, d standIn) (td *testdevice.Device, home, logPath string) {
	bin, logPath := d.tools(t)
	// A new HOME must not cost a cold build cache.
	goCmd := testenv.Tool(t, "go", "golang-go")
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
		v, err := exec.Command(goCmd, "env", k).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", k, err)
		}
		t.Setenv(k, strings.TrimSpace(string(v)))
	}
	home = t.TempDir()
	t.Setenv("HOME", home)
	td = testdevice.Start(t, testdevice.WithConfig("SetEnv SHLVL=1 PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH")+" HOME="+home))
	td.Target.Runner = "" // systemd runs the program on a real device; here nothing does
	td.Target.Service = &targets.Service{Scope: targets.ServiceUser}
	return td, home, logPath
}

func serviceSession(t *testing.T, td *testdevice.Device, dir string) (*testSession, profiles.Plan) {
	o := remote.Options{NoAgent: true, NoDefaultKeys: true}
	plan := planFor(t, td.Target, dir)
	return start(t, Options{
		Plan:     plan,
		Connect:  func(ctx context.Context) (remote.Device, error) { return remote.Open(ctx, td.Target, o) },
		Args:     []string{"-port", "8080"},
		Debounce: 50 * time.Millisecond,
	}), plan
}

// Service mode end to end over a real sshd: the device's systemctl,
// journalctl and loginctl are the logging stand-ins, so what runs for
// real is armbench's side: the checks, deploy, the unit written through
// an SSH session, the restart on every cycle and the journal streamed as
// the program's output.
func TestWatchServiceModeOverSSH(t *testing.T) {
	td, home, logPath := deviceWith(t, standIn{uid: "0", user: "root", forever: true})
	dir := module(t, "v1")
	s, plan := serviceSession(t, td, dir)
	i := s.output(0, "journal of 1 restarts")
	unit := "armbench-" + plan.DeployName()
	st := s.at(s.waitFor(0, "Started", func(e Event) bool { _, ok := e.(Started); return ok })).(Started)
	if st.Service != unit {
		t.Errorf("Started %+v, want unit %s", st, unit)
	}
	// Lingering is off: a warning of the checks, naming the host.
	w := s.at(s.waitFor(0, "the lingering warning", func(e Event) bool { _, ok := e.(Warning); return ok })).(Warning)
	var se *ServiceError
	if !errors.As(w.Err, &se) || se.Step != ServiceCheck || !strings.Contains(w.Err.Error(), "root@127.0.0.1:") ||
		!strings.Contains(w.Err.Error(), "loginctl enable-linger root") {
		t.Errorf("warning: %v", w.Err)
	}
	b, err := os.ReadFile(filepath.Join(home, ".config", "systemd", "user", unit+".service"))
	if err != nil || !strings.Contains(string(b), "ExecStart="+td.Target.DeployDir+"/"+plan.DeployName()+" -port 8080\n") ||
		!strings.Contains(string(b), "Environment=GOGC=200\n") {
		t.Errorf("unit file (%v):\n%s", err, b)
	}
	s.output(0, "armbench: installed") // what the install said reaches the run pane

	write(t, filepath.Join(dir, "main.go"), serverSource("v2"))
	s.output(i, "journal of 2 restarts")
	calls, _ := os.ReadFile(logPath)
	if n := strings.Count(string(calls), "systemctl --user restart "+unit+".service\n"); n != 2 {
		t.Errorf("%d restarts, want 2:\n%s", n, calls)
	}
	if n := strings.Count(string(calls), "daemon-reload"); n != 1 {
		t.Errorf("%d daemon-reloads, want 1 (the unit did not change):\n%s", n, calls)
	}
	if !strings.Contains(string(calls), "--after-cursor=follow-1 ") {
		t.Errorf("the second cycle does not follow on from the first's last line:\n%s", calls)
	}
	for _, e := range s.snapshot() {
		if f, ok := e.(Failed); ok {
			t.Errorf("failed: %+v", f)
		}
	}
}

// A device where the unit cannot work is found out before anything on
// it changes: a Failed cycle of StageService that says what to do, no
// deploy, no program "exited".
func TestWatchServiceModeChecksBeforeDeploy(t *testing.T) {
	td, _, logPath := deviceWith(t, standIn{uid: "0", user: "root", manager: "Failed to connect to bus: No medium found"})
	s, plan := serviceSession(t, td, module(t, "v1"))
	f := s.at(s.waitFor(0, "Failed", func(e Event) bool { _, ok := e.(Failed); return ok })).(Failed)
	var se *ServiceError
	if f.Stage != StageService || !errors.As(f.Err, &se) || se.Step != ServiceCheck {
		t.Fatalf("failed: %+v", f)
	}
	for _, w := range []string{"service mode on " + td.Target.Name + " (root@127.0.0.1:", "No medium found", "apt install libpam-systemd dbus"} {
		if !strings.Contains(f.Err.Error(), w) {
			t.Errorf("%q lacks %q", f.Err, w)
		}
	}
	for _, e := range s.snapshot() {
		switch e.(type) {
		case Deploy, Deployed, Started, Exited:
			t.Errorf("%T %+v after a failed check", e, e)
		}
	}
	if _, err := os.Stat(filepath.Join(td.Target.DeployDir, plan.DeployName())); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the binary was deployed (%v)", err)
	}
	if calls, _ := os.ReadFile(logPath); strings.Contains(string(calls), "systemctl") {
		t.Errorf("systemd was asked to change something:\n%s", calls)
	}
}

// A unit that systemd will not restart is an error of watch at the
// restart step, with systemctl's words, not a program that exited.
func TestWatchServiceModeRestartFails(t *testing.T) {
	td, _, _ := deviceWith(t, standIn{uid: "0", user: "root", linger: true, fail: "restart"})
	s, plan := serviceSession(t, td, module(t, "v1"))
	f := s.at(s.waitFor(0, "Failed", func(e Event) bool { _, ok := e.(Failed); return ok })).(Failed)
	var se *ServiceError
	if f.Stage != StageService || !errors.As(f.Err, &se) || se.Step != ServiceRestart || se.Unit != "armbench-"+plan.DeployName()+".service" {
		t.Fatalf("failed: %+v", f)
	}
	if !strings.Contains(f.Err.Error(), "the stand-in fails") || !strings.Contains(f.Err.Error(), "the unit's last line") {
		t.Errorf("error %q lacks what systemctl and the journal said", f.Err)
	}
	for _, e := range s.snapshot() {
		switch e.(type) {
		case Started, Exited, Warning:
			t.Errorf("%T %+v", e, e)
		}
	}
}

func mustLookPath(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
