package ui

import "time"

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
