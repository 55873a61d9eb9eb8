// Package cli is armbench's headless front end: the sub-commands (build,
// deploy, bench, …, listed by commands), each a cmdX function in the file
// of its kind of work (remote.go has deploy, trust, rollback and run),
// printing engine events as text or JSON lines. It also parses the
// workbench's flags and loads its workspace, then hands over to the TUI
// through the open function OpenWorkbench is given, so that this package,
// and the headless path through it, never import Bubble Tea.
package cli

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

	"armbench/deploy"
	"armbench/profiles"
	"armbench/targets"
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
	embedded   []byte // the default targets.toml, used when there is no file
	// helpers builds the device-side delta helper; Run closes it, so no
	// build it started in the background outlives the command.
	helpers *deploy.Helpers
}

// Options is what a front end gets from the process: its standard streams
// and the targets.toml compiled into the binary.
type Options struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// DefaultTargets is the workspace used when there is no targets.toml
	// (--config, $ARMBENCH_CONFIG and ./targets.toml all absent).
	DefaultTargets []byte
}

// Workspace is what the workbench opens on: the loaded configuration, the
// flags given on the command line, and a way to load it all again.
type Workspace struct {
	Config   *targets.Config
	Profiles []profiles.Profile
	Pkg      string // package to build
	Dir      string // module root the go command runs in
	// Reload repeats the load the headless commands do (--config,
	// $ARMBENCH_CONFIG, ./targets.toml), e.g. after a target was added.
	Reload func() (*targets.Config, []profiles.Profile, error)

	// The bench sessions the workbench starts: --count, --bench, --benchtime.
	Count            int
	Bench, Benchtime string
	// Present opens the workbench in its presentation layout (--present).
	Present bool
}

func newCLI(o Options) *cli {
	return &cli{stdin: o.Stdin, stdout: o.Stdout, stderr: o.Stderr, dir: ".", embedded: o.DefaultTargets,
		helpers: deploy.NewHelpers(deploy.HelperCacheDir(profiles.DefaultOutRoot))}
}

// command is one headless sub-command.
type command struct {
	name    string
	args    string // usage after the name
	summary string
	run     func(ctx context.Context, c *cli, args []string) error
}

