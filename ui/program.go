package ui

import (
	"context"
	"errors"
	"log"
	"os"
	"path/filepath"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
)

// Run runs the TUI on the terminal until the user quits or ctx is
// cancelled; tasks still running are cancelled and waited for.
func Run(ctx context.Context, opts Options) error {
	m := New(opts)
	m.env.ctx = ctx
	defer m.close()
	// lipgloss detected stdout's colour profile when it was initialised;
	// handing that to Bubble Tea saves detecting it again, which inside
	// tmux runs `tmux info` (tens of ms before the first frame).
	profile := lipgloss.Writer.Profile
	if noColor(os.Environ()) {
		profile = colorprofile.Ascii
	}
	popts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithColorProfile(profile)}
	_, err := tea.NewProgram(m, popts...).Run()
	m.shutdown()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// noColor follows no-color.org: any non-empty NO_COLOR disables colour.
// colorprofile alone only honours values that parse as true.
func noColor(env []string) bool {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "NO_COLOR="); ok && v != "" {
			return true
		}
	}
	return false
}

// openLog sends the debug log to path ("" = nowhere), making its
// directory first; the error names the step that failed.
func (e *env) openLog(path string) error {
	if path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	e.logger = log.New(f, "", log.LstdFlags|log.Lmicroseconds)
	e.logOut = f
	return nil
}

func (m *Model) close() {
	if m.env.metrics != nil {
		m.env.metrics.stop()
	}
	m.env.asker.close()
	m.env.pool.Close()
	if m.env.helpers != nil {
		m.env.helpers.Close()
	}
	if m.env.logOut != nil {
		m.env.logOut.Close()
	}
}

// quit cancels the tasks and ends the program once every task's
// goroutine returned (quitGrace at most).
func (m *Model) quit() tea.Cmd {
	if m.quitting {
		return nil
	}
	m.quitting = true
	m.cancelRunning()
	m.env.asker.close()
	waiting := m.tasks.unfinished()
	if len(waiting) == 0 {
		return tea.Quit
	}
	for _, t := range waiting {
		t.cancel() // an ended task's goroutine may still be finishing up
	}
	m.notice = "stopping…"
	return func() tea.Msg {
		waitTasks(waiting)
		return tea.QuitMsg{}
	}
}

// shutdown cancels every task and waits (bounded) for their goroutines,
// so no go command or remote process outlives the TUI.
func (m *Model) shutdown() {
	m.env.asker.close() // a goroutine waiting for a passphrase gives up
	for _, t := range m.tasks.all {
		t.cancel()
	}
	waitTasks(m.tasks.all)
}
