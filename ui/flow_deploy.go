package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"armbench/build"
	"armbench/deploy"
	"armbench/profiles"
	"armbench/remote"
	"armbench/targets"
)

// d builds (the go command's cache makes an unchanged rebuild a no-op
// link) and, when every build succeeded, deploys the binaries over the
// pool's connection to the chosen target; with a group chosen it rolls
// out to the group (flow_fleet.go).
func deployAction() action {
	return action{key: newKey("d", "deploy"), short: true, ready: (*Model).deployReady, start: (*Model).startDeploy}
}

func (m *Model) deployReady() string {
	if _, _, ok := m.targets.ChosenGroup(); ok {
		return m.groupReady()
	}
	return m.planReady()
}

// deployItem is one profile's artifact on its way to the device.
type deployItem struct {
	profile string
	plan    profiles.Plan
	art     *build.Artifact
}

// Events of a deploy task.
type (
	deployEvent struct {
		i  int
		ev remote.Event
	}
	deployDoneEvent struct {
		i       int
		inst    remote.Installed
		err     error
		warning string // e.g. the install could not be recorded
	}
)

type deployFlow struct {
	target targets.Target
	items  []deployItem
	inst   []*remote.Installed
}

func (m *Model) startDeploy() tea.Cmd {
	if _, _, ok := m.targets.ChosenGroup(); ok {
		return m.openRollout()
	}
	return m.buildChosen((*Model).deployBuilt)
}

// deployBuilt starts the deploy of a finished build's artifacts.
func (m *Model) deployBuilt(b *buildFlow, bt *task) tea.Cmd {
	var items []deployItem
	for i, r := range b.results {
		if r == nil || r.Artifact == nil || b.states[i] != stateOK {
			m.notice = fmt.Sprintf("not deployed: the build of %s failed (1 shows the log)", bt.profiles[i])
			return nil
		}
		items = append(items, deployItem{profile: bt.profiles[i], plan: b.plans[i], art: r.Artifact})
	}
	t := m.startTask("deploy", b.target.Name, bt.profiles, &deployFlow{target: b.target, items: items})
	t.start = bt.start // "deployed … in" counts the build the user waited for too
	return m.follow(t)
}

func (f *deployFlow) begin(m *Model, t *task) func(context.Context, func(any)) {
	f.inst = make([]*remote.Installed, len(f.items))
	shown := f.target
	if shown.IsLocal() && shown.DeployDir == "" {
		shown.DeployDir = remote.DefaultLocalDeployDir(shown.Name) // what the local device will use
	}
	m.main.deploy.Start(shown, t.profiles)
	m.showMain(paneDeploy)
	m.logf("deploy %d: %s", t.id, t.what())
	pipe := m.env.pipeline()
	tg, jobs := f.target, make([]deploy.Job, len(f.items))
	for i, it := range f.items {
		jobs[i] = deploy.Job{Plan: it.plan, Artifact: it.art}
	}
	return func(ctx context.Context, emit func(any)) {
		pipe.Run(ctx, tg, jobs, func(ev deploy.Event) {
			switch ev := ev.(type) {
			case deploy.Deploying:
				emit(deployEvent{ev.Job, ev.Event})
			case deploy.Done:
				emitDone(ev.Result, emit)
			}
		})
	}
}

// emitDone turns a binary's end into the task's event: a failed
// connection goes to the host-key prompt or the changed-key screen as
// everywhere else; a binary not started (an earlier one failed) sends
// nothing.
func emitDone(r deploy.Result, emit func(any)) {
	switch {
	case r.Step == deploy.StepConnect && r.Job == 0:
		emit(connectFailed{err: r.Err})
	case errors.Is(r.Err, deploy.ErrNotStarted) || r.Step == deploy.StepConnect:
	default:
		emit(deployDoneEvent{i: r.Job, inst: r.Installed, err: r.Err, warning: r.Warning})
	}
}

func (f *deployFlow) apply(m *Model, t *task, e any) {
	switch ev := e.(type) {
	case deployEvent:
		m.main.deploy.Push(ev.i, ev.ev)
	case deployDoneEvent:
		profile := f.items[ev.i].profile
		if ev.err != nil {
			t.err, t.end = ev.err, m.env.now()
			t.summary = fmt.Sprintf("deploy failed: %s: %s", profile, connectErrorText(ev.err))
			m.logf("deploy %d: %s: %v", t.id, profile, ev.err)
		} else {
			inst := ev.inst
			f.inst[ev.i] = &inst
			m.logf("deploy %d: %s installed %s (skipped %v)", t.id, profile, inst.Path, inst.Skipped)
			if ev.warning != "" {
				// Shown, not only logged: status will not name this
				// binary's profile.
				m.logf("deploy %d: %s: warning: %s", t.id, profile, ev.warning)
				m.main.deploy.Warn(ev.i, "not recorded for status: "+ev.warning)
			}
		}
		m.main.deploy.Done(ev.i, ev.inst, ev.err)
	}
}

// stop ends the unfinished binaries: the device keeps its previous ones.
func (f *deployFlow) stop(m *Model, _ *task, err error) { m.main.deploy.ConnectFailed(err) }

// finish writes the status line of a deploy that went through: with one
// binary, where it went; with several, how many changed. The deploy pane
// has the details.
func (f *deployFlow) finish(m *Model, t *task) tea.Cmd {
	if t.err != nil {
		return nil
	}
	n, skipped := 0, 0
	var last *remote.Installed
	for _, in := range f.inst {
		if in != nil {
			n++
			last = in
			if in.Skipped {
				skipped++
			}
		}
	}
	t.summary = fmt.Sprintf("deployed %s × %s in %s", t.target, strings.Join(t.profiles, ","), seconds(t.end.Sub(t.start)))
	switch {
	case n == 1 && last.Skipped:
		t.summary += ": unchanged " + relPath(last.Path)
	case n == 1:
		// The checksum before the path: at 80 columns the path is cut.
		t.summary += ": sha256 " + shortSum(last.SHA256) + " " + relPath(last.Path)
	case skipped > 0:
		t.summary += fmt.Sprintf(" (%d unchanged)", skipped)
	}
	return nil
}

func (f *deployFlow) status(m *Model, t *task) []string { return m.taskLine(t, "deploying", "") }
