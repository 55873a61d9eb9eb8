package ui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"
)

// activityKind is what a deploy-or-bench activity does.
type activityKind string

const (
	actDeploy activityKind = "deploy"
	actBench  activityKind = "bench"
)

// activity is one deploy or bench session: a goroutine driving an engine,
// whose events reach Update in batches tagged with the activity's id, as
// a build job's do. The goroutine never blocks on a model that stopped
// listening: sends give up once the context is cancelled.
type activity struct {
	id       int
	kind     activityKind
	target   string
	profiles []string
	ctx      context.Context
	cancel   context.CancelFunc
	events   chan any
	done     chan struct{}

	start     time.Time
	end       time.Time // zero while running
	live      bool
	cancelled bool
	err       error  // how it ended, when it failed
	summary   string // one line for the status bar once it ended
}

// activityMsg carries what an activity's goroutine sent since the last
// batch; messages of an activity that is no longer current are dropped.
type activityMsg struct {
	id     int
	events []any
	closed bool
}

func newActivity(parent context.Context, id int, kind activityKind, target string, profiles []string, now time.Time) *activity {
	ctx, cancel := context.WithCancel(parent)
	return &activity{
		id: id, kind: kind, target: target, profiles: profiles,
		ctx: ctx, cancel: cancel,
		events: make(chan any, maxBatch),
		done:   make(chan struct{}),
		start:  now, live: true,
	}
}

func (a *activity) running() bool { return a != nil && a.end.IsZero() }

func (a *activity) emit(ev any) {
	select {
	case a.events <- ev:
	case <-a.ctx.Done():
	}
}

// run starts work in its own goroutine (from Update: starting one does
// not block), so every activity has a goroutine that closes done, even
// when the program quits before any command runs.
func (a *activity) run(work func(ctx context.Context, emit func(any))) {
	go func() {
		defer close(a.done)
		defer close(a.events)
		work(a.ctx, a.emit)
	}()
}

func (a *activity) waitCmd() tea.Cmd {
	return func() tea.Msg { return a.next() }
}

// next returns the activity's next batch of events.
func (a *activity) next() tea.Msg {
	msg := activityMsg{id: a.id}
	msg.events, msg.closed = gather(a.events)
	return msg
}
