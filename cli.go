package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"armbench/profiles"
	"armbench/targets"
	"armbench/ui"
)

// Exit codes of every headless command.
const (
	exitOK     = 0
	exitFailed = 1 // the work failed (build error, deploy error, …)
	exitUsage  = 2 // bad flags or a bad configuration
)

// cli carries what every headless command needs: where to write, and the
// flags shared by all commands. It is built once per invocation.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	configPath string
	pkg        string
	json       bool
	dir        string // module root the go command runs in
}

// command is one headless sub-command.
type command struct {
	name    string
	args    string // usage after the name
	summary string
	run     func(ctx context.Context, c *cli, args []string) error
}

func commands() []command {
	return []command{
		{"targets", "", "list the targets of targets.toml", cmdTargets},
		{"profiles", "", "list the optimization profiles", cmdProfiles},
		{"plan", "--target T[,T2…] --profile P[,P2…]", "print the exact build commands", cmdPlan},
		{"build", "--target T[,T2…] --profile P[,P2…] [--test]", "cross-compile, verify the artifacts", cmdBuild},
		{"deploy", "--target T --profile P[,P2…]", "build and install on the device, atomically", cmdDeploy},
		{"trust", "TARGET", "accept a device's host key after showing its fingerprint", cmdTrust},
		{"rollback", "--target T --profile P", "restore the previously deployed binary", cmdRollback},
		{"run", "--target T [--profile P] -- ARGS…", "run the deployed binary with the profile's runtime settings", cmdRun},
		{"watch", "--target T [--profile P] [--debounce D] -- ARGS…", "rebuild, redeploy and restart on every save", cmdWatch},
		{"bench", "--target T --profile A,B [--count 6] [--bench RE]", "benchmark profiles on the device, side by side", cmdBench},
		{"compare", "RUN…", "compare stored runs", cmdCompare},
		{"detect", "[user@]HOST[:PORT] [--add NAME] [--trust]", "detect a device and print (or add) its target", cmdDetect},
	}
}

// usageError is a mistake in how armbench was called: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// configError wraps a bad targets.toml: exit code 2, like a usage error.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var ue *usageError
	var ce *configError
	// A program run on the device passes its own exit status through.
	var ec interface{ ExitCode() int }
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue), errors.As(err, &ce):
		return exitUsage
	case errors.As(err, &ec) && ec.ExitCode() > 0:
		return ec.ExitCode()
	}
	return exitFailed
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, dir: "."}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		// No sub-command: the TUI, with the shared flags and the settings
		// of the bench sessions it starts with r.
		fs := c.flags("armbench")
		var bo ui.BenchOptions
		fs.IntVar(&bo.Count, "count", 0, "bench rounds per profile in the TUI (default 6)")
		fs.StringVar(&bo.Bench, "bench", "", "benchmarks to run in the TUI, a -test.bench regexp (default all)")
		fs.StringVar(&bo.Benchtime, "benchtime", os.Getenv("ARMBENCH_BENCHTIME"), "-test.benchtime of each bench round in the TUI (default $ARMBENCH_BENCHTIME or go's 1s)")
		fs.Usage = func() {
			c.usage(stderr)
			fmt.Fprintln(stderr, "\nflags of the workbench:")
			fs.PrintDefaults()
		}
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return exitOK
			}
			return exitUsage
		}
		if fs.NArg() > 0 {
			fmt.Fprintf(stderr, "armbench: unknown command %q\n", fs.Arg(0))
			return exitUsage
		}
		if bo.Count < 0 {
			fmt.Fprintln(stderr, "armbench: --count must be at least 1")
			return exitUsage
		}
		return c.finish(runTUI(ctx, c, bo))
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "--help" {
		c.usage(stdout)
		return exitOK
	}
	for _, cmd := range commands() {
		if cmd.name == name {
			return c.finish(cmd.run(ctx, c, args[1:]))
		}
	}
	fmt.Fprintf(stderr, "armbench: unknown command %q\n\n", name)
	c.usage(stderr)
	return exitUsage
}

// finish reports err and turns it into an exit code.
func (c *cli) finish(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitUsage
	}
	code := exitCode(err)
	if err != nil {
		fmt.Fprintf(c.stderr, "armbench: %v\n", err)
		if c.json {
			// Scripts reading --json always get a last line that says how
			// the command ended, whatever failed (flags, config, the work).
			c.printJSON(struct {
				Type     string `json:"type"`
				Error    string `json:"error"`
				ExitCode int    `json:"exit_code"`
			}{"error", err.Error(), code})
		}
	}
	return code
}

