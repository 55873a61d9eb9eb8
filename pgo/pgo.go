// Package pgo does profile-guided optimisation on the device: it runs the
// package's benchmarks on the ARM board with a CPU profile, brings the
// profile back, writes it as the package's default.pgo (merged with the
// one already there, when the user agrees), and benchmarks the profile
// without and with it side by side, stored as a run. A profile taken on
// an x86 laptop guides inlining for the laptop's hot paths; this one is
// the board's.
package pgo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"armbench/bench"
	"armbench/build"
	"armbench/deploy"
	"armbench/internal/shell"
	"armbench/profiles"
	"armbench/remote"
	"armbench/targets"
)

// FileName is the profile `go build -pgo=auto` picks up from the main
// package's directory.
const FileName = "default.pgo"

// ErrExists says the package has a default.pgo and the caller did not
// agree to merge into it.
var ErrExists = errors.New("the package already has " + FileName + "; merge into it (--merge) or move it away")

// Spec says what to profile and how to compare.
type Spec struct {
	Target  targets.Target
	Profile profiles.Profile // built with its PGO set to "auto" after; usually speed
	Pkg     string           // e.g. "./examples/workload"
	Dir     string           // module root ("" = current directory)
	OutRoot string           // "" = profiles.DefaultOutRoot

	// Bench and Benchtime choose what runs while the profile is taken
	// (default "." and 1s: enough samples at 100 Hz for PGO to act on).
	Bench     string
	Benchtime string
	// Merge agrees to merge with an existing default.pgo; without it an
	// existing file stops the run before anything is built.
	Merge bool

	// Compare is the before/after bench session's settings (Count,
	// Warmup, Benchtime, RunsDir, NoStore…); Target, Plans and Bench are
	// filled in.
	Compare bench.Spec
}

// Event is one thing that happened while profiling.
type Event interface{ pgoEvent() }

// Step is a stage starting or ending: "build", "deploy", "collect",
// "fetch", "write", "compare".
type Step struct {
	Name   string
	Done   bool
	Err    error
	Detail string // e.g. where the profile was written
	Time   time.Time
}

// Building wraps the build of the profiling binary.
type Building struct{ Event build.Event }

// Deploying wraps its upload.
type Deploying struct{ Event remote.Event }

// Output is a line the profiled benchmark printed.
type Output struct{ Event remote.Output }

// Benching wraps the before/after comparison's events.
type Benching struct{ Event bench.Event }

func (Step) pgoEvent()      {}
func (Building) pgoEvent()  {}
func (Deploying) pgoEvent() {}
func (Output) pgoEvent()    {}
func (Benching) pgoEvent()  {}

// Result is what a PGO run produced.
type Result struct {
	ProfilePath string // the package's default.pgo
	Bytes       int    // of the profile brought back from the device
	Merged      bool   // merged with an existing default.pgo
	Before      string // profile name of the baseline column
	After       string // profile name of the PGO column
	Run         *bench.Run
}

// Run collects a CPU profile on dev, installs it as default.pgo and
// compares the profile before and after. A failure before "write" leaves
// the package's files as they were; one after it leaves the new
// default.pgo (and the previous one as default.pgo.prev).
func Run(ctx context.Context, spec Spec, dev remote.Device, emit func(Event)) (*Result, error) {
	if emit == nil {
		emit = func(Event) {}
	}
	pkgDir, err := packageDir(ctx, spec.Dir, spec.Pkg)
	if err != nil {
		return nil, err
	}
	dest := filepath.Join(pkgDir, FileName)
	old, err := existing(dest)
	if err != nil {
		return nil, err
	}
	if old && !spec.Merge {
		return nil, fmt.Errorf("pgo %s: %s: %w", spec.Target.Name, dest, ErrExists)
	}
	outRoot := spec.OutRoot
	if outRoot == "" {
		outRoot = filepath.Join(dirOr(spec.Dir), profiles.DefaultOutRoot)
	}
	before, after, err := variants(spec.Profile, old, outRoot, spec.Target.Name, dest)
	if err != nil {
		return nil, err
	}
	res := &Result{ProfilePath: dest, Before: before.Name, After: after.Name}
	prof, err := collect(ctx, spec, before, outRoot, dev, emit)
	if err != nil {
		return nil, err
	}
	res.Bytes = len(prof)
	step(emit, "write", false, nil, dest)
	res.Merged, err = install(ctx, dest, prof, old)
	step(emit, "write", true, err, dest)
	if err != nil {
		return nil, err
	}
	res.Run, err = compare(ctx, spec, before, after, outRoot, dev, emit)
	return res, err
}

