package ui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"armbench/remote"
	"armbench/targets"
)

// HostKeyPrompt asks whether to trust an unknown device's host key,
// showing what OpenSSH shows: the host, the key type and the SHA256
// fingerprint, with y to trust and n (or esc) to refuse. A yes appends
// exactly the key shown (remote.TrustKey), never one fetched again.
//
// The root opens it as a dialog on a *remote.UnknownHostError and acts on
// the HostKeyTrustedMsg or HostKeyDeclinedMsg it produces.
type HostKeyPrompt struct {
	w, h   int
	target targets.Target
	err    *remote.UnknownHostError
	opts   remote.Options
	keys   HostKeyKeys
	st     *Styles
}

// HostKeyKeys answer the prompt.
type HostKeyKeys struct {
	Yes key.Binding
	No  key.Binding
}

// ShortHelp implements help.KeyMap.
func (k HostKeyKeys) ShortHelp() []key.Binding { return []key.Binding{k.Yes, k.No} }

// FullHelp implements help.KeyMap.
func (k HostKeyKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// HostKeyDeclinedMsg is a no: nothing was written.
type HostKeyDeclinedMsg struct {
	Target targets.Target
	Key    *remote.UnknownHostError
}

// HostKeyTrustedMsg is a yes, and the outcome of appending the key to
// known_hosts.
type HostKeyTrustedMsg struct {
	Target targets.Target
	Key    remote.HostKey
	Err    error
}

// NewHostKeyPrompt asks about e's key for target t; o says which
// known_hosts file a yes writes to when e does not.
func NewHostKeyPrompt(st *Styles, t targets.Target, e *remote.UnknownHostError, o remote.Options) *HostKeyPrompt {
	return &HostKeyPrompt{
		target: t, err: e, opts: o, st: st,
		keys: HostKeyKeys{
			Yes: key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "trust and connect")),
			No:  key.NewBinding(key.WithKeys("n", "N", "esc"), key.WithHelp("n/esc", "do not trust")),
		},
	}
}

func (p *HostKeyPrompt) Title() string       { return "Host key" }
func (p *HostKeyPrompt) KeyMap() help.KeyMap { return p.keys }

// SetSize sets the size View draws.
func (p *HostKeyPrompt) SetSize(w, h int) { p.w, p.h = max(w, 0), max(h, 0) }

// Update answers on y or n, which closes the prompt: it returns a command
// producing HostKeyTrustedMsg (after appending the key) or
// HostKeyDeclinedMsg.
func (p *HostKeyPrompt) Update(msg tea.Msg) (tea.Cmd, bool) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil, false
	}
	t, e, o := p.target, p.err, p.opts
	switch {
	case key.Matches(k, p.keys.Yes):
		// File I/O: in the command, never in Update.
		return func() tea.Msg {
			hk, err := remote.TrustKey(t, o, e)
			return HostKeyTrustedMsg{Target: t, Key: hk, Err: err}
		}, true
	case key.Matches(k, p.keys.No):
		return func() tea.Msg { return HostKeyDeclinedMsg{Target: t, Key: e} }, true
	}
	return nil, false
}

// View draws the prompt at exactly the size SetSize gave.
func (p *HostKeyPrompt) View() string {
	if p.w == 0 || p.h == 0 {
		return ""
	}
	e := p.err
	file := e.File
	if file == "" {
		file = "known_hosts"
	}
	lines := []string{
		p.st.Warn.Render("Unknown host"),
		"",
		"The authenticity of host " + e.Host + " (target " + p.target.Name + ") can't be established.",
		"",
		p.st.Faint.Render("Host:        ") + e.Host,
		p.st.Faint.Render("Key type:    ") + e.KeyType,
		p.st.Faint.Render("Fingerprint: ") + p.st.Strong.Render(e.Fingerprint),
		"",
		"Compare it with the device's own, on its console:",
		"  ssh-keygen -lf /etc/ssh/ssh_host_" + keyFileType(e.KeyType) + "_key.pub",
		"Trusting appends the key to " + file + ".",
		"",
		p.st.Faint.Render("y trust and connect · n do not trust"),
	}
	out := make([]string, 0, p.h)
	for _, l := range lines {
		if len(out) == p.h {
			break
		}
		out = append(out, fit(l, p.w))
	}
	for len(out) < p.h {
		out = append(out, strings.Repeat(" ", p.w))
	}
	return strings.Join(out, "\n")
}

// keyFileType is the name OpenSSH gives the host key file of a key type.
func keyFileType(t string) string {
	switch {
	case strings.Contains(t, "ed25519"):
		return "ed25519"
	case strings.Contains(t, "ecdsa"):
		return "ecdsa"
	case strings.Contains(t, "rsa"):
		return "rsa"
	}
	return "*"
}
