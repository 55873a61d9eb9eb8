package ui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// rollbackConfirm asks before u replaces the binary on the device: only y
// rolls back, any other key keeps it.
type rollbackConfirm struct {
	st     *Styles
	choice runChoice
	yes    func() tea.Cmd
	no     func()
}

func newRollbackConfirm(st *Styles, c runChoice, yes func() tea.Cmd, no func()) (*rollbackConfirm, tea.Cmd) {
	return &rollbackConfirm{st: st, choice: c, yes: yes, no: no}, nil
}

func (p *rollbackConfirm) Title() string    { return "Roll back" }
func (p *rollbackConfirm) SetSize(int, int) {}

func (p *rollbackConfirm) KeyMap() help.KeyMap {
	return overlayKeys{
		key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "roll back")),
		key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "keep")),
	}
}

func (p *rollbackConfirm) Update(msg tea.Msg) (tea.Cmd, bool) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil, false
	}
	if k.String() != "y" && k.String() != "Y" {
		p.no()
		return nil, true
	}
	return p.yes(), true
}

func (p *rollbackConfirm) View() string {
	st, c := p.st, p.choice
	lines := []string{
		st.TitleFocus.Render("roll back " + c.name + " on " + c.target.Name + " to the previous binary? y/N"),
		"",
		"The current one becomes " + c.name + ".prev, so u again undoes this.",
	}
	if c.note != "" {
		lines = append(lines, "", c.note)
	}
	lines = append(lines, "", st.Dim.Render("y roll back · n/esc keep it"))
	return strings.Join(lines, "\n")
}
