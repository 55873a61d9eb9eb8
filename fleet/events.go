// Package fleet deploys to groups of targets: one build per distinct
// binary, uploads to every device at once, then installs in waves of at
// most MaxUnavailable devices, each checked by its health check and rolled
// back when the check fails; and it asks a fleet which binaries it runs.
// It reports typed events and knows nothing of the front ends.
package fleet

import (
	"time"

	"armbench/build"
	"armbench/remote"
)

// Phase is where one device is in a rollout.
type Phase string

// The phases of a device, in the order a rollout goes through them.
const (
	PhaseBuild    Phase = "build"    // waiting for its binary to be built
	PhaseUpload   Phase = "upload"   // staging the binary beside the installed one
	PhaseStaged   Phase = "staged"   // uploaded and verified, waiting for its wave
	PhaseInstall  Phase = "install"  // the staged binary replaces the installed one: the device is down
	PhaseHealth   Phase = "health"   // its health check runs: still down
	PhaseRollback Phase = "rollback" // the check failed: NAME.prev goes back
	PhaseDone     Phase = "done"     // installed and healthy, or already had the binary
	PhaseFailed   Phase = "failed"   // see the event's Err and the result's Step
	PhaseSkipped  Phase = "skipped"  // not attempted: the rollout stopped before its wave
)

// Event is one thing that happened during a rollout.
type Event interface{ fleetEvent() }

// DeviceEvent is a device entering a phase, or news within one (a failed
// health attempt, upload progress). Target names the device; Wave is its
// wave, from 1.
type DeviceEvent struct {
	Target string
	Wave   int
	Phase  Phase
	Time   time.Time
	Detail string // e.g. "attempt 2 of 4: exit status 1", "unchanged"
	Err    error  // set with PhaseFailed, and on a failed health attempt
	// Progress is set, during PhaseUpload, on upload progress.
	Progress *remote.Progress
}

// BuildEvent is a line (or the start, or the end) of a build that the
// devices in Targets share.
type BuildEvent struct {
	Targets []string
	Profile string
	Event   build.Event
}

// WaveEvent says a wave starts installing (Done false) or has finished.
type WaveEvent struct {
	Wave    int
	Targets []string
	Done    bool
}

func (DeviceEvent) fleetEvent() {}
func (BuildEvent) fleetEvent()  {}
func (WaveEvent) fleetEvent()   {}
