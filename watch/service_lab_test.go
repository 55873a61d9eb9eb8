package watch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"armbench/internal/lab"
	"armbench/remote"
	"armbench/targets"
)

// Service mode on real systemd: every row of issue 17's table, on a
// Debian 12 board of each lab architecture (its own kernel, systemd,
// logind, journald and OpenSSH), with a program that runs until it is
// stopped. Where the unit can work its output must reach watch, through
// a restart too; where it cannot, watch must say so before it deploys.
func TestServiceModeLab(t *testing.T) {
	lab.Needs(t)
	for _, arch := range lab.Arches() {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			m := bootBoard(t, arch)
			b := &labBoard{m: m}
			t.Cleanup(func() {
				if t.Failed() {
					console, _ := os.ReadFile(m.Console())
					lines := strings.Split(string(console), "\n")
					t.Logf("console of the %s board:\n%s", m.Image.Arch, strings.Join(lines[max(0, len(lines)-60):], "\n"))
				}
			})
			// The image is Raspberry Pi OS Lite's setup: lingering on for
			// pi, off for root.
			b.root(t, `loginctl disable-linger root`)

			t.Run("pi/user/lingering on", func(t *testing.T) {
				b.works(t, "pi", targets.ServiceUser, nil)
			})
			t.Run("pi/system", func(t *testing.T) {
				b.works(t, "pi", targets.ServiceSystem, func(unit string) {
					if who := b.root(t, `systemctl show -p User --value `+unit); strings.TrimSpace(who) != "pi" {
						t.Errorf("the system unit runs as %q, want pi", who)
					}
				})
			})
			t.Run("root/system/no sudo", func(t *testing.T) {
				b.without(t, "sudo", `mv /usr/bin/sudo /usr/bin/sudo.armbench-off`, `mv /usr/bin/sudo.armbench-off /usr/bin/sudo`)
				b.works(t, "root", targets.ServiceSystem, nil)
			})
			t.Run("pi/system/no sudo", func(t *testing.T) {
				b.without(t, "sudo", `mv /usr/bin/sudo /usr/bin/sudo.armbench-off`, `mv /usr/bin/sudo.armbench-off /usr/bin/sudo`)
				b.fails(t, "pi", targets.ServiceSystem, "sudo is not installed and pi is not root", "apt install sudo", `scope = "user"`)
			})
			t.Run("root/user/lingering off", func(t *testing.T) {
				w := b.works(t, "root", targets.ServiceUser, nil)
				if !strings.Contains(w, "lingering is off for root") || !strings.Contains(w, "loginctl enable-linger root") {
					t.Errorf("no lingering warning, warnings: %q", w)
				}
			})
			t.Run("root/user/no user manager", func(t *testing.T) {
				// libpam-systemd gone: an SSH login starts no manager. The
				// module is moved aside (the board has no network to put the
				// package back), and root's manager of earlier logins stopped.
				b.without(t, "pam_systemd",
					`for f in /lib/*/security/pam_systemd.so; do mv "$f" "$f.armbench-off"; done; systemctl stop user@0.service`,
					`for f in /lib/*/security/pam_systemd.so.armbench-off; do mv "$f" "${f%.armbench-off}"; done`)
				b.fails(t, "root", targets.ServiceUser, "no systemd user manager answers for root", "apt install libpam-systemd dbus", `scope = "system"`)
			})
		})
	}
}

