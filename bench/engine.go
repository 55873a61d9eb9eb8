package bench

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"armbench/bench/probe/wire"
	"armbench/build"
	"armbench/deploy"
	"armbench/internal/shell"
	"armbench/profiles"
	"armbench/remote"
	"armbench/state"
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

// Spec says what a bench session measures. Start from NewSpec, which
// holds the defaults `armbench bench` uses, and change what the user
// chose. A number in a Spec means what it says: Warmup 0 is no warmup
// round. Only settings for which zero means nothing useful (Count,
// Interval, Bench, SchedTrace, the directories) fall back to their
// defaults when left zero, in withDefaults.
type Spec struct {
	Target targets.Target
	// Plans are the profiles to compare, the first the baseline: ModeTest
	// plans for Go benchmarks, ModeBinary plans for command runs.
	Plans []profiles.Plan

	Bench     string   // -test.bench regexp ("" = ".")
	Benchtime string   // -test.benchtime, "" = the go default
	Args      []string // command runs: the program's arguments
	Count     int      // rounds that count (0 = DefaultCount)
	Warmup    int      // rounds run first and discarded (0 = none)

	Interval   time.Duration // probe sampling (0 = DefaultInterval)
	SchedTrace time.Duration // GODEBUG=schedtrace period (0 = DefaultSchedTrace; <0 = off)

	// OutRoot is where the probe is built (default the plans' out root,
	// profiles.DefaultOutRoot in the first plan's Dir).
	OutRoot string
	// RunsDir is where the run is stored (default DefaultRunsDir in the
	// first plan's Dir); NoStore keeps it in memory only.
	RunsDir string
	NoStore bool
	// BuildParallel bounds concurrent builds (0 = build.RunAll's default).
	BuildParallel int
	// History records the profiles' installs for status (its Dir empty:
	// none). The probe is armbench's own tool and is never recorded.
	History state.History

	// Start, when set, is called once the session is built and deployed,
	// before its first round; an error ends the session. Boards benched
	// together (ExecuteBoards) wait there for each other.
	Start func(context.Context) error
	// Notes are added to the run's notes.
	Notes []string
}

// NewSpec is a session measuring plans on t with every setting at the
// default of `armbench bench`: every benchmark, DefaultCount counted
// rounds after DefaultWarmup discarded ones, sampled every
// DefaultInterval with schedtrace every DefaultSchedTrace.
func NewSpec(t targets.Target, plans []profiles.Plan) Spec {
	return Spec{
		Target:     t,
		Plans:      plans,
		Bench:      ".",
		Count:      DefaultCount,
		Warmup:     DefaultWarmup,
		Interval:   DefaultInterval,
		SchedTrace: DefaultSchedTrace,
	}
}

// withDefaults fills the settings left zero whose zero means nothing
// useful; the one place defaults are applied (Execute calls it once).
func (s Spec) withDefaults() Spec {
	if s.Bench == "" && s.kind() == KindGoTest {
		s.Bench = "."
	}
	if s.Count == 0 {
		s.Count = DefaultCount
	}
	if s.Interval <= 0 {
		s.Interval = DefaultInterval
	}
	if s.SchedTrace == 0 {
		s.SchedTrace = DefaultSchedTrace
	}
	dir := "."
	if len(s.Plans) > 0 && s.Plans[0].Dir != "" {
		dir = s.Plans[0].Dir
	}
	if s.OutRoot == "" {
		s.OutRoot = filepath.Join(dir, profiles.DefaultOutRoot)
	}
	if s.RunsDir == "" {
		s.RunsDir = filepath.Join(dir, DefaultRunsDir)
	}
	return s
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

// probe is the probe as a program armbench carries.
var probe = build.Embedded{
	Name: ProbeName, Description: "armbench's on-device probe",
	Source: probeSource, Under: "bench", Pkg: "./bench/probe", SrcDir: "probe-src",
}

// ProbePlan is the plan that cross-compiles the probe for t, so it never
// depends on the project being measured.
func ProbePlan(t targets.Target, outRoot string) (profiles.Plan, error) {
	return probe.Plan(t, outRoot)
}

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
	spec = spec.withDefaults()
	start := time.Now()
	run = &Run{
		Version:   RunVersion,
		Created:   start,
		Target:    spec.Target,
		Kind:      spec.kind(),
		Bench:     spec.Bench,
		Benchtime: spec.Benchtime,
		Args:      spec.Args,
		Notes:     slices.Clone(spec.Notes),
	}

	var plans []profiles.Plan
	var results []build.Result
	err = inPhase(emit, "build", func() (err error) {
		plans, results, err = buildAll(ctx, spec, emit)
		return err
	})
	if err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var arts []Artifact
	err = inPhase(emit, "deploy", func() (err error) {
		var warnings []string
		arts, warnings, err = deployAll(ctx, spec.Target, dev, spec.History, plans, results, emit)
		run.Notes = append(run.Notes, warnings...)
		return err
	})
	if err != nil {
		return nil, err
	}
	run.Probe = arts[0]
	for i, p := range spec.Plans {
		run.Profiles = append(run.Profiles, ProfileRun{Name: p.Profile.Name, Plan: p, Build: p.Shell(), Artifact: arts[i+1]})
	}
	if err := inPhase(emit, "device", func() error { return readDevice(ctx, dev, run) }); err != nil {
		return nil, err
	}
	if spec.Start != nil {
		if err := spec.Start(ctx); err != nil {
			return nil, err
		}
	}
	if err := inPhase(emit, "bench", func() error { return measure(ctx, spec, dev, run, emit) }); err != nil {
		return nil, err
	}
	run.Duration = time.Since(start)
	if !spec.NoStore {
		if err := inPhase(emit, "store", func() error { return run.Save(spec.RunsDir) }); err != nil {
			return nil, err
		}
	}
	return run, nil
}

