package ui

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// overlay is a dialog: it takes the keyboard and the body of the screen
// until it is answered. Dialogs stack, the newest on top; the top one gets
// the keys, every one sees the other messages (a form's spinner, a
// cursor's blink). A new dialog is one file implementing this, pushed with
// m.push where it opens.
type overlay interface {
	Title() string
	// SetSize gives the room inside the dialog's frame.
	SetSize(w, h int)
	// Update handles a message; done closes the dialog.
	Update(msg tea.Msg) (cmd tea.Cmd, done bool)
	// View draws the inside of the frame, at most the size SetSize gave.
	View() string
	KeyMap() help.KeyMap
}

// abandoner is a dialog that waits on the running task's work (a
// passphrase the SSH engine asked for): cancelling the task answers it no
// and closes it.
type abandoner interface{ abandon() }

// overlayKeys is the key map of a dialog with a few fixed keys.
type overlayKeys []key.Binding

func (k overlayKeys) ShortHelp() []key.Binding  { return k }
func (k overlayKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k} }

// push opens o on top of the other dialogs; init is what o asked to run
// when it opened (a cursor's blink).
func (m *Model) push(o overlay, init tea.Cmd) tea.Cmd {
	m.overlays = append(m.overlays, o)
	m.sizeOverlays(m.common.Width, m.lay.bodyH)
	return init
}

func (m *Model) topOverlay() overlay {
	if len(m.overlays) == 0 {
		return nil
	}
	return m.overlays[len(m.overlays)-1]
}

func (m *Model) closeOverlay(o overlay) {
	m.overlays = slices.DeleteFunc(m.overlays, func(x overlay) bool { return x == o })
}

// overlayKey gives a key to the top dialog.
func (m *Model) overlayKey(msg tea.KeyPressMsg) tea.Cmd {
	top := m.topOverlay()
	cmd, done := top.Update(msg)
	if done {
		m.closeOverlay(top)
	}
	return cmd
}

// overlaysUpdate gives a message that is not a key to every dialog.
func (m *Model) overlaysUpdate(msg tea.Msg) tea.Cmd {
	var cmds []tea.Cmd
	for _, o := range slices.Clone(m.overlays) {
		cmd, done := o.Update(msg)
		if done {
			m.closeOverlay(o)
		}
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

// abandonOverlays answers and closes the dialogs that wait on a task.
func (m *Model) abandonOverlays() {
	m.overlays = slices.DeleteFunc(m.overlays, func(o overlay) bool {
		a, ok := o.(abandoner)
		if ok {
			a.abandon()
		}
		return ok
	})
}

func (m *Model) sizeOverlays(w, h int) {
	for _, o := range m.overlays {
		o.SetSize(max(w-3, 0), max(h-2, 0))
	}
}

// overlayView draws the top dialog in a frame of w×h.
func (m *Model) overlayView(w, h int) string {
	top := m.topOverlay()
	return overlayBox(m.common.Styles, top.Title(), strings.Split(top.View(), "\n"), w, h)
}