func (c *cli) usage(w io.Writer) {
	fmt.Fprintln(w, "usage: armbench [--config FILE] [--pkg PKG] [--count N] [--bench RE] [--benchtime D]")
	fmt.Fprintln(w, "                                                       open the workbench (TUI)")
	fmt.Fprintln(w, "       armbench COMMAND [flags] [--json]")
	fmt.Fprintln(w, "\ncommands:")
	for _, cmd := range commands() {
		fmt.Fprintf(w, "  %-9s %-52s %s\n", cmd.name, cmd.args, cmd.summary)
	}
	fmt.Fprintln(w, "\nshared flags: --config FILE (or $ARMBENCH_CONFIG; default ./targets.toml, else the embedded default),")
	fmt.Fprintln(w, "              --pkg PKG (what to build; default [project] pkg or ./examples/workload), --json")
	fmt.Fprintln(w, "exit codes: 0 ok, 1 the work failed, 2 usage or configuration error")
}

// flags returns a flag set with the flags every command shares.
func (c *cli) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.StringVar(&c.configPath, "config", "", "targets.toml to use (default $ARMBENCH_CONFIG, ./targets.toml, or the embedded default)")
	fs.StringVar(&c.pkg, "pkg", "", "package to build (default [project] pkg, or ./examples/workload)")
	fs.BoolVar(&c.json, "json", false, "print machine-readable JSON")
	return fs
}

// parse parses args into fs, turning flag errors into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err.Error()}
	}
	return nil
}

// workspace is a loaded configuration with its profiles.
type workspace struct {
	cfg      *targets.Config
	profiles []profiles.Profile
	pkg      string
}

func (c *cli) load() (*workspace, error) {
	cfg, err := targets.Open(c.configPath, defaultTargets)
	if err != nil {
		return nil, &configError{err}
	}
	ps, err := profiles.Load(cfg)
	if err != nil {
		return nil, &configError{err}
	}
	pkg := c.pkg
	if pkg == "" {
		pkg = cfg.Project.Pkg
	}
	if pkg == "" {
		pkg = "./examples/workload"
	}
	return &workspace{cfg: cfg, profiles: ps, pkg: pkg}, nil
}

func (w *workspace) target(name string) (targets.Target, error) {
	if name == "" {
		if len(w.cfg.Targets) == 1 {
			return w.cfg.Targets[0], nil
		}
		return targets.Target{}, usagef("--target is required (one of: %s)", strings.Join(w.targetNames(), ", "))
	}
	t, ok := w.cfg.Lookup(name)
	if !ok {
		return targets.Target{}, usagef("unknown target %q in %s (have: %s)", name, w.cfg.Path, strings.Join(w.targetNames(), ", "))
	}
	return t, nil
}

func (w *workspace) targetNames() []string {
	var names []string
	for _, t := range w.cfg.Targets {
		names = append(names, t.Name)
	}
	return names
}

// profileList resolves a comma-separated --profile value, keeping its order
// (the first is the baseline of comparisons).
func (w *workspace) profileList(list string) ([]profiles.Profile, error) {
	if strings.TrimSpace(list) == "" {
		list = "default"
	}
	var out []profiles.Profile
	seen := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		p, ok := profiles.Find(w.profiles, name)
		if !ok {
			var names []string
			for _, p := range w.profiles {
				names = append(names, p.Name)
			}
			sort.Strings(names)
			return nil, usagef("unknown profile %q (have: %s)", name, strings.Join(names, ", "))
		}
		out = append(out, p)
	}
	return out, nil
}

// matrixPlans resolves targets × profiles (both comma-separated) into
// build plans, target by target: `armbench build --target pi3,pi5
// --profile release,speed` builds four binaries sharing one build cache.
func (c *cli) matrixPlans(w *workspace, targetList, profileList string, mode profiles.Mode) ([]profiles.Plan, error) {
	var all []profiles.Plan
	seen := map[string]bool{}
	for _, name := range strings.Split(targetList, ",") {
		name = strings.TrimSpace(name)
		if seen[name] || (name == "" && targetList != "") {
			continue
		}
		seen[name] = true
		plans, err := c.plans(w, name, profileList, mode)
		if err != nil {
			return nil, err
		}
		all = append(all, plans...)
	}
	return all, nil
}

// plans resolves one target × profiles into build plans.
func (c *cli) plans(w *workspace, targetName, profileList string, mode profiles.Mode) ([]profiles.Plan, error) {
	if strings.Contains(targetName, ",") {
		return nil, usagef("--target takes one target here, not %q", targetName)
	}
	t, err := w.target(targetName)
	if err != nil {
		return nil, err
	}
	ps, err := w.profileList(profileList)
	if err != nil {
		return nil, err
	}
	var plans []profiles.Plan
	for _, p := range ps {
		plan, err := profiles.Resolve(t, p, profiles.Options{Pkg: w.pkg, Dir: c.dir, Mode: mode})
		if err != nil {
			return nil, &configError{fmt.Errorf("plan %s/%s: %w", t.Name, p.Name, err)}
		}
		plans = append(plans, plan)
	}
	return plans, nil
}

// printJSON writes v as one line of JSON (JSON Lines, so streams of events
// and the final result can be read line by line).
func (c *cli) printJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fmt.Fprintf(c.stderr, "armbench: encode json: %v\n", err)
		return
	}
	c.stdout.Write(append(b, '\n'))
}

// errString is an error as JSON wants it: absent when nil.
func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
