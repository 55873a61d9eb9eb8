package bench

import (
	"context"
	"path"
	"path/filepath"
	"strconv"
	"time"

	"armbench/profiles"
	"armbench/remote"
	"armbench/state"
)

// Observe runs plan's deployed program once under the probe, with the
// profile's runtime settings and schedtrace, and reports what it prints
// and what the probe samples as Line, Sched and Proc events (Profile is
// the plan's, Index and Round 0): what `armbench run --metrics` serves.
// It builds and deploys the probe first (Building and Deploying events,
// Index -1); an unchanged probe is not sent again. The program must already be deployed under plan.DeployName().
func Observe(ctx context.Context, dev remote.Device, plan profiles.Plan, outRoot string, args []string, interval time.Duration, emit func(Event)) (RoundStats, error) {
	o, err := PrepareObserver(ctx, dev, plan, outRoot, interval, emit)
	if err != nil {
		return RoundStats{}, err
	}
	return o.Run(ctx, plan.RunEnvStrings(), args, emit)
}

// Observer runs one deployed program under an installed probe, as often
// as asked and each time with its own environment: what a live session
// restarting the program with another GOGC needs, without building or
// checking the probe again.
type Observer struct {
	dev      remote.Device
	plan     profiles.Plan
	probe    string // installed on the device
	interval time.Duration
}

// PrepareObserver builds and deploys the probe for plan's target, as
// Observe does first, and returns what runs plan's program under it.
func PrepareObserver(ctx context.Context, dev remote.Device, plan profiles.Plan, outRoot string, interval time.Duration, emit func(Event)) (*Observer, error) {
	emit = serialEmit(emit)
	if interval <= 0 {
		interval = DefaultInterval
	}
	if outRoot == "" {
		outRoot = filepath.Join(plan.Dir, profiles.DefaultOutRoot)
	}
	// The probe alone: buildAll and deployAll as a session uses them.
	spec := Spec{Target: plan.Target, OutRoot: outRoot}
	plans, results, err := buildAll(ctx, spec, emit)
	if err != nil {
		return nil, err
	}
	arts, _, err := deployAll(ctx, plan.Target, dev, state.History{}, plans, results, emit) // records nothing, so warns of nothing
	if err != nil {
		return nil, err
	}
	return &Observer{dev: dev, plan: plan, probe: arts[0].Installed, interval: interval}, nil
}

// Program is the deployed program's path on the device.
func (o *Observer) Program() string { return path.Join(o.dev.DeployDir(), o.plan.DeployName()) }

// Run runs the program once with env (KEY=VALUE, the whole run
// environment: plan.RunEnvStrings() is the profile's) and args, schedtrace
// added to GODEBUG, reporting as Observe does.
func (o *Observer) Run(ctx context.Context, env, args []string, emit func(Event)) (RoundStats, error) {
	emit = serialEmit(emit)
	env = mergeGODEBUG(env, "schedtrace="+strconv.FormatInt(DefaultSchedTrace.Milliseconds(), 10))
	pargs := probeArgs(o.plan.Target, o.interval)
	for _, kv := range env {
		pargs = append(pargs, "-env", kv)
	}
	pargs = append(append(pargs, "--", o.Program()), args...)
	rs, _, err := runRound(ctx, o.dev, o.probe, pargs, o.plan.Profile.Name, 0, 0, false, emit)
	return rs, err
}
