package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"armbench/bench"
	"armbench/profiles"
	"armbench/remote"
	"armbench/sweep"
	"armbench/targets"
)

// sweepFormats are the outputs of `armbench sweep --format`.
var sweepFormats = []string{"text", "json", "svg"}

// sweepPlannedJSON is the first line of `armbench sweep --json`; the
// bench session's events follow as `armbench bench --json` prints them.
type sweepPlannedJSON struct {
	Type     string          `json:"type"` // sweep_planned
	Time     time.Time       `json:"time"`
	Knobs    []sweep.Knob    `json:"knobs"`
	Variants []sweep.Variant `json:"variants"`
	Base     int             `json:"base"`
	Notes    []string        `json:"notes,omitempty"`
}

// sweepResultJSON is the last line of `armbench sweep --json`, and what
// --format json prints.
type sweepResultJSON struct {
	Type  string        `json:"type"` // result
	Sweep *sweep.Result `json:"sweep"`
	Saved *savedJSON    `json:"saved,omitempty"`
}

type savedJSON struct {
	Profile string `json:"profile"`
	Variant string `json:"variant"`
	Goal    string `json:"goal"`
	Path    string `json:"path"`
}

func cmdSweep(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("sweep")
	target := fs.String("target", "", "target name from targets.toml")
	profile := fs.String("profile", "default", "the profile to sweep; its own value of the knob is the base")
	var knobSpecs []string
	fs.Func("knob", "NAME=V1,V2,… to sweep; twice for a grid. NAME: "+strings.Join(sweep.KnobNames, ", "), func(s string) error {
		knobSpecs = append(knobSpecs, s)
		return nil
	})
	count := fs.Int("count", bench.DefaultCount, "rounds per variant that count (benchmath needs ≥ 6 for a confidence interval)")
	warmup := fs.Int("warmup", bench.DefaultWarmup, "rounds run first and discarded")
	benchRE := fs.String("bench", ".", "Go benchmarks to run (-test.bench regexp)")
	benchtime := fs.String("benchtime", "", "-test.benchtime per round (e.g. 100ms, 50x); default the go test default")
	runsDir := fs.String("runs", bench.DefaultRunsDir, "where runs are stored")
	format := fs.String("format", "text", "output: "+strings.Join(sweepFormats, "|")+" (svg: a chart per benchmark, for slides)")
	outFile := fs.String("out", "", "write the table or chart to FILE instead of standard output")
	save := fs.String("save", "", "write the best variant into targets.toml as a profile NAME that extends the swept one")
	goal := fs.String("goal", sweep.GoalTime, "what the best variant is best at: time (geomean time per op) or memory (peak RSS)")
	if err := parse(fs, args); err != nil {
		return err
	}
	// Parsed here rather than by the flag package, so that a bad knob is
	// one clear line, not the line and the whole usage.
	var knobs []sweep.Knob
	for _, s := range knobSpecs {
		k, err := sweep.ParseKnob(s)
		if err != nil {
			return usagef("sweep: %v", err)
		}
		knobs = append(knobs, k)
	}
	switch {
	case fs.NArg() > 0:
		return usagef("sweep: unexpected argument %q", fs.Arg(0))
	case len(knobs) == 0:
		return usagef("sweep: --knob NAME=V1,V2,… is required (knobs: %s)", strings.Join(sweep.KnobNames, ", "))
	case *count < 1:
		return usagef("sweep: --count %d: need at least 1 (6 or more for confidence intervals)", *count)
	case *warmup < 0:
		return usagef("sweep: --warmup %d must not be negative", *warmup)
	case !slices.Contains(sweepFormats, *format):
		return usagef("sweep: --format %q: want one of %s", *format, strings.Join(sweepFormats, ", "))
	case *goal != sweep.GoalTime && *goal != sweep.GoalMemory:
		return usagef("sweep: --goal %q: want %s or %s", *goal, sweep.GoalTime, sweep.GoalMemory)
	}
	w, err := c.load()
	if err != nil {
		return err
	}
	t, err := w.target(*target)
	if err != nil {
		return err
	}
	p, err := w.oneProfile("sweep", *profile)
	if err != nil {
		return err
	}
	// A name that cannot be saved is said now, not after the whole run.
	if *save != "" {
		if err := targets.CheckName(*save); err != nil {
			return usagef("sweep: --save: %v", err)
		}
		if _, ok := profiles.Find(w.profiles, *save); ok {
			return usagef("sweep: --save %s: a profile of that name exists already (see armbench profiles); choose another name", *save)
		}
	}
	bs := bench.NewSpec(t, nil)
	bs.Bench, bs.Benchtime = *benchRE, *benchtime
	bs.Count, bs.Warmup, bs.RunsDir = *count, *warmup, *runsDir
	bs.History = c.history()
	sw, err := sweep.New(sweep.Spec{Target: t, Profile: p, Knobs: knobs, Pkg: w.pkg, Dir: c.dir, Bench: bs})
	if err != nil {
		return usagef("%v", err)
	}
	if _, err := sw.Plans(); err != nil {
		return &configError{err}
	}
	if *count < bench.DefaultCount && !c.json {
		fmt.Fprintf(c.stderr, "armbench: --count %d < %d: benchmath cannot give a 95%% confidence interval with fewer samples\n", *count, bench.DefaultCount)
	}
	dev, err := remote.Open(ctx, t, c.remoteOptions())
	if err != nil {
		return withHint(fmt.Errorf("sweep: %w", err))
	}
	defer dev.Close()
	res, err := sw.Run(ctx, dev, c.sweepEmit())
	if err != nil {
		return err
	}
	if res.RunDir != "" {
		// Beside the run, so the sweep can be read again without rerunning it.
		if data, err := json.MarshalIndent(res, "", "  "); err == nil {
			if err := os.WriteFile(filepath.Join(res.RunDir, "sweep.json"), data, 0o644); err != nil {
				fmt.Fprintf(c.stderr, "armbench: sweep: keep the result beside the run: %v\n", err)
			}
		}
	}
	var saved *savedJSON
	if *save != "" {
		path := c.savePath()
		var seed []byte
		if w.cfg.Path == targets.EmbeddedName {
			seed = c.embedded // a new targets.toml keeps the embedded targets
		}
		check := func(cfg *targets.Config) error { _, err := profiles.Load(cfg); return err }
		i, err := res.Save(path, seed, *save, *goal, check)
		if err != nil {
			return err
		}
		saved = &savedJSON{Profile: *save, Variant: res.Variants[i].Label, Goal: *goal, Path: path}
	}
	if err := c.writeSweep(res, saved, *format, *outFile); err != nil {
		return err
	}
	return nil
}

