package watch

import (
	"encoding/json"
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
	cursor  string // of the last journal entry seen
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
	for _, ev := range h.entry(ev) {
		if h.sink == nil {
			h.after = append(h.after, ev)
		} else {
			h.sink(ev)
		}
	}
}

// entry is the program's lines in ev, a JSON object of the journal,
// whose cursor it keeps. Anything else (journalctl's own complaints)
// passes as it is.
func (h *handshake) entry(ev remote.Event) []remote.Event {
	o, ok := ev.(remote.Output)
	if !ok || o.Stderr || !strings.HasPrefix(o.Text, "{") {
		return []remote.Event{ev}
	}
	var e struct {
		Cursor  string          `json:"__CURSOR"`
		Message json.RawMessage `json:"MESSAGE"`
	}
	if err := json.Unmarshal([]byte(o.Text), &e); err != nil || e.Cursor == "" {
		return []remote.Event{ev}
	}
	h.cursor = e.Cursor
	msg, ok := journalText(e.Message)
	if !ok {
		return nil // an entry with no message
	}
	var evs []remote.Event
	for line := range strings.Lines(msg) {
		evs = append(evs, remote.Output{Time: o.Time, Text: strings.TrimSuffix(line, "\n")})
	}
	return evs
}

// journalText is a field of journalctl's JSON: a string, an array of
// bytes (text that is not UTF-8, or holds control characters), or an
// array of those when the entry has the field more than once.
func journalText(raw json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var b []byte
	var nums []int
	if json.Unmarshal(raw, &nums) == nil {
		for _, n := range nums {
			b = append(b, byte(n))
		}
		return strings.ToValidUTF8(string(b), "\uFFFD"), true
	}
	var many []json.RawMessage
	if json.Unmarshal(raw, &many) == nil && len(many) > 0 {
		var parts []string
		for _, m := range many {
			if t, ok := journalText(m); ok {
				parts = append(parts, t)
			}
		}
		return strings.Join(parts, "\n"), len(parts) > 0
	}
	return "", false
}

// lastCursor is the cursor of the last journal entry seen.
func (h *handshake) lastCursor() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cursor
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
