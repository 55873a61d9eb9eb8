package bench

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"armbench/bench/probe/wire"
	"armbench/internal/atomicfile"
	"armbench/profiles"
	"armbench/targets"
)

// DefaultRunsDir is where runs are stored, relative to the workspace.
const DefaultRunsDir = ".armbench/runs"

// RunVersion is the format version of run.json.
const RunVersion = 1

// Kinds of run.
const (
	KindGoTest  = "go-test" // go test -c binaries, -test.bench
	KindCommand = "command" // the program itself, timed like hyperfine
)

// DeviceInfo is what the probe reports about the device.
type DeviceInfo = wire.Info

// ProcSample is one /proc and /sys sample from the probe.
type ProcSample = wire.Proc

// Run is one stored benchmark session: every profile, every round.
type Run struct {
	Version  int            `json:"version"`
	ID       string         `json:"id"` // "<timestamp>-<target>", also the folder name
	Dir      string         `json:"-"`  // where it is stored ("" until stored)
	Created  time.Time      `json:"created"`
	Duration time.Duration  `json:"duration"`
	Target   targets.Target `json:"target"`
	Device   DeviceInfo     `json:"device"`

	Kind      string   `json:"kind"`
	Bench     string   `json:"bench,omitempty"` // -test.bench regexp
	Benchtime string   `json:"benchtime,omitempty"`
	Args      []string `json:"args,omitempty"` // command runs
	Count     int      `json:"count"`
	Warmup    int      `json:"warmup"`
	Interval  int64    `json:"interval_ns"`

	Probe    Artifact     `json:"probe"`
	Profiles []ProfileRun `json:"profiles"`
	// Notes are things the reader of the results should know (too few
	// rounds, an emulated device, …).
	Notes []string `json:"notes,omitempty"`
}

// Artifact is a built file as deployed.
type Artifact struct {
	Path      string `json:"path"`      // on this machine
	Installed string `json:"installed"` // on the device
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"`
	GoVersion string `json:"go_version,omitempty"`
	Stripped  bool   `json:"stripped,omitempty"`
	Static    bool   `json:"static,omitempty"`
	// BuildTime and DeployTime are how long this artifact took to build and
	// to install; DeploySkipped says the device already had it.
	BuildTime     time.Duration `json:"build_time"`
	DeployTime    time.Duration `json:"deploy_time"`
	DeploySkipped bool          `json:"deploy_skipped,omitempty"`
	WireBytes     int64         `json:"wire_bytes,omitempty"`
}

// ProfileRun is one profile's part of a Run.
type ProfileRun struct {
	Name     string        `json:"name"`
	Plan     profiles.Plan `json:"plan"`
	Build    string        `json:"build_command"` // Plan.Shell()
	RunEnv   []string      `json:"run_env"`       // as the workload got it, GODEBUG merged
	Artifact Artifact      `json:"artifact"`
	// BenchFile is the raw benchmark text, in the run's folder
	// ("<profile>.txt"), which benchstat reads.
	BenchFile string `json:"bench_file"`
	// SamplesFile holds every sched and proc sample as JSON lines.
	SamplesFile string       `json:"samples_file,omitempty"`
	Rounds      []RoundStats `json:"rounds"`
	Summary     Summary      `json:"summary"`

	text    []byte         // the benchmark text, until stored
	samples []sampleRecord // the samples, until stored
}

// RoundStats summarises one run of one profile.
type RoundStats struct {
	Profile string `json:"profile"`
	Round   int    `json:"round"` // 0-based, warmups first
	Warmup  bool   `json:"warmup,omitempty"`

	// Measured by the probe on the device.
	Wall     time.Duration `json:"wall"`
	User     time.Duration `json:"user"`
	Sys      time.Duration `json:"sys"`
	MaxRSS   int64         `json:"max_rss"` // bytes
	ExitCode int           `json:"exit_code"`
	Signal   string        `json:"signal,omitempty"`
	ProbeCPU time.Duration `json:"probe_cpu"` // the probe's own CPU time

	Samples      int `json:"samples"`
	SchedSamples int `json:"sched_samples"`
	// Scheduler: run queue is global plus per-P.
	MeanRunQueue  float64 `json:"mean_runqueue"`
	MaxRunQueue   int     `json:"max_runqueue"`
	MeanThreads   float64 `json:"mean_threads"`
	MaxThreads    int     `json:"max_threads"`
	MeanIdleProcs float64 `json:"mean_idleprocs"`
	GOMAXPROCS    int     `json:"gomaxprocs,omitempty"`
	// Process and system.
	MeanCPU      float64 `json:"mean_cpu"` // % of one core
	PeakRSS      int64   `json:"peak_rss"` // bytes, the larger of /proc VmHWM and rusage
	FreqMinKHz   int64   `json:"freq_min_khz,omitempty"`
	FreqMaxKHz   int64   `json:"freq_max_khz,omitempty"`
	MaxTempMilli int64   `json:"max_temp_mc,omitempty"`
	Throttled    string  `json:"throttled,omitempty"`

	// Flag says why this round's numbers are suspect ("" = clean):
	// throttling or a CPU frequency change during the round.
	Flag string `json:"flag,omitempty"`
}

