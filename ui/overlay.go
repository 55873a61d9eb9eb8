package ui

import (
	"fmt"
	"os"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"armbench/bench"
	"armbench/detect"
	"armbench/internal/shell"
	"armbench/profiles"
	"armbench/remote"
	"armbench/targets"
)

// Overlays take the keyboard and the body of the screen until answered:
// the passphrase prompt, the changed-host-key screen, the unknown-host
// prompt and the add-target form, in that order of precedence.

func (m *Model) overlayOpen() bool {
	return m.pass != nil || m.hostChanged != nil || m.hostKey != nil || m.addTarget != nil ||
		m.runPrompt != nil || m.confirm != nil
}

func (m *Model) hostPromptOpen() bool { return m.hostKey != nil }

// overlayKey gives a key to the topmost overlay; ok is false when none is
// open.
func (m *Model) overlayKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	switch {
	case m.pass != nil:
		cmd, done := m.pass.update(msg)
		if done {
			m.pass = nil
			return tea.Batch(cmd, m.asker.listen()), true
		}
		return cmd, true
	case m.hostChanged != nil:
		switch msg.String() {
		case "esc", "enter":
			m.hostChanged = nil
		}
		return nil, true
	case m.hostKey != nil:
		_, cmd := m.hostKey.Update(msg)
		if cmd != nil { // answered: one yes appends one line
			m.logger.Printf("host key %s of %s answered %q", m.hostKey.err.Fingerprint, m.hostKey.err.Host, msg.String())
			m.hostKey = nil
		}
		return cmd, true
	case m.addTarget != nil:
		return m.addTarget.Update(msg), true
	case m.runPrompt != nil:
		return m.runPromptKey(msg), true
	case m.confirm != nil:
		return m.confirmKey(msg), true
	}
	return nil, false
}

type overlayKeys []key.Binding

func (k overlayKeys) ShortHelp() []key.Binding  { return k }
func (k overlayKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k} }

func (m *Model) overlayKeyMap() (help.KeyMap, bool) {
	switch {
	case m.pass != nil:
		return overlayKeys{
			key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "unlock")),
			key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "skip key")),
		}, true
	case m.hostChanged != nil:
		return overlayKeys{key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close"))}, true
	case m.hostKey != nil:
		return m.hostKey.Keys(), true
	case m.addTarget != nil:
		return m.addTarget.KeyMap(), true
	}
	return m.runOverlayKeyMap()
}

func (m *Model) overlayView(w, h int) string {
	st := m.common.Styles
	switch {
	case m.pass != nil:
		return m.pass.view(st, w, h)
	case m.hostChanged != nil:
		return hostChangedView(st, m.hostChanged, w, h)
	case m.hostKey != nil:
		return overlayBox(st, "Host key", strings.Split(m.hostKey.View(), "\n"), w, h)
	case m.addTarget != nil:
		return overlayBox(st, "Add target", strings.Split(m.addTarget.View(), "\n"), w, h)
	case m.runPrompt != nil:
		return m.runPrompt.view(st, w, h)
	case m.confirm != nil:
		return m.confirm.view(st, w, h)
	}
	return ""
}

func (m *Model) sizeOverlays(w, h int) {
	if m.hostKey != nil {
		m.hostKey.SetSize(max(w-3, 0), max(h-2, 0))
	}
	if m.addTarget != nil {
		m.addTarget.SetSize(max(w-3, 0), max(h-2, 0))
	}
}

func (m *Model) sizeMain(w, h int) {
	m.log.SetSize(w, h)
	m.deployPane.SetSize(w, h)
	m.benchPane.SetSize(w, h)
	m.comparePane.SetSize(w, h)
	m.runLog.SetSize(w, h)
}

// refreshKeys enables each global key only when pressing it would do
// something, so help lists exactly what is usable now.
func (m *Model) refreshKeys() {
	busy := m.busy()
	_, hasTarget := m.targets.Chosen()
	ticked := len(m.profiles.Selected())
	_, focused := m.profiles.Focused()
	m.keys.Build.SetEnabled(!busy)
	m.keys.Deploy.SetEnabled(!busy && hasTarget && (ticked > 0 || focused))
	m.keys.Bench.SetEnabled(!busy && hasTarget && ticked > 0)
	m.keys.Run.SetEnabled(!busy && hasTarget && (ticked > 0 || focused))
	m.keys.Rollback.SetEnabled(!busy && hasTarget && (ticked > 0 || focused))
	m.keys.Cancel.SetEnabled(busy)
	if busy {
		m.keys.Cancel.SetHelp("x", "cancel "+m.busyWhat())
	}
}

// blocked says why no build, deploy, bench, run or rollback can start
// now, or "" when one can: the one wording for the disabled keys and for
// the actions themselves.
func (m *Model) blocked() string {
	if m.busy() {
		return "a " + m.busyWhat() + " is running: x cancels it"
	}
	if _, ok := m.targets.Chosen(); !ok {
		return "no target: add one to " + m.targets.configPath() + " or press a"
	}
	return ""
}

// idleTarget is the chosen target when an action can start; otherwise
// the notice says why not.
func (m *Model) idleTarget() (targets.Target, bool) {
	if why := m.blocked(); why != "" {
		m.notice = why
		return targets.Target{}, false
	}
	return m.targets.Chosen()
}

// whyDisabled explains a disabled b, d, r, g or u.
func (m *Model) whyDisabled(k string) string {
	if why := m.blocked(); why != "" {
		return why
	}
	if k == "r" {
		return "bench: tick one or more profiles with space (two or more to compare)"
	}
	return "no profile: tick one with space"
}

