// Package event is what a deploy or a run reports while it goes on: the
// events, and the helpers both kinds of device use to send them (a
// throttled progress meter, an emit that is safe from several goroutines
// and quiet once its call returned).
package event

import "time"

// Event is one thing that happened during a deploy or a run.
type Event interface{ remoteEvent() }

// Step is a deploy stage starting or ending: "connect", "upload", "verify", "install".
type Step struct {
	Name string
	Done bool
	Err  error
	Time time.Time
}

// Progress reports upload progress.
type Progress struct {
	Sent, Total int64   // bytes of the (uncompressed) file
	WireBytes   int64   // bytes actually sent (after compression)
	Rate        float64 // bytes of file per second
	ETA         time.Duration
}

// Output is one line a remote command printed.
type Output struct {
	Time   time.Time
	Stderr bool
	Text   string
}

// Reconnected says the connection had dropped since the last action
// (keepalives failed, the device rebooted…) and was opened again.
type Reconnected struct {
	Time  time.Time
	Cause error
}

func (Step) remoteEvent()        {}
func (Progress) remoteEvent()    {}
func (Output) remoteEvent()      {}
func (Reconnected) remoteEvent() {}

// StepName maps a deploy's internal step names onto the four a front end
// shows: the prepare round trip is part of connecting.
func StepName(s string) string {
	if s == "prepare" {
		return "connect"
	}
	return s
}
