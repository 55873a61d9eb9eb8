package ui

import (
	"armbench/remote"
	"armbench/targets"
)

// deployFrame puts the deploy pane (deploy.go) in the main area and feeds
// it the events of the root's deploy activity.
type deployFrame struct {
	*framed
	p *DeployPane
}

func newDeployFrame(c *Common) *deployFrame {
	p := NewDeployPane()
	return &deployFrame{framed: frameOf(c, "Deploy", p), p: p}
}

func (f *deployFrame) start(t targets.Target, items []deployItem) {
	names := make([]string, len(items))
	for i, it := range items {
		names[i] = it.profile
	}
	if t.IsLocal() && t.DeployDir == "" {
		t.DeployDir = remote.DefaultLocalDeployDir(t.Name) // what the local device will use
	}
	f.p.Start(t, names)
}

func (f *deployFrame) push(i int, ev remote.Event) { f.p.Push(i, ev) }

func (f *deployFrame) done(i int, inst remote.Installed, err error) { f.p.Done(i, inst, err) }

func (f *deployFrame) connectFailed(err error) { f.p.ConnectFailed(err) }
