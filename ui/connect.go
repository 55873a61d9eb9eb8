package ui

import (
	"context"
	"errors"
	"fmt"

	tea "charm.land/bubbletea/v2"

	"armbench/remote"
	"armbench/targets"
)

// connectFailed is the event of a task whose connection to the device
// failed (pool.Get): unknown or changed host key, unreachable,
// authentication.
type connectFailed struct{ err error }

// onDevice is a task's work on tg's device: it connects through the pool
// first, and a connection that fails becomes connectFailed (the host-key
// prompt, the changed-key screen, or the task's failure), as for every
// flow that talks to a device.
func onDevice(connect func(context.Context, targets.Target) (remote.Device, error), tg targets.Target,
	work func(ctx context.Context, dev remote.Device, emit func(any))) func(context.Context, func(any)) {
	return func(ctx context.Context, emit func(any)) {
		dev, err := connect(ctx, tg)
		if err != nil {
			emit(connectFailed{err: err})
			return
		}
		work(ctx, dev, emit)
	}
}

// connectFailed turns a failed connection into the host-key prompt, the
// changed-key screen, or the task's failure.
func (m *Model) connectFailed(t *task, err error) {
	t.end, t.err = m.env.now(), err
	var unknown *remote.UnknownHostError
	var changed *remote.HostKeyChangedError
	switch {
	case errors.As(err, &unknown):
		m.logf("%s %d: unknown host %s (%s %s)", t.kind, t.id, unknown.Host, unknown.KeyType, unknown.Fingerprint)
		t.summary = "waiting: host key of " + unknown.Host + " not trusted yet"
		tg, _ := m.common.Config.Lookup(t.target)
		m.push(NewHostKeyPrompt(m.common.Styles, tg, unknown, m.env.remote), nil)
	case errors.As(err, &changed):
		m.logf("%s %d: host key of %s changed", t.kind, t.id, changed.Host)
		t.summary = "host key verification failed for " + changed.Host
		tg, _ := m.common.Config.Lookup(t.target)
		m.push(newHostChangedDialog(m.common.Styles, changed, tg, m.env.remote))
	default:
		t.summary = fmt.Sprintf("%s failed: %s", t.kind, connectErrorText(err))
		m.logf("%s %d: connect: %v", t.kind, t.id, err)
		t.flow.stop(m, t, err)
	}
}

// onHostTrusted starts the task that met the unknown key again.
func (m *Model) onHostTrusted(msg HostKeyTrustedMsg) tea.Cmd {
	t := m.tasks.latest()
	if msg.Err != nil {
		if t != nil {
			t.summary = "trust failed: " + firstLine(msg.Err.Error())
		}
		m.logf("trust %s: %v", msg.Target.Name, msg.Err)
		return nil
	}
	m.notice = fmt.Sprintf("added %s to %s", msg.Key.Fingerprint, msg.Key.File)
	m.logf("trusted %s key %s of %s (%s)", msg.Key.KeyType, msg.Key.Fingerprint, msg.Key.Host, msg.Key.File)
	var unknown *remote.UnknownHostError
	var changed *remote.HostKeyChangedError // replaced after a typed confirmation
	if t == nil || m.busy() || !errors.As(t.err, &unknown) && !errors.As(t.err, &changed) {
		return nil
	}
	return m.restart(t)
}

// onHostDeclined ends the task: nothing was written.
func (m *Model) onHostDeclined(msg HostKeyDeclinedMsg) {
	if t := m.tasks.latest(); t != nil && !t.running() {
		t.summary = fmt.Sprintf("%s aborted: host key %s of %s not trusted", t.kind, msg.Key.Fingerprint, msg.Key.Host)
		t.flow.stop(m, t, fmt.Errorf("%w: %s", remote.ErrNotTrusted, msg.Key.Fingerprint))
	}
	m.logf("host key %s of %s not trusted", msg.Key.Fingerprint, msg.Key.Host)
	m.notice = "not trusted: known_hosts unchanged"
}
