package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"armbench/bench"
	"armbench/build"
	"armbench/profiles"
	"armbench/remote"
)

// benchEventJSON is one line of `armbench bench --json` before the result.
type benchEventJSON struct {
	Type    string    `json:"type"` // phase | build | deploy | round_started | line | sched | proc | round_done
	Time    time.Time `json:"time"`
	Profile string    `json:"profile,omitempty"`
	Round   *int      `json:"round,omitempty"`
	Warmup  bool      `json:"warmup,omitempty"`
	Name    string    `json:"name,omitempty"` // phase
	Done    bool      `json:"done,omitempty"`
	Error   string    `json:"error,omitempty"`
	Stream  string    `json:"stream,omitempty"`
	Text    string    `json:"text,omitempty"`
	T       int64     `json:"t_ns,omitempty"` // device clock, since the workload started
	Command string    `json:"command,omitempty"`

	Sched *bench.SchedSample `json:"sched,omitempty"`
	Proc  *bench.ProcSample  `json:"proc,omitempty"`
	Stats *bench.RoundStats  `json:"stats,omitempty"`
}

// benchResultJSON is the last line of `armbench bench --json` and the only
// line of `armbench compare --json`.
type benchResultJSON struct {
	Type  string       `json:"type"` // result
	Runs  []runRefJSON `json:"runs"`
	Table *bench.Table `json:"table"`
}

type runRefJSON struct {
	ID     string            `json:"id"`
	Dir    string            `json:"dir,omitempty"`
	Target string            `json:"target"`
	Device *bench.DeviceInfo `json:"device,omitempty"`
}

func cmdBench(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("bench")
	target := fs.String("target", "", "target or group from targets.toml; several, comma-separated, are benched at once into one comparison (the first the base)")
	profileList := fs.String("profile", "default", "comma-separated profiles; the first is the baseline")
	count := fs.Int("count", bench.DefaultCount, "rounds per profile that count (benchmath needs ≥ 6 for a confidence interval)")
	warmup := fs.Int("warmup", bench.DefaultWarmup, "rounds run first and discarded")
	benchRE := fs.String("bench", ".", "Go benchmarks to run (-test.bench regexp)")
	benchtime := fs.String("benchtime", "", "-test.benchtime per round (e.g. 100ms, 50x); default the go test default")
	command := fs.Bool("command", false, "time the program itself (args after --) instead of its Go benchmarks")
	interval := fs.Duration("interval", bench.DefaultInterval, "probe sampling interval on the device")
	runsDir := fs.String("runs", bench.DefaultRunsDir, "where runs are stored")
	noStore := fs.Bool("no-store", false, "do not store the run")
	if err := parse(fs, args); err != nil {
		return err
	}
	var progArgs []string
	if fs.NArg() > 0 {
		if !*command {
			return usagef("bench: unexpected argument %q (program arguments need --command and come after --)", fs.Arg(0))
		}
		progArgs = fs.Args()
	}
	switch {
	case *count < 1:
		return usagef("bench: --count %d: need at least 1 (6 or more for confidence intervals)", *count)
	case *warmup < 0:
		return usagef("bench: --warmup %d must not be negative", *warmup)
	case *interval < 10*time.Millisecond:
		return usagef("bench: --interval %v is too short: the probe samples at most every 10ms; use 10ms or more", *interval)
	}
	w, err := c.load()
	if err != nil {
		return err
	}
	mode := profiles.ModeTest
	if *command {
		mode = profiles.ModeBinary
	}
	if *count < bench.DefaultCount && !c.json {
		fmt.Fprintf(c.stderr, "armbench: --count %d < %d: benchmath cannot give a 95%% confidence interval with fewer samples\n", *count, bench.DefaultCount)
	}
	// Several boards (a list, a group): benched at once, one comparison.
	ts, boards, err := w.resolveTargets(*target, true)
	if err != nil {
		return err
	}
	var specs []bench.Spec
	for _, t := range ts {
		plans, err := c.plans(w, t.Name, *profileList, mode)
		if err != nil {
			return err
		}
		spec := bench.NewSpec(t, plans)
		spec.Bench, spec.Benchtime, spec.Args = *benchRE, *benchtime, progArgs
		spec.Count, spec.Warmup, spec.Interval = *count, *warmup, *interval
		spec.RunsDir, spec.NoStore = *runsDir, *noStore
		spec.History = c.history()
		specs = append(specs, spec)
	}
	if !boards {
		return c.benchOne(ctx, specs[0])
	}
	return c.benchBoards(ctx, specs)
}

