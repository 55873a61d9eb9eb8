package ui

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// updating reports whether -update was given: rewrite testdata/*.golden
// from the current output. The flag itself is defined by x/exp/golden,
// which teatest links into this test binary.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// press builds the key message a terminal sends for a key name as
// bubbles/key spells it ("enter", "shift+tab", "space", "G", "/").
func press(name string) tea.KeyPressMsg {
	special := map[string]rune{
		"enter": tea.KeyEnter, "tab": tea.KeyTab, "esc": tea.KeyEscape,
		"space": tea.KeySpace, "up": tea.KeyUp, "down": tea.KeyDown,
		"left": tea.KeyLeft, "right": tea.KeyRight, "pgup": tea.KeyPgUp,
		"pgdown": tea.KeyPgDown, "home": tea.KeyHome, "end": tea.KeyEnd,
		"backspace": tea.KeyBackspace,
	}
	switch {
	case name == "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case name == "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case special[name] != 0:
		k := tea.KeyPressMsg{Code: special[name]}
		if name == "space" {
			k.Text = " "
		}
		return k
	}
	r := []rune(name)
	if len(r) != 1 {
		panic("press: unknown key " + name)
	}
	return tea.KeyPressMsg{Code: r[0], Text: name}
}

// plain strips escape sequences and trailing spaces, so goldens compare
// what a user reads, independent of colour support.
func plain(s string) string {
	lines := strings.Split(ansi.Strip(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n") + "\n"
}

// golden compares got (after plain) with testdata/name.golden; -update
// rewrites the file instead.
func golden(t *testing.T, name, got string) {
	t.Helper()
	got = plain(got)
	path := filepath.Join("testdata", name+".golden")
	if updating() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ui -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from %s\n--- got ---\n%s--- want ---\n%s", t.Name(), path, got, want)
	}
}

// assertSize checks that a rendered block is exactly w×h cells: a pane
// that draws one column too many breaks the whole layout.
func assertSize(t *testing.T, s string, w, h int) {
	t.Helper()
	lines := strings.Split(s, "\n")
	if len(lines) != h {
		t.Errorf("height %d, want %d", len(lines), h)
	}
	for i, l := range lines {
		if got := ansi.StringWidth(l); got != w {
			t.Errorf("line %d is %d wide, want %d: %q", i, got, w, ansi.Strip(l))
		}
	}
}

// unframed sizes p so that the inside of its frame is w×h and draws only
// that: the pane tests' goldens hold the content, the root's the frames.
func unframed(p interface {
	SetSize(w, h int)
	body() string
}, w, h int) string {
	p.SetSize(w+2, h+2)
	return p.body()
}

// lastOf is the latest task for which is holds, or nil.
func lastOf(m *Model, is func(*task) bool) *task {
	for i := len(m.tasks.all) - 1; i >= 0; i-- {
		if t := m.tasks.all[i]; is(t) {
			return t
		}
	}
	return nil
}

// buildTask is the latest build, actTask the latest other task.
func buildTask(m *Model) *task { return lastOf(m, func(t *task) bool { return t.kind == "build" }) }
func actTask(m *Model) *task   { return lastOf(m, func(t *task) bool { return t.kind != "build" }) }

func buildOf(t *task) *buildFlow { return t.flow.(*buildFlow) }

// runOf is what the latest run or rollback acted on.
func runOf(m *Model) *runChoice {
	switch f := actTask(m).flow.(type) {
	case *runFlow:
		return &f.choice
	case *rollbackFlow:
		return &f.choice
	}
	return nil
}

// top is the top dialog when it is a T.
func top[T overlay](m *Model) T {
	o, _ := m.topOverlay().(T)
	return o
}

// actionKey is the key of the action bound to k.
func actionKey(m *Model, k string) key.Binding {
	for _, a := range m.actions {
		if slices.Contains(a.key.Keys(), k) {
			return a.key
		}
	}
	panic("no action on " + k)
}
