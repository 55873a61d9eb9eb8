package ui

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/charmbracelet/x/vt"

	"armbench/internal/testenv"
	"armbench/profiles"
	"armbench/targets"
)

// vterm replays a program's output into a virtual terminal, so assertions
// read the screen a user would see (cursor moves and partial redraws
// applied), not the raw byte stream.
type vterm struct {
	t   *testing.T
	tm  *teatest.TestModel
	emu *vt.Emulator
}

func newVterm(t *testing.T, tm *teatest.TestModel, w, h int) *vterm {
	emu := vt.NewEmulator(w, h)
	// The emulator answers terminal queries on a pipe; nobody here reads
	// the answers, but an unread pipe would block its writes.
	go io.Copy(io.Discard, emu) //nolint:errcheck
	// Closing the pipe's write end (not emu.Close, which races with
	// Read on the emulator's closed flag) ends that reader.
	t.Cleanup(func() { emu.InputPipe().(io.Closer).Close() })
	return &vterm{t: t, tm: tm, emu: emu}
}

// waitFor feeds output into the terminal until cond holds for the screen.
func (v *vterm) waitFor(what string, timeout time.Duration, cond func(screen string) bool) string {
	v.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b, err := io.ReadAll(v.tm.Output())
		if err != nil {
			v.t.Fatal(err)
		}
		if len(b) > 0 {
			// teatest's output is no tty, so Bubble Tea assumes the tty
			// driver's ONLCR turns \n into \r\n; do what the driver would.
			v.emu.Write(bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")))
		}
		scr := v.emu.String()
		if cond(scr) {
			return scr
		}
		if time.Now().After(deadline) {
			v.t.Fatalf("after %s, still waiting for %s; screen:\n%s", timeout, what, scr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (v *vterm) waitText(timeout time.Duration, texts ...string) string {
	v.t.Helper()
	return v.waitFor(strings.Join(texts, " and "), timeout, func(s string) bool {
		for _, t := range texts {
			if !strings.Contains(s, t) {
				return false
			}
		}
		return true
	})
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("module root not found above ui/: %v", err)
	}
	return dir
}

// localArm64 is a local target deploying into a fresh temporary dir.
func localArm64(t *testing.T) (*targets.Config, string) {
	t.Helper()
	deployDir := t.TempDir()
	cfg, err := targets.Parse("targets.toml", []byte(`
[[target]]
name = "local-arm64"
description = "this machine, arm64"
host = "local"
goarch = "arm64"
goarm64 = "v8.0"
deploy_dir = `+strconv.Quote(deployDir)+`
`))
	if err != nil {
		t.Fatal(err)
	}
	return cfg, deployDir
}

// realModel is the TUI on the real engines: the shipped target list's
// local-arm64 and the built-in profiles, building pkg into a temp dir.
func realModel(t *testing.T, pkg string) (*Model, string) {
	t.Helper()
	cfg, _ := localArm64(t)
	return realModelWith(t, pkg, cfg, Options{})
}

// realModelWith is realModel on cfg, with o's remote and bench settings.
func realModelWith(t *testing.T, pkg string, cfg *targets.Config, o Options) (*Model, string) {
	t.Helper()
	testenv.Tool(t, "go", "golang-go") // builds for real
	ps, err := profiles.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	o.Config, o.Profiles, o.Pkg, o.Dir = cfg, ps, pkg, moduleRoot(t)
	m := New(o)
	t.Cleanup(m.close)
	m.env.outRoot = out
	m.refreshPlan()
	return m, out
}

func startProgram(t *testing.T, m *Model, w, h int) (*teatest.TestModel, *vterm) {
	tm := teatest.NewTestModel(t, m,
		teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	t.Cleanup(func() { tm.Quit() })
	return tm, newVterm(t, tm, w, h)
}

// startTicked starts the program on m and ticks profile once target is
// on screen.
func startTicked(t *testing.T, m *Model, w, h int, target, profile string) (*teatest.TestModel, *vterm) {
	t.Helper()
	tm, term := startProgram(t, m, w, h)
	term.waitText(5*time.Second, target)
	tick(t, tm, m, profile)
	term.waitText(5*time.Second, "[x] "+profile)
	return tm, term
}

// quitProgram presses q and waits for the program to end.
func quitProgram(t *testing.T, tm *teatest.TestModel) {
	t.Helper()
	tm.Send(press("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
}

// tick selects the profile named name in the profiles pane (focused by one
// tab from the start) by walking the cursor down to it.
func tick(t *testing.T, tm *teatest.TestModel, m *Model, name string) {
	t.Helper()
	idx := -1
	for i, p := range m.common.Profiles {
		if p.Name == name {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatalf("no profile %q", name)
	}
	tm.Send(press("tab"))
	for i := 0; i < idx; i++ {
		tm.Send(press("down"))
	}
	tm.Send(press("space"))
}

// buildTimeout allows for a cold build cache: the first arm64 build
// compiles the runtime for the target.
const buildTimeout = 4 * time.Minute

func TestProgramRealBuild(t *testing.T) {
	m, out := realModel(t, "./ui/testdata/hello")
	tm, term := startProgram(t, m, 100, 30)
	term.waitText(5*time.Second, "local-arm64", "arm64 v8.0", "release")

	tick(t, tm, m, "release")
	term.waitText(5*time.Second, "[x] release", "ready: b builds local-arm64 × release")
	tm.Send(press("b"))
	scr := term.waitFor("the build to finish", buildTimeout, func(s string) bool {
		return strings.Contains(s, "built local-arm64") || strings.Contains(s, "failed local-arm64")
	})
	if !strings.Contains(scr, "built local-arm64 × release") {
		t.Fatalf("build did not succeed:\n%s", scr)
	}

	bin := filepath.Join(out, "local-arm64", "release", "hello")
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatalf("artifact not written: %v", err)
	}
	sum := sha256.Sum256(data)
	prefix := hex.EncodeToString(sum[:])[:12]
	for _, want := range []string{"release  ok", "armbench: built " + bin, "sha256 " + prefix, "static stripped", "checks", "env CGO_ENABLED=0 GOOS=linux GOARCH=arm64 GOARM64=v8.0 go build"} {
		if !strings.Contains(scr, want) {
			t.Errorf("screen lacks %q:\n%s", want, scr)
		}
	}

	quitProgram(t, tm)
}

func TestProgramCompileErrorJump(t *testing.T) {
	m, _ := realModel(t, "./ui/testdata/broken")
	tm, term := startTicked(t, m, 100, 30, "local-arm64", "release")
	tm.Send(press("b"))
	scr := term.waitText(buildTimeout, "failed local-arm64")
	const errLine = "ui/testdata/broken/main.go:8:14: undefined: notDefined"
	if !strings.Contains(scr, "!"+errLine) {
		t.Fatalf("compile error not flagged in the log:\n%s", scr)
	}
	tm.Send(press("e"))
	scr = term.waitText(5*time.Second, ">"+errLine)
	if !strings.Contains(scr, "FAILED") {
		t.Errorf("status does not say the build failed:\n%s", scr)
	}
	quitProgram(t, tm)
}