// Summary is a profile's rounds taken together (warmups excluded).
type Summary struct {
	Rounds       int           `json:"rounds"`
	Flagged      int           `json:"flagged"`
	PeakRSS      int64         `json:"peak_rss"`
	MeanRunQueue float64       `json:"mean_runqueue"`
	MeanThreads  float64       `json:"mean_threads"`
	MeanCPU      float64       `json:"mean_cpu"`
	MeanWall     time.Duration `json:"mean_wall"`
	MaxTempMilli int64         `json:"max_temp_mc,omitempty"`
	ProbeCPU     float64       `json:"probe_cpu_pct"` // probe CPU / workload wall, %, its start-up included
}

func summarize(rounds []RoundStats) Summary {
	var s Summary
	var wall, probe time.Duration
	for _, r := range rounds {
		if r.Warmup {
			continue
		}
		s.Rounds++
		if r.Flag != "" {
			s.Flagged++
		}
		s.PeakRSS = max(s.PeakRSS, r.PeakRSS)
		s.MeanRunQueue += r.MeanRunQueue
		s.MeanThreads += r.MeanThreads
		s.MeanCPU += r.MeanCPU
		s.MaxTempMilli = max(s.MaxTempMilli, r.MaxTempMilli)
		wall += r.Wall
		probe += r.ProbeCPU
	}
	if s.Rounds > 0 {
		n := float64(s.Rounds)
		s.MeanRunQueue = round2(s.MeanRunQueue / n)
		s.MeanThreads = round2(s.MeanThreads / n)
		s.MeanCPU = round2(s.MeanCPU / n)
		s.MeanWall = wall / time.Duration(s.Rounds)
	}
	if wall > 0 {
		s.ProbeCPU = round2(float64(probe) / float64(wall) * 100)
	}
	return s
}

func round2(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }

// Save writes r into root/<ID>/: run.json and each profile's benchmark
// text. It picks the ID when r has none.
func (r *Run) Save(root string) error {
	if root == "" {
		root = DefaultRunsDir
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return fmt.Errorf("store run: %w", err)
	}
	if r.ID == "" {
		if err := r.claimID(root); err != nil {
			return fmt.Errorf("store run: %w", err)
		}
	}
	dir := filepath.Join(root, r.ID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("store run: %w", err)
	}
	for i := range r.Profiles {
		if err := r.Profiles[i].save(dir); err != nil {
			return fmt.Errorf("store run %s: %w", r.ID, err)
		}
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("store run %s: %w", r.ID, err)
	}
	if err := atomicfile.Write(filepath.Join(dir, "run.json"), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("store run %s: %w", r.ID, err)
	}
	r.Dir = dir
	return nil
}

// claimID names the run after its start and target, adding -2, -3… when
// another run in root has that name, and creates its directory.
func (r *Run) claimID(root string) error {
	base := r.Created.Format("20060102-150405") + "-" + safeName(r.Target.Name)
	r.ID = base
	for i := 2; ; i++ {
		err := os.Mkdir(filepath.Join(root, r.ID), 0o755)
		if err == nil || !errors.Is(err, os.ErrExist) {
			return err
		}
		r.ID = fmt.Sprintf("%s-%d", base, i)
	}
}

// save writes the profile's benchmark text and samples into dir.
func (p *ProfileRun) save(dir string) error {
	if p.BenchFile == "" {
		p.BenchFile = safeName(p.Name) + ".txt"
	}
	if p.text != nil {
		if err := atomicfile.Write(filepath.Join(dir, p.BenchFile), p.text, 0o644); err != nil {
			return err
		}
	}
	if len(p.samples) == 0 {
		return nil
	}
	if p.SamplesFile == "" {
		p.SamplesFile = safeName(p.Name) + ".samples.jsonl"
	}
	var buf []byte
	for _, rec := range p.samples {
		line, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		buf = append(append(buf, line...), '\n')
	}
	return atomicfile.Write(filepath.Join(dir, p.SamplesFile), buf, 0o644)
}

