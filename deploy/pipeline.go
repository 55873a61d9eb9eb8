// Package deploy is the one pipeline from a plan to an installed,
// recorded binary: build each plan (or take its artifact), connect to the
// device while the first build runs, install each binary over that one
// connection, and record every install for status. The CLI's deploy, the
// TUI, watch, pgo, fleet rollouts and bench sessions all go through it,
// so they connect, send and record the same way.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"armbench/build"
	"armbench/profiles"
	"armbench/remote"
	"armbench/state"
	"armbench/targets"
)

// The pipeline's steps, as its events and errors name them.
const (
	StepBuild   = "build"
	StepConnect = "connect"
	StepDeploy  = "deploy"
	StepRecord  = "record"
)

// ErrNotStarted is the error of a job the pipeline did not get to, after
// an earlier one failed (see Pipeline.KeepGoing).
var ErrNotStarted = errors.New("not deployed: an earlier binary failed")

// Job is one binary to put on the device.
type Job struct {
	Plan profiles.Plan
	// Name is the file's name in deploy_dir; "" is Plan.DeployName().
	Name string
	// Artifact is the binary when it is already built (the TUI's build
	// pane, a rollout's shared build, a bench session's parallel builds);
	// nil builds Plan.
	Artifact *build.Artifact
	// NoBuild takes the artifact already at Plan.Output, verified against
	// the plan, instead of building.
	NoBuild bool
	// Unrecorded keeps the install out of the history: a rollout's staged
	// upload, recorded when it is swapped in.
	Unrecorded bool
}

func (j Job) name() string {
	if j.Name != "" {
		return j.Name
	}
	return j.Plan.DeployName()
}

// Result is how one job ended.
type Result struct {
	Job      int
	Name     string
	Build    *build.Result // the build, when the pipeline ran one
	Artifact *build.Artifact
	// Installed is what the device reported; valid when Err is nil.
	Installed remote.Installed
	// Step is where the job failed ("" when it did not).
	Step string
	Err  error
	// Warning is a failure that cost only itself, such as a record that
	// could not be written.
	Warning string
}

// Event is one thing that happened in a Run.
type Event interface{ deployEvent() }

// Building is an event of job Job's build.
type Building struct {
	Job   int
	Event build.Event
}

// Deploying is an event of job Job's install on the device: its steps
// (connect, prepare, upload, verify, install) and upload progress.
type Deploying struct {
	Job   int
	Event remote.Event
}

// Done ends job Job.
type Done struct{ Result Result }

func (Building) deployEvent()  {}
func (Deploying) deployEvent() {}
func (Done) deployEvent()      {}

// Connector reaches t's device for a pipeline run, asked about names (the
// binaries the run will install) in the same round trip when it can. The
// device is borrowed: Run does not close it.
type Connector func(ctx context.Context, t targets.Target, names []string) (remote.Device, error)

// Pipeline is what every deploy from one front end shares.
type Pipeline struct {
	// Remote are the options of the connections Run opens itself.
	Remote remote.Options
	// Connect reaches the device; nil opens a connection of Run's own
	// (remote.OpenForDeploy), with each binary's delta encoded during the
	// handshake, and closes it at the end.
	Connect Connector
	// History records the installs ("" Dir: none).
	History state.History
	// Build runs one build; nil is build.Run.
	Build func(ctx context.Context, plan profiles.Plan, emit func(build.Event)) build.Result
	// KeepGoing goes on with the next jobs after one failed to build or
	// install; otherwise the rest end with ErrNotStarted.
	KeepGoing bool
	// Now is the clock of the records; nil is time.Now.
	Now func() time.Time
}

// File is the artifact as remote sends it.
func File(a *build.Artifact) remote.File {
	return remote.File{Path: a.Path, SHA256: a.SHA256, Size: a.Size}
}

// Run puts jobs on t's device in order, and returns one result per job.
// emit may be nil; it is called from Run's goroutine only.
func (p Pipeline) Run(ctx context.Context, t targets.Target, jobs []Job, emit func(Event)) []Result {
	if emit == nil {
		emit = func(Event) {}
	}
	names := make([]string, len(jobs))
	for i, j := range jobs {
		names[i] = j.name()
	}
	conn := p.connect(ctx, t, names)
	defer conn.close()

	results := make([]Result, len(jobs))
	stopped := false
	for i, j := range jobs {
		r := &results[i]
		r.Job, r.Name = i, names[i]
		if stopped {
			r.Step, r.Err = StepDeploy, ErrNotStarted
		} else {
			p.runJob(ctx, t, i, j, conn, r, emit)
			stopped = r.Err != nil && (!p.KeepGoing || r.Step == StepConnect || ctx.Err() != nil)
		}
		emit(Done{Result: *r})
	}
	return results
}

// runJob builds (or takes) job i's artifact, waits for the connection and
// installs and records the binary, filling r.
func (p Pipeline) runJob(ctx context.Context, t targets.Target, i int, j Job, conn *connection, r *Result, emit func(Event)) {
	fail := func(step string, err error) { r.Step, r.Err = step, err }
	art, err := p.artifact(ctx, i, j, r, emit)
	if err != nil {
		fail(StepBuild, err)
		return
	}
	r.Artifact = art
	conn.speculate(ctx, t, File(art), r.Name)
	dev, err := conn.device()
	if err != nil {
		fail(StepConnect, err)
		return
	}
	inst, err := dev.Deploy(ctx, File(art), r.Name, func(ev remote.Event) { emit(Deploying{Job: i, Event: ev}) })
	if err != nil {
		fail(StepDeploy, err)
		return
	}
	r.Installed = inst
	if !j.Unrecorded {
		if err := p.record(t, j, inst); err != nil {
			r.Warning = err.Error()
		}
	}
}

// artifact builds job i, or takes the artifact it brings or the one at
// its output.
func (p Pipeline) artifact(ctx context.Context, i int, j Job, r *Result, emit func(Event)) (*build.Artifact, error) {
	plan := j.Plan
	switch {
	case j.Artifact != nil:
		return j.Artifact, nil
	case j.NoBuild:
		a, err := build.Verify(plan.Output, plan)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w (build it first: armbench build --target %s --profile %s)", plan.Target.Name, plan.Profile.Name, err, plan.Target.Name, plan.Profile.Name)
		}
		return a, nil
	}
	run := p.Build
	if run == nil {
		run = build.Run
	}
	res := run(ctx, plan, func(ev build.Event) { emit(Building{Job: i, Event: ev}) })
	r.Build = &res
	switch {
	case res.Err != nil:
		return nil, fmt.Errorf("%w (log: %s)", res.Err, res.LogPath)
	case res.Artifact == nil:
		return nil, fmt.Errorf("build %s/%s: no artifact (log: %s)", plan.Target.Name, plan.Profile.Name, res.LogPath)
	}
	return res.Artifact, nil
}

// record adds the install to the history, unless it was skipped and the
// history already names that binary: an unchanged redeploy adds nothing,
// but a binary installed before records were kept gets one.
func (p Pipeline) record(t targets.Target, j Job, inst remote.Installed) error {
	if p.History.Dir == "" {
		return nil
	}
	if inst.Skipped {
		if _, ok := p.History.Find(t.Name, inst.SHA256); ok {
			return nil
		}
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	err := p.History.Add(state.Record{Target: t.Name, Name: j.name(), Profile: j.Plan.Profile.Name, SHA256: inst.SHA256, Time: now()})
	if err != nil {
		return fmt.Errorf("%s: %w", StepRecord, err)
	}
	return nil
}
