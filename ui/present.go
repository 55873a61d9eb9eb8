package ui

import (
	tea "charm.land/bubbletea/v2"
)

// p switches to the presentation layout and back: the run pane's knobs,
// verdict and charts filling the window, for a room to read; the keys
// keep working (g runs, c and +/- turn a knob, x stops).
func presentAction() action {
	return action{key: newKey("p", "presentation layout"), start: func(m *Model) tea.Cmd {
		m.setPresent(!m.present)
		return nil
	}}
}

// setPresent enters or leaves the presentation layout; entering it gives
// the run pane the keys.
func (m *Model) setPresent(on bool) {
	m.present = on
	if on {
		m.showMain(paneRun)
	}
}

// presentView is the whole window in the presentation layout: the run
// pane's big view, then one faint line of keys.
func (m *Model) presentView(w, h int) string {
	st := m.common.Styles
	keys := "g run · c knob · +/- turn · x stop · p leave · q quit"
	if m.notice != "" {
		keys = m.notice + " · " + keys
	}
	return m.main.run.PresentView(w, h-1) + "\n" + fit(st.Faint.Render(keys), w)
}
