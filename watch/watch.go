// Package watch is the inner loop: it watches the files a package is built
// from, and on every save rebuilds it, redeploys it and restarts it on the
// device with the profile's runtime settings, reporting everything as
// typed events. It is an engine like build and remote: no terminal, no
// Bubble Tea; the CLI prints its events, the TUI turns them into messages.
package watch

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"armbench/deploy"
	"armbench/profiles"
	"armbench/remote"
	"armbench/state"
	"armbench/targets"
)

// Defaults of Options.
const (
	DefaultDebounce   = 300 * time.Millisecond
	DefaultKillDelay  = 2 * time.Second
	DefaultStopSignal = "INT"
)

// Options configure a watch session.
type Options struct {
	// Plan is what to build (profiles.ModeBinary); its target is the device
	// and its run settings (GOMAXPROCS, GOGC, …) the program's environment.
	Plan profiles.Plan
	// Connect opens the device. It is called at start, while the first
	// build runs, and again at the next change after it failed. An SSH
	// device reconnects by itself after a drop, so it is opened once.
	// Run closes it when it ends; see Borrowed for one it must not.
	Connect func(ctx context.Context) (remote.Device, error)
	// Name is the binary's name on the device; "" = Plan.DeployName(),
	// the name deploy and run use.
	Name string
	// Args are the program's arguments.
	Args []string
	// Debounce is how long the files must stay quiet after a save before a
	// rebuild starts, so one editor save (often several writes) or a
	// burst of saves makes one rebuild. 0 = DefaultDebounce.
	Debounce time.Duration
	// KillDelay is how long the old program gets after StopSignal before
	// SIGKILL. 0 = DefaultKillDelay.
	KillDelay time.Duration
	// StopSignal stops the old program, by Linux name; "" = INT, as
	// Ctrl-C at a terminal would.
	StopSignal string
	// History records each install, for status ("" Dir: none).
	History state.History
	// Control, when set, changes the session while it runs: its SetEnv
	// restarts the program with runtime overrides. One Control serves one
	// Run.
	Control *Control
}

func (o Options) withDefaults() (Options, error) {
	if o.Connect == nil {
		return o, errors.New("watch: Options.Connect is required")
	}
	if o.Plan.Mode != profiles.ModeBinary {
		return o, errors.New("watch: the plan must build a program (go build), not a test binary")
	}
	if o.Debounce < 0 || o.KillDelay < 0 {
		return o, fmt.Errorf("watch: debounce (%v) and kill delay (%v) cannot be negative", o.Debounce, o.KillDelay)
	}
	if o.Debounce == 0 {
		o.Debounce = DefaultDebounce
	}
	if o.KillDelay == 0 {
		o.KillDelay = DefaultKillDelay
	}
	if o.StopSignal == "" {
		o.StopSignal = DefaultStopSignal
	}
	if remote.SignalNumber(o.StopSignal) == 0 {
		return o, fmt.Errorf("watch: stop signal %q: want a name such as INT or TERM", o.StopSignal)
	}
	if o.Name == "" {
		o.Name = o.Plan.DeployName()
	}
	return o, nil
}

// Run watches until ctx is cancelled, then stops the program it started
// and returns ctx's error once every goroutine it started has ended. It
// returns early only when watching cannot start (bad options, the package
// cannot be listed, no inotify). emit is never called concurrently, nor
// after Run returned; it must not block for long, as file events wait.
func Run(ctx context.Context, o Options, emit func(Event)) error {
	if o.Control != nil {
		if err := o.Control.bind(); err != nil {
			return err
		}
		defer o.Control.end() // SetEnv gives up from now on
	}
	o, err := o.withDefaults()
	if err != nil {
		return err
	}
	if emit == nil {
		emit = func(Event) {}
	}
	var emitMu sync.Mutex
	serialEmit := func(e Event) {
		emitMu.Lock()
		defer emitMu.Unlock()
		emit(e)
	}

	files, err := listFiles(ctx, o.Plan)
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	defer w.Close()
	s := &session{o: o, ctx: ctx, emit: serialEmit, watcher: w}
	s.o.Connect = s.serviceConnect(o.Connect) // service mode: check the device before the deploy changes it
	if err := s.watchFiles(files); err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	defer s.closeDevice()
	defer s.stopProgram(false) // after the cycle has ended (below)
	return s.loop()
}

// session is one Run. The loop goroutine owns files and the cycle
// bookkeeping; a cycle goroutine (one at a time) owns dev and prog.
type session struct {
	o       Options
	ctx     context.Context
	emit    func(Event)
	watcher *fsnotify.Watcher

	files fileSet

	dev        remote.Device
	connecting chan opened // a connection attempt under way, when dev is nil
	prog       *program
	service    *serviceState // service mode: what the device's checks found, set with dev

	env envState // Control's runtime overrides
}

