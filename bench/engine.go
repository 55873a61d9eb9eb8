package bench

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"armbench/bench/probe/wire"
	"armbench/build"
	"armbench/internal/shell"
	"armbench/profiles"
	"armbench/remote"
	"armbench/targets"
)

// The probe's source travels inside armbench, so it can be cross-compiled
// for any target from any project, not only from armbench's own checkout.
//
//go:embed probe/main.go probe/wire/wire.go
var probeSource embed.FS

// ProbeName is the probe's file name in the target's deploy_dir.
const ProbeName = "armbench-probe"

// DefaultInterval is the probe's sampling interval (10 Hz).
const DefaultInterval = 100 * time.Millisecond

// DefaultSchedTrace is the GODEBUG=schedtrace period given to Go workloads.
const DefaultSchedTrace = 100 * time.Millisecond

// DefaultWarmup is how many rounds run first and are thrown away.
const DefaultWarmup = 1

// Spec says what a bench session measures.
type Spec struct {
	Target targets.Target
	// Plans are the profiles to compare, the first the baseline: ModeTest
	// plans for Go benchmarks, ModeBinary plans for command runs.
	Plans []profiles.Plan

	Bench     string   // -test.bench regexp (default ".")
	Benchtime string   // -test.benchtime, "" = the go default
	Args      []string // command runs: the program's arguments
	Count     int      // rounds that count (default DefaultCount)
	Warmup    int      // rounds run first and discarded (0 = none)

	Interval   time.Duration // probe sampling (default DefaultInterval)
	SchedTrace time.Duration // GODEBUG=schedtrace period (default DefaultSchedTrace; <0 = off)

	// OutRoot is where the probe is built (default the plans' out root,
	// profiles.DefaultOutRoot in the first plan's Dir).
	OutRoot string
	// RunsDir is where the run is stored (default DefaultRunsDir in the
	// first plan's Dir); NoStore keeps it in memory only.
	RunsDir string
	NoStore bool
	// BuildParallel bounds concurrent builds (0 = build.RunAll's default).
	BuildParallel int
}

func (s *Spec) kind() string {
	if len(s.Plans) > 0 && s.Plans[0].Mode == profiles.ModeBinary {
		return KindCommand
	}
	return KindGoTest
}

func (s *Spec) check() error {
	if len(s.Plans) == 0 {
		return errors.New("bench: no profiles")
	}
	seen := map[string]bool{}
	for _, p := range s.Plans {
		if p.Mode != s.Plans[0].Mode {
			return errors.New("bench: plans mix go test -c and go build")
		}
		if seen[p.Profile.Name] {
			return fmt.Errorf("bench: profile %s twice", p.Profile.Name)
		}
		seen[p.Profile.Name] = true
		if p.Target.Name != s.Target.Name {
			return fmt.Errorf("bench: plan %s is for target %s, not %s", p.Profile.Name, p.Target.Name, s.Target.Name)
		}
	}
	if s.Count < 0 || s.Warmup < 0 {
		return fmt.Errorf("bench: count %d and warmup %d must not be negative", s.Count, s.Warmup)
	}
	return nil
}

// ProbePlan is the plan that cross-compiles the probe for t: release-like
// (static, stripped, trimmed), from the embedded source written under
// outRoot, so it never depends on the project being measured.
func ProbePlan(t targets.Target, outRoot string) (profiles.Plan, error) {
	abs, err := filepath.Abs(outRoot)
	if err != nil {
		return profiles.Plan{}, fmt.Errorf("probe: %w", err)
	}
	src := filepath.Join(abs, "probe-src")
	if err := writeProbeSource(src); err != nil {
		return profiles.Plan{}, fmt.Errorf("probe: %w", err)
	}
	prof := profiles.Profile{
		Name:        ProbeName,
		Description: "armbench's on-device probe",
		Build:       profiles.Build{Trimpath: true, Ldflags: "-s -w"},
	}
	// The probe needs only the target's architecture, not its tags or
	// compiler.
	t.Tags, t.CC = nil, ""
	plan, err := profiles.Resolve(t, prof, profiles.Options{Pkg: "./bench/probe", Dir: src, OutRoot: abs, Mode: profiles.ModeBinary})
	if err != nil {
		return plan, fmt.Errorf("probe: %w", err)
	}
	// A go.work around the project must not pull the probe's module in.
	plan.BuildEnv = append(plan.BuildEnv, profiles.EnvVar{Key: "GOWORK", Value: "off"})
	return plan, nil
}

