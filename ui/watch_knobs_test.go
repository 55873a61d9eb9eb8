package ui

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"armbench/internal/testenv"
	"armbench/live"
	"armbench/profiles"
	"armbench/remote"
	"armbench/targets"
	"armbench/watch"
)

// TestWatchFlowKnobs: under w the run pane has the knob bar; + asks for
// GOGC=200 (a command hands it to the session), the engine's EnvSet and
// the restart's Started say "restarted with GOGC=200", a later cycle
// keeps it, and x rests the knobs.
func TestWatchFlowKnobs(t *testing.T) {
	m := newFlowModel(t, 120, 40)
	tickProfiles(t, m, "release")
	keys(m, "w")
	tk := actTask(m)
	if tk == nil || tk.kind != "watch" {
		t.Fatalf("w did not start a watch task; notice %q", m.notice)
	}
	ev := func(es ...watch.Event) {
		var batch []any
		for _, e := range es {
			batch = append(batch, watchEvent{e})
		}
		send(m, taskMsg{id: tk.id, events: batch})
	}
	cmd := func(env ...string) remote.Command {
		return remote.Command{Path: "workload-release", Args: []string{"-duration", "2s"}, Env: env}
	}
	ev(watch.Changed{Cycle: 1}, watch.Started{Cycle: 1, Command: cmd()})
	out := plain(screen(m))
	if !strings.Contains(out, "[GOGC=100]") || !strings.Contains(out, "c knob · +/- turn") {
		t.Fatalf("no knob bar under watch:\n%s", out)
	}
	if strings.Contains(out, "GC/s") {
		t.Errorf("charts under watch, which runs no probe:\n%s", out)
	}
	if c := send(m, press("+")); c == nil {
		t.Fatal("+ gave no command to set the override")
	}
	if out := plain(screen(m)); !strings.Contains(out, "restarting with GOGC=200…") {
		t.Errorf("no word of the restart asked for:\n%s", out)
	}
	ev(watch.EnvSet{Cycle: 2, Restart: true, Change: "GOGC=200", Overrides: watch.Overrides{"GOGC": "200"}, Env: []string{"GOGC=200"}},
		watch.Stopping{Cycle: 1, Signal: "INT", KillDelay: 2 * time.Second},
		watch.Exited{Cycle: 1, Stopped: true},
		watch.Started{Cycle: 2, Command: cmd("GOGC=200")})
	out = plain(screen(m))
	for _, want := range []string{"cycle 2: restarting with GOGC=200, no rebuild", "armbench: restarted with GOGC=200 (GOGC=200)", "[GOGC=200]", "restarted with GOGC=200  c knob"} {
		if !strings.Contains(out, want) {
			t.Errorf("screen lacks %q:\n%s", want, out)
		}
	}
	if m.notice != "restarted with GOGC=200" {
		t.Errorf("notice %q", m.notice)
	}
	// A save: the new program keeps the override.
	ev(watch.Changed{Cycle: 3, Paths: []string{"/src/main.go"}},
		watch.Deployed{Cycle: 3, Installed: remote.Installed{Path: "/d/workload-release", Skipped: true}},
		watch.Started{Cycle: 3, Command: cmd("GOGC=200")})
	if out := plain(screen(m)); !strings.Contains(out, "cycle 3 running: workload-release -duration 2s · kept GOGC=200") || !strings.Contains(out, "[GOGC=200]") {
		t.Errorf("cycle 3 does not say it kept the override:\n%s", out)
	}

	// The presentation layout: the knobs over the program's output.
	keys(m, "p")
	out = plain(screen(m))
	for _, want := range []string{"[GOGC=200]", "watching: a save rebuilds", "cycle 3 running"} {
		if !strings.Contains(out, want) {
			t.Errorf("presentation lacks %q:\n%s", want, out)
		}
	}
	keys(m, "p", "x")
	if out := plain(screen(m)); strings.Contains(out, "c knob · +/- turn") {
		t.Errorf("the knobs still turn after x:\n%s", out)
	}
}

