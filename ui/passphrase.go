package ui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"armbench/remote"
)

// passphraseAsker bridges remote.Options.Passphrase, a blocking callback
// the SSH engine calls from its own goroutine, to the model: the request
// travels as a message, the answer comes back on a channel. The engine
// goroutine waits; Update never does.
type passphraseAsker struct {
	reqs chan passphraseRequest
	quit chan struct{} // closed when the TUI stops: waiting callbacks give up
}

type passphraseRequest struct {
	keyPath string
	reply   chan passphraseReply // buffered: answering never blocks Update
}

type passphraseReply struct {
	pass []byte
	err  error
}

// passphraseRequestMsg asks the model to prompt for a key's passphrase.
type passphraseRequestMsg struct{ req passphraseRequest }

func newPassphraseAsker() *passphraseAsker {
	return &passphraseAsker{reqs: make(chan passphraseRequest), quit: make(chan struct{})}
}

// ask is the remote.Options.Passphrase callback.
func (a *passphraseAsker) ask(keyPath string) ([]byte, error) {
	req := passphraseRequest{keyPath: keyPath, reply: make(chan passphraseReply, 1)}
	select {
	case a.reqs <- req:
	case <-a.quit:
		return nil, remote.ErrNoPassphrase
	}
	select {
	case r := <-req.reply:
		return r.pass, r.err
	case <-a.quit:
		return nil, remote.ErrNoPassphrase
	}
}

// listen waits (off the Update loop) for the next request. The model
// starts it in Init and again as each request arrives, so requests of
// two connections at once stack as two prompts.
func (a *passphraseAsker) listen() tea.Cmd {
	return func() tea.Msg {
		select {
		case r := <-a.reqs:
			return passphraseRequestMsg{req: r}
		case <-a.quit:
			return nil
		}
	}
}

func (a *passphraseAsker) close() {
	select {
	case <-a.quit:
	default:
		close(a.quit)
	}
}

// passphrasePrompt is the masked input shown for one request. The typed
// text lives only in the input and in the reply; it is never logged.
type passphrasePrompt struct {
	st       *Styles
	req      passphraseRequest
	input    textinput.Model
	answered bool
}

func newPassphrasePrompt(st *Styles, req passphraseRequest) (*passphrasePrompt, tea.Cmd) {
	in := textinput.New()
	in.EchoMode = textinput.EchoPassword
	in.Prompt = "passphrase: "
	in.SetWidth(40)
	cmd := in.Focus()
	return &passphrasePrompt{st: st, req: req, input: in}, cmd
}

// answer replies once and wipes the input.
func (p *passphrasePrompt) answer(pass []byte, err error) {
	if !p.answered {
		p.answered = true
		p.req.reply <- passphraseReply{pass: pass, err: err}
	}
	p.input.SetValue("")
}

// abandon answers no: the task that asked was cancelled.
func (p *passphrasePrompt) abandon() { p.answer(nil, remote.ErrNoPassphrase) }

func (p *passphrasePrompt) Title() string    { return "Passphrase" }
func (p *passphrasePrompt) SetSize(int, int) {}

func (p *passphrasePrompt) KeyMap() help.KeyMap {
	return overlayKeys{
		key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "unlock")),
		key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "skip key")),
	}
}

func (p *passphrasePrompt) Update(msg tea.Msg) (tea.Cmd, bool) {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch k.String() {
		case "enter":
			p.answer([]byte(p.input.Value()), nil)
			return nil, true
		case "esc":
			p.answer(nil, remote.ErrNoPassphrase)
			return nil, true
		}
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	return cmd, false
}

func (p *passphrasePrompt) View() string {
	st := p.st
	return strings.Join([]string{
		st.TitleFocus.Render("SSH key passphrase"),
		"",
		"The private key " + p.req.keyPath + " is encrypted.",
		"Enter its passphrase to connect (it is not stored or logged).",
		"",
		p.input.View(),
		"",
		st.Dim.Render("enter unlock · esc skip this key"),
	}, "\n")
}