func writeProbeSource(dir string) error {
	files := map[string][]byte{"go.mod": []byte("module armbench\n\ngo 1.26\n")}
	err := fs.WalkDir(probeSource, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := probeSource.ReadFile(path)
		files[filepath.Join("bench", path)] = data
		return err
	})
	if err != nil {
		return err
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if old, err := os.ReadFile(p); err == nil && string(old) == string(data) {
			continue // unchanged: keep the go build cache warm
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := writeFile(p, data); err != nil {
			return err
		}
	}
	return nil
}

// DeployName is p.DeployName().
//
// Deprecated: kept only while ui/ still calls it; ui adopts
// profiles.Plan.DeployName after its reshape, and then this goes.
func DeployName(p profiles.Plan) string { return p.DeployName() }

// Execute runs a whole session: build the probe and every profile,
// deploy them, read the device's facts, run the rounds interleaved, and
// store the run. emit may be nil; it is never called concurrently.
func Execute(ctx context.Context, spec Spec, dev remote.Device, emit func(Event)) (run *Run, err error) {
	emit = serialEmit(emit)
	defer func() {
		if err != nil {
			run = nil
		}
		emit(Finished{Run: run, Err: err})
	}()
	if err := spec.check(); err != nil {
		return nil, err
	}
	start := time.Now()
	dir := spec.Plans[0].Dir
	if dir == "" {
		dir = "."
	}
	outRoot := spec.OutRoot
	if outRoot == "" {
		outRoot = filepath.Join(dir, profiles.DefaultOutRoot)
	}
	run = &Run{
		Version:   RunVersion,
		Created:   start,
		Target:    spec.Target,
		Kind:      spec.kind(),
		Bench:     spec.Bench,
		Benchtime: spec.Benchtime,
		Args:      spec.Args,
	}
	phase := func(name string, err error, done bool) {
		emit(Phase{Name: name, Done: done, Err: err, Time: time.Now()})
	}

	// Build.
	phase("build", nil, false)
	probePlan, err := ProbePlan(spec.Target, outRoot)
	if err != nil {
		phase("build", err, true)
		return nil, err
	}
	plans := append([]profiles.Plan{probePlan}, spec.Plans...)
	results := build.RunAll(ctx, plans, spec.BuildParallel, func(i int, ev build.Event) {
		emit(Building{Profile: plans[i].Profile.Name, Index: i - 1, Event: ev})
	})
	for i, r := range results {
		if r.Err != nil || r.Artifact == nil {
			err := r.Err
			if err == nil {
				err = fmt.Errorf("build %s/%s: no artifact", spec.Target.Name, plans[i].Profile.Name)
			}
			phase("build", err, true)
			return nil, err
		}
	}
	phase("build", nil, true)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	// Deploy.
	phase("deploy", nil, false)
	arts := make([]Artifact, len(plans))
	for i, r := range results {
		name := ProbeName
		if i > 0 {
			name = plans[i].DeployName()
		}
		a := r.Artifact
		inst, err := dev.Deploy(ctx, remote.File{Path: a.Path, SHA256: a.SHA256, Size: a.Size}, name, func(ev remote.Event) {
			emit(Deploying{Profile: plans[i].Profile.Name, Index: i - 1, Event: ev})
		})
		if err != nil {
			err = fmt.Errorf("deploy %s to %s: %w", name, spec.Target.Name, err)
			phase("deploy", err, true)
			return nil, err
		}
		arts[i] = Artifact{
			Path: a.Path, Installed: inst.Path, Size: a.Size, SHA256: a.SHA256,
			GoVersion: a.GoVersion, Stripped: a.Stripped, Static: a.Static,
			BuildTime: r.Duration, DeployTime: inst.Duration, DeploySkipped: inst.Skipped, WireBytes: inst.WireBytes,
		}
	}
	phase("deploy", nil, true)
	run.Probe = arts[0]
	for i, p := range spec.Plans {
		run.Profiles = append(run.Profiles, ProfileRun{
			Name:     p.Profile.Name,
			Plan:     p,
			Build:    p.Shell(),
			Artifact: arts[i+1],
		})
	}

	// The device.
	phase("device", nil, false)
	info, err := DeviceFacts(ctx, dev, spec.Target, arts[0].Installed)
	phase("device", err, true)
	if err != nil {
		return nil, err
	}
	run.Device = *info
	if info.Emulated {
		run.Notes = append(run.Notes, "the device is emulated (qemu-user): timings show relative differences, not a real board's speed")
	}

	// Measure.
	phase("bench", nil, false)
	err = measure(ctx, spec, dev, run, emit)
	phase("bench", err, true)
	if err != nil {
		return nil, err
	}
	run.Duration = time.Since(start)

	if !spec.NoStore {
		phase("store", nil, false)
		root := spec.RunsDir
		if root == "" {
			root = filepath.Join(dir, DefaultRunsDir)
		}
		err := run.Save(root)
		phase("store", err, true)
		if err != nil {
			return nil, err
		}
	}
	return run, nil
}

