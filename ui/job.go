package ui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"armbench/build"
	"armbench/profiles"
)

const (
	// maxBatch and batchWindow bound one message: a build printing
	// thousands of lines a second reaches the model as a few batches per
	// frame instead of one message (and one render) per line.
	maxBatch    = 4096
	batchWindow = 16 * time.Millisecond

	// quitGrace is how long quitting waits for cancelled builds to stop
	// their go commands; build gives the go command 3 s after SIGINT.
	quitGrace = 5 * time.Second
)

// jobEvent is one build event of profile i of a job.
type jobEvent struct {
	i  int
	ev build.Event
}

// jobBatchMsg carries the events a job produced since the last batch.
// Messages of a job that is no longer current are dropped by id.
type jobBatchMsg struct {
	id     int
	events []jobEvent
	closed bool // the job has finished and will send nothing more
}

// job is one build of a target × profiles.
type job struct {
	id       int
	target   string
	profiles []string
	plans    []profiles.Plan
	ctx      context.Context
	cancel   context.CancelFunc
	events   chan jobEvent
	done     chan struct{} // closed once every build has returned

	start     time.Time
	end       time.Time // zero while running
	live      bool      // still delivering messages to the model
	cancelled bool
	states    []buildState
	results   []*build.Result
	firstErr  []string // each profile's first compile error line
}

func newJob(id int, target string, plans []profiles.Plan, now time.Time) *job {
	j := &job{
		id:       id,
		target:   target,
		plans:    plans,
		events:   make(chan jobEvent, maxBatch),
		done:     make(chan struct{}),
		start:    now,
		live:     true,
		states:   make([]buildState, len(plans)),
		results:  make([]*build.Result, len(plans)),
		firstErr: make([]string, len(plans)),
	}
	for _, p := range plans {
		j.profiles = append(j.profiles, p.Profile.Name)
	}
	return j
}

func (j *job) running() bool { return j != nil && j.end.IsZero() }

// run starts the builds in their own goroutine. It is started from Update
// (starting a goroutine does not block) rather than from a command, so
// that a job always has a goroutine that closes done, even when the
// program quits before its commands run. The goroutine never blocks on a
// model that stopped listening: sends give up once the job's context is
// cancelled.
func (j *job) run(runAll func(context.Context, []profiles.Plan, int, func(int, build.Event)) []build.Result) {
	ctx := j.ctx
	go func() {
		defer close(j.done)
		defer close(j.events)
		runAll(ctx, j.plans, 0, func(i int, ev build.Event) {
			select {
			case j.events <- jobEvent{i, ev}:
			case <-ctx.Done():
			}
		})
	}()
}

// waitCmd returns the job's next batch.
func (j *job) waitCmd() tea.Cmd {
	return func() tea.Msg { return j.next() }
}

// next returns the job's next batch of events.
func (j *job) next() tea.Msg {
	msg := jobBatchMsg{id: j.id}
	msg.events, msg.closed = gather(j.events)
	return msg
}

// waitDoneCmd waits (off the Update loop) for a cancelled job's go
// commands to stop, at most quitGrace, then sends then.
func waitDoneCmd(j *job, then tea.Msg) tea.Cmd {
	return func() tea.Msg {
		if j != nil {
			select {
			case <-j.done:
			case <-time.After(quitGrace):
			}
		}
		return then
	}
}
