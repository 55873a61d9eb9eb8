package ui

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/charmbracelet/x/vt"
	"golang.org/x/crypto/ssh"

	"armbench/detect"
	"armbench/internal/testdevice"
	"armbench/remote"
	"armbench/targets"
)

// addHarness hosts the form the way the root does: forwards messages and
// ends when the form reports that it is done, having added a target or
// been closed.
type addHarness struct {
	a      *AddTarget
	added  *addedTarget
	closed bool
}

// addedTarget is what the form handed to Added.
type addedTarget struct {
	Target targets.Target
	Path   string
}

func (h *addHarness) Init() tea.Cmd {
	h.a.opts.Added = func(t targets.Target, path string) tea.Cmd {
		h.added = &addedTarget{t, path}
		return nil
	}
	return h.a.Init()
}

func (h *addHarness) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if msg, ok := msg.(tea.WindowSizeMsg); ok {
		h.a.SetSize(msg.Width, msg.Height)
		return h, nil
	}
	cmd, done := h.a.Update(msg)
	if done {
		h.closed = h.added == nil
		return h, tea.Batch(cmd, tea.Quit)
	}
	return h, cmd
}

func (h *addHarness) View() tea.View { return tea.NewView(h.a.View()) }

// addScreen replays the program's output into a virtual terminal so
// assertions read what a user sees. The whole stream is replayed into a
// fresh terminal on every look: reads of the output can end inside an
// escape sequence or a UTF-8 character, which a terminal fed piecewise
// would draw as garbage.
type addScreen struct {
	t   *testing.T
	tm  *teatest.TestModel
	out []byte
}

func newAddScreen(t *testing.T, h *addHarness) *addScreen {
	t.Helper()
	tm := teatest.NewTestModel(t, h, teatest.WithInitialTermSize(100, 40))
	return &addScreen{t: t, tm: tm}
}

func (s *addScreen) screen() string {
	emu := vt.NewEmulator(100, 40)
	defer emu.InputPipe().(io.Closer).Close()
	go io.Copy(io.Discard, emu) //nolint:errcheck // answers to terminal queries
	// teatest's output is no tty, so Bubble Tea relies on the tty driver's
	// ONLCR turning \n into \r\n; do what the driver would.
	emu.Write(bytes.ReplaceAll(s.out, []byte("\n"), []byte("\r\n")))
	return emu.String()
}

func (s *addScreen) wait(texts ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := io.ReadAll(s.tm.Output())
		if err != nil {
			s.t.Fatal(err)
		}
		s.out = append(s.out, b...)
		scr := s.screen()
		ok := true
		for _, x := range texts {
			ok = ok && strings.Contains(scr, x)
		}
		if ok {
			return scr
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("waiting for %q; screen:\n%s", texts, scr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *addScreen) key(code rune) { s.tm.Send(tea.KeyPressMsg{Code: code}) }

// recordedBoard runs the real detection logic on a board recorded in the
// detect package's testdata: what a probe of that board returns.
func recordedBoard(t *testing.T, board string) detect.Result {
	t.Helper()
	dir := filepath.Join("..", "detect", "testdata", board)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	secs := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		secs[e.Name()] = string(b)
	}
	return detect.FromFacts(detect.FactsFromSections(secs))
}

func TestAddTargetDetectsAndAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "targets.toml")
	const before = "# my devices\n[[target]]\nname = \"pi5\"\nhost = \"old.local\"\ngoarch = \"arm64\"\n"
	if err := os.WriteFile(path, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	existing, err := targets.Parse(path, []byte(before))
	if err != nil {
		t.Fatal(err)
	}
	var probed targets.Target
	h := &addHarness{a: NewAddTarget(AddTargetOptions{
		ConfigPath: path,
		Existing:   existing,
		Detect: func(ctx context.Context, tg targets.Target, o remote.Options) (detect.Result, error) {
			probed = tg
			r := recordedBoard(t, "pi5")
			r.Target.Host, r.Target.User = tg.Host, tg.User
			return r, nil
		},
	})}
	s := newAddScreen(t, h)
	s.wait("Host", "User")
	s.tm.Type("pi5.local")
	s.key(tea.KeyEnter)
	// Focus moves through a command: typing before it lands would still
	// go to the host field.
	s.wait("┃ User")
	s.tm.Type("pi")
	s.key(tea.KeyEnter)

	// The result with its reasons, then the name: "pi5" is taken.
	s.wait("pi@pi5.local is a Raspberry Pi 5 Model B Rev 1.0: arm64 v8.2,lse,crypto",
		"goarm64 = v8.2,lse,crypto: the CPU is a Cortex-A76", "Name")
	s.key(tea.KeyEnter)
	// The message names the file first, so where it wraps depends on the
	// length of the temporary path (longer on Windows): wait for its end.
	s.wait(`named "pi5"`)
	s.tm.Type("-desk")
	s.key(tea.KeyEnter)
	s.wait("┃ Add it to")
	s.key(tea.KeyEnter)

	s.tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	if probed.Host != "pi5.local" || probed.User != "pi" {
		t.Errorf("probed %+v", probed)
	}
	if h.added == nil || h.added.Target.Name != "pi5-desk" || h.added.Path != path {
		t.Fatalf("added %+v", h.added)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), before) {
		t.Errorf("existing text changed:\n%s", data)
	}
	cfg, err := targets.Parse(path, data)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := cfg.Lookup("pi5-desk")
	if !ok || got.Host != "pi5.local" || got.User != "pi" || got.GOARM64 != "v8.2,lse,crypto" {
		t.Errorf("appended target = %+v", got)
	}
}