// benchOne runs spec on its target and prints the comparison.
func (c *cli) benchOne(ctx context.Context, spec bench.Spec) error {
	dev, err := remote.Open(ctx, spec.Target, c.remoteOptions())
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer dev.Close()
	run, err := bench.Execute(ctx, spec, dev, c.benchEmit())
	if err != nil {
		return err
	}
	tab, err := bench.Compare(run)
	if err != nil {
		return err
	}
	return c.printTable(tab, run)
}

// benchBoards benches specs on their boards at once, each over its own
// connection, and prints one comparison with a column per board and
// profile. Progress lines say their board ("NAME: " in text, a "device"
// key in JSON). When some boards fail, the others are still compared,
// and the command fails naming the boards that did.
func (c *cli) benchBoards(ctx context.Context, specs []bench.Spec) error {
	devs := make([]remote.Device, len(specs))
	defer func() {
		for _, d := range devs {
			if d != nil {
				d.Close()
			}
		}
	}()
	for i, s := range specs {
		dev, err := remote.Open(ctx, s.Target, c.remoteOptions())
		if err != nil {
			return fmt.Errorf("bench on %s: %w", s.Target.Name, err)
		}
		devs[i] = dev
	}
	emits := make([]func(bench.Event), len(specs))
	var prefixed []*linePrefixer
	for i, s := range specs {
		dc := *c
		if c.json {
			dc.stdout = c.devicePrefix(c.stdout, s.Target.Name)
			prefixed = append(prefixed, dc.stdout.(*linePrefixer))
			emits[i] = dc.benchJSON()
		} else {
			dc.stderr = c.devicePrefix(c.stderr, s.Target.Name)
			prefixed = append(prefixed, dc.stderr.(*linePrefixer))
			emits[i] = dc.benchProgress()
		}
	}
	runs, err := bench.ExecuteBoards(ctx, specs, devs, func(ev bench.Event) {
		if b, ok := ev.(bench.BoardEvent); ok {
			emits[b.Board](b.Event)
		}
	})
	for _, p := range prefixed {
		p.flush()
	}
	var done []*bench.Run
	for _, r := range runs {
		if r != nil {
			done = append(done, r)
		}
	}
	if len(done) == 0 {
		return err
	}
	tab, cerr := bench.Compare(done...)
	if cerr != nil {
		return errors.Join(err, cerr)
	}
	if perr := c.printTable(tab, done...); perr != nil {
		return errors.Join(err, perr)
	}
	if !c.json && len(done) > 1 && done[0].Dir != "" {
		ids := make([]string, len(done))
		for i, r := range done {
			ids[i] = r.ID
		}
		fmt.Fprintf(c.stdout, "\ncompare again: armbench compare %s\n", strings.Join(ids, " "))
	}
	return err
}

func cmdCompare(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("compare")
	runsDir := fs.String("runs", bench.DefaultRunsDir, "where runs are stored")
	list := fs.Bool("list", false, "list the stored runs")
	format := fs.String("format", "text", "output format: "+strings.Join(bench.Formats, "|")+" (md for READMEs, csv for spreadsheets, svg for slides)")
	outFile := fs.String("out", "", "write the comparison to FILE instead of standard output")
	refs, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if !slices.Contains(bench.Formats, *format) {
		return usagef("compare: --format %q: want one of %s", *format, strings.Join(bench.Formats, ", "))
	}
	if *list {
		ids, err := bench.ListRuns(*runsDir)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if c.json {
				c.printJSON(map[string]string{"id": id})
			} else {
				fmt.Fprintln(c.stdout, id)
			}
		}
		return nil
	}
	if len(refs) == 0 {
		ids, _ := bench.ListRuns(*runsDir)
		hint := ""
		if len(ids) > 0 {
			hint = fmt.Sprintf(" (latest: %s)", ids[len(ids)-1])
		}
		return usagef("compare: name one or more runs: a folder or an ID in %s%s", *runsDir, hint)
	}
	var runs []*bench.Run
	for _, ref := range refs {
		r, err := bench.LoadRun(*runsDir, ref)
		if err != nil {
			return usagef("compare: %v", err)
		}
		runs = append(runs, r)
	}
	tab, err := bench.Compare(runs...)
	if err != nil {
		return err
	}
	if *format == "text" && *outFile == "" {
		return c.printTable(tab, runs...)
	}
	return c.exportTable(tab, *format, *outFile, runs)
}

