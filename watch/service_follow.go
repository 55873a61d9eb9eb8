package watch

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"armbench/remote"
)

// handshake splits the stream of a service script in two: what it
// printed until startedLine (the step it was at, its messages, its
// errors) and the unit's journal after it. Until the program takes the
// stream over (attach), journal lines wait here, so none is lost between
// the restart and the program's Started event.
type handshake struct {
	ready chan struct{} // closed at startedLine
	done  chan struct{} // closed once the script's run returned

	mu      sync.Mutex
	started bool
	step    string         // the last step the script announced
	before  []remote.Event // printed before startedLine
	after   []remote.Event // journal lines not yet handed to sink
	sink    func(remote.Event)
	status  remote.ExitStatus
	err     error
}

func newHandshake() *handshake {
	return &handshake{ready: make(chan struct{}), done: make(chan struct{})}
}

// event takes one event of the script's run.
func (h *handshake) event(ev remote.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.started {
		if o, ok := ev.(remote.Output); ok && !o.Stderr {
			if step, ok := strings.CutPrefix(o.Text, stepPrefix); ok {
				h.step = step
				return
			}
			if o.Text == startedLine {
				h.started = true
				close(h.ready)
				return
			}
		}
		h.before = append(h.before, ev)
		return
	}
	if h.sink == nil {
		h.after = append(h.after, ev)
		return
	}
	h.sink(ev)
}

// finish records how the script's run ended.
func (h *handshake) finish(st remote.ExitStatus, err error) {
	h.mu.Lock()
	h.status, h.err = st, err
	h.mu.Unlock()
	close(h.done)
}

// attach hands the stream to emit, first what the script printed before
// the restart (it said what it installed) and the journal lines seen
// since, and returns how the run ended once it has.
func (h *handshake) attach(emit func(remote.Event)) (remote.ExitStatus, error) {
	h.mu.Lock()
	for _, ev := range h.before {
		emit(ev)
	}
	for _, ev := range h.after {
		emit(ev)
	}
	h.before, h.after, h.sink = nil, nil, emit
	h.mu.Unlock()
	<-h.done
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.status, h.err
}

// failure is why a script that ended before startedLine failed, and at
// which step: what it printed on stderr (systemctl's and sudo's
// complaints, the unit's last journal lines), else its exit status.
func (h *handshake) failure() (step string, err error) {
	<-h.done
	h.mu.Lock()
	defer h.mu.Unlock()
	step = h.step
	if step == "" {
		step = ServiceInstall // it did not get as far as saying so
	}
	var lines []string
	for _, ev := range h.before {
		if o, ok := ev.(remote.Output); ok && o.Stderr && strings.TrimSpace(o.Text) != "" {
			lines = append(lines, strings.TrimSpace(o.Text))
		}
	}
	msg := strings.Join(lines, "; ")
	switch {
	case h.err != nil && msg != "":
		return step, fmt.Errorf("%w (the device said: %s)", h.err, msg)
	case h.err != nil:
		return step, h.err
	case msg != "":
		return step, errors.New(msg)
	case h.status.Signal != "":
		return step, fmt.Errorf("the script was killed by SIG%s", h.status.Signal)
	case h.status.Code != 0:
		return step, fmt.Errorf("exit status %d", h.status.Code)
	}
	return step, errors.New("the script ended before it restarted the unit")
}