// serialEmit makes emit safe to call from several goroutines, and nil a
// no-op.
func serialEmit(emit func(Event)) func(Event) {
	if emit == nil {
		return func(Event) {}
	}
	var mu sync.Mutex
	return func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		emit(e)
	}
}

// probeArgs are the flags that make the probe reproduce what a local
// device does for its own programs.
func probeArgs(t targets.Target, interval time.Duration) []string {
	args := []string{"-interval", interval.String()}
	if strings.TrimSpace(t.Runner) != "" {
		// The device runs the probe under the runner; the workload the
		// probe starts needs it too.
		args = append(args, "-runner", t.Runner)
	}
	return args
}

// DeviceFacts runs the installed probe with -info.
func DeviceFacts(ctx context.Context, dev remote.Device, t targets.Target, probePath string) (*DeviceInfo, error) {
	var info *DeviceInfo
	var stderr []string
	args := append(probeArgs(t, DefaultInterval), "-info")
	st, err := dev.Run(ctx, remote.Command{Path: probePath, Args: args}, func(ev remote.Event) {
		out, ok := ev.(remote.Output)
		if !ok {
			return
		}
		if out.Stderr {
			stderr = append(stderr, out.Text)
			return
		}
		var m wire.Message
		if json.Unmarshal([]byte(out.Text), &m) == nil && m.Type == wire.TypeInfo && m.Info != nil {
			info = m.Info
		}
	})
	if err == nil && st.Code != 0 {
		err = fmt.Errorf("exit status %d: %s", st.Code, strings.Join(stderr, "\n"))
	}
	if err == nil && info == nil {
		err = errors.New("the probe printed no device info")
	}
	if err != nil {
		return nil, fmt.Errorf("device facts on %s: %w", t.Name, err)
	}
	return info, nil
}

// mergeGODEBUG adds setting (k=v) to a GODEBUG value unless it already
// sets k, keeping the profile's own settings.
func mergeGODEBUG(env []string, setting string) []string {
	key, _, _ := strings.Cut(setting, "=")
	out := append([]string(nil), env...)
	for i, kv := range out {
		v, ok := strings.CutPrefix(kv, "GODEBUG=")
		if !ok {
			continue
		}
		for _, part := range strings.Split(v, ",") {
			if k, _, _ := strings.Cut(strings.TrimSpace(part), "="); k == key {
				return out
			}
		}
		if v == "" {
			out[i] = "GODEBUG=" + setting
		} else {
			out[i] = "GODEBUG=" + v + "," + setting
		}
		return out
	}
	return append(out, "GODEBUG="+setting)
}

