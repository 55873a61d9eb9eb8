package ui

import (
	"errors"
	"strings"
	"testing"
	"time"

	"armbench/build"
	"armbench/remote"
	"armbench/watch"
)

// TestWatchFlowDrawsCycles: w starts a watch task; a cycle's build goes
// to the log pane, its deploy, restart and program output to the run
// pane; a failed build says the program keeps running; x stops it all.
func TestWatchFlowDrawsCycles(t *testing.T) {
	m := newFlowModel(t, 120, 40)
	tickProfiles(t, m, "release")
	keys(m, "w")
	tk := actTask(m)
	if tk == nil || tk.kind != "watch" || !tk.running() {
		t.Fatalf("w did not start a watch task; notice %q", m.notice)
	}
	ev := func(es ...watch.Event) {
		var batch []any
		for _, e := range es {
			batch = append(batch, watchEvent{e})
		}
		send(m, taskMsg{id: tk.id, events: batch})
	}
	ok := build.Result{Profile: "release", Artifact: &build.Artifact{Path: "w", Size: 1 << 20}}
	ev(watch.Watching{Files: 4},
		watch.Changed{Cycle: 1},
		watch.Build{Cycle: 1, Event: build.Started{Command: "go build ./examples/workload"}},
		watch.Build{Cycle: 1, Event: build.Finished{Result: ok}},
		watch.Deployed{Cycle: 1, Installed: remote.Installed{Path: "/d/workload-release", WireBytes: 4096, Duration: 300 * time.Millisecond, Delta: true, DeltaKind: remote.DeltaELFZ}},
		watch.Started{Cycle: 1, Command: remote.Command{Path: "workload-release", Args: []string{"-duration", "2s"}}},
		watch.Program{Cycle: 1, Event: remote.Output{Text: "workload linux/arm64 hello"}})
	out := plain(screen(m))
	for _, want := range []string{"deployed workload-release (4.0 KiB sent, elfz delta) in 0.3s", "cycle 1 running: workload-release -duration 2s", "workload linux/arm64 hello", "cycle 1 running · 4 files watched"} {
		if !strings.Contains(out, want) {
			t.Errorf("screen lacks %q:\n%s", want, out)
		}
	}
	ev(watch.Changed{Cycle: 2, Paths: []string{"/src/examples/workload/main.go"}},
		watch.Build{Cycle: 2, Event: build.Line{Text: "main.go:3:1: syntax error"}},
		watch.Build{Cycle: 2, Event: build.Finished{Result: build.Result{Err: errors.New("exit status 1")}}},
		watch.Failed{Cycle: 2, Stage: watch.StageBuild, Err: errors.New("exit status 1")})
	out = plain(screen(m))
	for _, want := range []string{"cycle 2: main.go changed", "cycle 2: build failed, old program kept"} {
		if !strings.Contains(out, want) {
			t.Errorf("screen lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(m.notice, "the program keeps running") {
		t.Errorf("notice after a failed build: %q", m.notice)
	}
	keys(m, "1")
	if out := plain(screen(m)); !strings.Contains(out, "main.go:3:1: syntax error") {
		t.Errorf("the log pane lacks the compile error:\n%s", out)
	}
	keys(m, "x")
	if tk.running() || !tk.cancelled {
		t.Fatal("x did not stop watching")
	}
	keys(m, "5")
	if out := plain(screen(m)); !strings.Contains(out, "stopped watching and the program on the device") {
		t.Errorf("run pane after x:\n%s", out)
	}
}
