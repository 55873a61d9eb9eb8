package cli

import (
	"context"
	"fmt"
	"net"
	"time"

	"armbench/bench"
	"armbench/metrics"
	"armbench/profiles"
	"armbench/remote"
)

// runObserved runs the deployed program under the probe and serves what
// the probe samples at addr while it runs: `armbench run --metrics`.
// The program's output is printed as a plain run prints it.
func (c *cli) runObserved(ctx context.Context, dev remote.Device, plan profiles.Plan, args []string, addr string) (remote.ExitStatus, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return remote.ExitStatus{}, usagef("run: --metrics %q: want HOST:PORT or :PORT (%v)", addr, err)
	}
	exp := metrics.New(plan.Target.Name)
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	at, served, err := exp.Serve(sctx, addr)
	if err != nil {
		return remote.ExitStatus{}, err
	}
	url := "http://" + at.String() + "/metrics"
	if c.json {
		c.printJSON(map[string]string{"type": "metrics", "url": url})
	} else {
		fmt.Fprintf(c.stderr, "armbench: metrics of %s on %s while it runs\n", plan.Target.Name, url)
	}
	out := c.remoteEmit()
	start := time.Now()
	rs, err := bench.Observe(ctx, dev, plan, "", args, bench.DefaultInterval, func(ev bench.Event) {
		exp.Observe(ev)
		if l, ok := ev.(bench.Line); ok {
			out(remote.Output{Time: start.Add(l.T), Stderr: l.Stderr, Text: l.Text})
		}
	})
	stop()
	if serr := <-served; serr != nil && err == nil {
		err = fmt.Errorf("metrics: %w", serr)
	}
	return remote.ExitStatus{Code: rs.ExitCode, Signal: rs.Signal, Duration: rs.Wall}, err
}
