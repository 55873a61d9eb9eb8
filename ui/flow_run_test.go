package ui

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"armbench/remote"
)

// openRun ticks release and opens the argument prompt with g.
func openRun(t *testing.T, m *Model) {
	t.Helper()
	tickProfiles(t, m, "release")
	keys(m, "g")
	if top[*runPrompt](m) == nil {
		t.Fatalf("g opened no prompt; notice %q", m.notice)
	}
}

// startRun opens the prompt and runs with its prefilled arguments.
func startRun(t *testing.T, m *Model) *task {
	t.Helper()
	openRun(t, m)
	keys(m, "enter")
	if actTask(m) == nil || actTask(m).kind != "run" || !actTask(m).running() {
		t.Fatalf("enter did not start a run; notice %q", m.notice)
	}
	return actTask(m)
}

func runLines(lines ...string) []any {
	var evs []any
	for _, l := range lines {
		evs = append(evs, runOutput{remote.Output{Text: l}})
	}
	return evs
}

func TestRunArgsPrompt(t *testing.T) {
	m := newFlowModel(t, 80, 24)
	openRun(t, m)
	scr := screen(m)
	for _, want := range []string{"Run workload-release on local-arm64", "args: -duration 2s", "enter run · esc abort"} {
		if !strings.Contains(plain(scr), want) {
			t.Errorf("prompt lacks %q:\n%s", want, plain(scr))
		}
	}
	golden(t, "run_prompt_80x24", scr)

	keys(m, "esc")
	if top[*runPrompt](m) != nil || actTask(m) != nil {
		t.Fatalf("esc did not abort: prompt %v, task %v", top[*runPrompt](m) != nil, actTask(m) != nil)
	}
	if !strings.Contains(plain(screen(m)), "run aborted") {
		t.Errorf("no word of the abort:\n%s", plain(screen(m)))
	}

	// The line typed is kept for the next g.
	keys(m, "g", "space", "-", "x")
	keys(m, "enter")
	if actTask(m) == nil || actTask(m).kind != "run" {
		t.Fatal("enter did not run")
	}
	if m.runArgs != "-duration 2s -x" {
		t.Errorf("args kept as %q", m.runArgs)
	}
	if got := m.main.run.activeView(); got == nil || !strings.Contains(plain(m.main.run.View()), "$ workload-release -duration 2s -x") {
		t.Errorf("run pane lacks the command:\n%s", plain(m.main.run.View()))
	}
}

func TestRunScreen(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {200, 60}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			m := newFlowModel(t, sz[0], sz[1])
			a := startRun(t, m)
			if m.main.shown != paneRun || m.focused().id != paneRun {
				t.Errorf("main area shows %s, focus %s during a run", m.main.shown, m.focused().id)
			}
			send(m, taskMsg{id: a.id, events: runLines(
				"workload linux/arm64 GOMAXPROCS=4 NumCPU=4",
				"alloc      412.3 MB/s   gc 31",
				"parallel   1830 chunks/s gc 0",
			)})
			if s := plain(screen(m)); !strings.Contains(s, "running local-arm64 × release") || !strings.Contains(s, "parallel   1830 chunks/s") {
				t.Errorf("running screen:\n%s", s)
			}
			send(m, taskMsg{id: a.id, events: []any{runDone{st: remote.ExitStatus{Duration: 2040 * time.Millisecond}}}, closed: true})
			scr := screen(m)
			for _, want := range []string{"ran workload-release on local-arm64: exit 0 in 2.0s", "Run  workload-release exit 0"} {
				if !strings.Contains(plain(scr), want) {
					t.Errorf("screen lacks %q:\n%s", want, plain(scr))
				}
			}
			if n := strings.Count(scr, "\n") + 1; n != sz[1] {
				t.Errorf("screen is %d lines, want %d", n, sz[1])
			}
			golden(t, fmt.Sprintf("run_%dx%d", sz[0], sz[1]), scr)
		})
	}
}

