package bench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"armbench/internal/testenv"
	"armbench/profiles"
	"armbench/remote"
	"armbench/targets"
)

// shippedTargets are the local targets of the targets.toml armbench
// ships (and embeds), each deploying into a folder of the test's own.
func shippedTargets(t *testing.T, names ...string) ([]targets.Target, []profiles.Profile) {
	t.Helper()
	path := filepath.Join(moduleRoot(t), "targets.toml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := targets.Parse(path, data)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := profiles.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var ts []targets.Target
	for _, n := range names {
		tg, ok := cfg.Lookup(n)
		if !ok {
			t.Fatalf("the shipped targets.toml has no %s", n)
		}
		tg.DeployDir = filepath.Join(t.TempDir(), "device")
		if tg.Runner == "" {
			tg.Runner = testenv.QemuRunner(tg.GOARCH)
		}
		ts = append(ts, tg)
	}
	return ts, ps
}

// TestExecuteBoardsLocal benches the default profile on local-arm64 and
// local-armv7 at once: one comparison, a column per board with numbers in
// both, the armv7 one compared with the arm64 base; no board measured
// before both were deployed.
func TestExecuteBoardsLocal(t *testing.T) {
	testenv.Slow(t, "builds and benches on two emulated boards")
	testenv.Qemu(t, "arm64")
	testenv.Qemu(t, "arm")
	ts, ps := shippedTargets(t, "local-arm64", "local-armv7")
	out := t.TempDir()
	runsDir := t.TempDir()
	var specs []Spec
	var devs []remote.Device
	for _, tg := range ts {
		spec := NewSpec(tg, plansFor(t, tg, ps, out, "default"))
		spec.Bench, spec.Benchtime, spec.Warmup, spec.RunsDir = "^BenchmarkSHA256$", "20x", 0, runsDir
		specs = append(specs, spec)
		devs = append(devs, openLocal(t, tg))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var events []string
	finished := map[string]bool{}
	runs, err := ExecuteBoards(ctx, specs, devs, func(ev Event) {
		b, ok := ev.(BoardEvent)
		if !ok {
			t.Errorf("event %T not from a board", ev)
			return
		}
		switch ev := b.Flat().(type) {
		case Phase:
			if ev.Name == b.Target+" device" && ev.Done {
				events = append(events, "ready "+b.Target)
			}
		case RunStarted:
			if ev.Round == 0 {
				events = append(events, "round "+ev.Profile)
			}
			if want := b.Column; ev.Index != want {
				t.Errorf("%s: column %d, want %d", ev.Profile, ev.Index, want)
			}
		case Finished:
			finished[b.Target] = ev.Err == nil && ev.Run != nil
		}
	})
	if err != nil {
		t.Fatalf("ExecuteBoards: %v", err)
	}
	if len(runs) != 2 || runs[0] == nil || runs[1] == nil || !finished["local-arm64"] || !finished["local-armv7"] {
		t.Fatalf("runs %v, finished %v", runs, finished)
	}
	if len(events) != 4 || !strings.HasPrefix(events[0], "ready") || !strings.HasPrefix(events[1], "ready") {
		t.Errorf("events %q: both boards ready before either measures", events)
	}
	if runs[0].Device.Machine != "aarch64" || !strings.HasPrefix(runs[1].Device.Machine, "armv7") {
		t.Errorf("machines %q and %q", runs[0].Device.Machine, runs[1].Device.Machine)
	}
	tab, err := Compare(runs...)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(tab.Columns, " ") != "local-arm64/default local-armv7/default" {
		t.Errorf("columns %q", tab.Columns)
	}
	for col := range 2 {
		c := findCell(t, tab, "sec/op", "SHA256", col)
		if !c.Present || c.N != DefaultCount || c.Center <= 0 {
			t.Errorf("column %s: %+v, want %d rounds of numbers", tab.Columns[col], c, DefaultCount)
		}
	}
	if c := findCell(t, tab, "sec/op", "SHA256", 1); !c.Compared || c.Delta == "" {
		t.Errorf("armv7 not compared with the arm64 base: %+v", c)
	}
	if len(tab.ColumnConfig) != 2 || !strings.Contains(tab.ColumnConfig[0], "goarch: arm64") || !strings.Contains(tab.ColumnConfig[1], "goarch: arm") {
		t.Errorf("column config %q", tab.ColumnConfig)
	}
	var shared bool
	for _, n := range tab.Notes {
		shared = shared || strings.Contains(n, "ran at the same time")
	}
	if !shared {
		t.Errorf("notes %q: want the shared-CPU note", tab.Notes)
	}
	for _, r := range runs {
		if _, err := os.Stat(filepath.Join(r.Dir, "run.json")); err != nil {
			t.Errorf("run of %s not stored: %v", r.Target.Name, err)
		}
	}
}

// A board that fails before it is ready does not hold the others back.
func TestStartGateLeave(t *testing.T) {
	g := newStartGate(3)
	done := make(chan error, 2)
	for range 2 {
		go func() { done <- g.wait(context.Background()) }()
	}
	select {
	case <-done:
		t.Fatal("the gate opened before every board was in")
	case <-time.After(50 * time.Millisecond):
	}
	g.leave()
	for range 2 {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the gate stayed shut after the third board left")
		}
	}
}

// Boards that fail say which, and the others' runs are kept.
func TestExecuteBoardsErrors(t *testing.T) {
	ts, _ := shippedTargets(t, "local-arm64", "local-armv7")
	if _, err := ExecuteBoards(context.Background(), nil, nil, nil); err == nil {
		t.Error("no boards: want an error")
	}
	specs := []Spec{NewSpec(ts[0], nil), NewSpec(ts[1], nil)}
	if _, err := ExecuteBoards(context.Background(), specs, nil, nil); err == nil {
		t.Error("no devices: want an error")
	}
	// No profiles: each board fails its check at once.
	runs, err := ExecuteBoards(context.Background(), specs, make([]remote.Device, 2), nil)
	var be *BoardsError
	if !errors.As(err, &be) || strings.Join(be.Targets, ",") != "local-arm64,local-armv7" || len(runs) != 2 || runs[0] != nil {
		t.Fatalf("runs %v, err %v", runs, err)
	}
	if !strings.Contains(err.Error(), "local-armv7: bench on local-armv7: bench: no profiles") {
		t.Errorf("error %q", err)
	}
}

// Columns say their board when runs come from several, and stay named
// by profile when they come from one.
func TestColumnLabels(t *testing.T) {
	run := func(id, target string, profiles ...string) *Run {
		r := &Run{ID: id, Target: targets.Target{Name: target}}
		for _, p := range profiles {
			r.Profiles = append(r.Profiles, ProfileRun{Name: p})
		}
		return r
	}
	for _, c := range []struct {
		runs []*Run
		want string
	}{
		{[]*Run{run("r1", "pi4", "default", "release")}, "default release"},
		{[]*Run{run("r1", "pi4", "default"), run("r2", "pi4", "default")}, "r1/default r2/default"},
		{[]*Run{run("r1", "pi4", "default", "speed"), run("r2", "pi5", "default")}, "pi4/default pi4/speed pi5/default"},
		{[]*Run{run("r1", "pi4", "default"), run("r2", "pi5", "default"), run("r3", "pi5", "default")}, "pi4/default r2/default r3/default"},
	} {
		if got := strings.Join(columnLabels(c.runs), " "); got != c.want {
			t.Errorf("labels %q, want %q", got, c.want)
		}
	}
}
