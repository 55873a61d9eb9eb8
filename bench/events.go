package bench

import (
	"time"

	"armbench/build"
	"armbench/remote"
)

// Event is one thing that happened during a bench session. The TUI turns
// events into messages; the CLI prints them. Index is the profile's
// position in the session (0 = baseline); Round counts from 0, warmups
// first.
type Event interface{ benchEvent() }

// Phase is a session stage starting or ending: "build", "deploy",
// "device", "bench", "store".
type Phase struct {
	Name string
	Done bool
	Err  error
	Time time.Time
}

// Building is one event of building a profile's binary (Profile
// "armbench-probe" for the probe).
type Building struct {
	Profile string
	Index   int // -1 for the probe
	Event   build.Event
}

// Deploying is one event of installing a binary on the device.
type Deploying struct {
	Profile string
	Index   int // -1 for the probe
	Event   remote.Event
}

// RunStarted is sent before each round of each profile.
type RunStarted struct {
	Profile string
	Index   int
	Round   int
	Rounds  int // total, warmups included
	Warmup  bool
	Command string // the command line on the device
}

// Line is a line the workload printed (benchmark output on stdout, its
// own stderr; schedtrace lines become Sched events instead).
type Line struct {
	Profile string
	Index   int
	Round   int
	Stderr  bool
	T       time.Duration // since the workload started, device clock
	Text    string
}

// Sched is one parsed schedtrace report.
type Sched struct {
	Profile string
	Index   int
	Round   int
	Warmup  bool
	T       time.Duration // since the workload started, device clock
	Sample  SchedSample
}

// Proc is one /proc sample from the probe.
type Proc struct {
	Profile string
	Index   int
	Round   int
	Warmup  bool
	T       time.Duration
	Sample  ProcSample
}

// RunDone is sent after each round with its summary (Stats.Flag says
// whether it ran throttled or at a changing CPU frequency).
type RunDone struct {
	Profile string
	Index   int
	Round   int
	Stats   RoundStats
	Err     error
}

// Finished is sent last, with the stored run (nil when it failed).
type Finished struct {
	Run *Run
	Err error
}

func (Phase) benchEvent()      {}
func (Building) benchEvent()   {}
func (Deploying) benchEvent()  {}
func (RunStarted) benchEvent() {}
func (Line) benchEvent()       {}
func (Sched) benchEvent()      {}
func (Proc) benchEvent()       {}
func (RunDone) benchEvent()    {}
func (Finished) benchEvent()   {}
