package watch

import (
	"context"
	"errors"
	"time"

	"armbench/remote"
)

// program is the running program of one cycle.
type program struct {
	cycle  int
	env    []string // its environment, overrides applied
	cancel context.CancelFunc
	done   chan struct{} // closed once Exited was sent
	lost   bool          // the run failed (a dropped link): it may still be running; read after done
}

// running reports whether the program has not ended yet.
func (p *program) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// stopPolicy is how the old program is stopped.
func (s *session) stopPolicy() remote.StopPolicy {
	return remote.StopPolicy{Signal: s.o.StopSignal, KillDelay: s.o.KillDelay}
}

// restart stops the previous program (StopSignal, SIGKILL after
// KillDelay) and starts cycle n's. The binary was renamed over the old
// one, which keeps running from its open inode until it is stopped.
func (s *session) restart(n int) error {
	if s.o.Plan.Target.Service != nil {
		return s.restartService(n)
	}
	lostCycle, lost := s.stopProgram(true)
	if err := s.ctx.Err(); err != nil {
		return err
	}
	cmd := remote.Command{
		Path:    s.o.Name,
		Args:    s.o.Args,
		Env:     s.env.take(s.o.Plan.RunEnvStrings()),
		Stop:    s.stopPolicy(),
		PIDFile: "." + s.o.Name + ".watch-pid",
	}
	if lost {
		// A program whose run was lost (the link dropped under it, or an
		// earlier watch was killed) may still hold its ports and files.
		found, err := remote.StopLeftover(s.ctx, s.dev, cmd.PIDFile, cmd.Stop)
		switch {
		case err != nil:
			s.emit(Warning{Time: time.Now(), Err: err})
		case found:
			s.emit(Stopping{Cycle: lostCycle, Time: time.Now(), Signal: s.o.StopSignal, KillDelay: s.o.KillDelay, Leftover: true})
		}
	}
	s.startProgram(n, cmd, "", func(ctx context.Context, emit func(remote.Event)) (remote.ExitStatus, error) {
		return s.dev.Run(ctx, cmd, emit)
	})
	return nil
}

// startProgram runs run in the background as cycle n's program (or, with
// service, the journal of the unit that runs it).
func (s *session) startProgram(n int, cmd remote.Command, service string, run func(context.Context, func(remote.Event)) (remote.ExitStatus, error)) {
	// Only the session's end or the next restart stop it, never a newer
	// save as such.
	ctx, cancel := context.WithCancel(s.ctx)
	p := &program{cycle: n, env: cmd.Env, cancel: cancel, done: make(chan struct{})}
	s.prog = p
	s.emit(Started{Cycle: n, Time: time.Now(), Command: cmd, Service: service})
	go func() {
		defer close(p.done)
		defer cancel()
		st, err := run(ctx, func(ev remote.Event) { s.emit(Program{Cycle: n, Event: ev}) })
		stopped := ctx.Err() != nil
		if stopped && plainCancel(err) {
			err = nil
		}
		p.lost = err != nil
		s.emit(Exited{Cycle: n, Time: time.Now(), Status: st, Stopped: stopped, Err: err})
	}()
}

// plainCancel reports whether err says only that the run was cancelled,
// as asked: not that stopping the program failed.
func plainCancel(err error) bool {
	var op *remote.OpError
	if errors.As(err, &op) && op.Step == "stop" {
		return false
	}
	return err == nil || errors.Is(err, context.Canceled)
}

// stopProgram stops the current program and waits until it has ended;
// announce says so first with a Stopping event (not at the session's
// end, where the stop is implied). It reports whether a program may have
// been left running on the device: its run was lost, or this session has
// not run one yet (an earlier session may have), with the lost cycle.
func (s *session) stopProgram(announce bool) (cycle int, lost bool) {
	p := s.prog
	if p == nil {
		return 0, true
	}
	if p.running() && announce {
		s.emit(Stopping{Cycle: p.cycle, Time: time.Now(), Signal: s.o.StopSignal, KillDelay: s.o.KillDelay})
	}
	p.cancel()
	<-p.done
	s.prog = nil
	return p.cycle, p.lost
}
