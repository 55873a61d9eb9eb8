package ui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
)

// The main area shows one of the build log, the deploy pane, the bench
// pane and the compare pane; 1–4 choose, and starting a deploy or a bench
// brings its pane forward.
const (
	paneDeploy  paneID = "deploy"
	paneBench   paneID = "bench"
	paneCompare paneID = "compare"
)

// mainIDs are the main-area panes in key order (1–5).
var mainIDs = []paneID{paneLog, paneDeploy, paneBench, paneCompare, paneRun}

func isMain(id paneID) bool {
	for _, m := range mainIDs {
		if m == id {
			return true
		}
	}
	return false
}

// framed draws a self-contained component (which draws exactly the size
// it was given, unframed) inside the same rounded box as the other
// panes, and adapts it to the root's pane interface.
type framed struct {
	common  *Common
	title   string
	footer  string
	w, h    int
	focused bool

	setSize func(w, h int)
	update  func(tea.Msg) tea.Cmd
	view    func() string
	keyMap  func() help.KeyMap
}

func (f *framed) SetSize(w, h int) {
	f.w, f.h = w, h
	f.setSize(max(w-2, 0), max(h-2, 0))
}

func (f *framed) Update(msg tea.Msg) tea.Cmd { return f.update(msg) }
func (f *framed) Focus()                     { f.focused = true }
func (f *framed) Blur()                      { f.focused = false }
func (f *framed) KeyMap() help.KeyMap        { return f.keyMap() }

func (f *framed) View() string {
	if f.w < 2 || f.h < 2 {
		return ""
	}
	inner := f.w - 2
	body := f.view()
	var lines []string
	if body != "" {
		lines = strings.Split(body, "\n")
	}
	for i, l := range lines {
		lines[i] = fit(l, inner) // components already draw w wide; fit is cheap insurance
	}
	var b strings.Builder
	f.common.Styles.box(&b, f.title, f.footer, lines, f.w, f.h, f.focused)
	return b.String()
}

// component is a main-area pane as its own file defines it: it draws
// exactly the size it is given, unframed.
type component[P any, K help.KeyMap] interface {
	SetSize(w, h int)
	Update(tea.Msg) (P, tea.Cmd)
	View() string
	Keys() K
}

// frameOf boxes p under title, adapted to the root's pane interface.
func frameOf[P any, K help.KeyMap](c *Common, title string, p component[P, K]) *framed {
	return &framed{
		common:  c,
		title:   title,
		setSize: p.SetSize,
		update:  func(msg tea.Msg) tea.Cmd { _, cmd := p.Update(msg); return cmd },
		view:    p.View,
		keyMap:  func() help.KeyMap { return p.Keys() },
	}
}

// benchFrame is the bench pane in the main area.
type benchFrame struct {
	*framed
	p *BenchPane
}

func newBenchFrame(c *Common) *benchFrame {
	p := NewBenchPane()
	return &benchFrame{framed: frameOf(c, "Bench", p), p: p}
}

// compareFrame is the compare pane in the main area.
type compareFrame struct {
	*framed
	p *ComparePane
}

func newCompareFrame(c *Common) *compareFrame {
	p := NewComparePane()
	return &compareFrame{framed: frameOf(c, "Compare", p), p: p}
}

// showMain puts id in the main area and focuses it.
func (m *Model) showMain(id paneID) {
	m.main = id
	m.setFocus(id)
}

func (m *Model) mainPane() pane {
	for _, r := range m.panes {
		if r.id == m.main {
			return r.pane
		}
	}
	return m.log
}
