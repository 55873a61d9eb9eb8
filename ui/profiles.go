package ui

import (
	"charm.land/bubbles/v2/help"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"armbench/profiles"
)

// ProfileList is the profiles pane: a multi-select, since one build can
// cover several profiles for a side-by-side comparison.
type ProfileList struct {
	common  *Common
	keys    ListKeys
	width   int
	height  int
	focused bool

	cursor  int
	offset  int
	checked map[string]bool
}

func NewProfileList(c *Common) *ProfileList {
	return &ProfileList{common: c, keys: newProfileKeys(), checked: map[string]bool{}}
}

func (p *ProfileList) SetSize(w, h int)    { p.width, p.height = w, h }
func (p *ProfileList) Focus()              { p.focused = true }
func (p *ProfileList) Blur()               { p.focused = false }
func (p *ProfileList) Title() string       { return "Profiles" }
func (p *ProfileList) KeyMap() help.KeyMap { return p.keys }

// Selected returns the ticked profiles in list order; the first is the
// baseline of comparisons.
func (p *ProfileList) Selected() []profiles.Profile {
	var out []profiles.Profile
	for _, pr := range p.common.Profiles {
		if p.checked[pr.Name] {
			out = append(out, pr)
		}
	}
	return out
}

// Focused returns the profile under the cursor.
func (p *ProfileList) Focused() (profiles.Profile, bool) {
	ps := p.common.Profiles
	if p.cursor < 0 || p.cursor >= len(ps) {
		return profiles.Profile{}, false
	}
	return ps[p.cursor], true
}

// Toggle ticks or unticks the profile named name.
func (p *ProfileList) Toggle(name string) bool {
	for _, pr := range p.common.Profiles {
		if pr.Name == name {
			p.checked[name] = !p.checked[name]
			return true
		}
	}
	return false
}

func (p *ProfileList) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	n := len(p.common.Profiles)
	switch {
	case n == 0:
	case key.Matches(km, p.keys.Up):
		p.cursor = max(p.cursor-1, 0)
	case key.Matches(km, p.keys.Down):
		p.cursor = min(p.cursor+1, n-1)
	case key.Matches(km, p.keys.Toggle):
		p.Toggle(p.common.Profiles[p.cursor].Name)
	default:
		return nil
	}
	// The plan previews the profile under the cursor while none is ticked,
	// so moving the cursor changes the plan too.
	return func() tea.Msg { return selectionChangedMsg{} }
}

// descLines is how many rows the focused profile's description gets at the
// bottom of the pane.
const descLines = 2

// maxDesc is how many rows the description may use in a tall pane.
const maxDesc = 6

func (p *ProfileList) View() string {
	var b strings.Builder
	st := p.common.Styles
	inner := p.width - 2
	body := max(p.height-2, 0)
	ps := p.common.Profiles

	// The focused profile's description goes right under the list, with
	// up to maxDesc rows when the pane is tall, descLines when it is not.
	listRows := body
	var desc []string
	if pr, ok := p.Focused(); ok && body > descLines+2 {
		text := pr.Description
		if pr.Extends != "" {
			text += " (extends " + pr.Extends + ")"
		}
		if text != "" {
			room := max(descLines, min(body-len(ps)-1, maxDesc))
			for _, l := range wrapWords(text, inner-1) {
				desc = append(desc, fit(" "+st.Desc.Render(l), inner))
			}
			desc = desc[:min(len(desc), room)]
			listRows = body - len(desc)
			if len(ps) < listRows {
				listRows = len(ps) + 1 // one blank row between list and text
			}
		}
	}
	p.offset = scrollTo(p.cursor, p.offset, listRows)
	lines := make([]string, 0, body)
	nameW := 0
	for _, pr := range ps {
		nameW = max(nameW, len(pr.Name))
	}
	for i := p.offset; i < len(ps) && len(lines) < listRows; i++ {
		pr := ps[i]
		cur, box := " ", "[ ]"
		if i == p.cursor && p.focused {
			cur = ">"
		}
		if p.checked[pr.Name] {
			box = "[x]"
		}
		origin := ""
		if !pr.Builtin {
			origin = "user"
		}
		row := fit(cur+box+" "+pad(pr.Name, nameW)+"  "+origin, inner)
		switch {
		case i == p.cursor && p.focused:
			row = st.Cursor.Render(row)
		case p.checked[pr.Name]:
			row = st.Selected.Render(row)
		}
		lines = append(lines, row)
	}
	for len(lines) < listRows {
		lines = append(lines, strings.Repeat(" ", max(inner, 0)))
	}
	lines = append(lines, desc...)
	footer := ""
	if n := len(p.Selected()); n > 0 {
		footer = plural(n, "profile") + " ticked"
	}
	st.box(&b, p.Title(), footer, lines, p.width, p.height, p.focused)
	return b.String()
}

func pad(s string, w int) string {
	if len(s) >= w {
		return s
	}
	return s + strings.Repeat(" ", w-len(s))
}