func step(emit func(Event), name string, done bool, err error, detail string) {
	emit(Step{Name: name, Done: done, Err: err, Detail: detail, Time: time.Now()})
}

func dirOr(dir string) string {
	if dir == "" {
		return "."
	}
	return dir
}

func existing(path string) (bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("pgo: %w", err)
}

// packageDir asks the go command where pkg lives, so import paths and
// relative paths both work.
func packageDir(ctx context.Context, dir, pkg string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-f", "{{.Dir}}", pkg)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("pgo: go list %s: %v: %s", pkg, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// variants are the two columns of the comparison: the profile as it
// built before (without PGO, or with the old default.pgo, kept aside
// under outRoot so the merge cannot change it), and the profile with the
// new default.pgo.
func variants(p profiles.Profile, old bool, outRoot, target, dest string) (before, after profiles.Profile, err error) {
	before, after = p, p
	before.Build.PGO = "off"
	before.Name = p.Name + "-nopgo"
	if old {
		kept := filepath.Join(outRoot, target, "pgo", "before.pgo")
		if err := copyFile(dest, kept); err != nil {
			return before, after, fmt.Errorf("pgo: keep the old profile: %w", err)
		}
		before.Build.PGO, before.Name = kept, p.Name+"-oldpgo"
	}
	after.Build.PGO = "auto"
	after.Name = p.Name + "-pgo"
	return before, after, nil
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

func resolve(spec Spec, p profiles.Profile, outRoot string) (profiles.Plan, error) {
	return profiles.Resolve(spec.Target, p, profiles.Options{Pkg: spec.Pkg, Dir: spec.Dir, OutRoot: outRoot, Mode: profiles.ModeTest})
}

// collect builds the test binary of the before profile, runs its
// benchmarks on the device with -test.cpuprofile, and reads the profile
// back.
func collect(ctx context.Context, spec Spec, p profiles.Profile, outRoot string, dev remote.Device, emit func(Event)) ([]byte, error) {
	plan, err := resolve(spec, p, outRoot)
	if err != nil {
		return nil, err
	}
	name, err := deployTestBinary(ctx, spec, plan, dev, emit)
	if err != nil {
		return nil, err
	}
	remoteProf := path.Join(dev.DeployDir(), name+".pprof")
	if err := runProfiled(ctx, spec, plan, name, remoteProf, dev, emit); err != nil {
		return nil, err
	}
	step(emit, "fetch", false, nil, remoteProf)
	data, err := dev.Exec(ctx, "cat "+shell.Quote(remoteProf)+" && rm -f "+shell.Quote(remoteProf))
	if err == nil && !isPprof(data) {
		err = fmt.Errorf("%s on %s is not a CPU profile (%d bytes)", remoteProf, spec.Target.Name, len(data))
	}
	step(emit, "fetch", true, err, remoteProf)
	if err != nil {
		return nil, fmt.Errorf("pgo: fetch the profile: %w", err)
	}
	return data, nil
}

// deployTestBinary builds plan and installs it on dev through the deploy
// pipeline, reporting the pipeline's build and install as pgo's "build"
// and "deploy" steps. It returns the binary's name on the device.
func deployTestBinary(ctx context.Context, spec Spec, plan profiles.Plan, dev remote.Device, emit func(Event)) (string, error) {
	pipe := deploy.Pipeline{
		Connect: func(context.Context, targets.Target, []string) (remote.Device, error) { return dev, nil },
	}
	name := plan.DeployName()
	built, deploying := false, false
	// builtOK ends the build step once the pipeline has moved past it,
	// and starts the install's.
	builtOK := func() {
		if !built {
			built = true
			step(emit, "build", true, nil, "")
		}
		if !deploying {
			deploying = true
			step(emit, "deploy", false, nil, name)
		}
	}
	step(emit, "build", false, nil, "")
	res := pipe.Run(ctx, spec.Target, []deploy.Job{{Plan: plan, Name: name}}, func(ev deploy.Event) {
		switch ev := ev.(type) {
		case deploy.Building:
			emit(Building{ev.Event})
		case deploy.Deploying:
			builtOK()
			emit(Deploying{ev.Event})
		}
	})[0]
	if res.Step == deploy.StepBuild {
		err := fmt.Errorf("build %s/%s: no artifact", spec.Target.Name, plan.Profile.Name)
		if res.Build != nil && res.Build.Err != nil {
			err = res.Build.Err
		}
		step(emit, "build", true, err, "")
		return "", err
	}
	builtOK()
	step(emit, "deploy", true, res.Err, name)
	if res.Err != nil {
		return "", fmt.Errorf("pgo: deploy %s to %s: %w", name, spec.Target.Name, res.Err)
	}
	return name, nil
}

func runProfiled(ctx context.Context, spec Spec, plan profiles.Plan, name, remoteProf string, dev remote.Device, emit func(Event)) error {
	re, benchtime := spec.Bench, spec.Benchtime
	if re == "" {
		re = "."
	}
	if benchtime == "" {
		benchtime = "1s"
	}
	env := make([]string, 0, len(plan.RunEnv))
	for _, e := range plan.RunEnv {
		env = append(env, e.String())
	}
	cmd := remote.Command{
		Path: name,
		Args: []string{"-test.run=^$", "-test.bench=" + re, "-test.benchtime=" + benchtime, "-test.cpuprofile=" + remoteProf},
		Env:  env,
	}
	step(emit, "collect", false, nil, strings.Join(cmd.Args, " "))
	st, err := dev.Run(ctx, cmd, func(ev remote.Event) {
		if o, ok := ev.(remote.Output); ok {
			emit(Output{o})
		}
	})
	if err == nil && (st.Code != 0 || st.Signal != "") {
		err = fmt.Errorf("the benchmark exited with code %d %s", st.Code, st.Signal)
	}
	step(emit, "collect", true, err, "")
	if err != nil {
		return fmt.Errorf("pgo: profile on %s: %w", spec.Target.Name, err)
	}
	return nil
}

// isPprof checks for the gzip header every pprof profile starts with.
func isPprof(b []byte) bool { return len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b }

// install writes prof as dest through `go tool pprof -proto`, which
// checks it parses, merges it with the existing file when there is one,
// and writes the normalised profile go build reads. The old file is kept
// as dest.prev; the new one is renamed into place.
func install(ctx context.Context, dest string, prof []byte, old bool) (merged bool, err error) {
	dir := filepath.Dir(dest)
	fresh, err := os.CreateTemp(dir, ".armbench-pgo-*.pprof")
	if err != nil {
		return false, fmt.Errorf("pgo: %w", err)
	}
	defer os.Remove(fresh.Name())
	if _, err := fresh.Write(prof); err != nil {
		fresh.Close()
		return false, fmt.Errorf("pgo: %w", err)
	}
	fresh.Close()
	inputs := []string{fresh.Name()}
	if old {
		inputs = append([]string{dest}, inputs...)
	}
	out := dest + ".armbench-tmp"
	args := append([]string{"tool", "pprof", "-proto", "-output", out}, inputs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		os.Remove(out)
		return false, fmt.Errorf("pgo: go tool pprof: %v: %s", err, strings.TrimSpace(string(b)))
	}
	if old {
		if err := copyFile(dest, dest+".prev"); err != nil {
			os.Remove(out)
			return false, fmt.Errorf("pgo: keep %s.prev: %w", FileName, err)
		}
	}
	if err := os.Rename(out, dest); err != nil {
		os.Remove(out)
		return false, fmt.Errorf("pgo: %w", err)
	}
	return old, nil
}

// compare benchmarks before and after on the device, interleaved, as
// `armbench bench` does, and stores the run.
func compare(ctx context.Context, spec Spec, before, after profiles.Profile, outRoot string, dev remote.Device, emit func(Event)) (*bench.Run, error) {
	step(emit, "compare", false, nil, "")
	var plans []profiles.Plan
	for _, p := range []profiles.Profile{before, after} {
		plan, err := resolve(spec, p, outRoot)
		if err != nil {
			step(emit, "compare", true, err, "")
			return nil, err
		}
		plans = append(plans, plan)
	}
	bs := spec.Compare
	bs.Target, bs.Plans = spec.Target, plans
	if bs.Bench == "" {
		bs.Bench = spec.Bench
	}
	if bs.OutRoot == "" {
		bs.OutRoot = outRoot
	}
	run, err := bench.Execute(ctx, bs, dev, func(ev bench.Event) { emit(Benching{ev}) })
	step(emit, "compare", true, err, "")
	return run, err
}
