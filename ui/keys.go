package ui

import "charm.land/bubbles/v2/key"

// GlobalKeys work in every pane (unless a text input has the keyboard).
type GlobalKeys struct {
	Next      key.Binding
	Prev      key.Binding
	Build     key.Binding
	Deploy    key.Binding
	Bench     key.Binding
	Run       key.Binding // g: run the deployed binary on the device
	Rollback  key.Binding // u: restore the previous deployed binary
	AddTarget key.Binding
	Cancel    key.Binding
	ShowLog   key.Binding // 1–4 choose what the main area shows
	ShowDep   key.Binding
	ShowBench key.Binding
	ShowCmp   key.Binding
	ShowRun   key.Binding
	Help      key.Binding
	Quit      key.Binding
}

func newGlobalKeys() GlobalKeys {
	return GlobalKeys{
		Next:      key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next pane")),
		Prev:      key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "prev pane")),
		Build:     key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "build")),
		Deploy:    key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "deploy")),
		Bench:     key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "bench"), key.WithDisabled()),
		Run:       key.NewBinding(key.WithKeys("g"), key.WithHelp("g", "run on device"), key.WithDisabled()),
		Rollback:  key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "roll back deploy"), key.WithDisabled()),
		AddTarget: key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "add target")),
		Cancel:    key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "cancel build"), key.WithDisabled()),
		ShowLog:   key.NewBinding(key.WithKeys("1"), key.WithHelp("1-5", "log/deploy/bench/compare/run")),
		ShowDep:   key.NewBinding(key.WithKeys("2")),
		ShowBench: key.NewBinding(key.WithKeys("3")),
		ShowCmp:   key.NewBinding(key.WithKeys("4")),
		ShowRun:   key.NewBinding(key.WithKeys("5")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:      key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

func (k GlobalKeys) bindings() []key.Binding {
	// tab is left to the full help: at 80 columns the action keys and ?
	// must stay in view.
	return []key.Binding{k.Build, k.Deploy, k.Bench, k.Cancel, k.Help, k.Quit}
}

func (k GlobalKeys) full() []key.Binding {
	return []key.Binding{k.Next, k.Prev, k.Build, k.Deploy, k.Bench, k.Run, k.Rollback, k.AddTarget, k.Cancel, k.ShowLog, k.Help, k.Quit}
}

// ListKeys move a cursor in the targets and profiles lists.
type ListKeys struct {
	Up     key.Binding
	Down   key.Binding
	Select key.Binding // enter: choose the target
	Toggle key.Binding // space: tick a profile
}

func newTargetKeys() ListKeys {
	return ListKeys{
		Up:     key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:   key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Select: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "use target")),
		Toggle: key.NewBinding(key.WithKeys("space"), key.WithDisabled()),
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
