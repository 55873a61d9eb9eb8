package ui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// scrollFrame is what the main-area panes that draw all their lines and
// scroll through them share: the frame's size and the body's inside it,
// focus, and ↑/↓ scrolling (clamped where the body is drawn, by
// scrollView). A pane embeds it and adds its content and View.
type scrollFrame struct {
	st      *Styles
	fw, fh  int // the frame
	w, h    int // inside the frame
	focused bool
	keys    ScrollKeys
	scroll  int
}

func newScrollFrame(st *Styles) scrollFrame { return scrollFrame{st: st, keys: newScrollKeys()} }

func (p *scrollFrame) KeyMap() help.KeyMap { return p.keys }
func (p *scrollFrame) Focus()              { p.focused = true }
func (p *scrollFrame) Blur()               { p.focused = false }

// SetSize sets the size of the frame View draws.
func (p *scrollFrame) SetSize(w, h int) {
	p.fw, p.fh = w, h
	p.w, p.h = max(w-2, 0), max(h-2, 0)
}

// Update scrolls on ↑/↓.
func (p *scrollFrame) Update(msg tea.Msg) tea.Cmd {
	if msg, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(msg, p.keys.Up):
			p.scroll = max(0, p.scroll-1)
		case key.Matches(msg, p.keys.Down):
			p.scroll++ // clamped in View
		}
	}
	return nil
}