// bootBoard boots a board of arch (building its image unless it is
// cached) on an overlay of its own, and powers it off when t ends.
func bootBoard(t *testing.T, arch string) *lab.Machine {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	img, err := lab.BuildImage(ctx, arch, func(line string) { t.Log(line) })
	if err != nil {
		t.Fatal(err)
	}
	m, err := lab.New(img, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := m.Boot(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("lab %s: booted in %v", arch, time.Since(start).Round(time.Second))
	t.Cleanup(func() { m.Shutdown(context.Background()) })
	return m
}

// labBoard is one lab machine the rows of the table run on, in turn.
type labBoard struct {
	m *lab.Machine
	n int // rows so far, for unit names of their own
}

// root runs script on the board as root and returns its output.
func (b *labBoard) root(t *testing.T, script string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := b.m.Run(ctx, "root", script)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// without takes something away from the board for the rest of t.
func (b *labBoard) without(t *testing.T, what, remove, restore string) {
	t.Helper()
	b.root(t, remove)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if _, err := b.m.Run(ctx, "root", restore); err != nil {
			t.Errorf("put %s back: %v", what, err)
		}
	})
}

// session starts watch in service mode on the board as user, with a
// unit of the row's own, and returns it with the unit's name.
func (b *labBoard) session(t *testing.T, user, scope string) (*testSession, string, string) {
	t.Helper()
	b.n++
	unit := fmt.Sprintf("armbench-lab-%d", b.n)
	name := "lab-" + b.m.Image.Arch
	cfg, err := targets.Parse("lab.toml", []byte(b.m.TargetTOML(name, user)+
		fmt.Sprintf("service = { unit = %q, scope = %q }\n", unit, scope)))
	if err != nil {
		t.Fatal(err)
	}
	target := cfg.Targets[0]
	dir := module(t, "v1")
	o := remote.Options{NoAgent: true, NoDefaultKeys: true}
	s := start(t, Options{
		Plan:     planFor(t, target, dir),
		Connect:  func(ctx context.Context) (remote.Device, error) { return remote.Open(ctx, target, o) },
		Args:     []string{"-port", "8080"},
		Debounce: 50 * time.Millisecond,
	})
	t.Cleanup(func() {
		s.stop()
		// The unit outlives watch, as it should: take it away, so the
		// next rows start from a board without it.
		script := "systemctl disable --now " + unit + ".service; rm -f /etc/systemd/system/" + unit + ".service; systemctl daemon-reload"
		if scope == targets.ServiceUser {
			script = "systemctl --user -M " + user + "@.host disable --now " + unit + ".service; " +
				"rm -f ~" + user + "/.config/systemd/user/" + unit + ".service ~" + user + "/.config/systemd/user/default.target.wants/" + unit + ".service"
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		b.m.Run(ctx, "root", "{ "+script+"; } >/dev/null 2>&1; true")
	})
	return s, dir, unit
}

// works runs a row where the unit must work: the program's output
// reaches watch, and after a save the new program's too, with the old
// one's goodbye (systemd stopped it with SIGINT). It returns the
// session's warnings.
func (b *labBoard) works(t *testing.T, user, scope string, check func(unit string)) string {
	s, dir, unit := b.session(t, user, scope)
	i := labOutput(t, s, 0, "hello v1 [-port 8080] 200")
	if st := s.at(labWait(t, s, 0, "Started", func(e Event) bool { _, ok := e.(Started); return ok })).(Started); st.Service != unit {
		t.Errorf("Started %+v, want unit %s", st, unit)
	}
	if check != nil {
		check(unit)
	}
	write(t, filepath.Join(dir, "main.go"), serverSource("v2"))
	labOutput(t, s, i, "stopped v1")
	labOutput(t, s, i, "hello v2 [-port 8080] 200")
	var warnings []string
	for _, e := range s.snapshot() {
		switch e := e.(type) {
		case Failed:
			t.Errorf("cycle %d failed at %s: %v", e.Cycle, e.Stage, e.Err)
		case Exited:
			if !e.Stopped || e.Err != nil { // a follow ends when the next cycle restarts the unit
				t.Errorf("cycle %d: the journal's follow ended by itself: %+v", e.Cycle, e)
			}
		case Warning:
			warnings = append(warnings, e.Err.Error())
		}
	}
	t.Logf("%s, %s scope: warnings %q", user, scope, warnings)
	return strings.Join(warnings, "\n")
}

// fails runs a row where the unit cannot work: watch says so, with the
// host, the step and what to do, before it deploys anything.
func (b *labBoard) fails(t *testing.T, user, scope string, want ...string) {
	s, _, _ := b.session(t, user, scope)
	f := s.at(labWait(t, s, 0, "Failed", func(e Event) bool { _, ok := e.(Failed); return ok })).(Failed)
	var se *ServiceError
	if f.Stage != StageService || !errors.As(f.Err, &se) || se.Step != ServiceCheck {
		t.Fatalf("failed at %s: %v; want a check of service mode", f.Stage, f.Err)
	}
	want = append(want, fmt.Sprintf("(%s@127.0.0.1:%d)", user, b.m.Port))
	for _, w := range want {
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
	t.Logf("%s, %s scope: %v", user, scope, f.Err)
}

// labWait is testSession.waitFor with the patience an emulated board
// needs: a cycle's deploy, daemon-reload and restart take tens of
// seconds there when the host is busy.
func labWait(t *testing.T, s *testSession, from int, what string, match func(Event) bool) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		evs := s.snapshot()
		for i := from; i < len(evs); i++ {
			if match(evs[i]) {
				return i
			}
		}
		for _, e := range evs[from:] {
			if f, ok := e.(Failed); ok && what != "Failed" {
				t.Fatalf("waiting for %s: cycle %d failed at %s: %v\nevents:\n%s", what, f.Cycle, f.Stage, f.Err, s.log())
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; events:\n%s", what, s.log())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func labOutput(t *testing.T, s *testSession, from int, text string) int {
	t.Helper()
	return labWait(t, s, from, fmt.Sprintf("program output %q", text), func(e Event) bool {
		p, ok := e.(Program)
		if !ok {
			return false
		}
		o, ok := p.Event.(remote.Output)
		return ok && strings.Contains(o.Text, text)
	})
}