func TestRunEndings(t *testing.T) {
	cases := []struct {
		name string
		done runDone
		want string
	}{
		{"missing over ssh", runDone{st: remote.ExitStatus{Code: 127}}, "not deployed: press d first (workload-release on local-arm64)"},
		{"missing locally", runDone{st: remote.ExitStatus{Code: -1}, err: &fs.PathError{Op: "fork/exec", Path: "x", Err: fs.ErrNotExist}}, "not deployed: press d first"},
		{"exit code", runDone{st: remote.ExitStatus{Code: 2, Duration: 300 * time.Millisecond}}, "workload-release on local-arm64: exit 2 after 0.3s"},
		{"signal", runDone{st: remote.ExitStatus{Code: -1, Signal: "KILL", Duration: time.Second}}, "killed by signal KILL after 1.0s"},
		{"connection", runDone{err: fmt.Errorf("run: %w", remote.ErrDisconnected)}, "run failed: connection lost"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newFlowModel(t, 120, 30)
			a := startRun(t, m)
			send(m, taskMsg{id: a.id, events: []any{c.done}, closed: true})
			if s := plain(screen(m)); !strings.Contains(s, c.want) {
				t.Errorf("screen lacks %q:\n%s", c.want, s)
			}
			if a.err == nil {
				t.Error("a failed run has no error")
			}
			if m.busy() {
				t.Error("still busy after the run ended")
			}
		})
	}
}

// TestRunCancelDropsLateOutput: x stops the run at once; what its
// goroutine still sends is dropped by id.
func TestRunCancelDropsLateOutput(t *testing.T) {
	m := newFlowModel(t, 120, 30)
	a := startRun(t, m)
	if !m.keys.Cancel.Enabled() || actionKey(m, "g").Enabled() || actionKey(m, "u").Enabled() {
		t.Errorf("keys while running: cancel %v run %v rollback %v", m.keys.Cancel.Enabled(), actionKey(m, "g").Enabled(), actionKey(m, "u").Enabled())
	}
	keys(m, "x")
	if a.ctx.Err() == nil {
		t.Fatal("x did not cancel the run's context")
	}
	send(m, taskMsg{id: a.id, events: append(runLines("late line"), runDone{st: remote.ExitStatus{Signal: "TERM"}}), closed: true})
	s := plain(screen(m))
	if strings.Contains(s, "late line") || strings.Contains(s, "TERM") {
		t.Errorf("late messages drawn:\n%s", s)
	}
	for _, want := range []string{"cancelled run of local-arm64 × release", "workload-release cancelled"} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q:\n%s", want, s)
		}
	}
}

func TestRunSeveralTickedRunsTheFirst(t *testing.T) {
	m := newFlowModel(t, 120, 30)
	tickProfiles(t, m, "release", "speed")
	keys(m, "g")
	if top[*runPrompt](m) == nil {
		t.Fatalf("no prompt; notice %q", m.notice)
	}
	if s := plain(screen(m)); !strings.Contains(s, "2 profiles ticked: running release, the first") || !strings.Contains(s, "Run workload-release") {
		t.Errorf("prompt does not say which one runs:\n%s", s)
	}
	keys(m, "enter")
	if runOf(m) == nil || runOf(m).plan.Profile.Name != "release" {
		t.Fatalf("ran %+v", runOf(m))
	}
}

func TestRunAndRollbackKeysInHelp(t *testing.T) {
	m := newFlowModel(t, 200, 60)
	keys(m, "?")
	if s := plain(screen(m)); !strings.Contains(s, "run on device") || !strings.Contains(s, "roll back deploy") {
		t.Errorf("full help lacks g and u with a target and a previewed profile:\n%s", s)
	}
	startRun(t, m)
	if s := plain(screen(m)); strings.Contains(s, "run on device") || strings.Contains(s, "roll back deploy") {
		t.Errorf("full help offers g or u while busy:\n%s", s)
	}
	// g while busy says why instead of opening the prompt.
	keys(m, "g")
	if top[*runPrompt](m) != nil || !strings.Contains(m.notice, "x cancels") {
		t.Errorf("g while busy: prompt %v, notice %q", top[*runPrompt](m) != nil, m.notice)
	}
}

