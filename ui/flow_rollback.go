package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"armbench/remote"
)

// u asks, then puts the previous deployed binary of the previewed profile
// back, as `armbench rollback` does.
func rollbackAction() action {
	return action{key: newKey("u", "roll back deploy"), ready: (*Model).planReady, start: (*Model).openRollback}
}

// rollbackDone is the end of a rollback task.
type rollbackDone struct {
	path string
	err  error
}

func (m *Model) openRollback() tea.Cmd {
	c, ok := m.runChoice("rolling back")
	if !ok {
		return nil
	}
	return m.push(newRollbackConfirm(m.common.Styles, c, func() tea.Cmd {
		m.notice = ""
		return m.follow(m.startTask("rollback", c.target.Name, []string{c.plan.Profile.Name}, &rollbackFlow{choice: c}))
	}, func() { m.notice = "rollback aborted: " + c.name + " unchanged" }))
}

type rollbackFlow struct{ choice runChoice }

func (f *rollbackFlow) begin(m *Model, t *task) func(context.Context, func(any)) {
	c := f.choice
	m.logf("rollback %d: %s on %s", t.id, c.name, c.target.Name)
	device := m.env.device
	return onDevice(device, c.target, func(ctx context.Context, dev remote.Device, emit func(any)) {
		err := dev.Rollback(ctx, c.name)
		emit(rollbackDone{path: strings.TrimSuffix(dev.DeployDir(), "/") + "/" + c.name, err: err})
	})
}

func (f *rollbackFlow) apply(m *Model, t *task, e any) {
	ev, ok := e.(rollbackDone)
	if !ok {
		return
	}
	t.end = m.env.now()
	c := f.choice
	switch {
	case errors.Is(ev.err, remote.ErrNoPrevious):
		t.err = ev.err
		t.summary = fmt.Sprintf("nothing to roll back to: %s on %s has no previous binary", c.name, c.target.Name)
	case ev.err != nil:
		t.err = ev.err
		t.summary = "rollback failed: " + connectErrorText(ev.err)
	default:
		t.summary = fmt.Sprintf("rolled back %s (u again swaps back)", ev.path)
	}
	m.logf("rollback %d: %s: %v", t.id, ev.path, ev.err)
}

// stop has nothing to undo: the rename on the device is one step, it
// happened or not.
func (f *rollbackFlow) stop(*Model, *task, error) {}

func (f *rollbackFlow) finish(*Model, *task) tea.Cmd { return nil }

func (f *rollbackFlow) status(m *Model, t *task) []string { return m.taskLine(t, "rolling back", "") }
