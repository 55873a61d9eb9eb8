package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"armbench/targets"
)

func fakeRun(created time.Time, slower float64) *Run {
	mk := func(name string, ns float64, size int64, flag string) ProfileRun {
		var b strings.Builder
		b.WriteString("goos: linux\ngoarch: arm64\npkg: w\n")
		for i := 0; i < 6; i++ {
			fmt.Fprintf(&b, "BenchmarkX-4 \t 100\t %.0f ns/op\t 64 B/op\t 2 allocs/op\n", ns+float64(i))
		}
		rounds := []RoundStats{{Round: 0, Warmup: true, Flag: "CPU frequency changed (600–1500 MHz)"}}
		for i := 1; i <= 6; i++ {
			r := RoundStats{Round: i, PeakRSS: 20 << 20, MeanRunQueue: 0.5, MeanThreads: 5, MeanCPU: 180, SchedSamples: 3, Wall: time.Second}
			if i == 3 {
				r.Flag = flag
			}
			rounds = append(rounds, r)
		}
		return ProfileRun{
			Name:     name,
			Artifact: Artifact{Size: size, BuildTime: 2 * time.Second, DeployTime: 300 * time.Millisecond},
			Rounds:   rounds,
			Summary:  summarize(rounds),
			text:     []byte(b.String()),
			samples:  []sampleRecord{{Round: 1, T: 5, Proc: &ProcSample{CPU: 99}}, {Round: 1, T: 6, Sched: &SchedSample{GOMAXPROCS: 4}}},
		}
	}
	return &Run{
		Version: RunVersion, Created: created, Target: targets.Target{Name: "pi4", GOARCH: "arm64"},
		Device: DeviceInfo{Model: "Raspberry Pi 4 Model B Rev 1.4", Cores: 4, Governor: "ondemand"},
		Kind:   KindGoTest, Count: 6, Warmup: 1,
		Profiles: []ProfileRun{mk("default", 1000, 2<<20, ""), mk("single-core", 1000*slower, 3<<20, "throttled (0x50005)")},
		Notes:    []string{"a note"},
	}
}

func TestSaveLoadCompare(t *testing.T) {
	root := t.TempDir()
	created := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	r1 := fakeRun(created, 2)
	if err := r1.Save(root); err != nil {
		t.Fatal(err)
	}
	if r1.ID != "20261127-120000-pi4" {
		t.Errorf("ID %q", r1.ID)
	}
	// Same second, same target: a second run gets its own folder.
	r2 := fakeRun(created, 1)
	if err := r2.Save(root); err != nil {
		t.Fatal(err)
	}
	if r2.ID != "20261127-120000-pi4-2" {
		t.Errorf("second ID %q", r2.ID)
	}
	for _, f := range []string{"run.json", "default.txt", "single-core.txt", "default.samples.jsonl"} {
		if _, err := os.Stat(filepath.Join(r1.Dir, f)); err != nil {
			t.Errorf("stored run lacks %s: %v", f, err)
		}
	}
	ids, err := ListRuns(root)
	if err != nil || strings.Join(ids, " ") != "20261127-120000-pi4 20261127-120000-pi4-2" {
		t.Errorf("ListRuns = %v, %v", ids, err)
	}

	// By ID, by folder, by run.json, by unique prefix; ambiguous and
	// unknown references fail with what exists.
	for _, ref := range []string{r1.ID, r1.Dir, filepath.Join(r1.Dir, "run.json")} {
		back, err := LoadRun(root, ref)
		if err != nil {
			t.Fatalf("LoadRun(%q): %v", ref, err)
		}
		if back.ID != r1.ID || len(back.Profiles) != 2 || back.Device.Governor != "ondemand" || back.Profiles[1].Summary.Flagged != 1 {
			t.Errorf("LoadRun(%q) = %+v", ref, back)
		}
	}
	if back, err := LoadRun(root, "20261127-120000-pi4-"); err != nil || back.ID != r2.ID {
		t.Errorf("prefix: %v %v", back, err)
	}
	if _, err := LoadRun(root, "2026"); err == nil || !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("ambiguous prefix: %v", err)
	}
	if _, err := LoadRun(root, "nope"); err == nil || !strings.Contains(err.Error(), "no such run") {
		t.Errorf("unknown: %v", err)
	}
	// A runs folder that cannot be read is reported as such, not as a typo.
	notDir := filepath.Join(t.TempDir(), "runs")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadRun(notDir, "nope"); err == nil || strings.Contains(err.Error(), "no such run") || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("LoadRun in a file: %v", err)
	}

	back, _ := LoadRun(root, r1.ID)
	tab, err := Compare(back)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(tab.Columns, ",") != "default,single-core" {
		t.Errorf("columns %v", tab.Columns)
	}
	c := findCell(t, tab, "sec/op", "X", 1)
	if !c.Significant || c.Delta != "+99.75%" {
		t.Errorf("cell %+v", c)
	}
	extras := map[string]ExtraRow{}
	for _, e := range tab.Extras {
		extras[e.Name] = e
	}
	if e := extras["binary size"]; e.Values[0] != "2.00 MiB" || e.Delta[1] != "+50.0%" {
		t.Errorf("binary size %+v", e)
	}
	if e := extras["peak RSS"]; e.Values[1] != "20.00 MiB" {
		t.Errorf("peak RSS %+v", e)
	}
	if e := extras["mean run queue"]; e.Values[0] != "0.50" {
		t.Errorf("run queue %+v", e)
	}
	for _, name := range []string{"build time", "deploy time", "mean threads", "CPU"} {
		if _, ok := extras[name]; !ok {
			t.Errorf("no %s row", name)
		}
	}
	// Only the counted round's flag shows, with its reason.
	if f := tab.Flagged["single-core"]; len(f) != 1 || f[0] != "round 3: throttled (0x50005)" {
		t.Errorf("flagged %v", tab.Flagged)
	}
	if len(tab.Flagged["default"]) != 0 {
		t.Errorf("the warmup's flag leaked: %v", tab.Flagged)
	}
	if len(tab.Notes) != 1 || tab.Notes[0] != "a note" {
		t.Errorf("notes %q", tab.Notes)
	}

	// Two runs: repeated profile names get the run ID.
	b2, _ := LoadRun(root, r2.ID)
	tab2, err := Compare(back, b2)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab2.Columns) != 4 || tab2.Columns[0] != r1.ID+"/default" || tab2.Columns[3] != r2.ID+"/single-core" {
		t.Errorf("columns %v", tab2.Columns)
	}

	// Samples replay.
	evs, err := back.Samples(0)
	if err != nil || len(evs) != 2 {
		t.Fatalf("samples %v %v", evs, err)
	}
	if p, ok := evs[0].(Proc); !ok || p.Sample.CPU != 99 || p.Round != 1 || p.Profile != "default" {
		t.Errorf("first sample %+v", evs[0])
	}
	if s, ok := evs[1].(Sched); !ok || s.Sample.GOMAXPROCS != 4 {
		t.Errorf("second sample %+v", evs[1])
	}
}

