package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"armbench/build"
	"armbench/internal/testdevice"
	"armbench/profiles"
	"armbench/remote"
	"armbench/state"
	"armbench/targets"
)

// program writes a one-file module whose main prints msg and returns its
// directory; a msg of "" writes one that does not compile.
func program(t *testing.T, msg string) string {
	t.Helper()
	dir := t.TempDir()
	src := "package main\n\nfunc main() { println(\"" + msg + "\") }\n"
	if msg == "" {
		src = "package main\n\nfunc main() { undefined() }\n"
	}
	for name, body := range map[string]string{"go.mod": "module pipelinetest\n\ngo 1.26\n", "main.go": src} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func planOf(t *testing.T, tg targets.Target, profile, dir string) profiles.Plan {
	t.Helper()
	p, ok := profiles.Find(profiles.Builtins(), profile)
	if !ok {
		t.Fatalf("no built-in profile %s", profile)
	}
	plan, err := profiles.Resolve(tg, p, profiles.Options{Pkg: ".", Dir: dir, OutRoot: filepath.Join(dir, "out")})
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

func localTarget(t *testing.T) targets.Target {
	return targets.Target{Name: "local-arm64", Host: targets.LocalHost, GOOS: "linux", GOARCH: "arm64", DeployDir: t.TempDir()}
}

func sumOf(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Two profiles to a device over SSH (OpenSSH's sshd on loopback): both
// built, installed over one connection and recorded; the unchanged
// redeploy is skipped and adds no record.
func TestPipelineDeploysAndRecords(t *testing.T) {
	d := testdevice.Start(t)
	dir := program(t, "hello")
	hist := state.History{Dir: t.TempDir()}
	pipe := Pipeline{Remote: remote.Options{NoAgent: true, NoDefaultKeys: true}, History: hist}
	jobs := []Job{{Plan: planOf(t, d.Target, "release", dir)}, {Plan: planOf(t, d.Target, "debug", dir)}}
	var steps []string
	results := pipe.Run(context.Background(), d.Target, jobs, func(ev Event) {
		if s, ok := ev.(Deploying); ok {
			if st, ok := s.Event.(remote.Step); ok && !st.Done {
				steps = append(steps, st.Name)
			}
		}
	})
	for i, r := range results {
		if r.Err != nil || r.Build == nil || r.Installed.Skipped {
			t.Fatalf("job %d: %+v", i, r)
		}
		want := jobs[i].Plan.DeployName()
		if r.Name != want || r.Installed.Path != filepath.Join(d.Target.DeployDir, want) {
			t.Errorf("job %d installed %s as %s", i, r.Installed.Path, r.Name)
		}
		if got := sumOf(t, r.Installed.Path); got != r.Artifact.SHA256 {
			t.Errorf("job %d: the device has %s, the artifact is %s", i, got, r.Artifact.SHA256)
		}
		rec, ok := hist.Find(d.Target.Name, r.Installed.SHA256)
		if !ok || rec.Profile != jobs[i].Plan.Profile.Name || rec.Name != want {
			t.Errorf("job %d's record: %+v, %v", i, rec, ok)
		}
	}
	if len(steps) == 0 || steps[0] != "connect" {
		t.Errorf("remote steps %v", steps)
	}
	records := func() int {
		b, _ := os.ReadFile(filepath.Join(hist.Dir, "deploys", d.Target.Name+".jsonl"))
		n := 0
		for _, c := range b {
			if c == '\n' {
				n++
			}
		}
		return n
	}
	before := records()
	again := pipe.Run(context.Background(), d.Target, jobs[:1], nil)
	if again[0].Err != nil || !again[0].Installed.Skipped {
		t.Fatalf("unchanged redeploy: %+v", again[0])
	}
	if after := records(); after != before {
		t.Errorf("an unchanged redeploy added %d records", after-before)
	}
}

// The connection starts before the first build ends: a build that waits
// for the connector to be called finishes only because it is.
func TestPipelineConnectsWhileBuilding(t *testing.T) {
	tg := localTarget(t)
	dir := program(t, "hello")
	called := make(chan struct{})
	pipe := Pipeline{
		Connect: func(ctx context.Context, t targets.Target, names []string) (remote.Device, error) {
			close(called)
			return remote.Open(ctx, t, remote.Options{})
		},
		Build: func(ctx context.Context, plan profiles.Plan, emit func(build.Event)) build.Result {
			select {
			case <-called:
			case <-time.After(30 * time.Second):
				return build.Result{Err: errors.New("the connector was not called while the build ran")}
			}
			return build.Run(ctx, plan, emit)
		},
	}
	r := pipe.Run(context.Background(), tg, []Job{{Plan: planOf(t, tg, "release", dir)}}, nil)[0]
	if r.Err != nil {
		t.Fatal(r.Err)
	}
}

// A failed build fails its job only with KeepGoing, every later job
// without; a failed connection fails the first job at connect and the
// rest as not started, and records nothing.
func TestPipelineFailures(t *testing.T) {
	tg := localTarget(t)
	good, bad := program(t, "hello"), program(t, "")
	jobs := []Job{{Plan: planOf(t, tg, "release", bad)}, {Plan: planOf(t, tg, "release", good)}}
	hist := state.History{Dir: t.TempDir()}

	r := Pipeline{History: hist, KeepGoing: true}.Run(context.Background(), tg, jobs, nil)
	if r[0].Step != StepBuild || r[0].Err == nil || r[1].Err != nil || r[1].Installed.Path == "" {
		t.Errorf("keep going: %+v / %+v", r[0], r[1])
	}
	r = Pipeline{History: hist}.Run(context.Background(), tg, jobs, nil)
	if r[0].Step != StepBuild || !errors.Is(r[1].Err, ErrNotStarted) {
		t.Errorf("stop at the first failure: %+v / %+v", r[0], r[1])
	}

	down := errors.New("no route to host")
	hist = state.History{Dir: t.TempDir()}
	r = Pipeline{History: hist, KeepGoing: true, Connect: func(context.Context, targets.Target, []string) (remote.Device, error) {
		return nil, down
	}}.Run(context.Background(), tg, jobs[1:], nil)
	if r[0].Step != StepConnect || !errors.Is(r[0].Err, down) {
		t.Errorf("connect failure: %+v", r[0])
	}
	if entries, _ := os.ReadDir(hist.Dir); len(entries) != 0 {
		t.Errorf("a failed deploy left records: %v", entries)
	}
}