// inPhase runs do between the Phase events that start and end name.
func inPhase(emit func(Event), name string, do func() error) error {
	emit(Phase{Name: name, Time: time.Now()})
	err := do()
	emit(Phase{Name: name, Done: true, Err: err, Time: time.Now()})
	return err
}

// buildAll builds the probe and every profile; the probe is plans[0] and
// results[0], the profiles follow in order.
func buildAll(ctx context.Context, spec Spec, emit func(Event)) ([]profiles.Plan, []build.Result, error) {
	probePlan, err := ProbePlan(spec.Target, spec.OutRoot)
	if err != nil {
		return nil, nil, err
	}
	plans := append([]profiles.Plan{probePlan}, spec.Plans...)
	results := build.RunAll(ctx, plans, spec.BuildParallel, func(i int, ev build.Event) {
		emit(Building{Profile: plans[i].Profile.Name, Index: i - 1, Event: ev})
	})
	for i, r := range results {
		if r.Err != nil {
			return nil, nil, r.Err
		}
		if r.Artifact == nil {
			return nil, nil, fmt.Errorf("build %s/%s: no artifact", spec.Target.Name, plans[i].Profile.Name)
		}
	}
	return plans, results, nil
}

// deployAll installs what buildAll built, the probe under ProbeName and
// each profile under its plan's DeployName, over dev, through the deploy
// pipeline; h records the profiles' installs.
// It returns, besides, the warnings of installs that went through but
// could not be recorded (status then cannot name their profile).
func deployAll(ctx context.Context, t targets.Target, dev remote.Device, h state.History, plans []profiles.Plan, results []build.Result, emit func(Event)) ([]Artifact, []string, error) {
	jobs := make([]deploy.Job, len(results))
	for i, r := range results {
		jobs[i] = deploy.Job{Plan: plans[i], Artifact: r.Artifact}
		if i == 0 {
			jobs[i].Name, jobs[i].Unrecorded = ProbeName, true
		}
	}
	pipe := deploy.Pipeline{
		History: h,
		Connect: func(context.Context, targets.Target, []string) (remote.Device, error) { return dev, nil },
	}
	res := pipe.Run(ctx, t, jobs, func(ev deploy.Event) {
		if d, ok := ev.(deploy.Deploying); ok {
			emit(Deploying{Profile: plans[d.Job].Profile.Name, Index: d.Job - 1, Event: d.Event})
		}
	})
	arts := make([]Artifact, len(plans))
	var warnings []string
	for i, r := range res {
		if r.Err != nil {
			return nil, nil, fmt.Errorf("deploy %s to %s: %w", r.Name, t.Name, r.Err)
		}
		if r.Warning != "" {
			warnings = append(warnings, fmt.Sprintf("%s: %s", r.Name, r.Warning))
		}
		a, inst := r.Artifact, r.Installed
		arts[i] = Artifact{
			Path: a.Path, Installed: inst.Path, Size: a.Size, SHA256: a.SHA256,
			GoVersion: a.GoVersion, Stripped: a.Stripped, Static: a.Static,
			BuildTime: results[i].Duration, DeployTime: inst.Duration, DeploySkipped: inst.Skipped, WireBytes: inst.WireBytes,
		}
	}
	return arts, warnings, nil
}

