package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
)

const (
	// maxBatch and batchWindow bound one message: a build printing
	// thousands of lines a second reaches the model as a few batches per
	// frame instead of one message (and one render) per line.
	maxBatch    = 4096
	batchWindow = 16 * time.Millisecond

	// quitGrace is how long quitting waits for cancelled tasks to stop
	// (a go command, a process on the device); build gives the go
	// command 3 s after SIGINT.
	quitGrace = 5 * time.Second
)

// flow is what one kind of task does: build, deploy, bench, run,
// rollback. A new kind of long work is one file with a flow and an action
// that starts it (see actions.go).
type flow interface {
	// begin readies the panes for a new task and returns the work its
	// goroutine runs. emit never blocks once ctx is done.
	begin(m *Model, t *task) func(ctx context.Context, emit func(any))
	// apply draws one event of the work.
	apply(m *Model, t *task, ev any)
	// stop ends the task before its work did: err is context.Canceled
	// after x, otherwise why no connection could be made.
	stop(m *Model, t *task, err error)
	// finish runs once the work returned and its events were applied; it
	// may start what comes next (a deploy after its build).
	finish(m *Model, t *task) tea.Cmd
	// status is the task's lines in the status bar.
	status(m *Model, t *task) []string
}

// task is one run of a flow: a goroutine driving an engine, whose events
// reach Update in batches tagged with the task's id, so the messages of a
// cancelled or superseded task are dropped. The goroutine never blocks on
// a model that stopped listening: sends give up once ctx is cancelled.
type task struct {
	id       int
	kind     string // the status line's word: "build", "deploy", …
	target   string
	profiles []string
	flow     flow
	ctx      context.Context
	cancel   context.CancelFunc
	events   chan any
	done     chan struct{} // closed once the goroutine returned

	start     time.Time
	end       time.Time // zero while running
	live      bool      // still delivering messages to the model
	cancelled bool
	err       error  // how it ended, when it failed
	summary   string // one line for the status bar once it ended
}

// taskMsg carries what a task's goroutine sent since the last batch.
type taskMsg struct {
	id     int
	events []any
	closed bool // the work returned: nothing more will come
}

func (t *task) running() bool { return t != nil && t.end.IsZero() }

func (t *task) emit(ev any) {
	select {
	case t.events <- ev:
	case <-t.ctx.Done():
	}
}

// waitCmd returns the task's next batch.
func (t *task) waitCmd() tea.Cmd {
	return func() tea.Msg {
		msg := taskMsg{id: t.id}
		msg.events, msg.closed = gather(t.events)
		return msg
	}
}

func (t *task) what() string { return t.target + " × " + strings.Join(t.profiles, ",") }

// taskList holds the latest task, for the status line, and every task
// whose goroutine may still run, for cancel and shutdown. One task runs
// at a time: actions wait until nothing runs.
type taskList struct {
	all    []*task // oldest first
	lastID int
}

func (l *taskList) latest() *task {
	if len(l.all) == 0 {
		return nil
	}
	return l.all[len(l.all)-1]
}

// running returns the task that has not ended, if any.
func (l *taskList) running() *task {
	for _, t := range l.all {
		if t.running() {
			return t
		}
	}
	return nil
}

// live returns the task of id while its messages are still wanted.
func (l *taskList) live(id int) *task {
	for _, t := range l.all {
		if t.id == id && t.live {
			return t
		}
	}
	return nil
}

// unfinished returns the tasks whose goroutines may still run.
func (l *taskList) unfinished() []*task {
	var out []*task
	for _, t := range l.all {
		select {
		case <-t.done:
		default:
			out = append(out, t)
		}
	}
	return out
}

// add appends t, dropping tasks whose goroutines have returned.
func (l *taskList) add(t *task) { l.all = append(l.unfinished(), t) }

// startTask starts f's work as a new task. It starts the goroutine from
// Update (which does not block) rather than from a command, so that every
// task has a goroutine that closes done, even when the program quits
// before its commands run.
func (m *Model) startTask(kind, target string, profiles []string, f flow) *task {
	m.tasks.lastID++
	ctx, cancel := context.WithCancel(m.env.ctx)
	t := &task{
		id: m.tasks.lastID, kind: kind, target: target, profiles: profiles, flow: f,
		ctx: ctx, cancel: cancel,
		events: make(chan any, maxBatch),
		done:   make(chan struct{}),
		start:  m.env.now(), live: true,
	}
	m.tasks.add(t)
	work := f.begin(m, t)
	go func() {
		defer close(t.done)
		defer close(t.events)
		work(ctx, t.emit)
	}()
	return t
}

// follow is the command that feeds a started task's events to Update.
func (m *Model) follow(t *task) tea.Cmd { return tea.Batch(t.waitCmd(), m.spinner.Tick) }

// restart runs t's flow again as a new task (after a host key was trusted).
func (m *Model) restart(t *task) tea.Cmd {
	return m.follow(m.startTask(t.kind, t.target, t.profiles, t.flow))
}

// onTask applies a batch of a task's events.
func (m *Model) onTask(msg taskMsg) tea.Cmd {
	t := m.tasks.live(msg.id)
	if t == nil {
		return nil // cancelled or superseded: its goroutine ends on its own
	}
	for _, ev := range msg.events {
		if f, ok := ev.(connectFailed); ok {
			m.connectFailed(t, f.err)
			continue
		}
		t.flow.apply(m, t, ev)
	}
	if !msg.closed {
		return t.waitCmd()
	}
	t.live = false
	if t.end.IsZero() {
		t.end = m.env.now()
	}
	t.cancel()
	return t.flow.finish(m, t)
}

// busy reports whether a task is running.
func (m *Model) busy() bool { return m.tasks.running() != nil }

// cancelRunning stops the running task; its late messages are dropped by
// id, and a dialog waiting on it (a passphrase) is answered no.
func (m *Model) cancelRunning() {
	t := m.tasks.running()
	if t == nil {
		return
	}
	t.cancel()
	t.cancelled, t.live, t.end = true, false, m.env.now()
	t.summary = fmt.Sprintf("cancelled %s of %s after %s", t.kind, t.what(), seconds(t.end.Sub(t.start)))
	t.flow.stop(m, t, context.Canceled)
	m.abandonOverlays()
	m.logf("%s %d: cancelled after %s", t.kind, t.id, t.end.Sub(t.start))
}

// waitTasks waits for the tasks' goroutines, quitGrace at most in all.
func waitTasks(ts []*task) {
	deadline := time.After(quitGrace)
	for _, t := range ts {
		select {
		case <-t.done:
		case <-deadline:
			return
		}
	}
}

// gather blocks for one event, then gathers what else arrives within
// batchWindow (up to maxBatch events): builds stream thousands of lines, a
// bench samples at 10 Hz per metric, a deploy reports progress, and one
// render per batch is plenty. closed reports that the channel is done.
func gather[E any](events <-chan E) (batch []E, closed bool) {
	ev, ok := <-events
	if !ok {
		return nil, true
	}
	batch = append(batch, ev)
	timer := time.NewTimer(batchWindow)
	defer timer.Stop()
	for len(batch) < maxBatch {
		select {
		case ev, ok := <-events:
			if !ok {
				return batch, true
			}
			batch = append(batch, ev)
		case <-timer.C:
			return batch, false
		}
	}
	return batch, false
}
