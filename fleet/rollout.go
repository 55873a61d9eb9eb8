package fleet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"armbench/profiles"
	"armbench/remote"
	"armbench/state"
)

// DefaultParallel is how many uploads a rollout runs at once by default:
// uploads go to different devices over different links, so they overlap
// well; the bound keeps the local CPU (compression, encryption) and a
// shared uplink from being swamped by a large fleet.
const DefaultParallel = 8

// Options tune a rollout.
type Options struct {
	// MaxUnavailable is how many devices may be down at once, a device
	// being down from the start of its install until its health check
	// passes (default 1). Devices install in waves of this size.
	MaxUnavailable int
	// Parallel bounds the uploads in flight (default DefaultParallel).
	// Uploads run ahead of the waves: they only stage the binary.
	Parallel int
	// ContinueOnError goes on with the next waves after a device failed
	// (it is still rolled back); by default the rollout stops there.
	ContinueOnError bool
	// NoBuild deploys the artifacts already built instead of building.
	NoBuild bool
	// Pool connects to the devices (required). The caller closes it.
	Pool *remote.Pool
	// History records every install (its Dir empty: none).
	History state.History
}

// State is how a device came out of a rollout.
type State string

// The states of a device after a rollout.
const (
	StateDeployed     State = "deployed"      // installed and healthy
	StateUnchanged    State = "unchanged"     // it already had this binary
	StateRolledBack   State = "rolled-back"   // its health check failed; NAME.prev is back
	StateFailed       State = "failed"        // see Step and Err; it runs what it ran before, unless Step is rollback
	StateNotAttempted State = "not-attempted" // the rollout stopped before its wave
)

// DeviceResult is one device's outcome.
type DeviceResult struct {
	Target, Profile string
	Name            string // binary name in deploy_dir
	Addr            string // user@host:port, when connected
	Path            string // the installed binary on the device
	Wave            int
	State           State
	SHA256          string // the binary deployed (what it runs unless rolled back or failed)
	Step            string // where it failed: connect, build, upload, install, health, rollback
	Err             error
	HealthAttempts  int
	WireBytes       int64
	Delta           bool
	Upload          time.Duration // staging, from connected to staged
	Down            time.Duration // from the start of the install to a passed check or a rollback
}

// Result is a rollout's outcome, devices in rollout order.
type Result struct {
	Devices []DeviceResult
	// StoppedBy names the device whose failure stopped the rollout.
	StoppedBy string
	Duration  time.Duration
}

// Err summarises the failures, nil when every device took the binary.
func (r Result) Err() error {
	var failed, skipped []string
	for _, d := range r.Devices {
		switch d.State {
		case StateFailed, StateRolledBack:
			failed = append(failed, d.Target)
		case StateNotAttempted:
			skipped = append(skipped, d.Target)
		}
	}
	if len(failed) == 0 && len(skipped) == 0 {
		return nil
	}
	msg := fmt.Sprintf("%d of %d devices failed (%s)", len(failed), len(r.Devices), strings.Join(failed, ", "))
	if r.StoppedBy != "" {
		msg += fmt.Sprintf("; the rollout stopped at %s", r.StoppedBy)
	}
	if len(skipped) > 0 {
		msg += fmt.Sprintf("; not attempted: %s", strings.Join(skipped, ", "))
	}
	return errors.New(msg)
}

// device is one target's way through a rollout.
type device struct {
	plan   profiles.Plan
	key    string // the build it needs
	wave   int
	staged chan struct{} // closed when staging ended, well or not
	dev    remote.Device
	size   int64
	res    DeviceResult
}

type rollout struct {
	o    Options
	mu   sync.Mutex // serialises emit; guards stoppedBy
	emit func(Event)
	// firstFailed is the first device that failed, whenever and wherever.
	firstFailed string
}

func (r *rollout) send(ev Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.emit(ev)
}

func (r *rollout) event(d *device, p Phase, detail string, err error) {
	r.send(DeviceEvent{Target: d.plan.Target.Name, Wave: d.wave, Phase: p, Time: time.Now(), Detail: detail, Err: err})
}

// fail ends d in state (failed or rolled back) at step with err.
func (r *rollout) fail(d *device, state State, step string, err error) {
	d.res.State, d.res.Step, d.res.Err = state, step, err
	detail := step
	if state == StateRolledBack {
		detail = "rolled back to the previous binary"
	}
	r.mu.Lock()
	if r.firstFailed == "" {
		r.firstFailed = d.res.Target
	}
	r.mu.Unlock()
	r.event(d, PhaseFailed, detail, err)
}

func (r *rollout) failure() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.firstFailed
}