// savePath is the targets.toml --save writes: the one named on the
// command line, else $ARMBENCH_CONFIG, else ./targets.toml.
func (c *cli) savePath() string {
	if c.configPath != "" {
		return c.configPath
	}
	if env := os.Getenv(targets.EnvConfig); env != "" {
		return env
	}
	return "targets.toml"
}

// writeSweep prints the result in format, to path or standard output,
// and what --save did.
func (c *cli) writeSweep(res *sweep.Result, saved *savedJSON, format, path string) error {
	if c.json {
		// JSON Lines end with the result; --out still gets its file.
		defer c.printJSON(sweepResultJSON{Type: "result", Sweep: res, Saved: saved})
		if path == "" {
			return nil
		}
	}
	var buf bytes.Buffer
	switch format {
	case "svg":
		if err := res.WriteSVG(&buf); err != nil {
			return err
		}
	case "json":
		b, err := json.MarshalIndent(sweepResultJSON{Type: "result", Sweep: res, Saved: saved}, "", "  ")
		if err != nil {
			return fmt.Errorf("sweep: %w", err)
		}
		buf.Write(append(b, '\n'))
	default:
		if err := res.WriteText(&buf); err != nil {
			return err
		}
	}
	// The note on --save goes where it does not spoil the output.
	note := c.stdout
	if format != "text" || path != "" {
		note = c.stderr
	}
	if path == "" {
		c.stdout.Write(buf.Bytes())
	} else {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("sweep: %w", err)
		}
		if !c.json {
			fmt.Fprintf(c.stderr, "wrote %s (%s)\n", path, format)
		}
	}
	if saved != nil && !c.json {
		fmt.Fprintf(note, "saved %s (best by %s) as profile %s in %s; armbench profiles lists it\n", saved.Variant, saved.Goal, saved.Profile, saved.Path)
	}
	return nil
}

// sweepEmit prints the variants, then the bench session's progress as
// `armbench bench` does.
func (c *cli) sweepEmit() func(sweep.Event) {
	benchEmit := c.benchEmit()
	return func(ev sweep.Event) {
		switch ev := ev.(type) {
		case sweep.Planned:
			if c.json {
				c.printJSON(sweepPlannedJSON{Type: "sweep_planned", Time: time.Now(), Knobs: ev.Knobs, Variants: ev.Variants, Base: ev.Base, Notes: ev.Notes})
				return
			}
			fmt.Fprintf(c.stderr, "sweep: %d variants, interleaved\n", len(ev.Variants))
			for i, v := range ev.Variants {
				mark := ""
				if i == ev.Base {
					mark = "  (base)"
				}
				fmt.Fprintf(c.stderr, "  %-14s %s%s\n", v.Name, sweep.Label(ev.Knobs, v.Values), mark)
			}
			for _, n := range ev.Notes {
				fmt.Fprintf(c.stderr, "  note: %s\n", n)
			}
		case sweep.Benching:
			benchEmit(ev.Event)
		}
	}
}
