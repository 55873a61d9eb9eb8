package ui

import (
	"slices"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"armbench/targets"
)

// action is a global key that starts a flow or opens a dialog.
type action struct {
	key   key.Binding
	short bool // listed in the one-line help
	// ready says why the action cannot start now, "" when it can; nil
	// means it always can. The key is offered only when ready.
	ready func(m *Model) string
	start func(m *Model) tea.Cmd
}

// newActions is the registry of actions, in the order help lists them: a
// new flow or dialog with a key of its own adds one line here.
func newActions() []action {
	return []action{
		buildAction(),
		deployAction(),
		benchAction(),
		runAction(),
		watchAction(),
		sizeAction(),
		pgoAction(),
		sweepAction(),
		rollbackAction(),
		addTargetAction(),
		metricsAction(),
		presentAction(),
	}
}

func newKey(k, help string) key.Binding {
	return key.NewBinding(key.WithKeys(k), key.WithHelp(k, help))
}

// whyNot is why a cannot start now, "" when it can.
func (m *Model) whyNot(a *action) string {
	if a.ready == nil {
		return ""
	}
	return a.ready(m)
}

// actionKey starts the action bound to msg, or says why it cannot; ok is
// false when no action has that key.
func (m *Model) actionKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	for i := range m.actions {
		a := &m.actions[i]
		switch {
		case key.Matches(msg, a.key):
			return a.start(m), true
		case !a.key.Enabled() && slices.Contains(a.key.Keys(), msg.String()):
			m.notice = m.whyNot(a)
			return nil, true
		}
	}
	return nil, false
}

// refreshKeys enables each global key only when pressing it would do
// something, so help lists exactly what is usable now.
func (m *Model) refreshKeys() {
	for i := range m.actions {
		a := &m.actions[i]
		a.key.SetEnabled(m.whyNot(a) == "")
	}
	t := m.tasks.running()
	m.keys.Cancel.SetEnabled(t != nil)
	if t != nil {
		m.keys.Cancel.SetHelp("x", "cancel "+t.kind)
	}
}

// idle is why nothing can start now: a task is running.
func (m *Model) idle() string {
	if t := m.tasks.running(); t != nil {
		return "a " + t.kind + " is running: x cancels it"
	}
	return ""
}

// blocked says why no build, deploy, bench, run or rollback can start
// now, or "" when one can: the one wording for the disabled keys and for
// the actions themselves.
func (m *Model) blocked() string {
	if why := m.idle(); why != "" {
		return why
	}
	if g, _, ok := m.targets.ChosenGroup(); ok {
		return g.Name + " is a group: choose one of its devices for this (d rolls out to the group)"
	}
	if _, ok := m.targets.Chosen(); !ok {
		return "no target: add one to " + m.targets.configPath() + " or press a"
	}
	return ""
}

// planReady is why d, g and u cannot start: they act on the ticked
// profiles or, with none ticked, the one under the cursor.
func (m *Model) planReady() string {
	if why := m.blocked(); why != "" {
		return why
	}
	if _, focused := m.profiles.Focused(); len(m.profiles.Selected()) == 0 && !focused {
		return "no profile: tick one with space"
	}
	return ""
}

// tickedReady is why r cannot start: a session compares ticked profiles.
func (m *Model) tickedReady() string {
	if why := m.blocked(); why != "" {
		return why
	}
	if len(m.profiles.Selected()) == 0 {
		return "bench: tick one or more profiles with space (two or more to compare)"
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