func (m *Model) openHostKey(t targets.Target, e *remote.UnknownHostError) {
	m.hostKey = NewHostKeyPrompt(m.common.Styles, t, e, m.remoteOptions())
}

// onHostTrusted starts the deploy or bench that met the unknown key again.
func (m *Model) onHostTrusted(msg HostKeyTrustedMsg) tea.Cmd {
	if msg.Err != nil {
		if m.act != nil {
			m.act.summary = "trust failed: " + firstLine(msg.Err.Error())
		}
		m.logger.Printf("trust %s: %v", msg.Target.Name, msg.Err)
		return nil
	}
	m.notice = fmt.Sprintf("added %s to %s", msg.Key.Fingerprint, msg.Key.File)
	m.logger.Printf("trusted %s key %s of %s (%s)", msg.Key.KeyType, msg.Key.Fingerprint, msg.Key.Host, msg.Key.File)
	if m.retry == nil || m.busy() {
		return nil
	}
	return m.retry()
}

// onHostDeclined ends the deploy or bench: nothing was written.
func (m *Model) onHostDeclined(msg HostKeyDeclinedMsg) {
	if a := m.act; a != nil && !a.running() {
		a.summary = fmt.Sprintf("%s aborted: host key %s of %s not trusted", a.kind, msg.Key.Fingerprint, msg.Key.Host)
		switch a.kind {
		case actRun, actRollback:
			m.connectFailedRun(a, fmt.Errorf("%w: %s", remote.ErrNotTrusted, msg.Key.Fingerprint))
		case actDeploy:
			m.deployPane.ConnectFailed(fmt.Errorf("%w: %s", remote.ErrNotTrusted, msg.Key.Fingerprint))
		default:
			m.benchPane.Push(bench.Finished{Err: fmt.Errorf("%w: %s", remote.ErrNotTrusted, msg.Key.Fingerprint)})
		}
	}
	m.notice = "not trusted: known_hosts unchanged"
}

func hostChangedView(st *Styles, e *remote.HostKeyChangedError, w, h int) string {
	lines := []string{}
	for _, l := range strings.Split(e.Warning(), "\n") {
		lines = append(lines, st.Error.Render(l))
	}
	lines = append(lines, "", "Remove the old key only if you know why it changed:",
		"  ssh-keygen -R "+shell.Quote(e.Host)+" -f "+shell.Quote(e.File), "", st.Dim.Render("esc close"))
	return overlayBox(st, "Host key changed", lines, w, h)
}

// openAddTarget shows the add-target form.
func (m *Model) openAddTarget() tea.Cmd {
	path := ""
	if c := m.common.Config; c != nil && c.Path != targets.EmbeddedName {
		path = c.Path
	}
	path = detect.AddPath(path)
	embedded := m.embedded
	onEmbedded := m.common.Config == nil || m.common.Config.Path == targets.EmbeddedName
	m.addTarget = NewAddTarget(AddTargetOptions{
		ConfigPath: path,
		Existing:   m.common.Config,
		Remote:     m.remoteOptions(),
		Styles:     m.common.Styles,
		Append: func(path string, t targets.Target, reasons ...detect.Reason) error {
			// Start targets.toml from the embedded default, so the
			// targets the user had stay in the list.
			if onEmbedded && len(embedded) > 0 {
				if _, err := os.Stat(path); os.IsNotExist(err) {
					if err := os.WriteFile(path, embedded, 0o644); err != nil {
						return fmt.Errorf("add target: %w", err)
					}
				}
			}
			return detect.AppendTarget(path, t, reasons...)
		},
	})
	m.sizeOverlays(m.common.Width, m.lay.bodyH)
	return m.addTarget.Init()
}

// configReloadedMsg is the configuration read again after a target was
// added.
type configReloadedMsg struct {
	added targets.Target
	path  string
	cfg   *targets.Config
	ps    []profiles.Profile
	err   error
}

// targetAdded reloads the configuration (off the Update loop) so the new
// target is in the list, chosen, without a restart.
func (m *Model) targetAdded(msg TargetAddedMsg) tea.Cmd {
	m.addTarget = nil
	reload := m.reload
	if reload == nil {
		reload = func() (*targets.Config, []profiles.Profile, error) {
			cfg, err := targets.Open(msg.Path, nil)
			if err != nil {
				return nil, nil, err
			}
			ps, err := profiles.Load(cfg)
			return cfg, ps, err
		}
	}
	return func() tea.Msg {
		cfg, ps, err := reload()
		return configReloadedMsg{added: msg.Target, path: msg.Path, cfg: cfg, ps: ps, err: err}
	}
}

func (m *Model) configReloaded(msg configReloadedMsg) {
	if msg.err != nil {
		m.notice = "reload after adding " + msg.added.Name + ": " + firstLine(msg.err.Error())
		m.logger.Printf("reload: %v", msg.err)
		return
	}
	m.common.Config, m.common.Profiles = msg.cfg, msg.ps
	if !m.targets.Choose(msg.added.Name) {
		m.notice = fmt.Sprintf("added %s to %s, but the reloaded configuration (%s) does not have it", msg.added.Name, msg.path, msg.cfg.Path)
	} else {
		m.notice = fmt.Sprintf("added %s (%s) to %s", msg.added.Name, msg.added.Arch(), msg.path)
	}
	m.logger.Printf("target %s added to %s", msg.added.Name, msg.path)
	m.refreshPlan()
}
