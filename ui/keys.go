package ui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
)

// GlobalKeys work in every pane (unless a text input has the keyboard);
// the keys that start something are the actions (actions.go).
type GlobalKeys struct {
	Next      key.Binding
	Prev      key.Binding
	Cancel    key.Binding
	ShowLog   key.Binding // 1–6 choose what the main area shows
	ShowDep   key.Binding
	ShowBench key.Binding
	ShowCmp   key.Binding
	ShowRun   key.Binding
	ShowFleet key.Binding
	Help      key.Binding
	Quit      key.Binding
}

func newGlobalKeys() GlobalKeys {
	return GlobalKeys{
		Next:      key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next pane")),
		Prev:      key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "prev pane")),
		Cancel:    key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "cancel build"), key.WithDisabled()),
		ShowLog:   key.NewBinding(key.WithKeys("1"), key.WithHelp("1-6", "log/deploy/bench/compare/run/rollout")),
		ShowDep:   key.NewBinding(key.WithKeys("2")),
		ShowBench: key.NewBinding(key.WithKeys("3")),
		ShowCmp:   key.NewBinding(key.WithKeys("4")),
		ShowRun:   key.NewBinding(key.WithKeys("5")),
		ShowFleet: key.NewBinding(key.WithKeys("6")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:      key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

// helpKeys merges the focused pane's keys, the actions and the global
// keys into one key map for bubbles/help.
type helpKeys struct {
	pane    help.KeyMap
	actions []action
	global  GlobalKeys
}

func (k helpKeys) ShortHelp() []key.Binding {
	// tab is left to the full help: at 80 columns the action keys and ?
	// must stay in view.
	out := append([]key.Binding(nil), k.pane.ShortHelp()...)
	for _, a := range k.actions {
		if a.short {
			out = append(out, a.key)
		}
	}
	return append(out, k.global.Cancel, k.global.Help, k.global.Quit)
}

func (k helpKeys) FullHelp() [][]key.Binding {
	g := k.global
	col := []key.Binding{g.Next, g.Prev}
	for _, a := range k.actions {
		col = append(col, a.key)
	}
	col = append(col, g.Cancel, g.ShowLog, g.Help, g.Quit)
	return append(append([][]key.Binding(nil), k.pane.FullHelp()...), col)
}

// ListKeys move a cursor in the targets and profiles lists.
type ListKeys struct {
	Up     key.Binding
	Down   key.Binding
	Select key.Binding // enter: choose the target
	Toggle key.Binding // space: tick a profile, or a target for r
}

func newTargetKeys() ListKeys {
	return ListKeys{
		Up:     key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:   key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Select: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "use target")),
		Toggle: key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "tick for r")),
	}
}

func newProfileKeys() ListKeys {
	return ListKeys{
		Up:     key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:   key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Select: key.NewBinding(key.WithKeys("enter"), key.WithDisabled()),
		Toggle: key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "tick")),
	}
}

func (k ListKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.Select, k.Toggle}
}

func (k ListKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// ScrollKeys scroll the plan, deploy and bench panes.
type ScrollKeys struct {
	Up   key.Binding
	Down key.Binding
}

func newScrollKeys() ScrollKeys {
	return ScrollKeys{
		Up:   key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "scroll up")),
		Down: key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "scroll down")),
	}
}

func (k ScrollKeys) ShortHelp() []key.Binding  { return []key.Binding{k.Up, k.Down} }
func (k ScrollKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// LogKeys drive the build log pane.
type LogKeys struct {
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Top      key.Binding
	Bottom   key.Binding // also resumes follow mode
	Left     key.Binding
	Right    key.Binding
	Search   key.Binding
	Next     key.Binding
	PrevHit  key.Binding
	Error    key.Binding
	Clear    key.Binding
	PrevTab  key.Binding
	NextTab  key.Binding
}

func newLogKeys() LogKeys {
	return LogKeys{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+f", "space"), key.WithHelp("pgdn", "page down")),
		// g is also the global run key, which the root sees first; home
		// always works.
		Top:     key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("home", "top")),
		Bottom:  key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "bottom+follow")),
		Left:    key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/→", "scroll sideways")),
		Right:   key.NewBinding(key.WithKeys("right", "l")),
		Search:  key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search")),
		Next:    key.NewBinding(key.WithKeys("n"), key.WithHelp("n/N", "next/prev match")),
		PrevHit: key.NewBinding(key.WithKeys("N")),
		Error:   key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "first/next error")),
		Clear:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear search")),
		PrevTab: key.NewBinding(key.WithKeys("["), key.WithHelp("[/]", "prev/next profile")),
		NextTab: key.NewBinding(key.WithKeys("]")),
	}
}

func (k LogKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Up, k.Bottom, k.Search, k.Error, k.PrevTab}
}

func (k LogKeys) FullHelp() [][]key.Binding {
	// Two columns, so the global column still fits beside them at 80.
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Left},
		{k.Search, k.Next, k.Error, k.Clear, k.PrevTab},
	}
}
