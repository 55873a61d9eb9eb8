package watch

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"armbench/internal/testdevice"
	"armbench/internal/testenv"
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

// fakeTools puts systemctl, journalctl and loginctl on PATH that log how
// they were called: systemd cannot run in the test sandbox, but the
// script and its quoting run for real in sh.
func fakeTools(t *testing.T) (logPath string) {
	bin := t.TempDir()
	logPath = filepath.Join(t.TempDir(), "calls")
	tools := map[string]string{
		"systemctl": `echo "systemctl $*" >>"$FAKE_LOG"`,
		"loginctl":  `echo no`,
		"journalctl": `echo "journalctl $*" >>"$FAKE_LOG"
case "$*" in
*--show-cursor*) echo "last line"; echo "-- cursor: s=abc;i=1" ;;
*-f*) echo "hello from the journal" ;;
esac`,
	}
	for name, body := range tools {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_LOG", logPath)
	// A new HOME must not cost a cold build cache.
	goCmd := testenv.Tool(t, "go", "golang-go")
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
		v, err := exec.Command(goCmd, "env", k).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", k, err)
		}
		t.Setenv(k, strings.TrimSpace(string(v)))
	}
	t.Setenv("HOME", t.TempDir())
	return logPath
}

func TestServiceScriptInstallsRestartsAndFollows(t *testing.T) {
	logPath := fakeTools(t)
	svc := targets.Service{Scope: targets.ServiceUser}
	text := "[Service]\nExecStart=/x 'it''s'\n"
	script := serviceScript(svc, "armbench-work_load.v2", text)
	run := func() (string, string) {
		t.Helper()
		cmd := exec.Command("sh", "-c", script)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("script: %v\n%s", err, stderr.String())
		}
		return string(out), stderr.String()
	}
	out, stderr := run()
	unit := filepath.Join(os.Getenv("HOME"), ".config", "systemd", "user", "armbench-work_load.v2.service")
	if b, err := os.ReadFile(unit); err != nil || string(b) != text {
		t.Errorf("unit file %q (%v), want %q", b, err, text)
	}
	if !strings.Contains(out, "hello from the journal") || !strings.Contains(out, "installed") {
		t.Errorf("stdout %q", out)
	}
	if !strings.Contains(stderr, "loginctl enable-linger") {
		t.Errorf("no linger warning: %q", stderr)
	}
	calls, _ := os.ReadFile(logPath)
	want := `systemctl --user daemon-reload
systemctl --user enable -q armbench-work_load.v2
journalctl --user -u armbench-work_load.v2 -n 1 -q -o cat --show-cursor
systemctl --user restart armbench-work_load.v2
journalctl --user -u armbench-work_load.v2 -f -q -o cat --after-cursor=s=abc;i=1
`
	if string(calls) != want {
		t.Errorf("calls:\n%s\nwant:\n%s", calls, want)
	}

	// The same unit again: no reload, just the restart.
	os.Remove(logPath)
	run()
	calls, _ = os.ReadFile(logPath)
	if strings.Contains(string(calls), "daemon-reload") || !strings.Contains(string(calls), "systemctl --user restart armbench-work_load.v2\n") {
		t.Errorf("second run calls:\n%s", calls)
	}
}

func TestServiceScriptSystemScope(t *testing.T) {
	script := serviceScript(targets.Service{Scope: targets.ServiceSystem}, "app", "[Service]\n")
	for _, want := range []string{
		"f=/etc/systemd/system/$u.service",
		`printf 'User=%s\n' "$(id -un)"`,
		"sudo -n systemctl daemon-reload",
		`sudo -n systemctl restart "$u"`,
		`exec sudo -n journalctl -u "$u" -f`,
	} {
		if !strings.Contains(script, want) {
			t.Errorf("system scope script lacks %q:\n%s", want, script)
		}
	}
	if strings.Contains(script, "--user") || strings.Contains(script, "linger") {
		t.Errorf("system scope script uses the user manager:\n%s", script)
	}
	if out, err := exec.Command(testenv.Tool(t, "sh", "dash"), "-n", "-c", script).CombinedOutput(); err != nil {
		t.Errorf("sh -n: %v: %s", err, out)
	}
}

// Service mode end to end over a real sshd: the device's systemctl,
// journalctl and loginctl are the logging stand-ins (sshd's SetEnv puts
// them first on the session's PATH), so what runs for real is armbench's
// side: deploy, the unit written through an SSH session, the restart on
// every cycle and the journal streamed as the program's output.
func TestWatchServiceModeOverSSH(t *testing.T) {
	logPath := fakeTools(t)
	// The stand-in journal follows as journalctl -f does: until stopped.
	bin := filepath.Dir(mustLookPath(t, "journalctl"))
	write(t, filepath.Join(bin, "journalctl"), `#!/bin/sh
echo "journalctl $*" >>"$FAKE_LOG"
case "$*" in
*--show-cursor*) echo "-- cursor: s=abc" ;;
*-f*) echo "journal of $(grep -c restart "$FAKE_LOG") restarts"; exec sleep 1000 ;;
esac
`)
	home := os.Getenv("HOME")
	td := testdevice.Start(t, testdevice.WithConfig("SetEnv SHLVL=1 PATH="+os.Getenv("PATH")+" HOME="+home+" FAKE_LOG="+logPath))
	td.Target.Runner = "" // systemd runs the program on a real device; here nothing does
	td.Target.Service = &targets.Service{Scope: targets.ServiceUser}
	dir := module(t, "v1")
	o := remote.Options{NoAgent: true, NoDefaultKeys: true}
	plan := planFor(t, td.Target, dir)
	s := start(t, Options{
		Plan:     plan,
		Connect:  func(ctx context.Context) (remote.Device, error) { return remote.Open(ctx, td.Target, o) },
		Args:     []string{"-port", "8080"},
		Debounce: 50 * time.Millisecond,
	})
	i := s.output(0, "journal of 1 restarts")
	unit := "armbench-" + plan.DeployName()
	st := s.at(s.waitFor(0, "Started", func(e Event) bool { _, ok := e.(Started); return ok })).(Started)
	if st.Service != unit {
		t.Errorf("Started %+v, want unit %s", st, unit)
	}
	b, err := os.ReadFile(filepath.Join(home, ".config", "systemd", "user", unit+".service"))
	if err != nil || !strings.Contains(string(b), "ExecStart="+td.Target.DeployDir+"/"+plan.DeployName()+" -port 8080\n") ||
		!strings.Contains(string(b), "Environment=GOGC=200\n") {
		t.Errorf("unit file (%v):\n%s", err, b)
	}

	write(t, filepath.Join(dir, "main.go"), serverSource("v2"))
	s.output(i, "journal of 2 restarts")
	calls, _ := os.ReadFile(logPath)
	if n := strings.Count(string(calls), "systemctl --user restart "+unit+"\n"); n != 2 {
		t.Errorf("%d restarts, want 2:\n%s", n, calls)
	}
	if n := strings.Count(string(calls), "daemon-reload"); n != 1 {
		t.Errorf("%d daemon-reloads, want 1 (the unit did not change):\n%s", n, calls)
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
