package fleet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"armbench/deploy"
	"armbench/remote"
	"armbench/state"
	"armbench/targets"
)

// addr names a device in messages: user@host:port over SSH.
func addr(dev remote.Device, t targets.Target) string {
	if a, ok := dev.(interface{ Addr() string }); ok {
		return a.Addr()
	}
	if t.IsLocal() {
		return "local " + dev.DeployDir()
	}
	return t.Host
}

// stage connects, waits for the binary, and uploads it to the staging
// name (remote's atomic deploy: verified on the device, the installed
// binary untouched). A device that already runs it is done.
func (r *rollout) stage(ctx context.Context, d *device, j *buildJob, sem chan struct{}) {
	t := d.plan.Target
	dev, err := r.o.Pool.Get(ctx, t)
	if err != nil {
		r.stageFailed(ctx, d, "connect", err)
		return
	}
	d.dev, d.res.Addr = dev, addr(dev, t)
	select {
	case <-j.done:
	case <-ctx.Done():
		return
	}
	if j.err != nil {
		r.stageFailed(ctx, d, "build", j.err)
		return
	}
	select {
	case sem <- struct{}{}:
		defer func() { <-sem }()
	case <-ctx.Done():
		return
	}
	start := time.Now()
	r.event(d, PhaseUpload, "", nil)
	name, dir := d.plan.DeployName(), dev.DeployDir()
	if _, err := dev.Exec(ctx, stageScript(dir, name)); err != nil {
		r.stageFailed(ctx, d, "upload", fmt.Errorf("prepare staging: %w", err))
		return
	}
	// The upload goes through the deploy pipeline, over the connection
	// the staging script used. It is not recorded: the install is, when
	// the staged binary is swapped in.
	pipe := deploy.Pipeline{
		Connect: func(context.Context, targets.Target, []string) (remote.Device, error) { return dev, nil },
	}
	job := deploy.Job{Plan: d.plan, Artifact: j.art, Name: stagedName(name), Unrecorded: true}
	res := pipe.Run(ctx, t, []deploy.Job{job}, func(ev deploy.Event) {
		if e, ok := ev.(deploy.Deploying); ok {
			if p, ok := e.Event.(remote.Progress); ok {
				r.send(DeviceEvent{Target: t.Name, Wave: d.wave, Phase: PhaseUpload, Time: time.Now(), Progress: &p})
			}
		}
	})[0]
	if res.Err != nil {
		step := "upload"
		if res.Step == deploy.StepConnect {
			step = "connect"
		}
		r.stageFailed(ctx, d, step, res.Err)
		return
	}
	inst := res.Installed
	d.size = j.art.Size
	d.res.SHA256, d.res.WireBytes, d.res.Delta = j.art.SHA256, inst.WireBytes, inst.Delta
	d.res.Path = strings.TrimSuffix(dir, "/") + "/" + name
	d.res.Upload = time.Since(start)
	if inst.Skipped {
		// The staging name was a link to the installed binary.
		d.res.State = StateUnchanged
		r.event(d, PhaseDone, "unchanged", nil)
		return
	}
	r.event(d, PhaseStaged, "", nil)
}

// stageFailed records a failure before the install, unless the rollout
// stopped (ctx cancelled): then the device is merely not attempted.
func (r *rollout) stageFailed(ctx context.Context, d *device, step string, err error) {
	if ctx.Err() != nil {
		return
	}
	r.fail(d, StateFailed, step, r.wrap(d, step, err))
}

// wrap names the device and the step in err, unless remote already did.
func (r *rollout) wrap(d *device, step string, err error) error {
	var oe *remote.OpError
	if errors.As(err, &oe) && oe.Addr != "" {
		return fmt.Errorf("%s: %w", step, err)
	}
	a := d.res.Addr
	if a == "" {
		a = d.plan.Target.Host
	}
	return fmt.Errorf("%s (%s): %s: %w", d.plan.Target.Name, a, step, err)
}

// install swaps the staged binary in, checks the device, and rolls it
// back when the check fails. From the start of the install to the end
// of the check (or of the rollback) the device counts as down.
func (r *rollout) install(ctx context.Context, d *device) {
	start := time.Now()
	defer func() { d.res.Down = time.Since(start) }()
	r.event(d, PhaseInstall, "", nil)
	name := d.plan.DeployName()
	out, err := d.dev.Exec(ctx, installScript(d.dev.DeployDir(), name, d.size))
	if err == nil && !strings.Contains(string(out), "installed") {
		err = errors.New("the install script stopped before the end")
	}
	if err != nil {
		// The rename is atomic: the device has the old binary or the new
		// one, complete either way; not knowing which, do not swap.
		r.fail(d, StateFailed, "install", fmt.Errorf("%w; %s holds the old or the new binary, complete either way (armbench status tells which)", r.wrap(d, "install", err), d.res.Path))
		return
	}
	if err := r.o.History.Add(state.Record{Target: d.res.Target, Name: name, Profile: d.res.Profile, SHA256: d.res.SHA256, Time: time.Now()}); err != nil {
		r.event(d, PhaseInstall, "warning: "+err.Error(), nil)
	}
	if h := d.plan.Health; h != nil {
		r.event(d, PhaseHealth, h.String(), nil)
		n, err := checkHealth(ctx, d.dev, d.plan, func(i int, err error) {
			r.event(d, PhaseHealth, fmt.Sprintf("attempt %d of %d failed", i, h.Attempts()), err)
		})
		d.res.HealthAttempts = n
		if err != nil {
			r.unhealthy(ctx, d, fmt.Errorf("health check %q: %w", h.String(), err))
			return
		}
	}
	d.res.State = StateDeployed
	r.event(d, PhaseDone, "", nil)
}

// unhealthy rolls d back to NAME.prev after a failed check. A rollout
// cancelled during the check leaves the new binary, unchecked: stopping
// means doing no more.
func (r *rollout) unhealthy(ctx context.Context, d *device, cause error) {
	if ctx.Err() != nil {
		r.fail(d, StateFailed, "health", fmt.Errorf("%w: cancelled; %s is the new binary, unchecked", cause, d.res.Path))
		return
	}
	r.event(d, PhaseRollback, "", cause)
	if err := d.dev.Rollback(ctx, d.plan.DeployName()); err != nil {
		r.fail(d, StateFailed, "rollback", fmt.Errorf("%w, and so did the rollback: %w", r.wrap(d, "health", cause), err))
		return
	}
	r.fail(d, StateRolledBack, "health", r.wrap(d, "health", cause))
}

// unstage removes the staged binaries the rollout did not install, so a
// stopped rollout leaves nothing behind; best effort, a few seconds at most.
func (r *rollout) unstage(ds []*device) {
	var wg sync.WaitGroup
	for _, d := range ds {
		if d.dev == nil || d.res.State == StateDeployed || d.res.State == StateRolledBack {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			d.dev.Exec(ctx, unstageScript(d.dev.DeployDir(), d.plan.DeployName()))
		}()
	}
	wg.Wait()
}