// opened is the outcome of Options.Connect.
type opened struct {
	dev remote.Device
	err error
}

// cycleRun is a cycle in flight, as the loop sees it.
type cycleRun struct {
	n      int
	cancel context.CancelFunc
	done   chan cycleResult
}

type cycleResult struct {
	files *fileSet // the refreshed file list, nil when go list failed
}

func (s *session) loop() error {
	pending := map[string]bool{}
	var cur *cycleRun
	n := 0
	run := func(cycle func(ctx context.Context, n int) cycleResult) {
		n++
		ctx, cancel := context.WithCancel(s.ctx)
		cur = &cycleRun{n: n, cancel: cancel, done: make(chan cycleResult, 1)}
		go func(n int, done chan<- cycleResult) {
			defer cancel()
			done <- cycle(ctx, n)
		}(n, cur.done)
	}
	start := func(paths []string) {
		run(func(ctx context.Context, n int) cycleResult { return s.cycle(ctx, n, paths) })
	}
	// restart starts a cycle that only restarts the program with the
	// overrides in force: the same binary, no build, no deploy.
	restart := func() { run(func(_ context.Context, n int) cycleResult { return s.restartCycle(n) }) }
	var envReqs <-chan Overrides
	if s.o.Control != nil {
		envReqs = s.o.Control.reqs
	}
	start(nil)

	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	quiet := false // the debounce timer has fired since the last change
	for {
		var curDone <-chan cycleResult
		if cur != nil {
			curDone = cur.done
		}
		select {
		case <-s.ctx.Done():
			if cur != nil {
				cur.cancel()
				<-cur.done
			}
			return s.ctx.Err()

		case ev, ok := <-s.watcher.Events:
			if !ok {
				if cur != nil {
					cur.cancel()
					<-cur.done
				}
				return errors.New("watch: the file watcher stopped")
			}
			if ev.Op == fsnotify.Chmod || !s.files.triggers(ev.Name) {
				continue
			}
			pending[ev.Name] = true
			quiet = false
			debounce.Reset(s.o.Debounce)

		case err, ok := <-s.watcher.Errors:
			if ok {
				s.emit(Warning{Time: time.Now(), Err: fmt.Errorf("file watcher: %w", err)})
			}

		case <-debounce.C:
			quiet = true
			if cur != nil {
				// A build or deploy in flight is stale: stop it; the next
				// cycle starts when it has ended (below). A restart
				// already under way is not interrupted.
				cur.cancel()
				continue
			}
			start(drain(pending))

		case o := <-envReqs:
			base := s.o.Plan.RunEnvStrings()
			_, before := s.env.now(base)
			s.env.set(o)
			ev := EnvSet{Time: time.Now(), Overrides: maps.Clone(o)}
			_, ev.Env = s.env.now(base)
			ev.Change = envChange(before, ev.Env)
			switch {
			case cur != nil:
				ev.Cycle = cur.n // its restart takes them, or one follows it (below)
				s.emit(ev)
			case s.prog != nil: // no cycle runs: the loop may look
				ev.Cycle, ev.Restart = n+1, true
				s.emit(ev)
				restart()
			default:
				s.emit(ev) // nothing started yet: the next cycle's program has them
			}

		case r := <-curDone:
			cur = nil
			if r.files != nil {
				if err := s.watchFiles(*r.files); err != nil {
					s.emit(Warning{Time: time.Now(), Err: err})
				}
			}
			switch {
			case quiet && len(pending) > 0:
				start(drain(pending))
			case s.prog != nil && s.env.stale():
				// Overrides set while the cycle ran that its program did
				// not start with (its build failed, or it was past its
				// restart): the running program takes them now.
				ev := EnvSet{Cycle: n + 1, Time: time.Now(), Restart: true}
				ev.Overrides, ev.Env = s.env.now(s.o.Plan.RunEnvStrings())
				ev.Change = envChange(s.prog.env, ev.Env)
				s.emit(ev)
				restart()
			}
		}
	}
}

// drain empties pending into a sorted list.
func drain(pending map[string]bool) []string {
	paths := make([]string, 0, len(pending))
	for p := range pending {
		paths = append(paths, p)
		delete(pending, p)
	}
	slices.Sort(paths)
	return paths
}

