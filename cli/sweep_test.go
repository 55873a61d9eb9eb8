package cli

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"armbench/internal/testenv"
)

// Mistakes are said before anything is built, naming the knob and the
// value, with exit code 2.
func TestSweepCLIUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sweep", "--target", "local-arm64"}, "--knob NAME=V1,V2,… is required"},
		{[]string{"sweep", "--target", "local-arm64", "--knob", "GOGCC=25"}, `unknown knob "GOGCC" (did you mean GOGC?)`},
		{[]string{"sweep", "--target", "local-arm64", "--knob", "GOGC=25,lots"}, `knob GOGC: value "lots"`},
		{[]string{"sweep", "--target", "local-arm64", "--knob", "GOMAXPROCS=0,1"}, `knob GOMAXPROCS: value "0"`},
		{[]string{"sweep", "--target", "local-arm64", "--knob", "goarm=6,7"}, "goarm is for goarch arm"},
		{[]string{"sweep", "--target", "local-arm64", "--knob", "GOGC=100"}, "list at least one other value"},
		{[]string{"sweep", "--target", "local-arm64", "--knob", "GOGC=1,2", "--knob", "GOGC=3"}, "given twice"},
		{[]string{"sweep", "--target", "local-arm64", "--knob", "GOGC=1,2", "--format", "pdf"}, `--format "pdf"`},
		{[]string{"sweep", "--target", "local-arm64", "--knob", "GOGC=1,2", "--goal", "speed"}, `--goal "speed"`},
		{[]string{"sweep", "--target", "local-arm64", "--knob", "GOGC=1,2", "--save", "release"}, "--save release: a profile of that name exists"},
		{[]string{"sweep", "--target", "local-arm64", "--knob", "GOGC=1,2", "--save", "no good"}, "not a valid name"},
		{[]string{"sweep", "--target", "local-arm64", "--knob", "GOGC=1,2", "--profile", "nope"}, `unknown profile "nope"`},
		{[]string{"sweep", "--target", "local-arm64", "--knob", "GOGC=1,2", "stray"}, `unexpected argument "stray"`},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("armbench %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), code, stderr, exitUsage, tc.want)
		}
		if strings.Contains(stderr, "Usage of") {
			t.Errorf("armbench %s: the whole usage for one mistake:\n%s", strings.Join(tc.args, " "), stderr)
		}
	}
}

// TestSweepCLIEndToEnd is the goal: a GOGC sweep of 25, 100 and
// 400 on the shipped local arm64 target (qemu-user) gives a row and a
// point per value, each with p, and --save adds a profile that
// `armbench profiles` lists.
func TestSweepCLIEndToEnd(t *testing.T) {
	testenv.Slow(t, "builds and runs benchmarks under qemu")
	testenv.Qemu(t, "arm64")
	dir := chdirRepoCopy(t)
	before, err := os.ReadFile("targets.toml")
	if err != nil {
		t.Fatal(err)
	}
	runs := filepath.Join(dir, "runs")
	svg := filepath.Join(dir, "sweep.svg")
	code, stdout, stderr := runCLI(t, "sweep", "--target", "local-arm64", "--profile", "release", "--knob", "GOGC=25,100,400",
		"--bench", "^BenchmarkAllocGC$", "--benchtime", "20x", "--count", "4", "--warmup", "0", "--runs", runs,
		"--format", "svg", "--out", svg, "--save", "release-gc", "--json")
	if code != 0 {
		t.Fatalf("sweep exit %d\nstderr: %s\nstdout tail: %s", code, stderr, tailLines(stdout, 10))
	}
	types := map[string]int{}
	var result sweepResultJSON
	var planned sweepPlannedJSON
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var probe struct{ Type string }
		if err := json.Unmarshal(sc.Bytes(), &probe); err != nil {
			t.Fatalf("not JSON: %q", sc.Text())
		}
		types[probe.Type]++
		switch probe.Type {
		case "result":
			if err := json.Unmarshal(sc.Bytes(), &result); err != nil {
				t.Fatal(err)
			}
		case "sweep_planned":
			if err := json.Unmarshal(sc.Bytes(), &planned); err != nil {
				t.Fatal(err)
			}
		}
	}
	if types["sweep_planned"] != 1 || types["round_done"] != 12 || types["result"] != 1 {
		t.Errorf("event counts %v: want the plan, 12 rounds (4 × 3 variants), one result", types)
	}
	if len(planned.Variants) != 3 || planned.Base != 1 || planned.Variants[1].Name != "release" {
		t.Errorf("planned %+v: want 3 variants, the base GOGC=100 (release's own, the runtime default) second", planned)
	}
	res := result.Sweep
	if res == nil || len(res.Variants) != 3 || len(res.Benchmarks) != 1 || res.RunID == "" {
		t.Fatalf("result %+v", res)
	}
	// A row and a point per value, each with p against the base.
	for i, want := range []string{"GOGC=25", "GOGC=100", "GOGC=400"} {
		v := res.Variants[i]
		c := res.Benchmarks[0].Cells[i]
		if v.Label != want || !c.Present || c.Center <= 0 || !v.RSS.Present || !v.HasTime {
			t.Errorf("variant %d: %s, cell %+v, rss %+v; want %s with a time and a peak RSS", i, v.Label, c, v.RSS, want)
		}
		if i != 1 && (!c.Compared || !strings.Contains(c.PText, "p=") || !strings.Contains(v.RSS.PText, "p=")) {
			t.Errorf("%s: no p against the base: time %q, rss %q", want, c.PText, v.RSS.PText)
		}
	}
	if result.Saved == nil || result.Saved.Profile != "release-gc" {
		t.Fatalf("saved %+v", result.Saved)
	}

	// The chart: a time point and an RSS point per value.
	b, err := os.ReadFile(svg)
	if err != nil || strings.Count(string(b), `class="point"`) != 3 || strings.Count(string(b), `class="rss-point"`) != 3 {
		t.Errorf("svg: %v\n%.400s", err, b)
	}
	if _, err := os.Stat(filepath.Join(res.RunDir, "sweep.json")); err != nil {
		t.Errorf("the sweep is not kept beside its run: %v", err)
	}

	// --save appended a profile, after the file's own bytes.
	after, err := os.ReadFile("targets.toml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(after), string(before)) {
		t.Error("targets.toml changed above the saved profile")
	}
	// The best may be the base itself on a noisy emulated run: then the
	// comment says so, with no delta to give a p for.
	wants := []string{"run " + res.RunID, result.Saved.Variant + ", best by time", "(p=", `name = "release-gc"`, `extends = "release"`}
	if result.Saved.Variant == res.Variants[1].Label {
		wants = []string{"run " + res.RunID, "own " + result.Saved.Variant + " was the best by time", `name = "release-gc"`, `extends = "release"`}
	}
	for _, want := range wants {
		if !strings.Contains(string(after[len(before):]), want) {
			t.Errorf("the saved block lacks %q:\n%s", want, after[len(before):])
		}
	}
	code, stdout, stderr = runCLI(t, "profiles")
	if code != 0 || !strings.Contains(stdout, "release-gc (user)") {
		t.Errorf("profiles: exit %d, %s\n%s", code, stderr, stdout)
	}
	// A second save under the name is refused before anything runs.
	code, _, stderr = runCLI(t, "sweep", "--target", "local-arm64", "--profile", "release", "--knob", "GOGC=25,100", "--save", "release-gc")
	if code != exitUsage || !strings.Contains(stderr, "exists already") {
		t.Errorf("second --save release-gc: exit %d, %s", code, stderr)
	}
}
