package event

import "sync"

// Serial serialises emit (stdout and stderr are read concurrently) and
// makes nil a no-op.
func Serial(emit func(Event)) func(Event) {
	if emit == nil {
		return func(Event) {}
	}
	var mu sync.Mutex
	return func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		emit(e)
	}
}

// Gated is Serial that goes quiet once closed, so goroutines still
// draining a cancelled session cannot report after the call returned.
func Gated(emit func(Event)) (gated func(Event), closeGate func()) {
	if emit == nil {
		return func(Event) {}, func() {}
	}
	var mu sync.Mutex
	closed := false
	return func(e Event) {
			mu.Lock()
			defer mu.Unlock()
			if !closed {
				emit(e)
			}
		}, func() {
			mu.Lock()
			closed = true
			mu.Unlock()
		}
}