func TestLoadRunRejects(t *testing.T) {
	root := t.TempDir()
	write := func(id, body string) {
		os.MkdirAll(filepath.Join(root, id), 0o755)
		os.WriteFile(filepath.Join(root, id, "run.json"), []byte(body), 0o644)
	}
	write("newer", `{"version": 99, "profiles": [{"name": "a"}]}`)
	write("broken", `{"version": 1,`)
	write("empty", `{"version": 1, "profiles": []}`)
	for id, want := range map[string]string{"newer": "newer than this armbench", "broken": "unexpected end", "empty": "no profiles"} {
		if _, err := LoadRun(root, id); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want %q", id, err, want)
		}
	}
	if _, err := Compare(); err == nil {
		t.Error("Compare(): want an error")
	}
	// A run whose benchmark file is gone says which.
	r := fakeRun(time.Now(), 1)
	if err := r.Save(root); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(r.Dir, "default.txt"))
	back, err := LoadRun(root, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Compare(back); err == nil || !strings.Contains(err.Error(), "default.txt") {
		t.Errorf("missing file: %v", err)
	}
}

func TestFormatBytes(t *testing.T) {
	for v, want := range map[float64]string{0: "0 B", 1023: "1023 B", 1024: "1.00 KiB", 1.5 * (1 << 20): "1.50 MiB", 3 << 30: "3.00 GiB"} {
		if got := FormatBytes(v); got != want {
			t.Errorf("FormatBytes(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestSummarize(t *testing.T) {
	s := summarize([]RoundStats{
		{Warmup: true, PeakRSS: 1 << 30, MeanRunQueue: 100},
		{PeakRSS: 10, MeanRunQueue: 1, MeanThreads: 4, MeanCPU: 100, Wall: time.Second, ProbeCPU: 10 * time.Millisecond},
		{PeakRSS: 30, MeanRunQueue: 2, MeanThreads: 6, MeanCPU: 200, Wall: 3 * time.Second, ProbeCPU: 30 * time.Millisecond, Flag: "x"},
	})
	want := Summary{Rounds: 2, Flagged: 1, PeakRSS: 30, MeanRunQueue: 1.5, MeanThreads: 5, MeanCPU: 150, MeanWall: 2 * time.Second, ProbeCPU: 1}
	if s != want {
		t.Errorf("summary %+v, want %+v", s, want)
	}
}
