package ui

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

// TestProgramRunLocal deploys the example workload to the local target,
// runs it with g under qemu-user, and reads its output line and exit
// status off the screen.
func TestProgramRunLocal(t *testing.T) {
	cfg, deployDir := localArm64(t)
	m, _ := realModelWith(t, "./examples/workload", cfg, Options{})
	tm, term := startTicked(t, m, 160, 40, "local-arm64", "release")

	// Before the deploy, g finds nothing to run.
	tm.Send(press("g"))
	term.waitText(5*time.Second, "args: -duration 2s")
	tm.Send(press("enter"))
	term.waitText(time.Minute, "not deployed: press d first")

	tm.Send(press("d"))
	// The run pane's tab says FAILED already: wait for the deploy's words.
	term.waitFor("the deploy to finish", buildTimeout, func(s string) bool {
		return strings.Contains(s, "deployed local-arm64 × release in") || strings.Contains(s, "failed")
	})
	if _, err := os.Stat(filepath.Join(deployDir, "workload-release")); err != nil {
		t.Fatalf("not deployed: %v", err)
	}
	tm.Send(press("g"))
	term.waitText(5*time.Second, "args: -duration 2s")
	tm.Send(tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}) // clear the line
	tm.Type("-duration 200ms -mode parallel")
	term.waitText(5*time.Second, "args: -duration 200ms -mode parallel")
	tm.Send(press("enter"))
	scr := term.waitFor("the run to end", time.Minute, func(s string) bool {
		return strings.Contains(s, "ran workload-release") || strings.Contains(s, "workload-release on local-arm64:") ||
			strings.Contains(s, "run failed")
	})
	for _, want := range []string{
		"$ workload-release -duration 200ms -mode parallel",
		"workload linux/arm64",
		"ran workload-release on local-arm64: exit 0 in",
	} {
		if !strings.Contains(scr, want) {
			t.Errorf("screen lacks %q:\n%s", want, scr)
		}
	}
	// The workload's own line for the part: "parallel   N steps … chunks/s".
	if !regexp.MustCompile(`parallel +\d+ steps +[\d.]+ chunks/s`).MatchString(scr) {
		t.Errorf("no output line of the parallel part:\n%s", scr)
	}
	if strings.Contains(scr, "alloc ") {
		t.Errorf("-mode parallel ran other parts too:\n%s", scr)
	}

	// x stops a long run, and the process with it.
	installed := filepath.Join(deployDir, "workload-release")
	tm.Send(press("g"))
	term.waitText(5*time.Second, "args: -duration 200ms -mode parallel")
	tm.Send(tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl})
	tm.Type("-duration 10m -mode hash")
	term.waitText(5*time.Second, "args: -duration 10m -mode hash")
	tm.Send(press("enter"))
	term.waitText(time.Minute, "workload linux/arm64", "running local-arm64 × release")
	if len(processesRunning(t, installed)) == 0 {
		t.Fatalf("no process runs %s", installed)
	}
	tm.Send(press("x"))
	term.waitText(10*time.Second, "cancelled run of local-arm64 × release", "workload-release cancelled")
	deadline := time.Now().Add(10 * time.Second)
	for pids := processesRunning(t, installed); len(pids) > 0; pids = processesRunning(t, installed) {
		if time.Now().After(deadline) {
			t.Fatalf("processes %v still run %s after x", pids, installed)
		}
		time.Sleep(100 * time.Millisecond)
	}
	quitProgram(t, tm)
}

// TestProgramRollbackLocal deploys two different builds of one program,
// then u, y: the first one is the installed file again.
func TestProgramRollbackLocal(t *testing.T) {
	cfg, deployDir := localArm64(t)
	mod := t.TempDir()
	writeFile(t, filepath.Join(mod, "go.mod"), "module rollbackme\n\ngo 1.26\n")
	src := filepath.Join(mod, "hello", "main.go")
	if err := os.MkdirAll(filepath.Dir(src), 0o755); err != nil {
		t.Fatal(err)
	}
	prog := func(greeting string) string {
		return "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"" + greeting + "\") }\n"
	}
	writeFile(t, src, prog("first"))
	m, out := realModelWith(t, "./hello", cfg, Options{})
	m.common.Dir = mod
	m.refreshPlan()
	artifact := filepath.Join(out, "local-arm64", "release", "hello")
	installed := filepath.Join(deployDir, "hello-release")

	tm, term := startTicked(t, m, 160, 40, "local-arm64", "release")

	// Nothing deployed yet: nothing to roll back to.
	tm.Send(press("u"))
	term.waitText(5*time.Second, "roll back hello-release on local-arm64 to the previous binary? y/N")
	tm.Send(press("y"))
	term.waitText(time.Minute, "nothing to roll back to")

	deploy := func() string {
		t.Helper()
		tm.Send(press("d"))
		scr := term.waitFor("the deploy to finish", buildTimeout, func(s string) bool {
			return strings.Contains(s, "deployed local-arm64") || strings.Contains(s, "FAILED")
		})
		if !strings.Contains(scr, "deployed local-arm64") {
			t.Fatalf("deploy failed:\n%s", scr)
		}
		sum := fileSum(t, artifact)
		if got := fileSum(t, installed); got != sum {
			t.Fatalf("installed %s, built %s", got, sum)
		}
		return sum
	}
	first := deploy()
	writeFile(t, src, prog("second"))
	// The status line of the first deploy stays until the next ends;
	// wait for the second's checksum.
	tm.Send(press("d"))
	term.waitFor("the second deploy", buildTimeout, func(s string) bool {
		return strings.Contains(s, "FAILED") || (strings.Contains(s, "deployed local-arm64") && !strings.Contains(s, "sha256 "+first[:12]))
	})
	second := fileSum(t, installed)
	if second == first {
		t.Fatal("the second build is the same file: nothing to roll back")
	}
	if got := fileSum(t, installed+".prev"); got != first {
		t.Fatalf("previous binary %s, want the first %s", got, first)
	}

	tm.Send(press("u"))
	term.waitText(5*time.Second, "roll back hello-release on local-arm64 to the previous binary? y/N")
	tm.Send(press("y"))
	scr := term.waitFor("the rollback", time.Minute, func(s string) bool {
		return strings.Contains(s, "rolled back") || strings.Contains(s, "rollback failed")
	})
	if !strings.Contains(scr, "rolled back "+installed) {
		t.Errorf("screen:\n%s", scr)
	}
	if got := fileSum(t, installed); got != first {
		t.Errorf("after rollback the installed file is %s, want the first build %s", got, first)
	}
	if got := fileSum(t, installed+".prev"); got != second {
		t.Errorf("after rollback .prev is %s, want the second build %s", got, second)
	}
	quitProgram(t, tm)
}

// processesRunning lists the processes whose command line names path
// (directly, or as the program a qemu runner runs).
func processesRunning(t *testing.T, path string) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatalf("list processes: %v", err)
	}
	var pids []string
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue // gone meanwhile
		}
		for _, arg := range strings.Split(string(b), "\x00") {
			if arg == path {
				pids = append(pids, e.Name())
				break
			}
		}
	}
	return pids
}
