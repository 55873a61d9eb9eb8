package ui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"armbench/internal/shell"
	"armbench/remote"
)

// hostChangedDialog is OpenSSH's warning for a device whose host key
// changed, and how to remove the old key; it offers no way to accept the
// new one. esc or enter close it.
type hostChangedDialog struct {
	st  *Styles
	err *remote.HostKeyChangedError
}

func newHostChangedDialog(st *Styles, e *remote.HostKeyChangedError) (*hostChangedDialog, tea.Cmd) {
	return &hostChangedDialog{st: st, err: e}, nil
}

func (d *hostChangedDialog) Title() string    { return "Host key changed" }
func (d *hostChangedDialog) SetSize(int, int) {}

func (d *hostChangedDialog) KeyMap() help.KeyMap {
	return overlayKeys{key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close"))}
}

func (d *hostChangedDialog) Update(msg tea.Msg) (tea.Cmd, bool) {
	k, ok := msg.(tea.KeyPressMsg)
	return nil, ok && (k.String() == "esc" || k.String() == "enter")
}

func (d *hostChangedDialog) View() string {
	st, e := d.st, d.err
	var lines []string
	for _, l := range strings.Split(e.Warning(), "\n") {
		lines = append(lines, st.Error.Render(l))
	}
	lines = append(lines, "", "Remove the old key only if you know why it changed:",
		"  ssh-keygen -R "+shell.Quote(e.Host)+" -f "+shell.Quote(e.File), "", st.Dim.Render("esc close"))
	return strings.Join(lines, "\n")
}
