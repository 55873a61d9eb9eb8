package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"

	"armbench/build"
	"armbench/profiles"
)

func cmdTargets(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("targets")
	if err := parse(fs, args); err != nil {
		return err
	}
	w, err := c.load()
	if err != nil {
		return err
	}
	if c.json {
		out := struct {
			Config  string       `json:"config"`
			Targets []jsonTarget `json:"targets"`
			Groups  []jsonGroup  `json:"groups"`
		}{Config: w.cfg.Path, Groups: []jsonGroup{}}
		for _, t := range w.cfg.Targets {
			out.Targets = append(out.Targets, newJSONTarget(t))
		}
		for _, g := range w.cfg.Groups {
			out.Groups = append(out.Groups, jsonGroup{g.Name, g.Description, g.Targets, g.Pos.String()})
		}
		c.printJSON(out)
		return nil
	}
	fmt.Fprintf(c.stdout, "# %s\n", w.cfg.Path)
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tARCH\tHOST\tDESCRIPTION")
	for _, t := range w.cfg.Targets {
		host := t.Host
		if !t.IsLocal() {
			if t.User != "" {
				host = t.User + "@" + host
			}
			if t.Port != 0 && t.Port != 22 {
				host = fmt.Sprintf("%s:%d", host, t.Port)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Arch(), host, t.Description)
	}
	if err := tw.Flush(); err != nil || len(w.cfg.Groups) == 0 {
		return err
	}
	fmt.Fprintln(c.stdout)
	tw = tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "GROUP\tTARGETS\tDESCRIPTION")
	for _, g := range w.cfg.Groups {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", g.Name, strings.Join(g.Targets, ","), g.Description)
	}
	return tw.Flush()
}

// jsonGroup is a group in `armbench targets --json`.
type jsonGroup struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Targets     []string `json:"targets"`
	Defined     string   `json:"defined"`
}

func cmdProfiles(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("profiles")
	if err := parse(fs, args); err != nil {
		return err
	}
	w, err := c.load()
	if err != nil {
		return err
	}
	if c.json {
		c.printJSON(w.profiles)
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tEXTENDS\tDESCRIPTION")
	for _, p := range w.profiles {
		ext := p.Extends
		if ext == "" {
			ext = "-"
		}
		name := p.Name
		if !p.Builtin {
			name += " (user)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", name, ext, p.Description)
	}
	return tw.Flush()
}

// planFlags are the flags of plan and build.
type planFlags struct {
	target, profile string
	test            bool
	parallel        int
}

func (c *cli) planFlagSet(name string, pf *planFlags) func([]string) error {
	fs := c.flags(name)
	fs.StringVar(&pf.target, "target", "", "target name from targets.toml, or comma-separated targets")
	fs.StringVar(&pf.profile, "profile", "default", "profile or comma-separated profiles")
	fs.BoolVar(&pf.test, "test", false, "build the package's test binary (go test -c), as benchmarks need")
	fs.IntVar(&pf.parallel, "parallel", 0, "builds at once (default: up to 2, sharing the Go build cache)")
	return func(args []string) error {
		if err := parse(fs, args); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return usagef("%s: unexpected argument %q", name, fs.Arg(0))
		}
		return nil
	}
}

// parsePlans parses the flags of plan and build and resolves the matrix of
// targets × profiles they name.
func (c *cli) parsePlans(name string, pf *planFlags, args []string) ([]profiles.Plan, error) {
	if err := c.planFlagSet(name, pf)(args); err != nil {
		return nil, err
	}
	w, err := c.load()
	if err != nil {
		return nil, err
	}
	return c.matrixPlans(w, pf.target, pf.profile, pf.mode())
}

func (pf planFlags) mode() profiles.Mode {
	if pf.test {
		return profiles.ModeTest
	}
	return profiles.ModeBinary
}

func cmdPlan(ctx context.Context, c *cli, args []string) error {
	var pf planFlags
	plans, err := c.parsePlans("plan", &pf, args)
	if err != nil {
		return err
	}
	if note := profiles.ShellNote(); note != "" && !c.json {
		fmt.Fprintf(c.stdout, "# %s\n\n", note)
	}
	for _, p := range plans {
		if c.json {
			c.printJSON(jsonPlan(p))
			continue
		}
		fmt.Fprintf(c.stdout, "# %s / %s: %s\n", p.Target.Name, p.Profile.Name, p.Profile.Description)
		fmt.Fprintln(c.stdout, p.Shell())
		if run := p.RunEnvStrings(); len(run) > 0 {
			fmt.Fprintf(c.stdout, "# on the device: %s\n", strings.Join(run, " "))
		}
		fmt.Fprintln(c.stdout)
	}
	return nil
}

type planJSON struct {
	Target   string            `json:"target"`
	Profile  string            `json:"profile"`
	Command  string            `json:"command"`
	Env      []string          `json:"env"`
	Args     []string          `json:"args"`
	Output   string            `json:"output"`
	Log      string            `json:"log"`
	RunEnv   []string          `json:"run_env"`
	Expected map[string]string `json:"expected_buildinfo"`
}

func jsonPlan(p profiles.Plan) planJSON {
	env := make([]string, len(p.BuildEnv))
	for i, e := range p.BuildEnv {
		env[i] = e.String()
	}
	return planJSON{p.Target.Name, p.Profile.Name, p.Shell(), env, p.Args, p.Output, p.LogPath, p.RunEnvStrings(), p.Expect}
}

