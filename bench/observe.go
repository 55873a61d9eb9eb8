package bench

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"strconv"
	"time"

	"armbench/build"
	"armbench/profiles"
	"armbench/remote"
)

// Observe runs plan's deployed program once under the probe, with the
// profile's runtime settings and schedtrace, and reports what it prints
// and what the probe samples as Line, Sched and Proc events (Profile is
// the plan's, Index and Round 0): what `armbench run --metrics` serves.
// It builds and deploys the probe first; an unchanged probe is not sent
// again. The program must already be deployed under plan.DeployName().
func Observe(ctx context.Context, dev remote.Device, plan profiles.Plan, outRoot string, args []string, interval time.Duration, emit func(Event)) (RoundStats, error) {
	emit = serialEmit(emit)
	if interval <= 0 {
		interval = DefaultInterval
	}
	if outRoot == "" {
		outRoot = filepath.Join(plan.Dir, profiles.DefaultOutRoot)
	}
	probe, err := ProbePlan(plan.Target, outRoot)
	if err != nil {
		return RoundStats{}, err
	}
	r := build.Run(ctx, probe, func(build.Event) {})
	if r.Err == nil && r.Artifact == nil {
		r.Err = fmt.Errorf("build %s/%s: no artifact", plan.Target.Name, ProbeName)
	}
	if r.Err != nil {
		return RoundStats{}, r.Err
	}
	a := r.Artifact
	inst, err := dev.Deploy(ctx, remote.File{Path: a.Path, SHA256: a.SHA256, Size: a.Size}, ProbeName, func(remote.Event) {})
	if err != nil {
		return RoundStats{}, fmt.Errorf("deploy %s to %s: %w", ProbeName, plan.Target.Name, err)
	}
	env := mergeGODEBUG(plan.RunEnvStrings(), "schedtrace="+strconv.FormatInt(DefaultSchedTrace.Milliseconds(), 10))
	pargs := probeArgs(plan.Target, interval)
	for _, kv := range env {
		pargs = append(pargs, "-env", kv)
	}
	pargs = append(append(pargs, "--", path.Join(dev.DeployDir(), plan.DeployName())), args...)
	rs, _, err := runRound(ctx, dev, inst.Path, pargs, plan.Profile.Name, 0, 0, false, emit)
	return rs, err
}