func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 || strings.Trim(b.String(), ".") == "" {
		return "_"
	}
	return b.String()
}

// BenchText returns a profile's raw benchmark text (from memory, or from
// the stored file).
func (r *Run) BenchText(i int) ([]byte, error) {
	p := &r.Profiles[i]
	if p.text != nil {
		return p.text, nil
	}
	if r.Dir == "" {
		return nil, fmt.Errorf("run %s: profile %s has no benchmark text", r.ID, p.Name)
	}
	data, err := os.ReadFile(filepath.Join(r.Dir, p.BenchFile))
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", r.ID, err)
	}
	return data, nil
}

// LoadRun reads a stored run: ref is a run folder, its run.json, or an ID
// (or unique ID prefix) inside root.
func LoadRun(root, ref string) (*Run, error) {
	if root == "" {
		root = DefaultRunsDir
	}
	candidates := []string{ref, filepath.Join(root, ref)}
	for _, c := range candidates {
		if filepath.Base(c) == "run.json" {
			c = filepath.Dir(c)
		}
		if st, err := os.Stat(filepath.Join(c, "run.json")); err == nil && st.Mode().IsRegular() {
			return loadDir(c)
		}
	}
	// A unique prefix of an ID.
	ids, err := ListRuns(root)
	if err != nil {
		// Unreadable, not empty: "no such run" would send the user looking
		// for a typo.
		return nil, fmt.Errorf("run %q: %w", ref, err)
	}
	var match []string
	for _, id := range ids {
		if strings.HasPrefix(id, ref) {
			match = append(match, id)
		}
	}
	switch len(match) {
	case 1:
		return loadDir(filepath.Join(root, match[0]))
	case 0:
		return nil, fmt.Errorf("run %q: no such run folder or ID in %s", ref, root)
	}
	return nil, fmt.Errorf("run %q is ambiguous in %s: %s", ref, root, strings.Join(match, ", "))
}

func loadDir(dir string) (*Run, error) {
	path := filepath.Join(dir, "run.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load run: %w", err)
	}
	var r Run
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("load run %s: %w", path, err)
	}
	if r.Version > RunVersion {
		return nil, fmt.Errorf("load run %s: format version %d is newer than this armbench (%d)", path, r.Version, RunVersion)
	}
	if len(r.Profiles) == 0 {
		return nil, fmt.Errorf("load run %s: no profiles", path)
	}
	r.Dir = dir
	return &r, nil
}