// exportTable writes the comparison in format to path (stdout when ""),
// headed by the target and the runs it compares.
func (c *cli) exportTable(tab *bench.Table, format, path string, runs []*bench.Run) error {
	var ids []string
	for _, r := range runs {
		ids = append(ids, r.ID)
	}
	title := strings.Join(boardNames(runs), ", ") + " · " + strings.Join(tab.Columns, " vs ") + " · run " + strings.Join(ids, ", ")
	if path == "" {
		return tab.Write(c.stdout, format, title)
	}
	var buf bytes.Buffer
	if err := tab.Write(&buf, format, title); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	if c.json {
		c.printJSON(map[string]string{"type": "export", "format": format, "path": path})
	} else {
		fmt.Fprintf(c.stdout, "wrote %s (%s)\n", path, format)
	}
	return nil
}

func (c *cli) printTable(tab *bench.Table, runs ...*bench.Run) error {
	if c.json {
		res := benchResultJSON{Type: "result", Table: tab}
		for _, r := range runs {
			dev := r.Device
			res.Runs = append(res.Runs, runRefJSON{ID: r.ID, Dir: r.Dir, Target: r.Target.Name, Device: &dev})
		}
		c.printJSON(res)
		return nil
	}
	for _, r := range runs {
		d := r.Device
		fmt.Fprintf(c.stdout, "run %s: %s (%s, %d cores, %s", r.ID, r.Target.Name, firstNonEmpty(d.Model, d.Machine), d.Cores, bench.FormatBytes(float64(d.MemTotal)))
		if d.Governor != "" {
			fmt.Fprintf(c.stdout, ", governor %s", d.Governor)
		}
		fmt.Fprintf(c.stdout, "), %s, count %d", r.Kind, r.Count)
		if r.Dir != "" {
			fmt.Fprintf(c.stdout, "\n  stored in %s (benchstat %s", r.Dir, bench.BenchstatFlags)
			for _, p := range r.Profiles {
				fmt.Fprintf(c.stdout, " %s", p.BenchFile)
			}
			fmt.Fprint(c.stdout, ")")
		}
		fmt.Fprintln(c.stdout)
	}
	fmt.Fprintln(c.stdout)
	return tab.WriteText(c.stdout)
}

