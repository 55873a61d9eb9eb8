package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"armbench/bench"
	"armbench/build"
	"armbench/pgo"
	"armbench/remote"
)

// pgoStepJSON is a step of `armbench pgo --json`; the comparison's own
// events follow in the form `armbench bench --json` prints them.
type pgoStepJSON struct {
	Type   string    `json:"type"` // pgo_step | line
	Time   time.Time `json:"time"`
	Name   string    `json:"name,omitempty"`
	Done   bool      `json:"done,omitempty"`
	Detail string    `json:"detail,omitempty"`
	Error  string    `json:"error,omitempty"`
	Stream string    `json:"stream,omitempty"`
	Text   string    `json:"text,omitempty"`
}

// cmdPgo collects a CPU profile on the device, installs it as the
// package's default.pgo and compares the profile without and with it.
func cmdPgo(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("pgo")
	target := fs.String("target", "", "target name from targets.toml")
	profile := fs.String("profile", "speed", "the profile to optimise (its PGO is set to the new default.pgo)")
	benchRE := fs.String("bench", ".", "Go benchmarks that run while the profile is taken, and that are compared")
	profileTime := fs.String("profile-benchtime", "1s", "-test.benchtime per benchmark while profiling")
	benchtime := fs.String("benchtime", "", "-test.benchtime per comparison round; default the go test default")
	count := fs.Int("count", bench.DefaultCount, "comparison rounds per profile that count")
	merge := fs.Bool("merge", false, "merge into the package's existing default.pgo (kept as default.pgo.prev)")
	runsDir := fs.String("runs", bench.DefaultRunsDir, "where the comparison run is stored")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("pgo: unexpected argument %q", fs.Arg(0))
	}
	if *count < 1 {
		return usagef("pgo: --count %d: need at least 1 (6 or more for confidence intervals)", *count)
	}
	w, err := c.load()
	if err != nil {
		return err
	}
	t, err := w.target(*target)
	if err != nil {
		return err
	}
	p, err := w.oneProfile("pgo", *profile)
	if err != nil {
		return err
	}
	dev, err := remote.Open(ctx, t, c.remoteOptions())
	if err != nil {
		return withHint(err)
	}
	defer dev.Close()
	spec := pgo.Spec{
		Target: t, Profile: p, Pkg: w.pkg, Dir: c.dir,
		Bench: *benchRE, Benchtime: *profileTime, Merge: *merge,
		Compare: bench.Spec{Benchtime: *benchtime, Count: *count, Warmup: bench.DefaultWarmup, RunsDir: *runsDir, History: c.history()},
	}
	res, err := pgo.Run(ctx, spec, dev, c.pgoEmit())
	if errors.Is(err, pgo.ErrExists) {
		return usagef("%v", err)
	}
	if err != nil {
		return err
	}
	if !c.json {
		how := "written to"
		if res.Merged {
			how = "merged into"
		}
		fmt.Fprintf(c.stdout, "profile from %s (%d bytes) %s %s\n", t.Name, res.Bytes, how, res.ProfilePath)
	}
	tab, err := bench.Compare(res.Run)
	if err != nil {
		return err
	}
	return c.printTable(tab, res.Run)
}

// pgoEmit prints the steps and the profiled benchmark's output, and hands
// the comparison's events to bench's printer.
func (c *cli) pgoEmit() func(pgo.Event) {
	benchEmit := c.benchEmit()
	return func(ev pgo.Event) {
		switch ev := ev.(type) {
		case pgo.Step:
			c.pgoStep(ev)
		case pgo.Output:
			if c.json {
				c.printJSON(pgoStepJSON{Type: "line", Time: ev.Event.Time, Stream: stream(ev.Event.Stderr), Text: ev.Event.Text})
			} else {
				fmt.Fprintln(c.stderr, ev.Event.Text)
			}
		case pgo.Building:
			if s, ok := ev.Event.(build.Started); ok && !c.json {
				fmt.Fprintf(c.stderr, "$ %s\n", s.Command)
			}
		case pgo.Benching:
			benchEmit(ev.Event)
		}
	}
}

func (c *cli) pgoStep(s pgo.Step) {
	if c.json {
		c.printJSON(pgoStepJSON{Type: "pgo_step", Time: s.Time, Name: s.Name, Done: s.Done, Detail: s.Detail, Error: errString(s.Err)})
		return
	}
	switch {
	case !s.Done && s.Name == "collect":
		fmt.Fprintf(c.stderr, "armbench: profiling on the device: %s\n", s.Detail)
	case !s.Done && s.Name == "compare":
		fmt.Fprintln(c.stderr, "armbench: comparing without and with the profile")
	case s.Done && s.Err != nil:
		fmt.Fprintf(c.stderr, "armbench: %s failed: %v\n", s.Name, s.Err)
	}
}
