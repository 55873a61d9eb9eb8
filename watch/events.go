package watch

import (
	"time"

	"armbench/build"
	"armbench/deploy"
	"armbench/remote"
)

// Event is one thing that happened in a watch session. Every event of a
// cycle carries its number: cycle 1 is the build at start, each debounced
// batch of saves starts the next one, and so does a restart with new
// runtime overrides (EnvSet with Restart). A cycle ends in exactly one of
// Started (its program runs), Failed or Superseded.
type Event interface{ watchEvent() }

// Watching says which files trigger a rebuild: sent at start and whenever
// the set changes (a new file, a new local import, an edited go.mod).
type Watching struct {
	Time  time.Time
	Dirs  []string // directories watched, absolute, sorted
	Files int      // files in them that trigger a rebuild (more appear as they are created)
}

// Changed starts a cycle. Paths are the files saved since the last cycle
// (absolute, sorted); nil for cycle 1.
type Changed struct {
	Cycle int
	Time  time.Time
	Paths []string
}

// Build is an event of the cycle's build (build.Started, Line, Finished).
type Build struct {
	Cycle int
	Event build.Event
}

// Deploy is an event of the cycle's deploy (remote.Step, Progress,
// Reconnected).
type Deploy struct {
	Cycle int
	Event remote.Event
}

// Deployed says the cycle's binary is installed on the device.
type Deployed struct {
	Cycle     int
	Installed remote.Installed
}

// Stopping says the program of an earlier cycle is being stopped for the
// new one: Signal now, SIGKILL after KillDelay if it is still there.
// With Leftover, it was a program an earlier run lost track of (the link
// dropped under it, or a previous watch was killed) and has been stopped
// already; Cycle is 0 when it was not this session's.
type Stopping struct {
	Cycle     int // the cycle whose program is stopped
	Time      time.Time
	Signal    string // "INT"
	KillDelay time.Duration
	Leftover  bool
}

// Started says the cycle's program was started on the device.
type Started struct {
	Cycle   int
	Time    time.Time
	Command remote.Command
	// Service is the systemd unit that runs Command in service mode (the
	// Program events are then its journal), "" otherwise.
	Service string
}

// Program is an event of a running program: remote.Output lines (in
// service mode, its journal) and remote.Reconnected.
type Program struct {
	Cycle int
	Event remote.Event
}

// Exited says the cycle's program ended: by itself, or Stopped by watch
// (for the next cycle, or because the session ended). Err is set when
// the run itself failed (the connection dropped, the stop did not work).
type Exited struct {
	Cycle   int
	Time    time.Time
	Status  remote.ExitStatus
	Stopped bool
	Err     error
}

// Failed ends a cycle that could not put a new program in place; the
// program already running (if any) is left alone. Stage is one of the
// Stage constants.
type Failed struct {
	Cycle int
	Stage string
	Err   error
}

// Superseded ends a cycle cancelled by newer saves during its build or
// deploy; the next cycle follows at once. The running program is left
// alone.
type Superseded struct {
	Cycle int
	Stage string
}

// EnvSet says the runtime overrides changed (Control.SetEnv). Overrides
// are all those in force, Env the program's environment under them, and
// Change how Env differs from the environment before ("GOGC=200",
// "GOGC=200 GOMAXPROCS unset"; "" when nothing does).
//
// With Restart, cycle Cycle restarts the running program with Env now:
// the same binary over the same connection, no build, no deploy
// (Stopping, Exited, then Started or Failed follow, under Cycle). Without,
// no program is restarted for it yet: Cycle is the cycle in flight, which
// starts its program with Env (if that cycle fails or had started its
// program already, a cycle with Restart follows it), or 0 when no
// program has started yet, and the first one will have Env. Every later
// cycle keeps the overrides until the next EnvSet.
type EnvSet struct {
	Cycle     int
	Time      time.Time
	Overrides Overrides
	Env       []string
	Change    string
	Restart   bool
}

// Warning is a problem that does not end a cycle: the watcher's own
// errors (an inotify queue overflow), or `go list` failing to refresh the
// watched files (the previous set is kept).
type Warning struct {
	Time time.Time
	Err  error
}

// Stages of a cycle, as Failed and Superseded name them: the deploy
// pipeline's steps, then the restart.
const (
	StageBuild   = deploy.StepBuild
	StageConnect = deploy.StepConnect
	StageDeploy  = deploy.StepDeploy
	StageStart   = "start" // stopping the old program or starting the new one
	// StageService is service mode failing on the device (a
	// *ServiceError): its checks, at connect, or installing and
	// restarting the unit.
	StageService = "service"
)

func (Watching) watchEvent()   {}
func (Changed) watchEvent()    {}
func (Build) watchEvent()      {}
func (Deploy) watchEvent()     {}
func (Deployed) watchEvent()   {}
func (Stopping) watchEvent()   {}
func (Started) watchEvent()    {}
func (Program) watchEvent()    {}
func (Exited) watchEvent()     {}
func (Failed) watchEvent()     {}
func (Superseded) watchEvent() {}
func (Warning) watchEvent()    {}
func (EnvSet) watchEvent()     {}