func TestKnobOverrides(t *testing.T) {
	tg := targets.Target{Name: "pi", Cores: 4, Memory: 1 << 30}
	base := []string{"GOGC=50", "GOMEMLIMIT=512MiB"}
	own := live.FromEnv(base)
	set := func(k live.Knob, v string) live.Settings { s := own; s[k] = v; return s }
	for _, tc := range []struct {
		s    live.Settings
		want watch.Overrides
	}{
		{own, watch.Overrides{}},
		{set(live.GOGC, "200"), watch.Overrides{"GOGC": "200"}},
		{set(live.GOMAXPROCS, "4"), watch.Overrides{}}, // the runtime's own
		{set(live.GOMAXPROCS, "2"), watch.Overrides{"GOMAXPROCS": "2"}},
		{set(live.GOMEMLIMIT, "off"), watch.Overrides{"GOMEMLIMIT": "9223372036854775807"}},
	} {
		if got := knobOverrides(base, tc.s, tg); !mapsEqual(got, tc.want) {
			t.Errorf("%v: %v, want %v", tc.s, got, tc.want)
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// watchSource says its version and its GOGC, then runs until stopped.
func watchSource(version string) string {
	return `package main

import (
	"fmt"
	"os"
	"os/signal"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	fmt.Printf("hello ` + version + ` GOGC=%q\n", os.Getenv("GOGC"))
	<-stop
}
`
}

// TestWatchKnobLocal watches a scratch module on local-arm64 (ARM code
// under qemu-user), turns GOGC up with + and reads off the screen and
// the process's environment that the program restarted with GOGC=200,
// without a rebuild; then a save rebuilds and the new program keeps it.
func TestWatchKnobLocal(t *testing.T) {
	cfg, deployDir := localArm64(t)
	dir := filepath.Join(t.TempDir(), "knobtest") // the binary's name
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"go.mod": "module knobtest\n\ngo 1.26\n", "main.go": watchSource("v1")} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Tool(t, "go", "golang-go")
	ps, err := profiles.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := New(Options{Config: cfg, Profiles: ps, Pkg: ".", Dir: dir})
	t.Cleanup(m.close)
	m.env.outRoot = t.TempDir()
	m.refreshPlan()
	tm, term := startTicked(t, m, 160, 50, "local-arm64", "release")
	tm.Send(press("w"))
	scr := term.waitText(buildTimeout, `hello v1 GOGC=""`, "[GOGC=100]")
	installed := filepath.Join(deployDir, "knobtest-release")
	pids := processesRunning(t, installed)
	if len(pids) != 1 {
		t.Fatalf("processes running %s: %v\n%s", installed, pids, scr)
	}

	tm.Send(press("+"))
	scr = term.waitText(time.Minute, "restarted with GOGC=200", `hello v1 GOGC="200"`)
	for _, want := range []string{"[GOGC=200]", "restarting with GOGC=200, no rebuild"} {
		if !strings.Contains(scr, want) {
			t.Errorf("screen lacks %q:\n%s", want, scr)
		}
	}
	if strings.Count(scr, "deployed knobtest-release") != 1 {
		t.Errorf("the knob redeployed:\n%s", scr)
	}
	now := processesRunning(t, installed)
	if len(now) != 1 || overlaps(now, pids) {
		t.Fatalf("the program was not restarted: before %v, now %v", pids, now)
	}
	wantEnv(t, now[0], "GOGC=200")

	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(watchSource("v2")), 0o644); err != nil {
		t.Fatal(err)
	}
	scr = term.waitText(buildTimeout, `hello v2 GOGC="200"`, "kept GOGC=200")
	if !strings.Contains(scr, "[GOGC=200]") {
		t.Errorf("the knob bar lost the override:\n%s", scr)
	}
	var v2 []string
	deadline := time.Now().Add(10 * time.Second)
	for v2 = processesRunning(t, installed); len(v2) != 1 || overlaps(v2, now); v2 = processesRunning(t, installed) {
		if time.Now().After(deadline) {
			t.Fatalf("v2 is not the one process: %v (v1 with the knob: %v)", v2, now)
		}
		time.Sleep(100 * time.Millisecond)
	}
	wantEnv(t, v2[0], "GOGC=200")

	tm.Send(press("x"))
	term.waitText(10*time.Second, "stopped watching")
	quitProgram(t, tm)
}

// wantEnv checks process pid's environment holds kv.
func wantEnv(t *testing.T, pid, kv string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", pid, "environ"))
	if err != nil {
		t.Fatalf("the program's environment: %v", err)
	}
	env := strings.Split(string(b), "\x00")
	if !slices.Contains(env, kv) {
		goEnv := slices.DeleteFunc(env, func(s string) bool { return !strings.HasPrefix(s, "GO") })
		t.Errorf("process %s's environment lacks %s: its GO variables are %q", pid, kv, goEnv)
	}
}