// watchFiles makes the watcher follow set, reporting the change.
func (s *session) watchFiles(set fileSet) error {
	changed := len(set.dirs) != len(s.files.dirs)
	var errs []error
	for d := range set.dirs {
		if _, ok := s.files.dirs[d]; ok {
			continue
		}
		changed = true
		if err := s.watcher.Add(d); err != nil {
			errs = append(errs, fmt.Errorf("watch %s: %w", d, err))
		}
	}
	for d := range s.files.dirs {
		if _, ok := set.dirs[d]; !ok {
			_ = s.watcher.Remove(d) // a removed directory is no longer watched anyway
		}
	}
	for d, role := range set.dirs {
		if s.files.dirs[d] != role {
			changed = true
		}
	}
	s.files = set
	if changed {
		s.emit(Watching{Time: time.Now(), Dirs: set.sortedDirs(), Files: set.count()})
	}
	return errors.Join(errs...)
}

// cycle builds, deploys and restarts. ctx is cancelled by newer saves,
// which matters only until the deploy is done.
func (s *session) cycle(ctx context.Context, n int, paths []string) cycleResult {
	s.emit(Changed{Cycle: n, Time: time.Now(), Paths: paths})

	// What the build reads may have changed (a new file or import): ask
	// again once the new program runs (or the cycle failed), off the path
	// from save to program, where it would take CPU from the build.
	result := func() cycleResult {
		if ctx.Err() != nil {
			return cycleResult{} // superseded: the next cycle lists
		}
		set, err := listFiles(ctx, s.o.Plan)
		if err != nil {
			if ctx.Err() == nil {
				s.emit(Warning{Time: time.Now(), Err: fmt.Errorf("refresh the watched files: %w", err)})
			}
			return cycleResult{}
		}
		return cycleResult{files: &set}
	}

	// The first connection is made while the first build runs. It is not
	// tied to this cycle: a failed build does not wait for it, the next
	// cycle takes it over.
	if s.dev == nil && s.connecting == nil {
		s.connecting = make(chan opened, 1)
		go func(done chan<- opened) {
			dev, err := s.o.Connect(s.ctx)
			done <- opened{dev, err}
		}(s.connecting)
	}
	// The deploy pipeline takes the session's device: the connection
	// made above, or the one it already has, with the deploy's first
	// question (what the device has) asked while the build runs.
	connect := func(ctx context.Context, _ targets.Target, names []string) (remote.Device, error) {
		if s.dev == nil {
			var o opened
			select {
			case o = <-s.connecting:
			case <-ctx.Done():
				return nil, ctx.Err() // superseded; the attempt goes on for the next cycle
			}
			s.connecting = nil
			if o.err != nil {
				return nil, o.err
			}
			s.dev = o.dev
			return s.dev, nil
		}
		_ = remote.Prewarm(ctx, s.dev, names...) // an error here is the deploy's to report
		return s.dev, nil
	}
	pipe := deploy.Pipeline{Connect: connect, History: s.o.History}
	job := deploy.Job{Plan: s.o.Plan, Name: s.o.Name}
	r := pipe.Run(ctx, s.o.Plan.Target, []deploy.Job{job}, func(ev deploy.Event) {
		switch ev := ev.(type) {
		case deploy.Building:
			s.emit(Build{Cycle: n, Event: ev.Event})
		case deploy.Deploying:
			s.emit(Deploy{Cycle: n, Event: ev.Event})
		}
	})[0]
	if r.Err != nil {
		if ctx.Err() != nil {
			s.emit(Superseded{Cycle: n, Stage: r.Step})
		} else {
			s.emit(Failed{Cycle: n, Stage: stageOf(r.Step, r.Err), Err: r.Err})
		}
		return result()
	}
	if r.Warning != "" {
		s.emit(Warning{Time: time.Now(), Err: errors.New(r.Warning)})
	}
	inst := r.Installed
	s.emit(Deployed{Cycle: n, Installed: inst})

	// From here on the new binary is in place: newer saves wait for the
	// restart rather than leave the device with no program running.
	if err := s.restart(n); err != nil {
		s.emit(Failed{Cycle: n, Stage: stageOf(StageStart, err), Err: err})
	}
	return result()
}

// restartCycle is cycle n when it only restarts the program with the
// overrides in force.
func (s *session) restartCycle(n int) cycleResult {
	if err := s.restart(n); err != nil {
		s.emit(Failed{Cycle: n, Stage: stageOf(StageStart, err), Err: err})
	}
	return cycleResult{}
}

// closeDevice closes the device once the session is over, waiting for a
// connection attempt still under way (ctx is done, so it ends soon).
func (s *session) closeDevice() {
	if s.connecting != nil {
		if o := <-s.connecting; o.err == nil {
			o.dev.Close()
		}
	}
	if s.dev != nil {
		s.dev.Close()
	}
}

// Borrowed wraps a device Run must not close when it ends, such as one a
// remote.Pool owns (the TUI's): Connect returning Borrowed(dev) leaves it
// open for the pane that deploys or benches next.
func Borrowed(dev remote.Device) remote.Device { return borrowed{dev} }

type borrowed struct{ remote.Device }

func (borrowed) Close() error { return nil }
