package live

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"sync"
	"time"

	"armbench/bench"
	"armbench/profiles"
	"armbench/remote"
)

// Event is one thing a live session reports.
type Event interface{ liveEvent() }

// Started says the program started: the first time, or again after a
// knob changed (Change is then "GOGC=200").
type Started struct {
	Settings Settings
	Env      []string // the whole run environment, knobs applied
	Change   string
	Restart  bool
}

// Sample is what the probe measured at one sample of the program.
type Sample struct {
	T        time.Duration // since this start of the program
	CPU      float64       // % of one core since the previous sample
	RSS      int64         // bytes
	Threads  int
	RunQueue int     // global + local run queues, at the last schedtrace
	GCPerSec float64 // GC cycles per second since the previous sample
}

// Line is a line the program printed (the runtime's gctrace lines are
// counted into Sample.GCPerSec instead).
type Line struct {
	Stderr bool
	Text   string
}

// Observed carries every event of the bench engine as it came (the probe
// being built and sent, every sample and line), for a metrics exporter.
type Observed struct{ Event bench.Event }

func (Started) liveEvent()  {}
func (Sample) liveEvent()   {}
func (Line) liveEvent()     {}
func (Observed) liveEvent() {}

// Session is one program running live on a device. Run runs it; Set,
// from any goroutine, asks for a restart with other knob settings.
type Session struct {
	dev      remote.Device
	plan     profiles.Plan
	outRoot  string
	args     []string
	interval time.Duration

	mu      sync.Mutex
	pending *Settings
	change  string
	wake    chan struct{}
}

// New prepares a session running plan's deployed program with args on
// dev (which the session uses for every restart: no new connection),
// with knobs set over the profile's environment; interval is the probe's
// sampling period (0 = bench.DefaultInterval).
func New(dev remote.Device, plan profiles.Plan, outRoot string, args []string, interval time.Duration) *Session {
	return &Session{dev: dev, plan: plan, outRoot: outRoot, args: args, interval: interval, wake: make(chan struct{}, 1)}
}

// Set asks the running program to restart with s; change names what
// changed, for the Started event ("GOGC=200"). It never blocks; of
// several changes before the restart, the last wins.
func (s *Session) Set(settings Settings, change string) {
	s.mu.Lock()
	s.pending, s.change = &settings, change
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Session) take() (Settings, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending == nil {
		return Settings{}, "", false
	}
	p, c := *s.pending, s.change
	s.pending = nil
	return p, c, true
}

// Run builds and sends the probe if needed, then runs the program under
// it with settings until it exits on its own or ctx ends, restarting it
// on every Set. It returns the last start's stats. A program that is not
// deployed is an error matching fs.ErrNotExist.
func (s *Session) Run(ctx context.Context, settings Settings, emit func(Event)) (bench.RoundStats, error) {
	var mu sync.Mutex
	send := func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		emit(e)
	}
	obs, err := bench.PrepareObserver(ctx, s.dev, s.plan, s.outRoot, s.interval, func(e bench.Event) { send(Observed{e}) })
	if err != nil {
		return bench.RoundStats{}, fmt.Errorf("preparing the probe: %w", err)
	}
	change, restart := "", false
	for {
		env := withGCTrace(settings.Apply(s.plan.RunEnvStrings()))
		send(Started{Settings: settings, Env: env, Change: change, Restart: restart})
		type result struct {
			rs  bench.RoundStats
			err error
		}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan result, 1)
		rd := &reader{send: send}
		go func() {
			rs, err := obs.Run(runCtx, env, s.args, rd.handle)
			done <- result{rs, err}
		}()
		select {
		case r := <-done:
			cancel()
			return r.rs, notDeployed(obs.Program(), r.err)
		case <-s.wake:
			cancel()
			r := <-done // the engine stops the process before it returns
			if ctx.Err() != nil {
				return r.rs, ctx.Err()
			}
			next, c, ok := s.take()
			if !ok {
				// Cannot happen (a wake follows a Set), but run again as asked.
				next, c = settings, ""
			}
			settings, change, restart = next, c, true
		}
	}
}

// notDeployed turns the probe's failure to start a missing program into
// an error matching fs.ErrNotExist.
func notDeployed(program string, err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if strings.Contains(msg, "probe: start ") && strings.Contains(msg, "no such file or directory") {
		return fmt.Errorf("%s is not on the device: %w", program, fs.ErrNotExist)
	}
	return err
}

// withGCTrace adds gctrace=1 to GODEBUG, so each GC cycle prints a line
// that the session counts.
func withGCTrace(env []string) []string {
	out := append([]string(nil), env...)
	for i, kv := range out {
		if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
			if strings.Contains(","+v+",", ",gctrace=") {
				return out
			}
			if v != "" {
				v += ","
			}
			out[i] = "GODEBUG=" + v + "gctrace=1"
			return out
		}
	}
	return append(out, "GODEBUG=gctrace=1")
}

// gcLine matches the runtime's gctrace line: "gc 12 @3.456s 2%: …".
var gcLine = regexp.MustCompile(`^gc \d+ @[0-9.]+s `)

// reader turns one start's bench events into the session's.
type reader struct {
	send     func(Event)
	gcs      int // gctrace lines since the last sample
	lastT    time.Duration
	runQueue int
}

func (r *reader) handle(e bench.Event) {
	switch e := e.(type) {
	case bench.Line:
		if e.Stderr && gcLine.MatchString(e.Text) {
			r.gcs++
			return
		}
		r.send(Observed{e})
		r.send(Line{Stderr: e.Stderr, Text: e.Text})
		return
	case bench.Sched:
		r.runQueue = e.Sample.RunQueue + e.Sample.LocalRunQueueTotal()
	case bench.Proc:
		dt := e.T - r.lastT
		gcps := 0.0
		if dt > 0 {
			gcps = float64(r.gcs) / dt.Seconds()
		}
		r.gcs, r.lastT = 0, e.T
		r.send(Sample{T: e.T, CPU: e.Sample.CPU, RSS: e.Sample.RSS, Threads: e.Sample.Threads, RunQueue: r.runQueue, GCPerSec: gcps})
	}
	r.send(Observed{e})
}