// Rollout deploys each plan's binary to its target: plans are the devices
// in rollout order, one per target (typically a group's members with one
// profile). Binaries that would be built alike are built once. Every
// device's binary is uploaded ahead (at most Parallel at a time) to a
// staging name, then the devices install in waves of MaxUnavailable:
// a wave starts when the one before it is healthy and its own devices are
// staged. A device whose check fails is rolled back to NAME.prev; a
// failure stops the rollout before the next wave unless ContinueOnError.
// emit (never called concurrently) gets the events; cancelling ctx stops
// the rollout, leaving each device with a complete binary.
func Rollout(ctx context.Context, plans []profiles.Plan, o Options, emit func(Event)) (Result, error) {
	start := time.Now()
	if err := checkPlans(plans, o); err != nil {
		return Result{}, err
	}
	o.MaxUnavailable = max(o.MaxUnavailable, 1)
	if o.Parallel <= 0 {
		o.Parallel = DefaultParallel
	}
	if emit == nil {
		emit = func(Event) {}
	}
	r := &rollout{o: o, emit: emit}
	ds := make([]*device, len(plans))
	for i, p := range plans {
		ds[i] = &device{plan: p, key: buildKey(p), wave: i/o.MaxUnavailable + 1, staged: make(chan struct{}),
			res: DeviceResult{Target: p.Target.Name, Profile: p.Profile.Name, Name: p.DeployName(), Wave: i/o.MaxUnavailable + 1}}
	}
	upCtx, cancelUploads := context.WithCancel(ctx)
	defer cancelUploads()
	builds := r.startBuilds(upCtx, ds)
	sem := make(chan struct{}, o.Parallel)
	// The uploads run at once: the pool's compressors size their levels
	// for that from the first byte, until the last device is staged.
	expected := o.Pool.ExpectUploads(min(len(ds), o.Parallel))
	var staging atomic.Int32
	staging.Store(int32(len(ds)))
	var wg sync.WaitGroup
	for _, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(d.staged)
			defer func() {
				if staging.Add(-1) == 0 {
					expected()
				}
			}()
			r.stage(upCtx, d, builds[d.key], sem)
		}()
	}
	stoppedBy := r.waves(ctx, ds)
	cancelUploads()
	wg.Wait()
	r.unstage(ds)
	for _, d := range ds {
		if d.res.State == "" {
			d.res.State = StateNotAttempted
			r.event(d, PhaseSkipped, "", nil)
		}
	}
	res := Result{StoppedBy: stoppedBy, Duration: time.Since(start)}
	for _, d := range ds {
		res.Devices = append(res.Devices, d.res)
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	return res, nil
}

func checkPlans(plans []profiles.Plan, o Options) error {
	if len(plans) == 0 {
		return errors.New("rollout: no devices")
	}
	if o.Pool == nil {
		return errors.New("rollout: no connection pool")
	}
	seen := map[string]bool{}
	for _, p := range plans {
		if seen[p.Target.Name] {
			return fmt.Errorf("rollout: target %s is listed twice", p.Target.Name)
		}
		seen[p.Target.Name] = true
		if p.Mode != profiles.ModeBinary {
			return fmt.Errorf("rollout: %s/%s is not a program build", p.Target.Name, p.Profile.Name)
		}
	}
	return nil
}

// waves installs wave after wave; it returns the target whose failure
// stopped the rollout ("" when none did).
func (r *rollout) waves(ctx context.Context, ds []*device) string {
	for start := 0; start < len(ds); start += r.o.MaxUnavailable {
		wave := ds[start:min(start+r.o.MaxUnavailable, len(ds))]
		for _, d := range wave {
			select {
			case <-d.staged:
			case <-ctx.Done():
			}
		}
		if f := r.failure(); f != "" && !r.o.ContinueOnError {
			return f
		}
		if ctx.Err() != nil {
			return ""
		}
		r.installWave(ctx, wave)
	}
	if !r.o.ContinueOnError {
		return r.failure()
	}
	return ""
}

// installWave installs the staged devices of one wave at once and waits
// for all of them: healthy, rolled back or failed.
func (r *rollout) installWave(ctx context.Context, wave []*device) {
	var names []string
	for _, d := range wave {
		names = append(names, d.res.Target)
	}
	r.send(WaveEvent{Wave: wave[0].wave, Targets: names})
	var wg sync.WaitGroup
	for _, d := range wave {
		if d.res.State != "" {
			continue // failed while staging, or unchanged
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.install(ctx, d)
		}()
	}
	wg.Wait()
	r.send(WaveEvent{Wave: wave[0].wave, Targets: names, Done: true})
}
