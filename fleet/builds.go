package fleet

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"armbench/build"
	"armbench/profiles"
)

// maxBuilds is how many distinct binaries build at once: as build.RunAll,
// two go commands keep a small machine's cores busy without thrashing.
const maxBuilds = 2

// buildKey is what makes two plans' binaries the same: the go command,
// its environment and folder, less the output path. Targets that share
// goarch, goarm/goarm64, tags and cc get one build per profile.
func buildKey(p profiles.Plan) string {
	args := slices.Clone(p.Args)
	for i := range args {
		if args[i] == "-o" && i+1 < len(args) {
			args[i+1] = ""
		}
	}
	return strings.Join(p.BuildEnvStrings(), "\x00") + "\x01" + strings.Join(args, "\x00") + "\x01" + p.Dir
}

// buildJob is one binary that several devices wait for.
type buildJob struct {
	plan    profiles.Plan // the first device's plan builds it
	targets []string
	done    chan struct{}
	art     *build.Artifact
	err     error
}

// startBuilds starts one build per distinct binary, in rollout order.
func (r *rollout) startBuilds(ctx context.Context, ds []*device) map[string]*buildJob {
	jobs := map[string]*buildJob{}
	var order []*buildJob
	for _, d := range ds {
		j, ok := jobs[d.key]
		if !ok {
			j = &buildJob{plan: d.plan, done: make(chan struct{})}
			jobs[d.key] = j
			order = append(order, j)
		}
		j.targets = append(j.targets, d.plan.Target.Name)
		r.event(d, PhaseBuild, "", nil)
	}
	sem := make(chan struct{}, maxBuilds)
	var wg sync.WaitGroup
	for _, j := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(j.done)
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				j.err = ctx.Err()
				return
			}
			j.art, j.err = r.build(ctx, j)
		}()
	}
	return jobs
}

func (r *rollout) build(ctx context.Context, j *buildJob) (*build.Artifact, error) {
	p := j.plan
	if r.o.NoBuild {
		a, err := build.Verify(p.OutputPath(), p)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w (build it first: armbench build --target %s --profile %s)", p.Target.Name, p.Profile.Name, err, p.Target.Name, p.Profile.Name)
		}
		return a, nil
	}
	res := build.Run(ctx, p, func(ev build.Event) {
		r.send(BuildEvent{Targets: j.targets, Profile: p.Profile.Name, Event: ev})
	})
	switch {
	case res.Err != nil:
		return nil, fmt.Errorf("build %s/%s: %w (log: %s)", p.Target.Name, p.Profile.Name, res.Err, res.LogPath)
	case res.Artifact == nil:
		return nil, fmt.Errorf("build %s/%s: no artifact (log: %s)", p.Target.Name, p.Profile.Name, res.LogPath)
	}
	return res.Artifact, nil
}
