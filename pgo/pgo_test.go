package pgo

import (
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"armbench/bench"
	"armbench/internal/testenv"
	"armbench/profiles"
	"armbench/remote"
	"armbench/targets"
)

// workloadCopy copies the sample workload into a module of its own, so
// the test can write its default.pgo without touching the repository.
func workloadCopy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("..", "examples", "workload")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") {
			continue
		}
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module pgoworkload\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func localTarget(t *testing.T) (targets.Target, profiles.Profile) {
	t.Helper()
	testenv.Qemu(t, "arm64")
	toml := fmt.Sprintf("[[target]]\nname = \"pgo-arm64\"\nhost = \"local\"\ngoarch = \"arm64\"\ncores = 2\nmemory = \"2GiB\"\ndeploy_dir = %q\nrunner = %q\n",
		filepath.Join(t.TempDir(), "device"), testenv.QemuRunner("arm64"))
	cfg, err := targets.Parse("pgo.toml", []byte(toml))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := profiles.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	speed, ok := profiles.Find(ps, "speed")
	if !ok {
		t.Fatal("no speed profile")
	}
	return cfg.Targets[0], speed
}

// TestPGOOnTheLocalTarget: a CPU profile is collected from the ARM test
// binary under qemu, written as default.pgo, the rebuilt binary's build
// info shows -pgo=default.pgo, and the before/after comparison is stored
// as a run.
func TestPGOOnTheLocalTarget(t *testing.T) {
	testenv.Slow(t, "builds and benchmarks under qemu")
	tgt, speed := localTarget(t)
	mod := workloadCopy(t)
	dev, err := remote.Open(context.Background(), tgt, remote.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	var steps []string
	spec := Spec{
		Target: tgt, Profile: speed, Pkg: ".", Dir: mod,
		Bench: "^BenchmarkSHA256$", Benchtime: "300ms",
		Compare: bench.Spec{Count: 2, Warmup: 0, Benchtime: "20x", RunsDir: filepath.Join(mod, "runs")},
	}
	// The order of the first steps and of what happens inside them:
	// "<step" and "step>" start and end a step, "B" and "D" are runs of
	// build and deploy events.
	var order []string
	mark := func(m string) {
		if len(order) == 0 || order[len(order)-1] != m {
			order = append(order, m)
		}
	}
	res, err := Run(context.Background(), spec, dev, func(ev Event) {
		switch ev := ev.(type) {
		case Step:
			if ev.Done {
				steps = append(steps, ev.Name)
				mark(ev.Name + ">")
			} else {
				mark("<" + ev.Name)
			}
		case Building:
			mark("B")
		case Deploying:
			mark("D")
		}
	})
	if err != nil {
		t.Fatalf("pgo: %v (steps done: %v)", err, steps)
	}
	if got := strings.Join(steps, ","); got != "build,deploy,collect,fetch,write,compare" {
		t.Errorf("steps %s", got)
	}
	if got, want := strings.Join(order[:min(len(order), 7)], " "), "<build B build> <deploy D deploy> <collect"; got != want {
		t.Errorf("events in order %q, want %q", got, want)
	}
	data, err := os.ReadFile(filepath.Join(mod, FileName))
	if err != nil || !isPprof(data) {
		t.Fatalf("default.pgo: %v, %d bytes", err, len(data))
	}
	if res.Merged || res.Bytes == 0 || res.Before != "speed-nopgo" || res.After != "speed-pgo" {
		t.Errorf("result %+v", res)
	}
	if res.Run == nil || len(res.Run.Profiles) != 2 || res.Run.Dir == "" {
		t.Fatalf("run not stored: %+v", res.Run)
	}
	if _, err := os.Stat(filepath.Join(res.Run.Dir, "run.json")); err != nil {
		t.Errorf("stored run: %v", err)
	}
	pgoSetting := func(path string) string {
		bi, err := buildinfo.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range bi.Settings {
			if s.Key == "-pgo" {
				return s.Value
			}
		}
		return ""
	}
	if got := pgoSetting(res.Run.Profiles[1].Artifact.Path); got != FileName {
		t.Errorf("after: build info -pgo=%q, want %s", got, FileName)
	}
	if got := pgoSetting(res.Run.Profiles[0].Artifact.Path); got != "" {
		t.Errorf("before: build info -pgo=%q, want none", got)
	}

	// Run again without consent: refused before anything is built, and
	// the profile is untouched.
	_, err = Run(context.Background(), spec, dev, nil)
	if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), filepath.Join(mod, FileName)) {
		t.Fatalf("second run without --merge: %v", err)
	}
	again, _ := os.ReadFile(filepath.Join(mod, FileName))
	if string(again) != string(data) {
		t.Error("refused run changed default.pgo")
	}

	// Merging the profile into itself keeps the old one as .prev and
	// writes a profile that still parses.
	merged, err := install(context.Background(), filepath.Join(mod, FileName), data, true)
	if err != nil || !merged {
		t.Fatalf("merge: %v, %v", merged, err)
	}
	if prev, err := os.ReadFile(filepath.Join(mod, FileName+".prev")); err != nil || string(prev) != string(data) {
		t.Errorf("default.pgo.prev: %v", err)
	}
}

func TestInstallRejectsWhatIsNotAProfile(t *testing.T) {
	dest := filepath.Join(t.TempDir(), FileName)
	if _, err := install(context.Background(), dest, []byte("\x1f\x8bnot really"), false); err == nil || !strings.Contains(err.Error(), "pprof") {
		t.Fatalf("got %v, want go tool pprof's complaint", err)
	}
	if _, err := os.Stat(dest); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed install left %s: %v", dest, err)
	}
}
