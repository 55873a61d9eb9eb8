package ui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"armbench/internal/shell"
)

// runPrompt asks for the program's arguments before g runs it. enter
// runs (the prompt stays open while the line cannot be split), esc aborts.
type runPrompt struct {
	st     *Styles
	choice runChoice
	input  textinput.Model
	err    string // why the line cannot be split
	run    func(line string, args []string) tea.Cmd
	abort  func()
}

func newRunPrompt(st *Styles, c runChoice, line string, run func(string, []string) tea.Cmd, abort func()) (*runPrompt, tea.Cmd) {
	in := textinput.New()
	in.Prompt = "args: "
	in.SetWidth(40)
	in.SetValue(line)
	in.CursorEnd()
	p := &runPrompt{st: st, choice: c, input: in, run: run, abort: abort}
	return p, p.input.Focus()
}

func (p *runPrompt) Title() string    { return "Run on device" }
func (p *runPrompt) SetSize(int, int) {}

func (p *runPrompt) KeyMap() help.KeyMap {
	return overlayKeys{
		key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "run")),
		key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "abort")),
	}
}

func (p *runPrompt) Update(msg tea.Msg) (tea.Cmd, bool) {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch k.String() {
		case "enter":
			line := strings.TrimSpace(p.input.Value())
			args, err := shell.Split(line)
			if err != nil {
				p.err = "args: " + err.Error() // the prompt stays open to fix the line
				return nil, false
			}
			return p.run(line, args), true
		case "esc":
			p.abort()
			return nil, true
		}
		p.err = ""
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg) // keys, and the cursor's blink
	return cmd, false
}

func (p *runPrompt) View() string {
	st, c := p.st, p.choice
	lines := []string{
		st.TitleFocus.Render("Run " + c.name + " on " + c.target.Name),
		"",
	}
	if env := c.plan.RunEnvStrings(); len(env) > 0 {
		lines = append(lines, st.Dim.Render("env "+strings.Join(env, " ")))
	}
	lines = append(lines, p.input.View(), "")
	if p.err != "" {
		lines = append(lines, st.Error.Render(p.err), "")
	}
	if c.note != "" {
		lines = append(lines, c.note, "")
	}
	lines = append(lines, st.Dim.Render("enter run · esc abort"))
	return strings.Join(lines, "\n")
}