func TestRollbackConfirm(t *testing.T) {
	m := newFlowModel(t, 80, 24)
	tickProfiles(t, m, "release")
	keys(m, "u")
	if top[*rollbackConfirm](m) == nil {
		t.Fatalf("u asked nothing; notice %q", m.notice)
	}
	scr := screen(m)
	if !strings.Contains(plain(scr), "roll back workload-release on local-arm64 to the previous binary? y/N") {
		t.Errorf("confirm:\n%s", plain(scr))
	}
	golden(t, "rollback_confirm_80x24", scr)

	keys(m, "n")
	if top[*rollbackConfirm](m) != nil || actTask(m) != nil {
		t.Fatal("n rolled back")
	}
	keys(m, "u", "enter") // the default is no
	if top[*rollbackConfirm](m) != nil || actTask(m) != nil {
		t.Fatal("enter rolled back")
	}

	keys(m, "u", "y")
	a := actTask(m)
	if a == nil || a.kind != "rollback" || !a.running() {
		t.Fatalf("y did not start a rollback; notice %q", m.notice)
	}
	if s := plain(screen(m)); !strings.Contains(s, "rolling back local-arm64 × release") {
		t.Errorf("no progress shown:\n%s", s)
	}
	send(m, taskMsg{id: a.id, events: []any{rollbackDone{path: "/d/workload-release",
		err: fmt.Errorf("rollback: %w: /d/workload-release.prev", remote.ErrNoPrevious)}}, closed: true})
	if s := plain(screen(m)); !strings.Contains(s, "nothing to roll back to") {
		t.Errorf("ErrNoPrevious not in the user's words:\n%s", s)
	}

	keys(m, "u", "y")
	send(m, taskMsg{id: actTask(m).id, events: []any{rollbackDone{path: "/d/workload-release"}}, closed: true})
	if s := plain(screen(m)); !strings.Contains(s, "rolled back /d/workload-release") {
		t.Errorf("success not reported:\n%s", s)
	}
	if actTask(m).err != nil {
		t.Errorf("success has error %v", actTask(m).err)
	}
}

// TestRunConnectFailed: a failed connection is said in the user's
// words; an unknown host key on g opens the same prompt a
// deploy gets, and trusting it runs again.
func TestRunConnectFailed(t *testing.T) {
	m := newFlowModel(t, 120, 30)
	a := startRun(t, m)
	send(m, taskMsg{id: a.id, events: []any{connectFailed{err: fmt.Errorf("connect: %w", remote.ErrUnreachable)}}, closed: true})
	s := plain(screen(m))
	if !strings.Contains(s, "run failed: host unreachable") || !strings.Contains(s, "armbench: host unreachable") {
		t.Errorf("connect failure:\n%s", s)
	}
	if !errors.Is(a.err, remote.ErrUnreachable) {
		t.Errorf("err %v", a.err)
	}
	ue := &remote.UnknownHostError{Host: "pi5.local", KeyType: "ssh-ed25519", Fingerprint: "SHA256:abc"}
	a = startRun(t, m)
	send(m, taskMsg{id: a.id, events: []any{connectFailed{err: ue}}, closed: true})
	if top[*HostKeyPrompt](m) == nil {
		t.Fatal("unknown host key on a run opened no prompt")
	}
	// Trusted elsewhere (the prompt's own tests write known_hosts): the
	// run starts again.
	m.overlays = nil
	send(m, HostKeyTrustedMsg{Target: runOf(m).target})
	if actTask(m) == a || actTask(m) == nil || actTask(m).kind != "run" || !actTask(m).running() {
		t.Errorf("trusting the key did not run again")
	}
}

func TestRunArgsPromptRejectsUnterminatedQuote(t *testing.T) {
	m := newFlowModel(t, 100, 30)
	openRun(t, m)
	keys(m, "space", "'", "a")
	keys(m, "enter")
	if top[*runPrompt](m) == nil || actTask(m) != nil {
		t.Fatal("a line with an open quote ran")
	}
	if s := plain(screen(m)); !strings.Contains(s, "args: unterminated ' at column 14") {
		t.Errorf("no reason shown:\n%s", s)
	}
	keys(m, "'", "enter")
	if actTask(m) == nil || runOf(m) == nil {
		t.Fatal("the fixed line did not run")
	}
	if !strings.Contains(plain(m.main.run.View()), "$ workload-release -duration 2s a") {
		t.Errorf("run pane:\n%s", plain(m.main.run.View()))
	}
}
