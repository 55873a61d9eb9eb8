package ui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"armbench/remote"
	"armbench/targets"
)

// deployFrame puts the deploy pane (deploy.go) in the main area and feeds
// it the events of the root's deploy activity.
type deployFrame struct {
	*framed
	m *Model
}

func newDeployFrame(c *Common, m *Model) *deployFrame {
	f := &deployFrame{m: m}
	f.framed = &framed{
		common:  c,
		title:   "Deploy",
		setSize: func(w, h int) {},
		update:  func(tea.Msg) tea.Cmd { return nil },
		view:    f.render,
		keyMap:  func() help.KeyMap { return emptyKeys{} },
	}
	return f
}

func (f *deployFrame) start(t targets.Target, items []deployItem) {}

func (f *deployFrame) push(i int, ev remote.Event) {}

func (f *deployFrame) done(i int, inst remote.Installed, err error) {}

func (f *deployFrame) connectFailed(err error) {}

func (f *deployFrame) render() string {
	m := f.m
	if m.deploy == nil {
		return m.common.Styles.Dim.Render("nothing deployed yet: d builds and deploys the ticked profiles")
	}
	var s string
	for i, it := range m.deploy.items {
		if i > 0 {
			s += "\n"
		}
		s += it.profile + "  " + m.deployLine(i)
	}
	return s
}

// emptyKeys is a help.KeyMap with no bindings.
type emptyKeys struct{}

func (emptyKeys) ShortHelp() []key.Binding  { return nil }
func (emptyKeys) FullHelp() [][]key.Binding { return nil }