func TestAddTargetEscCancelsDetection(t *testing.T) {
	cancelled := make(chan struct{})
	h := &addHarness{a: NewAddTarget(AddTargetOptions{
		ConfigPath: filepath.Join(t.TempDir(), "targets.toml"),
		Detect: func(ctx context.Context, tg targets.Target, o remote.Options) (detect.Result, error) {
			<-ctx.Done() // a device that never answers
			close(cancelled)
			return detect.Result{}, ctx.Err()
		},
	})}
	s := newAddScreen(t, h)
	s.wait("Host")
	s.tm.Type("[fe80::1]:2222")
	s.key(tea.KeyEnter)
	s.wait("┃ User")
	s.key(tea.KeyEnter)
	s.wait("detecting [fe80::1]:2222")
	s.key(tea.KeyEscape)
	s.tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("closing the form did not cancel the probe")
	}
	if !h.closed || h.added != nil {
		t.Errorf("closed %v, added %+v", h.closed, h.added)
	}
}

func TestAddTargetRejectsNonARM(t *testing.T) {
	path := filepath.Join(t.TempDir(), "targets.toml")
	h := &addHarness{a: NewAddTarget(AddTargetOptions{
		ConfigPath: path,
		Detect: func(ctx context.Context, tg targets.Target, o remote.Options) (detect.Result, error) {
			return recordedBoard(t, "x86_64"), nil
		},
	})}
	s := newAddScreen(t, h)
	s.wait("Host")
	s.tm.Type("nuc.local")
	s.key(tea.KeyEnter)
	s.wait("┃ User")
	s.key(tea.KeyEnter)
	s.wait("x86_64: not an ARM device; armbench targets arm and arm64", "r try again")
	if h.a.state != addFailed {
		t.Errorf("state %v", h.a.state)
	}
	// Try again goes back to the form, keeping what was typed.
	s.tm.Type("r")
	s.wait("nuc.local")
	s.key(tea.KeyEscape)
	s.tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a non-ARM device wrote %s: %v", path, err)
	}
}

// A late answer of a cancelled probe must not replace the current state.
func TestAddTargetDropsStaleResults(t *testing.T) {
	a := NewAddTarget(AddTargetOptions{})
	a.job, a.state = 2, addDetecting
	a.Update(detectedMsg{job: 1, result: recordedBoard(t, "pi4-64bit")})
	if a.state != addDetecting || a.result.Target.Name != "" {
		t.Fatalf("stale result taken: state %v, %+v", a.state, a.result.Target)
	}
	a.Update(detectedMsg{job: 2, result: recordedBoard(t, "pi4-64bit")})
	if a.state != addReview || a.result.Target.Name != "pi4" {
		t.Fatalf("current result dropped: state %v, %+v", a.state, a.result.Target)
	}
	a.SetSize(30, 5)
	v := a.View()
	if lines := strings.Split(v, "\n"); len(lines) > 5 {
		t.Errorf("view has %d lines at height 5", len(lines))
	}
	for _, l := range strings.Split(v, "\n") {
		if w := len([]rune(stripANSI(l))); w > 30 {
			t.Errorf("line wider than 30: %q", l)
		}
	}
}

func stripANSI(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == 0x1b:
			in = true
		case in && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'):
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// End to end on the sshd harness: an unknown host key is shown and
// trusted from the form, then detection runs for real and reports the
// harness (this x86-64 machine) plainly instead of inventing a target.
func TestAddTargetOverSSH(t *testing.T) {
	d := testdevice.Start(t)
	dir := t.TempDir()
	sshConfig := filepath.Join(dir, "ssh_config")
	if err := os.WriteFile(sshConfig, []byte("Host "+d.Host+"\n  IdentityFile "+d.KeyPath+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	knownHosts := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(knownHosts, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "targets.toml")
	h := &addHarness{a: NewAddTarget(AddTargetOptions{
		ConfigPath: path,
		Remote:     remote.Options{SSHConfig: sshConfig, KnownHosts: knownHosts, NoAgent: true, NoDefaultKeys: true},
	})}
	s := newAddScreen(t, h)
	s.wait("Host")
	s.tm.Type(fmt.Sprintf("%s:%d", d.Host, d.Port))
	s.key(tea.KeyEnter)
	s.wait("┃ User")
	s.tm.Type(d.User)
	s.key(tea.KeyEnter)

	fp := ssh.FingerprintSHA256(d.HostKey)
	s.wait("Trust this host key?", fp)
	s.tm.Type("y")
	machine, err := exec.Command("uname", "-m").Output()
	if err != nil {
		t.Fatal(err)
	}
	if m := strings.TrimSpace(string(machine)); m != "x86_64" {
		s.wait("Add it to")
	} else {
		s.wait("x86_64: not an ARM device; armbench targets arm and arm64", "the device reports x86_64 (Linux ")
	}
	s.key(tea.KeyEscape)
	s.tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	if b, _ := os.ReadFile(knownHosts); !strings.Contains(string(b), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(d.HostKey)))) {
		t.Errorf("known_hosts after trusting: %q", b)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("targets.toml written without confirmation: %v", err)
	}
}
