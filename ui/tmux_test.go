package ui

import (
	"armbench/internal/testenv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTmuxEndToEnd runs the real armbench binary in a real terminal
// (tmux, on a private socket), picks a target and a profile with the keys
// a user would press, builds, and reads the result off the screen.
func TestTmuxEndToEnd(t *testing.T) {
	testenv.Slow(t, "builds the armbench binary")
	testenv.Tool(t, "tmux", "tmux")
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "armbench")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = moduleRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build armbench: %v\n%s", err, out)
	}
	// A module of its own, so the build's .armbench/out lands in the temp
	// dir, and no targets.toml: the embedded default is what a fresh
	// clone sees.
	mod := filepath.Join(tmp, "hello")
	if err := os.MkdirAll(mod, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(mod, "go.mod"), "module hello\n\ngo 1.26\n")
	writeFile(t, filepath.Join(mod, "main.go"), "package main\n\nfunc main() { println(\"hi\") }\n")

	for _, sz := range []struct{ w, h int }{{80, 24}, {200, 60}} {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			out := filepath.Join(mod, ".armbench")
			os.RemoveAll(out)
			tm := startTmux(t, filepath.Join(tmp, fmt.Sprintf("tmux-%d.sock", sz.w)), sz.w, sz.h,
				fmt.Sprintf("cd %s && env -u ARMBENCH_CONFIG %s --pkg .", mod, bin))
			tm.wait(t, 20*time.Second, "local-arm64", "Profiles")
			tm.keys(t, "Enter", "Tab")
			for i := 0; !strings.Contains(tm.screen(t), ">[ ] release"); i++ {
				if i == 10 {
					t.Fatalf("cursor never reached release:\n%s", tm.screen(t))
				}
				tm.keys(t, "Down")
				time.Sleep(50 * time.Millisecond)
			}
			tm.keys(t, "Space")
			tm.wait(t, 5*time.Second, "ready: b builds local-arm64 × release")
			tm.keys(t, "b")
			scr := tm.wait(t, buildTimeout, "built local-arm64 × release")
			for _, want := range []string{"release ok", "armbench: built .armbench/out/local-arm64/release/hello", "static stripped"} {
				if !strings.Contains(scr, want) {
					t.Errorf("screen lacks %q:\n%s", want, scr)
				}
			}
			if _, err := os.Stat(filepath.Join(out, "out", "local-arm64", "release", "hello")); err != nil {
				t.Errorf("artifact: %v", err)
			}

			// Deploy: local-arm64 installs into .armbench/device/local-arm64.
			tm.keys(t, "d")
			scr = tm.wait(t, buildTimeout, "deployed local-arm64 × release")
			installed := filepath.Join(out, "device", "local-arm64", "hello-release")
			sum := fileSum(t, filepath.Join(out, "out", "local-arm64", "release", "hello"))
			// The status line shows the path, cut to the width at 80.
			if !strings.Contains(scr, "installed ") || !strings.Contains(scr, "Deploy") {
				t.Errorf("no Installed summary on screen:\n%s", scr)
			}
			if sz.w >= 200 && !strings.Contains(scr, "installed "+installed) {
				t.Errorf("screen lacks the installed path %s:\n%s", installed, scr)
			}
			if !strings.Contains(scr, "sha256 "+sum[:12]) {
				t.Errorf("screen lacks sha256 %s:\n%s", sum[:12], scr)
			}
			if got := fileSum(t, installed); got != sum {
				t.Errorf("deployed sha256 %s, artifact %s", got, sum)
			}

			// g runs it (hello ignores the prompt's default line); after
			// a first deploy, u finds nothing to roll back to.
			tm.keys(t, "g")
			tm.wait(t, 5*time.Second, "args: -duration 2s")
			tm.keys(t, "Enter")
			tm.wait(t, time.Minute, "ran hello-release on local-arm64: exit 0", "Run")
			tm.keys(t, "u")
			tm.wait(t, 5*time.Second, "roll back hello-release on local-arm64 to the previous binary? y/N")
			tm.keys(t, "y")
			tm.wait(t, 30*time.Second, "nothing to roll back to")
			tm.keys(t, "q")
			tm.waitExit(t, 10*time.Second)
		})
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// tmuxSession is one tmux server on its own socket: the test never
// touches the user's tmux sessions.
type tmuxSession struct{ sock string }

func startTmux(t *testing.T, sock string, w, h int, command string) *tmuxSession {
	t.Helper()
	s := &tmuxSession{sock: sock}
	// "; echo exited; sleep 30" keeps the pane readable after armbench
	// ends, so waitExit can tell an exit from a crash.
	s.run(t, "new-session", "-d", "-s", "ab", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h),
		command+"; echo armbench-exited $?; sleep 30")
	t.Cleanup(func() { exec.Command("tmux", "-S", sock, "kill-server").Run() })
	return s
}

func (s *tmuxSession) run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.sock}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (s *tmuxSession) screen(t *testing.T) string {
	return s.run(t, "capture-pane", "-p", "-t", "ab")
}

func (s *tmuxSession) keys(t *testing.T, keys ...string) {
	s.run(t, append([]string{"send-keys", "-t", "ab"}, keys...)...)
}

func (s *tmuxSession) wait(t *testing.T, timeout time.Duration, texts ...string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		scr := s.screen(t)
		ok := true
		for _, x := range texts {
			ok = ok && strings.Contains(scr, x)
		}
		if ok {
			return scr
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s the screen still lacks %q:\n%s", timeout, texts, scr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *tmuxSession) waitExit(t *testing.T, timeout time.Duration) {
	t.Helper()
	scr := s.wait(t, timeout, "armbench-exited")
	if !strings.Contains(scr, "armbench-exited 0") {
		t.Fatalf("armbench did not exit cleanly:\n%s", scr)
	}
}