// buildEventJSON is one line of `armbench build --json`.
type buildEventJSON struct {
	Type    string    `json:"type"` // started | line | result
	Target  string    `json:"target"`
	Profile string    `json:"profile"`
	Time    time.Time `json:"time"`
	Command string    `json:"command,omitempty"`
	Stream  string    `json:"stream,omitempty"`
	Text    string    `json:"text,omitempty"`
	*resultJSON
}

type resultJSON struct {
	OK         bool              `json:"ok"`
	Output     string            `json:"output,omitempty"`
	Log        string            `json:"log"`
	DurationMS int64             `json:"duration_ms"`
	ExitCode   int               `json:"exit_code"`
	UpToDate   bool              `json:"up_to_date,omitempty"` // no input changed: the go command was not run
	Error      string            `json:"error,omitempty"`
	Size       int64             `json:"size,omitempty"`
	SHA256     string            `json:"sha256,omitempty"`
	Machine    string            `json:"elf_machine,omitempty"`
	Static     bool              `json:"static,omitempty"`
	Stripped   bool              `json:"stripped,omitempty"`
	Settings   map[string]string `json:"buildinfo,omitempty"`
	Checks     []build.Check     `json:"checks,omitempty"`
}

func toResultJSON(r build.Result) *resultJSON {
	j := &resultJSON{OK: r.Err == nil && r.Artifact != nil, Log: r.LogPath, DurationMS: r.Duration.Milliseconds(), ExitCode: r.ExitCode, UpToDate: r.UpToDate, Error: errString(r.Err)}
	if a := r.Artifact; a != nil {
		j.Output, j.Size, j.SHA256, j.Machine, j.Static, j.Stripped, j.Settings, j.Checks = a.Path, a.Size, a.SHA256, a.Machine, a.Static, a.Stripped, a.Settings, a.Checks
	}
	return j
}

func cmdBuild(ctx context.Context, c *cli, args []string) error {
	var pf planFlags
	plans, err := c.parsePlans("build", &pf, args)
	if err != nil {
		return err
	}
	results := c.buildPlans(ctx, plans, pf.parallel)
	return c.reportBuilds(results)
}

// buildPlans builds every plan, printing events live (prefixed by profile
// when several build at once), and returns the results in plan order.
func (c *cli) buildPlans(ctx context.Context, plans []profiles.Plan, parallel int) []build.Result {
	many := len(plans) > 1
	// RunAll never calls emit concurrently, so lines of parallel builds
	// cannot interleave mid-line here.
	emit := func(i int, ev build.Event) {
		p := plans[i]
		if c.json {
			j := buildEventJSON{Target: p.Target.Name, Profile: p.Profile.Name}
			switch ev := ev.(type) {
			case build.Started:
				j.Type, j.Time, j.Command = "started", ev.Time, ev.Command
			case build.Line:
				j.Type, j.Time, j.Text, j.Stream = "line", ev.Time, ev.Text, "stdout"
				if ev.Stderr {
					j.Stream = "stderr"
				}
			default:
				return // the result is printed once all builds are done
			}
			c.printJSON(j)
			return
		}
		prefix := ""
		if many {
			prefix = "[" + p.Target.Name + "/" + p.Profile.Name + "] "
		}
		switch ev := ev.(type) {
		case build.Started:
			fmt.Fprintf(c.stderr, "%s$ %s\n", prefix, ev.Command)
		case build.Line:
			fmt.Fprintf(c.stderr, "%s%s\n", prefix, ev.Text)
		}
	}
	return build.RunAll(ctx, plans, parallel, emit)
}

func (c *cli) reportBuilds(results []build.Result) error {
	failed := 0
	for _, r := range results {
		if r.Err != nil || r.Artifact == nil {
			failed++
		}
	}
	if c.json {
		for _, r := range results {
			c.printJSON(buildEventJSON{Type: "result", Target: r.Target, Profile: r.Profile, Time: r.Start.Add(r.Duration), resultJSON: toResultJSON(r)})
		}
	} else {
		tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TARGET\tPROFILE\tRESULT\tTIME\tSIZE\tSHA256\tLINKING\tCHECKS\tOUTPUT")
		for _, r := range results {
			if r.Err != nil || r.Artifact == nil {
				fmt.Fprintf(tw, "%s\t%s\tFAILED\t%s\t\t\t\t\t%s\n", r.Target, r.Profile, r.Duration.Round(time.Millisecond), r.LogPath)
				continue
			}
			a := r.Artifact
			link := "dynamic"
			if a.Static {
				link = "static"
			}
			if a.Stripped {
				link += ", stripped"
			}
			passed := 0
			for _, ch := range a.Checks {
				if ch.OK {
					passed++
				}
			}
			fmt.Fprintf(tw, "%s\t%s\tok\t%s\t%s\t%s\t%s\t%d/%d\t%s\n", r.Target, r.Profile, r.Duration.Round(time.Millisecond), humanize.IBytes(uint64(a.Size)), a.SHA256[:12], link, passed, len(a.Checks), a.Path)
		}
		tw.Flush()
		for _, r := range results {
			if r.Err != nil {
				fmt.Fprintf(c.stderr, "%s/%s: %v\n", r.Target, r.Profile, r.Err)
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d builds failed", failed, len(results))
	}
	return nil
}
