package ui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
)

// layout is where each pane goes in the current window, and the lines
// around them; layout() works it out after each Update so View only draws.
type layout struct {
	mode    layoutMode
	bodyH   int
	leftW   int // wide: the targets/profiles column; narrow: the targets box
	topH    int // narrow: the targets/profiles row
	targetH int // wide: the targets box
	planH   int // wide: the plan box
	status  []string
	help    string
}

type layoutMode int

const (
	layoutTooSmall layoutMode = iota
	layoutWide                // selectors left, plan over log right
	layoutNarrow              // selectors on top, plan below; the log alone when focused
)

const (
	minWidth  = 40
	minHeight = 10
	wideWidth = 120
)

// layout sizes every pane for the window.
func (m *Model) layout() {
	w, h := m.common.Width, m.common.Height
	l := layout{status: m.statusLines(), help: m.helpView()}
	l.bodyH = h - 1 - len(l.status) - (strings.Count(l.help, "\n") + 1)
	switch {
	case w < minWidth || l.bodyH < minHeight-4:
		l.mode = layoutTooSmall
	case w >= wideWidth && l.bodyH >= 16:
		m.layoutWide(&l, w)
	default:
		m.layoutNarrow(&l, w)
	}
	m.sizeOverlays(w, l.bodyH)
	m.lay = l
}

func (m *Model) layoutWide(l *layout, w int) {
	body := l.bodyH
	l.mode = layoutWide
	l.leftW = min(max(m.targets.ContentWidth(), 34), w/3)
	l.targetH = min(m.targets.rows()+2, max(body/3, 4))
	l.planH = min(max(m.plan.ContentHeight(), 5), body*2/5)
	m.targets.SetSize(l.leftW, l.targetH)
	m.profiles.SetSize(l.leftW, body-l.targetH)
	m.plan.SetSize(w-l.leftW, l.planH)
	m.main.setSize(w-l.leftW, body-l.planH)
}

func (m *Model) layoutNarrow(l *layout, w int) {
	body := l.bodyH
	l.mode = layoutNarrow
	l.leftW = w - w*2/5 // targets rows are wider than profile rows
	nT, nP := m.targets.rows(), len(m.common.Profiles)
	// The selectors get what they need unless the plan would be squeezed
	// below its own needs (or half the body, if less).
	need := max(nT+2, nP+2+descLines)
	planNeed := max(min(m.plan.ContentHeight(), body/2), 5)
	l.topH = max(min(need, body-planNeed), 4)
	m.targets.SetSize(l.leftW, l.topH)
	m.profiles.SetSize(w-l.leftW, l.topH)
	m.plan.SetSize(w, body-l.topH)
	m.main.setSize(w, body)
}

func (m *Model) helpView() string {
	m.help.SetWidth(m.common.Width)
	if top := m.topOverlay(); top != nil {
		return m.help.View(top.KeyMap())
	}
	return m.help.View(helpKeys{pane: m.focused().pane.KeyMap(), actions: m.actions, global: m.keys})
}

func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "armbench"
	return v
}

func (m *Model) render() string {
	w, h := m.common.Width, m.common.Height
	if w == 0 || h == 0 {
		return ""
	}
	if m.lay.mode == layoutTooSmall {
		return fit(fmt.Sprintf("armbench needs at least %d×%d (now %d×%d)", minWidth, minHeight, w, h), w)
	}
	if m.present && len(m.overlays) == 0 {
		return m.presentView(w, h)
	}
	blocks := []string{m.header()}
	switch {
	case len(m.overlays) > 0:
		blocks = append(blocks, m.overlayView(w, m.lay.bodyH))
	case m.lay.mode == layoutWide:
		left := m.targets.View() + "\n" + m.profiles.View()
		right := m.plan.View() + "\n" + m.main.pane().View()
		blocks = append(blocks, beside(left, right))
	case isMain(m.focused().id):
		blocks = append(blocks, m.main.pane().View())
	default:
		blocks = append(blocks, beside(m.targets.View(), m.profiles.View()), m.plan.View())
	}
	blocks = append(blocks, m.lay.status...)
	for _, l := range strings.Split(m.lay.help, "\n") {
		blocks = append(blocks, fit(l, w))
	}
	return strings.Join(blocks, "\n")
}

func (m *Model) header() string {
	st := m.common.Styles
	path := "targets.toml"
	if m.common.Config != nil && m.common.Config.Path != "" {
		path = m.common.Config.Path
	}
	info := " " + path + " · pkg " + m.common.Pkg
	if t, ok := m.targets.Chosen(); ok {
		info += " · target " + t.Name
	}
	if g, _, ok := m.targets.ChosenGroup(); ok {
		info += " · group " + g.Name
	}
	return fit(st.Header.Render("armbench")+st.HeaderDim.Render(info), m.common.Width)
}

// beside puts two blocks of equal height side by side. Every pane draws
// exactly its size, so this is line-wise concatenation; lipgloss's
// JoinHorizontal would measure every cell again, which cost more than
// drawing the whole log.
func beside(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var sb strings.Builder
	sb.Grow(len(a) + len(b) + len(al))
	for i := 0; i < max(len(al), len(bl)); i++ {
		if i > 0 {
			sb.WriteByte('\n')
		}
		if i < len(al) {
			sb.WriteString(al[i])
		}
		if i < len(bl) {
			sb.WriteString(bl[i])
		}
	}
	return sb.String()
}