// ListRuns returns the IDs of the runs stored in root, oldest first.
func ListRuns(root string) ([]string, error) {
	if root == "" {
		root = DefaultRunsDir
	}
	// A file where the folder should be: not every OS says so from
	// ReadDir (Windows may answer "not found", Wine an empty list), and
	// "no such run" would send the user looking for a typo.
	if st, err := os.Stat(root); err == nil && !st.IsDir() {
		return nil, fmt.Errorf("runs folder %s is not a directory", root)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(root, e.Name(), "run.json")); err == nil {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// Compare builds the side-by-side table of one or more runs: every
// profile of every run is a column, the first the baseline. Columns are
// named by profile; by "<target>/<profile>" when the runs come from
// several boards; by "<run ID>/<profile>" when names still repeat.
func Compare(runs ...*Run) (*Table, error) {
	if len(runs) == 0 {
		return nil, errors.New("compare: no runs")
	}
	labels := columnLabels(runs)
	var inputs []Input
	var cols []*ProfileRun
	for _, r := range runs {
		for i := range r.Profiles {
			p := &r.Profiles[i]
			label := labels[len(inputs)]
			text, err := r.BenchText(i)
			if err != nil {
				return nil, fmt.Errorf("compare: %w", err)
			}
			inputs = append(inputs, Input{Label: label, Data: text})
			cols = append(cols, p)
		}
	}
	t, err := Stats(inputs)
	if err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	for _, e := range extraFacts() {
		t.Extras = append(t.Extras, e.row(cols))
	}
	for i, p := range cols {
		for _, r := range p.Rounds {
			if r.Flag == "" || r.Warmup {
				continue
			}
			if t.Flagged == nil {
				t.Flagged = map[string][]string{}
			}
			label := inputs[i].Label
			t.Flagged[label] = append(t.Flagged[label], fmt.Sprintf("round %d: %s", r.Round, r.Flag))
		}
	}
	seen := map[string]bool{}
	for _, r := range runs {
		for _, n := range r.Notes {
			if !seen[n] {
				seen[n] = true
				t.Notes = append(t.Notes, n)
			}
		}
	}
	return t, nil
}

// extraFact is one fact shown beneath the benchmarks: its value for a
// profile (false when the profile has none) and how it is written.
type extraFact struct {
	name   string
	value  func(p *ProfileRun) (float64, bool)
	format func(float64) string
}

func extraFacts() []extraFact {
	fixed := func(prec int, suffix string) func(float64) string {
		return func(v float64) string { return strconv.FormatFloat(v, 'f', prec, 64) + suffix }
	}
	return []extraFact{
		{"binary size", func(p *ProfileRun) (float64, bool) { return float64(p.Artifact.Size), p.Artifact.Size > 0 }, FormatBytes},
		{"build time", func(p *ProfileRun) (float64, bool) { return p.Artifact.BuildTime.Seconds(), p.Artifact.BuildTime > 0 }, formatSeconds},
		{"deploy time", func(p *ProfileRun) (float64, bool) { return p.Artifact.DeployTime.Seconds(), p.Artifact.DeployTime > 0 }, formatSeconds},
		{"peak RSS", func(p *ProfileRun) (float64, bool) { return float64(p.Summary.PeakRSS), p.Summary.PeakRSS > 0 }, FormatBytes},
		{"mean run queue", func(p *ProfileRun) (float64, bool) { return p.Summary.MeanRunQueue, hasSched(p) }, fixed(2, "")},
		{"mean threads", func(p *ProfileRun) (float64, bool) { return p.Summary.MeanThreads, hasSched(p) }, fixed(1, "")},
		{"CPU", func(p *ProfileRun) (float64, bool) { return p.Summary.MeanCPU, p.Summary.Rounds > 0 }, fixed(0, "%")},
	}
}

// row is the fact for every column, with its change against the first.
func (e extraFact) row(cols []*ProfileRun) ExtraRow {
	row := ExtraRow{Name: e.name}
	for _, p := range cols {
		v, ok := e.value(p)
		row.Raw = append(row.Raw, v)
		row.Has = append(row.Has, ok)
		if ok {
			row.Values = append(row.Values, e.format(v))
		} else {
			row.Values = append(row.Values, "-")
		}
	}
	for i := range cols {
		d := ""
		if i > 0 && row.Has[0] && row.Has[i] && row.Raw[0] != 0 {
			d = fmt.Sprintf("%+.1f%%", (row.Raw[i]/row.Raw[0]-1)*100)
		}
		row.Delta = append(row.Delta, d)
	}
	return row
}

func hasSched(p *ProfileRun) bool {
	for _, r := range p.Rounds {
		if r.SchedSamples > 0 && !r.Warmup {
			return true
		}
	}
	return false
}

// FormatBytes prints a byte count with a binary prefix: "1.50 MiB".
func FormatBytes(v float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", v)
	}
	return fmt.Sprintf("%.2f %s", v, units[i])
}

func formatSeconds(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", s)
	default:
		return fmt.Sprintf("%.0fms", s*1000)
	}
}

// Samples loads a profile's stored samples as events (for the UI to
// replay a run).
func (r *Run) Samples(i int) ([]Event, error) {
	p := r.Profiles[i]
	if p.SamplesFile == "" || r.Dir == "" {
		return nil, nil
	}
	f, err := os.Open(filepath.Join(r.Dir, p.SamplesFile))
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", r.ID, err)
	}
	defer f.Close()
	var out []Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var rec sampleRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("run %s: %s: %w", r.ID, p.SamplesFile, err)
		}
		switch {
		case rec.Sched != nil:
			out = append(out, Sched{Profile: p.Name, Index: i, Round: rec.Round, Warmup: rec.Warmup, T: time.Duration(rec.T), Sample: *rec.Sched})
		case rec.Proc != nil:
			out = append(out, Proc{Profile: p.Name, Index: i, Round: rec.Round, Warmup: rec.Warmup, T: time.Duration(rec.T), Sample: *rec.Proc})
		}
	}
	return out, sc.Err()
}

// sampleRecord is one line of a samples file.
type sampleRecord struct {
	Round  int          `json:"round"`
	Warmup bool         `json:"warmup,omitempty"`
	T      int64        `json:"t"`
	Sched  *SchedSample `json:"sched,omitempty"`
	Proc   *ProcSample  `json:"proc,omitempty"`
}
