package ui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"armbench/remote"
	"armbench/targets"
)

// hostChangedDialog is OpenSSH's warning for a device whose host key
// changed, with both fingerprints; it never accepts the new key on one
// key press. r asks for the target's name, typed, and then replaces the
// key (a re-flashed board); esc or enter close it.
type hostChangedDialog struct {
	st      *Styles
	err     *remote.HostKeyChangedError
	target  targets.Target
	opts    remote.Options
	replace *hostReplaceConfirm // the typed confirmation, once r was pressed
}

func newHostChangedDialog(st *Styles, e *remote.HostKeyChangedError, t targets.Target, o remote.Options) (*hostChangedDialog, tea.Cmd) {
	return &hostChangedDialog{st: st, err: e, target: t, opts: o}, nil
}

func (d *hostChangedDialog) Title() string    { return "Host key changed" }
func (d *hostChangedDialog) SetSize(int, int) {}

func (d *hostChangedDialog) KeyMap() help.KeyMap {
	if d.replace != nil {
		return d.replace.keyMap()
	}
	return overlayKeys{key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "replace the key (re-flashed)")),
		key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close"))}
}

func (d *hostChangedDialog) Update(msg tea.Msg) (tea.Cmd, bool) {
	if d.replace != nil {
		return d.replace.update(msg)
	}
	k, ok := msg.(tea.KeyPressMsg)
	if ok && k.String() == "r" && d.target.Name != "" && d.err.Key != nil {
		var cmd tea.Cmd
		d.replace, cmd = newHostReplaceConfirm(d.st, d.target, d.err, d.opts)
		return cmd, false
	}
	return nil, ok && (k.String() == "esc" || k.String() == "enter")
}

func (d *hostChangedDialog) View() string {
	if d.replace != nil {
		return d.replace.view()
	}
	st, e := d.st, d.err
	var lines []string
	for _, l := range strings.Split(e.Warning(), "\n") {
		lines = append(lines, st.Error.Render(l))
	}
	lines = append(lines, "", st.Dim.Render("r replace the key (asks for the target's name) · esc close"))
	return strings.Join(lines, "\n")
}
