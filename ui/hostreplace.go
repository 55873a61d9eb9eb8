package ui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"armbench/remote"
	"armbench/targets"
)

// hostReplaceConfirm asks for the target's name, typed, before the
// changed host key of a (re-flashed) device replaces the old one: a
// changed key may be an attack, so one key press is not enough. enter
// with the right name replaces (remote.ReplaceHostKey: every old entry,
// hashed, aliased or with a port, goes; the new key is added) and
// answers with a HostKeyTrustedMsg; esc leaves known_hosts alone.
type hostReplaceConfirm struct {
	st     *Styles
	target targets.Target
	err    *remote.HostKeyChangedError
	opts   remote.Options
	input  textinput.Model
	wrong  bool
}

func newHostReplaceConfirm(st *Styles, t targets.Target, e *remote.HostKeyChangedError, o remote.Options) (*hostReplaceConfirm, tea.Cmd) {
	in := textinput.New()
	in.Prompt = "target name: "
	in.SetWidth(30)
	cmd := in.Focus()
	return &hostReplaceConfirm{st: st, target: t, err: e, opts: o, input: in}, cmd
}

func (r *hostReplaceConfirm) keyMap() help.KeyMap {
	return overlayKeys{
		key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "replace the key")),
		key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

// update returns done when the dialog should close, with the command
// that replaces the key when the name was right.
func (r *hostReplaceConfirm) update(msg tea.Msg) (tea.Cmd, bool) {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch k.String() {
		case "esc":
			return nil, true
		case "enter":
			if strings.TrimSpace(r.input.Value()) != r.target.Name {
				r.wrong = true
				return nil, false
			}
			t, o, key := r.target, r.opts, r.err.Key
			// File I/O: in the command, never in Update.
			return func() tea.Msg {
				res, err := remote.ReplaceHostKey(t, o, key)
				return HostKeyTrustedMsg{Target: t, Key: res.Added, Err: err}
			}, true
		}
	}
	var cmd tea.Cmd
	r.input, cmd = r.input.Update(msg)
	return cmd, false
}

func (r *hostReplaceConfirm) view() string {
	st, e := r.st, r.err
	lines := []string{
		st.TitleFocus.Render("Replace the host key of " + r.target.Name),
		"",
		"known_hosts has for " + e.Host + ":",
	}
	for _, k := range e.Known {
		lines = append(lines, "  "+k)
	}
	lines = append(lines,
		"the device now sends the "+e.KeyType+" key:",
		"  "+st.Strong.Render(e.Fingerprint),
		"",
		"Do this only if you re-flashed or reinstalled the device. Every entry",
		"for it (hashed, under its alias, with a port) is removed from known_hosts",
		"and the new key is added.",
		"",
		"Type the target's name ("+r.target.Name+") and press enter:",
		r.input.View(),
	)
	if r.wrong {
		lines = append(lines, st.Error.Render("that is not "+r.target.Name+": nothing was changed"))
	}
	return strings.Join(append(lines, "", st.Dim.Render("enter replace · esc cancel")), "\n")
}
