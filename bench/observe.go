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
		return RoundStats{}, err
	}
	arts, _, err := deployAll(ctx, plan.Target, dev, state.History{}, plans, results, emit) // records nothing, so warns of nothing
	if err != nil {
		return RoundStats{}, err
	}
	env := mergeGODEBUG(plan.RunEnvStrings(), "schedtrace="+strconv.FormatInt(DefaultSchedTrace.Milliseconds(), 10))
	pargs := probeArgs(plan.Target, interval)
	for _, kv := range env {
		pargs = append(pargs, "-env", kv)
	}
	pargs = append(append(pargs, "--", path.Join(dev.DeployDir(), plan.DeployName())), args...)
	rs, _, err := runRound(ctx, dev, arts[0].Installed, pargs, plan.Profile.Name, 0, 0, false, emit)
	return rs, err
}