// measure runs warmup+count rounds, each round every profile in order
// (A B A B …), so slow drifts of the device hit all profiles alike.
func measure(ctx context.Context, spec Spec, dev remote.Device, run *Run, emit func(Event)) error {
	if emit == nil {
		emit = func(Event) {}
	}
	count := spec.Count
	if count == 0 {
		count = DefaultCount
	}
	interval := spec.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	sched := spec.SchedTrace
	if sched == 0 {
		sched = DefaultSchedTrace
	}
	bench := spec.Bench
	if bench == "" {
		bench = "."
	}
	run.Count, run.Warmup, run.Interval = count, spec.Warmup, interval.Nanoseconds()
	if run.Kind == KindGoTest {
		run.Bench = bench
	}
	// Too few rounds is said by Stats, in every table made from the run.

	type state struct {
		args    []string
		config  []string // config lines of the first counted round
		results []string
		samples []sampleRecord
	}
	states := make([]*state, len(run.Profiles))
	for i := range run.Profiles {
		p := &run.Profiles[i]
		env := p.Plan.RunEnvStrings()
		// Command runs are Go programs armbench built, so they print
		// schedtrace too; the probe's host side takes it out of stderr.
		if sched > 0 {
			env = mergeGODEBUG(env, "schedtrace="+strconv.FormatInt(sched.Milliseconds(), 10))
		}
		p.RunEnv = env
		args := probeArgs(spec.Target, interval)
		for _, kv := range env {
			args = append(args, "-env", kv)
		}
		args = append(args, "--", p.Artifact.Installed)
		if run.Kind == KindGoTest {
			args = append(args, "-test.run=^$", "-test.bench="+bench, "-test.benchmem", "-test.count=1")
			if spec.Benchtime != "" {
				args = append(args, "-test.benchtime="+spec.Benchtime)
			}
		} else {
			args = append(args, spec.Args...)
		}
		states[i] = &state{args: args}
	}

	total := spec.Warmup + count
	for round := 0; round < total; round++ {
		warm := round < spec.Warmup
		for i := range run.Profiles {
			if err := ctx.Err(); err != nil {
				return err
			}
			p := &run.Profiles[i]
			st := states[i]
			cmdLine := shell.Join(append([]string{run.Probe.Installed}, st.args...)...)
			emit(RunStarted{Profile: p.Name, Index: i, Round: round, Rounds: total, Warmup: warm, Command: cmdLine})
			rs, out, err := runRound(ctx, dev, run.Probe.Installed, st.args, p.Name, i, round, warm, emit)
			if err == nil && rs.ExitCode != 0 {
				err = fmt.Errorf("%s exited with status %d%s", filepath.Base(p.Artifact.Installed), rs.ExitCode, tail(out.stderr, out.failLines))
			}
			if err == nil && run.Kind == KindGoTest && len(out.results) == 0 {
				err = fmt.Errorf("%s printed no benchmark results for -test.bench=%s%s", filepath.Base(p.Artifact.Installed), bench, tail(out.stderr, out.failLines))
			}
			if err != nil {
				err = fmt.Errorf("bench %s/%s round %d: %w", spec.Target.Name, p.Name, round, err)
			}
			emit(RunDone{Profile: p.Name, Index: i, Round: round, Stats: rs, Err: err})
			if err != nil {
				return err
			}
			p.Rounds = append(p.Rounds, rs)
			st.samples = append(st.samples, out.samples...)
			if warm {
				continue
			}
			if run.Kind == KindGoTest {
				if st.config == nil {
					st.config = out.config
				}
				st.results = append(st.results, out.results...)
			} else {
				st.results = append(st.results, commandResult(rs))
			}
		}
	}
	for i := range run.Profiles {
		p := &run.Profiles[i]
		st := states[i]
		p.Summary = summarize(p.Rounds)
		var b strings.Builder
		config := st.config
		if len(config) == 0 {
			config = []string{"goos: linux", "goarch: " + spec.Target.GOARCH}
		}
		for _, c := range config {
			b.WriteString(c + "\n")
		}
		for _, r := range st.results {
			b.WriteString(r + "\n")
		}
		p.text = []byte(b.String())
		p.BenchFile = safeName(p.Name) + ".txt"
		p.samples = st.samples
		if len(st.samples) > 0 {
			p.SamplesFile = safeName(p.Name) + ".samples.jsonl"
		}
	}
	return nil
}

// commandResult is a command round in the benchmark format, so command
// runs get the same statistics (and benchstat reads them too).
func commandResult(r RoundStats) string {
	return fmt.Sprintf("BenchmarkRun \t 1\t %d ns/op\t %d user-ns/op\t %d sys-ns/op\t %d peak-RSS-B",
		r.Wall.Nanoseconds(), r.User.Nanoseconds(), r.Sys.Nanoseconds(), r.PeakRSS)
}

func tail(stderr, fail []string) string {
	lines := append(append([]string(nil), fail...), stderr...)
	if len(lines) > 12 {
		lines = lines[len(lines)-12:]
	}
	if len(lines) == 0 {
		return ""
	}
	return ":\n" + strings.Join(lines, "\n")
}