// commands lists the sub-commands in the order usage shows them. A new
// command is its cmdX function, in the file of its kind of work or a new
// one, plus one line here.
func commands() []command {
	return []command{
		{"targets", "", "list the targets of targets.toml", cmdTargets},
		{"profiles", "", "list the optimization profiles", cmdProfiles},
		{"plan", "--target T[,T2…] --profile P[,P2…]", "print the exact build commands", cmdPlan},
		{"build", "--target T|GROUP[,…] --profile P[,P2…] [--test]", "cross-compile, verify the artifacts", cmdBuild},
		{"deploy", "--target T|GROUP --profile P [--max-unavailable N]", "build and install atomically; a group rolls out in waves", cmdDeploy},
		{"status", "--target T|GROUP [--profile P]", "which binaries each device has: sha256, profile, when deployed", cmdStatus},
		{"trust", "TARGET|GROUP [--replace]", "accept a device's host key after showing its fingerprint (each of a group's in turn); --replace swaps a re-flashed board's key", cmdTrust},
		{"rollback", "--target T|GROUP --profile P", "restore the previously deployed binary (on each device of a group)", cmdRollback},
		{"run", "--target T|GROUP [--profile P] [--metrics A] -- ARGS…", "run the deployed binary with the profile's runtime settings", cmdRun},
		{"watch", "--target T [--profile P] [--debounce D] -- ARGS…", "rebuild, redeploy and restart on every save", cmdWatch},
		{"bench", "--target T[,T…|GROUP] --profile A,B [--count 6]", "benchmark profiles on one or more boards, side by side", cmdBench},
		{"compare", "RUN… [--format md|csv|json|svg]", "compare stored runs, or export a comparison", cmdCompare},
		{"size", "--target T --profile A,B [--top N]", "break binaries down by package, side by side", cmdSize},
		{"pgo", "--target T [--profile speed] [--bench RE] [--merge]", "profile on the device, write default.pgo, compare without and with it", cmdPgo},
		{"sweep", "--target T --profile P --knob NAME=V1,V2,… [--save NAME]", "bench a knob's values (or a grid of two) against the profile's own, chart them, save the best", cmdSweep},
		{"image", "--target T[,T2…] --profile P --out DIR|--push REF", "build a multi-arch OCI image, and a K3s Deployment for it", cmdImage},
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

// IsCommand reports whether args name a headless command (or ask for
// help) rather than open the workbench: anything but flags alone.
func IsCommand(args []string) bool {
	return len(args) > 0 && !strings.HasPrefix(args[0], "-")
}

// Run runs the headless command args[0] with the rest of args and returns
// the process exit code.
func Run(ctx context.Context, args []string, o Options) int {
	c := newCLI(o)
	defer c.helpers.Close()
	if len(args) == 0 {
		c.usage(c.stderr)
		return exitUsage
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "--help" {
		c.usage(c.stdout)
		return exitOK
	}
	for _, cmd := range commands() {
		if cmd.name == name {
			return c.finish(cmd.run(ctx, c, args[1:]))
		}
	}
	fmt.Fprintf(c.stderr, "armbench: unknown command %q\n\n", name)
	c.usage(c.stderr)
	return exitUsage
}

// OpenWorkbench parses the workbench's flags (the shared ones and the
// settings of the bench sessions it starts with r), loads the workspace
// and calls open with it; it returns the process exit code.
func OpenWorkbench(ctx context.Context, args []string, o Options, open func(context.Context, Workspace) error) int {
	c := newCLI(o)
	defer c.helpers.Close()
	fs := c.flags("armbench")
	var count int
	var benchRE, benchtime string
	fs.IntVar(&count, "count", 0, "bench rounds per profile in the TUI (default 6)")
	fs.StringVar(&benchRE, "bench", "", "benchmarks to run in the TUI, a -test.bench regexp (default all)")
	fs.StringVar(&benchtime, "benchtime", os.Getenv("ARMBENCH_BENCHTIME"), "-test.benchtime of each bench round in the TUI (default $ARMBENCH_BENCHTIME or go's 1s)")
	present := fs.Bool("present", false, "open in the presentation layout: the live run's knobs, verdict and charts, large (p toggles it)")
	fs.Usage = func() {
		c.usage(c.stderr)
		fmt.Fprintln(c.stderr, "\nflags of the workbench:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(c.stderr, "armbench: unknown command %q\n", fs.Arg(0))
		return exitUsage
	}
	if count < 0 {
		fmt.Fprintln(c.stderr, "armbench: --count must be at least 1")
		return exitUsage
	}
	w, err := c.load()
	if err != nil {
		return c.finish(err)
	}
	return c.finish(open(ctx, Workspace{
		Config:   w.cfg,
		Profiles: w.profiles,
		Pkg:      w.pkg,
		Dir:      c.dir,
		Reload: func() (*targets.Config, []profiles.Profile, error) {
			w, err := c.load()
			if err != nil {
				return nil, nil, err
			}
			return w.cfg, w.profiles, nil
		},
		Count:     count,
		Bench:     benchRE,
		Benchtime: benchtime,
		Present:   *present,
	}))
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
	cfg, err := targets.Open(c.configPath, c.embedded)
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
	if g, isGroup := w.cfg.LookupGroup(name); !ok && isGroup {
		return targets.Target{}, usagef("%q is a group (%s); this command takes one target here", name, strings.Join(g.Targets, ", "))
	}
	if !ok {
		return targets.Target{}, w.unknownTarget(name)
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

// oneProfile resolves the --profile of a command that works on one
// profile (cmd names it in the error).
func (w *workspace) oneProfile(cmd, name string) (profiles.Profile, error) {
	ps, err := w.profileList(name)
	if err != nil {
		return profiles.Profile{}, err
	}
	if len(ps) != 1 {
		return profiles.Profile{}, usagef("%s: --profile takes one profile, not %q", cmd, name)
	}
	return ps[0], nil
}

// matrixPlans resolves targets × profiles (both comma-separated; a
// group stands for its members) into build plans, target by target:
// `armbench build --target pi3,pi5 --profile release,speed` builds four
// binaries sharing one build cache.
func (c *cli) matrixPlans(w *workspace, targetList, profileList string, mode profiles.Mode) ([]profiles.Plan, error) {
	ts, _, err := w.resolveTargets(targetList, true)
	if err != nil {
		return nil, err
	}
	var all []profiles.Plan
	for _, t := range ts {
		plans, err := c.plans(w, t.Name, profileList, mode)
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