// readDevice asks the installed probe for the device's facts.
func readDevice(ctx context.Context, dev remote.Device, run *Run) error {
	info, err := DeviceFacts(ctx, dev, run.Target, run.Probe.Installed)
	if err != nil {
		return err
	}
	run.Device = *info
	if info.Emulated {
		run.Notes = append(run.Notes, "the device is emulated (qemu-user): timings show relative differences, not a real board's speed")
	}
	return nil
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
// (A B A B …), so slow drifts of the device hit all profiles alike. spec
// has its defaults applied.
func measure(ctx context.Context, spec Spec, dev remote.Device, run *Run, emit func(Event)) error {
	if emit == nil {
		emit = func(Event) {}
	}
	run.Count, run.Warmup, run.Interval = spec.Count, spec.Warmup, spec.Interval.Nanoseconds()
	if run.Kind == KindGoTest {
		run.Bench = spec.Bench
	}
	// Too few rounds is said by Stats, in every table made from the run.

	states := make([]*profileState, len(run.Profiles))
	for i := range run.Profiles {
		states[i] = &profileState{args: probeRunArgs(spec, run.Kind, &run.Profiles[i])}
	}
	m := measurer{spec: spec, dev: dev, run: run, emit: emit}
	for round := 0; round < spec.Warmup+spec.Count; round++ {
		for i := range run.Profiles {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := m.round(ctx, i, round, states[i]); err != nil {
				return err
			}
		}
	}
	for i := range run.Profiles {
		states[i].finish(&run.Profiles[i], spec.Target.GOARCH)
	}
	return nil
}

// probeRunArgs are the probe's arguments that run p's binary, with its
// run environment (schedtrace added) recorded in p.RunEnv.
func probeRunArgs(spec Spec, kind string, p *ProfileRun) []string {
	env := p.Plan.RunEnvStrings()
	// Command runs are Go programs armbench built, so they print
	// schedtrace too; the probe's host side takes it out of stderr.
	if spec.SchedTrace > 0 {
		env = mergeGODEBUG(env, "schedtrace="+strconv.FormatInt(spec.SchedTrace.Milliseconds(), 10))
	}
	p.RunEnv = env
	args := probeArgs(spec.Target, spec.Interval)
	for _, kv := range env {
		args = append(args, "-env", kv)
	}
	args = append(args, "--", p.Artifact.Installed)
	if kind != KindGoTest {
		return append(args, spec.Args...)
	}
	args = append(args, "-test.run=^$", "-test.bench="+spec.Bench, "-test.benchmem", "-test.count=1")
	if spec.Benchtime != "" {
		args = append(args, "-test.benchtime="+spec.Benchtime)
	}
	return args
}

// profileState is what one profile gathers over the rounds.
type profileState struct {
	args    []string
	config  []string // config lines of the first counted round
	results []string
	samples []sampleRecord
}

// add keeps a round's samples, and its results unless it was a warmup.
func (st *profileState) add(kind string, rs RoundStats, out roundOutput) {
	st.samples = append(st.samples, out.samples...)
	switch {
	case rs.Warmup:
	case kind == KindGoTest:
		if st.config == nil {
			st.config = out.config
		}
		st.results = append(st.results, out.results...)
	default:
		st.results = append(st.results, commandResult(rs))
	}
}

// finish summarizes p's rounds and lays out the benchmark text and
// samples to store.
func (st *profileState) finish(p *ProfileRun, goarch string) {
	p.Summary = summarize(p.Rounds)
	config := st.config
	if len(config) == 0 {
		config = []string{"goos: linux", "goarch: " + goarch}
	}
	var b strings.Builder
	for _, line := range slices.Concat(config, st.results) {
		b.WriteString(line + "\n")
	}
	p.text = []byte(b.String())
	p.BenchFile = safeName(p.Name) + ".txt"
	p.samples = st.samples
	if len(st.samples) > 0 {
		p.SamplesFile = safeName(p.Name) + ".samples.jsonl"
	}
}

// measurer runs the rounds of one session.
type measurer struct {
	spec Spec
	dev  remote.Device
	run  *Run
	emit func(Event)
}

// round runs profile i once and keeps what it measured.
func (m measurer) round(ctx context.Context, i, round int, st *profileState) error {
	p := &m.run.Profiles[i]
	warm := round < m.spec.Warmup
	probe := m.run.Probe.Installed
	cmdLine := shell.Join(append([]string{probe}, st.args...)...)
	m.emit(RunStarted{Profile: p.Name, Index: i, Round: round, Rounds: m.spec.Warmup + m.spec.Count, Warmup: warm, Command: cmdLine})
	rs, out, err := runRound(ctx, m.dev, probe, st.args, p.Name, i, round, warm, m.emit)
	if err == nil {
		err = m.roundFailure(p, rs, out)
	}
	if err != nil {
		err = fmt.Errorf("bench %s/%s round %d: %w", m.spec.Target.Name, p.Name, round, err)
	}
	m.emit(RunDone{Profile: p.Name, Index: i, Round: round, Stats: rs, Err: err})
	if err != nil {
		return err
	}
	p.Rounds = append(p.Rounds, rs)
	st.add(m.run.Kind, rs, out)
	return nil
}

// roundFailure is why a round that ran did not measure anything: the
// workload failed, or printed no benchmark results.
func (m measurer) roundFailure(p *ProfileRun, rs RoundStats, out roundOutput) error {
	binary := filepath.Base(p.Artifact.Installed)
	if rs.ExitCode != 0 {
		return fmt.Errorf("%s exited with status %d%s", binary, rs.ExitCode, tail(out.stderr, out.failLines))
	}
	if m.run.Kind == KindGoTest && len(out.results) == 0 {
		return fmt.Errorf("%s printed no benchmark results for -test.bench=%s%s", binary, m.spec.Bench, tail(out.stderr, out.failLines))
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
	r := &roundReader{profile: profile, index: index, round: round, warm: warm, emit: emit}
	st, err := dev.Run(ctx, remote.Command{Path: probe, Args: args}, r.handle)
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.parser.Flush(); ok {
		r.addSched(s)
	}
	rs := RoundStats{Profile: profile, Round: round, Warmup: warm}
	if err == nil {
		err = r.exitStats(&rs, st)
	}
	return rs, r.out, err
}

// roundReader turns the probe's JSON lines of one round into events and
// the round's output; dev.Run may call handle from several goroutines.
type roundReader struct {
	profile      string
	index, round int
	warm         bool
	emit         func(Event)

	mu      sync.Mutex
	out     roundOutput
	parser  SchedParser
	scheds  []SchedSample
	procs   []ProcSample
	exit    *wire.Exit
	perr    string
	lastT   time.Duration
	probeSE []string // the probe's own stderr
}

func (r *roundReader) handle(ev remote.Event) {
	o, ok := ev.(remote.Output)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if o.Stderr {
		// The probe's own complaints (the workload's stderr comes
		// wrapped in JSON on stdout).
		r.probeSE = append(r.probeSE, o.Text)
		r.emit(Line{Profile: r.profile, Index: r.index, Round: r.round, Stderr: true, Text: "probe: " + o.Text})
		return
	}
	var m wire.Message
	if err := json.Unmarshal([]byte(o.Text), &m); err != nil || m.Type == "" {
		r.emit(Line{Profile: r.profile, Index: r.index, Round: r.round, Text: o.Text})
		return
	}
	switch m.Type {
	case wire.TypeLine:
		r.lastT = time.Duration(m.T)
		if m.Stream == "stderr" {
			r.stderrLine(m.Text)
		} else {
			r.stdoutLine(m.Text)
		}
	case wire.TypeProc:
		if m.Proc != nil {
			r.procs = append(r.procs, *m.Proc)
			r.out.samples = append(r.out.samples, sampleRecord{Round: r.round, Warmup: r.warm, T: m.T, Proc: m.Proc})
			r.emit(Proc{Profile: r.profile, Index: r.index, Round: r.round, Warmup: r.warm, T: time.Duration(m.T), Sample: *m.Proc})
		}
	case wire.TypeExit:
		r.exit = m.Exit
	case wire.TypeError:
		r.perr = m.Error
	}
}

// stderrLine feeds the workload's stderr to the schedtrace parser and
// shows what is not schedtrace.
func (r *roundReader) stderrLine(text string) {
	done, consumed := r.parser.Line(text)
	for _, s := range done {
		r.addSched(s)
	}
	if consumed {
		return
	}
	r.out.stderr = append(r.out.stderr, text)
	if len(r.out.stderr) > 50 {
		r.out.stderr = r.out.stderr[1:]
	}
	r.emit(Line{Profile: r.profile, Index: r.index, Round: r.round, Stderr: true, T: r.lastT, Text: text})
}

// stdoutLine sorts the workload's stdout into results, configuration
// and failures, and shows it.
func (r *roundReader) stdoutLine(text string) {
	switch {
	case strings.HasPrefix(text, "Benchmark") && strings.Contains(text, "\t"):
		r.out.results = append(r.out.results, text)
	case isConfigLine(text):
		r.out.config = append(r.out.config, text)
	case strings.HasPrefix(text, "--- FAIL") || strings.HasPrefix(text, "FAIL") || strings.HasPrefix(text, "panic:"):
		r.out.failLines = append(r.out.failLines, text)
	}
	r.emit(Line{Profile: r.profile, Index: r.index, Round: r.round, T: r.lastT, Text: text})
}

func (r *roundReader) addSched(s SchedSample) {
	r.scheds = append(r.scheds, s)
	r.out.samples = append(r.out.samples, sampleRecord{Round: r.round, Warmup: r.warm, T: int64(r.lastT), Sched: &s})
	r.emit(Sched{Profile: r.profile, Index: r.index, Round: r.round, Warmup: r.warm, T: r.lastT, Sample: s})
}

// exitStats fills rs from the workload's exit the probe reported, and
// the samples of the round.
func (r *roundReader) exitStats(rs *RoundStats, st remote.ExitStatus) error {
	exit := r.exit
	switch {
	case r.perr != "":
		return fmt.Errorf("probe: %s", r.perr)
	case exit == nil:
		return fmt.Errorf("the probe ended (status %d%s) without reporting the workload's exit%s", st.Code, sigText(st.Signal), tail(r.probeSE, nil))
	case exit.WallNs < 0 || exit.UserNs < 0 || exit.SysNs < 0 || exit.MaxRSS < 0:
		return fmt.Errorf("the probe reported impossible times (wall %dns, user %dns, sys %dns, max RSS %d)", exit.WallNs, exit.UserNs, exit.SysNs, exit.MaxRSS)
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
	summarizeRound(rs, r.scheds, r.procs)
	return nil
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
	summarizeSched(rs, scheds)
	th := summarizeProc(rs, procs, len(scheds) > 0)
	var flags []string
	if th.flagged() {
		flags = append(flags, "throttled ("+rs.Throttled+")")
	}
	if rs.FreqMinKHz != 0 && rs.FreqMinKHz != rs.FreqMaxKHz {
		flags = append(flags, fmt.Sprintf("CPU frequency changed (%d–%d MHz)", rs.FreqMinKHz/1000, rs.FreqMaxKHz/1000))
	}
	rs.Flag = strings.Join(flags, ", ")
}

// summarizeSched fills the run queue, thread and idle figures from the
// schedtrace samples.
func summarizeSched(rs *RoundStats, scheds []SchedSample) {
	rs.SchedSamples = len(scheds)
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
}

// summarizeProc fills CPU, memory, frequency and temperature from the
// /proc samples; threads come from them only without schedtrace.
func summarizeProc(rs *RoundStats, procs []ProcSample, haveSched bool) throttling {
	rs.Samples = len(procs)
	rs.PeakRSS = rs.MaxRSS
	var cpu, threads float64
	var th throttling
	for _, p := range procs {
		cpu += p.CPU
		threads += float64(p.Threads)
		rs.PeakRSS = max(rs.PeakRSS, p.HWM, p.RSS)
		if !haveSched {
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
			th.add(p.Throttled)
			rs.Throttled = p.Throttled
		}
	}
	if n := float64(len(procs)); n > 0 {
		rs.MeanCPU = round2(cpu / n)
		if !haveSched {
			// Without schedtrace, the OS thread count from /proc.
			rs.MeanThreads = round2(threads / n)
		}
	}
	return th
}

// throttling follows a Raspberry Pi's get_throttled bits over a round.
type throttling struct {
	seen        bool
	first, last uint64
	current     uint64 // bits 0–3 seen at any sample
}

func (t *throttling) add(hex string) {
	v, err := strconv.ParseUint(strings.TrimPrefix(hex, "0x"), 16, 64)
	if err != nil {
		return
	}
	if !t.seen {
		t.first, t.seen = v, true
	}
	t.last = v
	t.current |= v & 0xf
}

// flagged: bits 0–3 are "now" (under-voltage, frequency capped,
// throttled, soft temperature limit); bits 16–19 latch "has occurred
// since boot", so a latch bit that appeared during the round counts too.
func (t throttling) flagged() bool {
	return t.current != 0 || (t.seen && (t.last&^t.first)&0xf0000 != 0)
}
