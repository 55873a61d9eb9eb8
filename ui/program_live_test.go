package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

// TestProgramLiveKnobLocal runs the example workload live on the local
// target (ARM code under qemu-user), turns GOGC up with + while it runs,
// and reads off the screen that the program restarted with GOGC=200 and
// that the charts carry the marker; then the presentation layout shows
// the same at 100×30.
func TestProgramLiveKnobLocal(t *testing.T) {
	cfg, deployDir := localArm64(t)
	m, _ := realModelWith(t, "./examples/workload", cfg, Options{})
	tm, term := startTicked(t, m, 160, 50, "local-arm64", "release")

	tm.Send(press("d"))
	term.waitFor("the deploy to finish", buildTimeout, func(s string) bool {
		return strings.Contains(s, "deployed local-arm64 × release in") || strings.Contains(s, "failed")
	})
	installed := filepath.Join(deployDir, "workload-release")
	if _, err := os.Stat(installed); err != nil {
		t.Fatalf("not deployed: %v", err)
	}
	tm.Send(press("g"))
	term.waitText(5*time.Second, "args: -duration 2s")
	tm.Send(tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl})
	tm.Type("-duration 10m -mode alloc")
	term.waitText(5*time.Second, "args: -duration 10m -mode alloc")
	tm.Send(press("enter"))
	// The charts come with the first samples, the knobs over them.
	scr := term.waitText(buildTimeout, "GC/s", "run queue", "[GOGC=100]", "turn a knob to compare", "┤")
	pids := processesRunning(t, installed)
	if len(pids) == 0 {
		t.Fatalf("no process runs %s:\n%s", installed, scr)
	}

	tm.Send(press("+"))
	scr = term.waitText(time.Minute, "restarted with GOGC=200")
	for _, want := range []string{"[GOGC=200]", "┃GOGC=200", "GOGC=200 vs before"} {
		if !strings.Contains(scr, want) {
			t.Errorf("screen lacks %q:\n%s", want, scr)
		}
	}
	// The program on the device was replaced by one with the new value.
	deadline := time.Now().Add(20 * time.Second)
	for {
		now := processesRunning(t, installed)
		if len(now) > 0 && !overlaps(now, pids) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the process was not restarted: before %v, now %v", pids, now)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The verdict has numbers once samples after the change came in.
	term.waitFor("a verdict", time.Minute, func(s string) bool { return strings.Contains(s, "RSS ") && strings.Contains(s, "→") })

	// The presentation layout: knobs, verdict and charts, nothing else.
	tm.Send(tea.WindowSizeMsg{Width: 100, Height: 30})
	tm.Send(press("p"))
	scr = term.waitText(10*time.Second, "p leave")
	for _, want := range []string{"[GOGC=200]", "GOGC=200 vs before:", "CPU", "RSS", "GC/s", "threads", "┃GOGC=200"} {
		if !strings.Contains(scr, want) {
			t.Errorf("presentation lacks %q:\n%s", want, scr)
		}
	}
	if strings.Contains(scr, "Targets") || strings.Contains(scr, "Profiles") {
		t.Errorf("presentation shows more than the charts:\n%s", scr)
	}

	tm.Send(press("p"))
	term.waitText(10*time.Second, "Run  workload-release running")
	tm.Send(press("x"))
	term.waitText(10*time.Second, "cancelled run of local-arm64 × release")
	deadline = time.Now().Add(10 * time.Second)
	for p := processesRunning(t, installed); len(p) > 0; p = processesRunning(t, installed) {
		if time.Now().After(deadline) {
			t.Fatalf("processes %v still run %s after x", p, installed)
		}
		time.Sleep(100 * time.Millisecond)
	}
	quitProgram(t, tm)
}

func overlaps(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}
