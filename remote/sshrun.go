package remote

import (
	"context"
	"errors"

	"armbench/remote/event"
	"armbench/remote/run"
)

func (d *sshDevice) Run(ctx context.Context, cmd Command, emit func(Event)) (ExitStatus, error) {
	emit, closeEmit := event.Gated(emit)
	defer closeEmit()
	fail := func(step string, err error) error { return d.ep.OpErr("run", step, err) }
	if cmd.Path == "" {
		return ExitStatus{Code: -1}, fail("", errors.New("no program to run"))
	}
	if _, _, _, err := cmd.Stop.Resolve(); err != nil {
		return ExitStatus{Code: -1}, fail("", err)
	}
	c, err := d.getEmit(ctx, emit)
	if err != nil {
		return ExitStatus{Code: -1}, err
	}
	return run.SSH(ctx, c.Conn, c.dir, d.t.Runner, cmd, emit, fail)
}

// StopLeftover stops the program a Run of a Command with this PIDFile
// lost track of (the SSH link dropped under it, or armbench was killed),
// as p says, and reports whether there was one (see run.StopLeftover).
func StopLeftover(ctx context.Context, dev Device, pidFile string, p StopPolicy) (bool, error) {
	return run.StopLeftover(ctx, dev, pidFile, p)
}

// SignalNumber is the Linux number of ExitStatus.Signal ("TERM" or
// "SIGTERM", or a number), 0 if unknown: a front end exits 128+n as a
// shell does for a killed child.
func SignalNumber(name string) int { return run.SignalNumber(name) }