// roundOutput is what one round printed.
type roundOutput struct {
	config    []string
	results   []string
	stderr    []string // last lines that were not schedtrace
	failLines []string // stdout lines that say a benchmark failed
	samples   []sampleRecord
}

// runRound runs the probe once and turns its JSON lines into events and a
// summary.
func runRound(ctx context.Context, dev remote.Device, probe string, args []string, profile string, index, round int, warm bool, emit func(Event)) (RoundStats, roundOutput, error) {
	var (
		mu      sync.Mutex
		out     roundOutput
		parser  SchedParser
		scheds  []SchedSample
		procs   []ProcSample
		exit    *wire.Exit
		perr    string
		lastT   time.Duration
		probeSE []string
	)
	rs := RoundStats{Profile: profile, Round: round, Warmup: warm}
	addSched := func(s SchedSample) {
		scheds = append(scheds, s)
		out.samples = append(out.samples, sampleRecord{Round: round, Warmup: warm, T: int64(lastT), Sched: &s})
		emit(Sched{Profile: profile, Index: index, Round: round, Warmup: warm, T: lastT, Sample: s})
	}
	handle := func(ev remote.Event) {
		o, ok := ev.(remote.Output)
		if !ok {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if o.Stderr {
			// The probe's own complaints (the workload's stderr comes
			// wrapped in JSON on stdout).
			probeSE = append(probeSE, o.Text)
			emit(Line{Profile: profile, Index: index, Round: round, Stderr: true, Text: "probe: " + o.Text})
			return
		}
		var m wire.Message
		if err := json.Unmarshal([]byte(o.Text), &m); err != nil || m.Type == "" {
			emit(Line{Profile: profile, Index: index, Round: round, Text: o.Text})
			return
		}
		t := time.Duration(m.T)
		switch m.Type {
		case wire.TypeLine:
			lastT = t
			if m.Stream == "stderr" {
				done, consumed := parser.Line(m.Text)
				for _, s := range done {
					addSched(s)
				}
				if !consumed {
					out.stderr = append(out.stderr, m.Text)
					if len(out.stderr) > 50 {
						out.stderr = out.stderr[1:]
					}
					emit(Line{Profile: profile, Index: index, Round: round, Stderr: true, T: t, Text: m.Text})
				}
				return
			}
			text := m.Text
			switch {
			case strings.HasPrefix(text, "Benchmark") && strings.Contains(text, "\t"):
				out.results = append(out.results, text)
			case isConfigLine(text):
				out.config = append(out.config, text)
			case strings.HasPrefix(text, "--- FAIL") || strings.HasPrefix(text, "FAIL") || strings.HasPrefix(text, "panic:"):
				out.failLines = append(out.failLines, text)
			}
			emit(Line{Profile: profile, Index: index, Round: round, T: t, Text: text})
		case wire.TypeProc:
			if m.Proc != nil {
				procs = append(procs, *m.Proc)
				out.samples = append(out.samples, sampleRecord{Round: round, Warmup: warm, T: m.T, Proc: m.Proc})
				emit(Proc{Profile: profile, Index: index, Round: round, Warmup: warm, T: t, Sample: *m.Proc})
			}
		case wire.TypeExit:
			exit = m.Exit
		case wire.TypeError:
			perr = m.Error
		}
	}
	st, err := dev.Run(ctx, remote.Command{Path: probe, Args: args}, handle)
	mu.Lock()
	defer mu.Unlock()
	if s, ok := parser.Flush(); ok {
		addSched(s)
	}
	if err != nil {
		return rs, out, err
	}
	if perr != "" {
		return rs, out, fmt.Errorf("probe: %s", perr)
	}
	if exit == nil {
		return rs, out, fmt.Errorf("the probe ended (status %d%s) without reporting the workload's exit%s", st.Code, sigText(st.Signal), tail(probeSE, nil))
	}
	if exit.WallNs < 0 || exit.UserNs < 0 || exit.SysNs < 0 || exit.MaxRSS < 0 {
		return rs, out, fmt.Errorf("the probe reported impossible times (wall %dns, user %dns, sys %dns, max RSS %d)", exit.WallNs, exit.UserNs, exit.SysNs, exit.MaxRSS)
	}
	rs.Wall = time.Duration(exit.WallNs)
	rs.User = time.Duration(exit.UserNs)
	rs.Sys = time.Duration(exit.SysNs)
	rs.MaxRSS = exit.MaxRSS
	rs.ExitCode = exit.Code
	rs.Signal = exit.Signal
	if exit.Signal != "" && rs.ExitCode == 0 {
		rs.ExitCode = -1
	}
	rs.ProbeCPU = time.Duration(exit.ProbeUserNs + exit.ProbeSysNs)
	summarizeRound(&rs, scheds, procs)
	return rs, out, nil
}

func sigText(s string) string {
	if s == "" {
		return ""
	}
	return ", signal " + s
}

// isConfigLine reports a benchmark-format configuration line
// ("goos: linux"): a lower-case key without spaces, a colon, a space.
func isConfigLine(s string) bool {
	k, _, ok := strings.Cut(s, ": ")
	if !ok || k == "" || k[0] < 'a' || k[0] > 'z' {
		return false
	}
	return !strings.ContainsAny(k, " \t")
}

// summarizeRound fills the scheduler and system parts of rs and decides
// whether the round is suspect.
func summarizeRound(rs *RoundStats, scheds []SchedSample, procs []ProcSample) {
	rs.SchedSamples = len(scheds)
	rs.Samples = len(procs)
	var rq, th, idle float64
	for _, s := range scheds {
		q := s.RunQueue + s.LocalRunQueueTotal()
		rq += float64(q)
		th += float64(s.Threads)
		idle += float64(s.IdleProcs)
		rs.MaxRunQueue = max(rs.MaxRunQueue, q)
		rs.MaxThreads = max(rs.MaxThreads, s.Threads)
		rs.GOMAXPROCS = s.GOMAXPROCS
	}
	if n := float64(len(scheds)); n > 0 {
		rs.MeanRunQueue = round2(rq / n)
		rs.MeanThreads = round2(th / n)
		rs.MeanIdleProcs = round2(idle / n)
	}
	rs.PeakRSS = rs.MaxRSS
	var cpu, threads float64
	var flags []string
	var firstThrottle, lastThrottle uint64
	haveThrottle := false
	var currentBits uint64
	for _, p := range procs {
		cpu += p.CPU
		threads += float64(p.Threads)
		rs.PeakRSS = max(rs.PeakRSS, p.HWM, p.RSS)
		if len(scheds) == 0 {
			rs.MaxThreads = max(rs.MaxThreads, p.Threads)
		}
		for _, f := range p.FreqKHz {
			if f <= 0 {
				continue
			}
			if rs.FreqMinKHz == 0 || f < rs.FreqMinKHz {
				rs.FreqMinKHz = f
			}
			rs.FreqMaxKHz = max(rs.FreqMaxKHz, f)
		}
		for _, t := range p.TempMilli {
			rs.MaxTempMilli = max(rs.MaxTempMilli, t)
		}
		if p.Throttled != "" {
			v, err := strconv.ParseUint(strings.TrimPrefix(p.Throttled, "0x"), 16, 64)
			if err == nil {
				if !haveThrottle {
					firstThrottle = v
					haveThrottle = true
				}
				lastThrottle = v
				currentBits |= v & 0xf
			}
			rs.Throttled = p.Throttled
		}
	}
	if len(procs) > 0 {
		rs.MeanCPU = round2(cpu / float64(len(procs)))
		if len(scheds) == 0 {
			// Without schedtrace, the OS thread count from /proc.
			rs.MeanThreads = round2(threads / float64(len(procs)))
		}
	}
	// Bits 0–3 are "now" (under-voltage, frequency capped, throttled,
	// soft temperature limit); bits 16–19 latch "has occurred since boot".
	if currentBits != 0 || (haveThrottle && (lastThrottle&^firstThrottle)&0xf0000 != 0) {
		flags = append(flags, "throttled ("+rs.Throttled+")")
	}
	if rs.FreqMinKHz != 0 && rs.FreqMinKHz != rs.FreqMaxKHz {
		flags = append(flags, fmt.Sprintf("CPU frequency changed (%d–%d MHz)", rs.FreqMinKHz/1000, rs.FreqMaxKHz/1000))
	}
	rs.Flag = strings.Join(flags, ", ")
}