// boardNames are the runs' targets, each once, in order.
func boardNames(runs []*bench.Run) []string {
	var names []string
	for _, r := range runs {
		if !slices.Contains(names, r.Target.Name) {
			names = append(names, r.Target.Name)
		}
	}
	return names
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// benchEmit prints bench events as `armbench bench` does: JSON lines
// with --json, else the progress log.
func (c *cli) benchEmit() func(bench.Event) {
	if c.json {
		return c.benchJSON()
	}
	return c.benchProgress()
}

// benchProgress prints a human-readable progress log on stderr: phases,
// build failures, one line per round.
func (c *cli) benchProgress() func(bench.Event) {
	return func(ev bench.Event) {
		switch ev := ev.(type) {
		case bench.Phase:
			switch {
			case ev.Err != nil:
				fmt.Fprintf(c.stderr, "%s: failed\n", ev.Name)
			case !ev.Done:
				fmt.Fprintf(c.stderr, "%s…\n", ev.Name)
			}
		case bench.Building:
			if f, ok := ev.Event.(build.Finished); ok {
				r := f.Result
				if r.Err != nil {
					fmt.Fprintf(c.stderr, "  build %s: %v (log: %s)\n", ev.Profile, r.Err, r.LogPath)
				} else if r.Artifact != nil {
					fmt.Fprintf(c.stderr, "  built %-14s %s in %v\n", ev.Profile, bench.FormatBytes(float64(r.Artifact.Size)), r.Duration.Round(time.Millisecond))
				}
			}
		case bench.Deploying:
			if s, ok := ev.Event.(remote.Step); ok && s.Err != nil {
				fmt.Fprintf(c.stderr, "  deploy %s: %s: %v\n", ev.Profile, s.Name, s.Err)
			}
		case bench.RunDone:
			kind := "round"
			if ev.Stats.Warmup {
				kind = "warmup"
			}
			if ev.Err != nil {
				fmt.Fprintf(c.stderr, "  %s %d %-14s failed\n", kind, ev.Round, ev.Profile)
				return
			}
			s := ev.Stats
			line := fmt.Sprintf("  %s %d %-14s %7.2fs  cpu %4.0f%%  rss %s  runq %.2f  threads %.1f",
				kind, ev.Round, ev.Profile, s.Wall.Seconds(), s.MeanCPU, bench.FormatBytes(float64(s.PeakRSS)), s.MeanRunQueue, s.MeanThreads)
			if s.Flag != "" {
				line += "  ⚠ " + s.Flag
			}
			fmt.Fprintln(c.stderr, line)
		case bench.Line:
			// A workload's own complaints are worth seeing live.
			if ev.Stderr && ev.Text != "" {
				fmt.Fprintf(c.stderr, "  %s| %s\n", ev.Profile, ev.Text)
			}
		}
	}
}

// benchJSON prints every event as one JSON line on stdout.
func (c *cli) benchJSON() func(bench.Event) {
	return func(ev bench.Event) {
		j := benchEventJSON{Time: time.Now()}
		round := func(r int) *int { return &r }
		switch ev := ev.(type) {
		case bench.Phase:
			j.Type, j.Name, j.Done, j.Error, j.Time = "phase", ev.Name, ev.Done, errString(ev.Err), ev.Time
		case bench.Building:
			j.Type, j.Profile = "build", ev.Profile
			switch b := ev.Event.(type) {
			case build.Started:
				j.Command = b.Command
			case build.Line:
				j.Text, j.Stream = b.Text, stream(b.Stderr)
			case build.Finished:
				j.Done, j.Error = true, errString(b.Result.Err)
			}
		case bench.Deploying:
			s, ok := ev.Event.(remote.Step)
			if !ok {
				return // progress is too chatty for a log
			}
			j.Type, j.Profile, j.Name, j.Done, j.Error = "deploy", ev.Profile, s.Name, s.Done, errString(s.Err)
		case bench.RunStarted:
			j.Type, j.Profile, j.Round, j.Warmup, j.Command = "round_started", ev.Profile, round(ev.Round), ev.Warmup, ev.Command
		case bench.Line:
			j.Type, j.Profile, j.Round, j.Stream, j.Text, j.T = "line", ev.Profile, round(ev.Round), stream(ev.Stderr), ev.Text, int64(ev.T)
		case bench.Sched:
			s := ev.Sample
			j.Type, j.Profile, j.Round, j.Warmup, j.T, j.Sched = "sched", ev.Profile, round(ev.Round), ev.Warmup, int64(ev.T), &s
		case bench.Proc:
			p := ev.Sample
			j.Type, j.Profile, j.Round, j.Warmup, j.T, j.Proc = "proc", ev.Profile, round(ev.Round), ev.Warmup, int64(ev.T), &p
		case bench.RunDone:
			s := ev.Stats
			j.Type, j.Profile, j.Round, j.Warmup, j.Stats, j.Error = "round_done", ev.Profile, round(ev.Round), s.Warmup, &s, errString(ev.Err)
		default:
			return
		}
		c.printJSON(j)
	}
}

func stream(stderr bool) string {
	if stderr {
		return "stderr"
	}
	return "stdout"
}
