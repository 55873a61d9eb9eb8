package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"armbench/build"
	"armbench/profiles"
	"armbench/targets"
)

func fixtureConfig() *targets.Config {
	return &targets.Config{
		Path:    "targets.toml",
		Project: targets.Project{Pkg: "./examples/workload"},
		Targets: []targets.Target{
			{Name: "local-arm64", Description: "this machine, arm64 through qemu-user", Host: "local",
				GOOS: "linux", GOARCH: "arm64", GOARM64: "v8.0", Runner: "qemu-aarch64"},
			{Name: "local-armv7", Description: "this machine, 32-bit ARM through qemu-user", Host: "local",
				GOOS: "linux", GOARCH: "arm", GOARM: "7", Runner: "qemu-arm"},
			{Name: "pi5", Description: "Raspberry Pi 5", Host: "pi5.local", User: "pi", Port: 2222,
				GOOS: "linux", GOARCH: "arm64", GOARM64: "v8.2", Cores: 4},
		},
	}
}

func fixtureProfiles() []profiles.Profile {
	return []profiles.Profile{
		{Name: "default", Builtin: true, Description: "the go command's defaults"},
		{Name: "release", Builtin: true, Description: "static, stripped, trimmed paths: what ships",
			Build: profiles.Build{Trimpath: true, Ldflags: "-s -w"}},
		{Name: "speed", Builtin: true, Extends: "release", Description: "release plus PGO and a lazier GC",
			Build: profiles.Build{Trimpath: true, Ldflags: "-s -w"},
			Run:   profiles.Run{GOGC: "200"}},
		{Name: "single-core", Builtin: true, Description: "GOMAXPROCS=1",
			Run: profiles.Run{GOMAXPROCS: 1}},
		{Name: "tiny", Extends: "release", Description: "a user profile from targets.toml"},
	}
}

var fixedNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// newTestModel is the root model at a fixed size and clock, driven only
// through Update: no program, no terminal.
func newTestModel(t *testing.T, w, h int) *Model {
	t.Helper()
	m := New(Options{Config: fixtureConfig(), Profiles: fixtureProfiles(), Dir: t.TempDir()})
	m.env.now = func() time.Time { return fixedNow }
	// Pure tests feed build events by hand; the build's goroutine gets a
	// build that reports nothing and ends when cancelled.
	m.env.runAll = func(ctx context.Context, plans []profiles.Plan, _ int, _ func(int, build.Event)) []build.Result {
		<-ctx.Done()
		return make([]build.Result, len(plans))
	}
	m.common.Dir = "" // keep machine paths out of printed plans in goldens
	m.refreshPlan()
	send(m, tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

// send feeds msg to the model and returns the commands it asked for,
// without running them (so no build starts in pure tests).
func send(m *Model, msg tea.Msg) tea.Cmd {
	_, cmd := m.Update(msg)
	return cmd
}

func keys(m *Model, names ...string) {
	for _, n := range names {
		send(m, press(n))
	}
}

func screen(m *Model) string { return m.View().Content }

func TestInitialScreen(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{80, 24}, {100, 30}, {200, 60}} {
		m := newTestModel(t, sz.w, sz.h)
		out := screen(m)
		assertSize(t, out, sz.w, sz.h)
		golden(t, "initial_"+strconv.Itoa(sz.w)+"x"+strconv.Itoa(sz.h), out)
		for _, want := range []string{"local-arm64", "arm64 v8.0", "arm v7", "pi@pi5.local:2222", "[ ] release", "Plan (preview"} {
			if !strings.Contains(plain(out), want) {
				t.Errorf("%dx%d: %q missing", sz.w, sz.h, want)
			}
		}
	}
}

func TestProfileMultiSelect(t *testing.T) {
	m := newTestModel(t, 100, 30)
	keys(m, "tab")                 // profiles
	keys(m, "down", "space")       // release
	keys(m, "down", "space")       // speed
	keys(m, "down", "space")       // single-core
	keys(m, "space")               // ...and off again
	send(m, selectionChangedMsg{}) // what the returned command would deliver
	got := m.profiles.Selected()
	if len(got) != 2 || got[0].Name != "release" || got[1].Name != "speed" {
		t.Fatalf("selected %v, want release and speed", names(got))
	}
	out := screen(m)
	assertSize(t, out, 100, 30)
	golden(t, "profiles_multiselect_100x30", out)
	for _, want := range []string{"[x] release", "[x] speed", "[ ] single-core", "GOMAXPROCS=1", "2 profiles ticked"} {
		if !strings.Contains(plain(out), want) {
			t.Errorf("%q missing:\n%s", want, plain(out))
		}
	}
}

func names(ps []profiles.Profile) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func TestPlanPane(t *testing.T) {
	m := newTestModel(t, 200, 60)
	keys(m, "down", "enter") // local-armv7
	keys(m, "tab", "down", "space", "down", "space")
	send(m, selectionChangedMsg{})
	entries := m.plan.Entries()
	if len(entries) != 2 {
		t.Fatalf("%d plans, want 2", len(entries))
	}
	out := screen(m)
	assertSize(t, out, 200, 60)
	golden(t, "plan_200x60", out)
	for _, e := range entries {
		if e.Err != nil {
			t.Fatalf("%s: %v", e.Profile, e.Err)
		}
		if e.Plan.Target.Name != "local-armv7" {
			t.Fatalf("plan for %s, want local-armv7", e.Plan.Target.Name)
		}
	}
	// release has no runtime settings; speed runs with GOGC=200.
	want := []string{
		entries[0].Plan.Shell(),
		entries[1].Plan.Shell(),
		entries[1].Plan.RunShell(entries[1].Plan.OutputPath()),
	}
	got := shownCommands(m)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("plan pane shows\n%q\nwant the exact commands\n%q", got, want)
	}
	if !strings.Contains(want[2], "GOGC=200") {
		t.Errorf("run command %q lacks the profile's GOGC", want[2])
	}
}

// shownCommands reads the plan pane as a user would paste it: frame and
// comments dropped, continuation lines joined.
func shownCommands(m *Model) []string {
	var cmds []string
	cur := ""
	for _, l := range m.plan.lines {
		l = strings.TrimSpace(plain(l))
		if l == "" || strings.HasPrefix(l, "#") {
			if cur != "" {
				cmds = append(cmds, cur)
			}
			cur = ""
			continue
		}
		if cur != "" {
			cur += " "
		}
		cur += strings.TrimSuffix(l, " \\")
	}
	if cur != "" {
		cmds = append(cmds, cur)
	}
	return cmds
}

func TestPlanWrapsForNarrowWidth(t *testing.T) {
	m := newTestModel(t, 80, 24)
	keys(m, "tab", "down", "space")
	send(m, selectionChangedMsg{})
	out := screen(m)
	assertSize(t, out, 80, 24)
	golden(t, "plan_80x24", out)
	cmd := m.plan.Entries()[0].Plan.Shell()
	if got := shownCommands(m); len(got) != 1 || got[0] != cmd {
		t.Fatalf("wrapped command does not rejoin:\n got %q\nwant %q", got, cmd)
	}
	for _, l := range m.plan.lines {
		if w := len([]rune(plain(l))) - 1; w > 78 {
			t.Fatalf("plan line wider than the pane: %q", l)
		}
	}
}

func TestWrapCommandKeepsQuotedWords(t *testing.T) {
	cmd := "env CGO_ENABLED=0 GOARCH=arm go build -trimpath -ldflags='-s -w -X main.v=1' -o out ./examples/workload"
	lines := wrapCommand(cmd, 34)
	for _, l := range lines {
		if len(l) > 34 {
			t.Errorf("line %q longer than 34", l)
		}
	}
	found := false
	for _, l := range lines {
		if strings.Contains(l, "-ldflags='-s -w -X main.v=1'") {
			found = true
		}
	}
	if !found {
		t.Fatalf("quoted word broken across lines: %q", lines)
	}
}

// startBuild presses b and feeds the model the events a build would
// send, as the task's command would deliver them.
func startBuild(t *testing.T, m *Model) *task {
	t.Helper()
	if cmd := send(m, press("b")); cmd == nil {
		t.Fatalf("b started nothing; notice %q", m.notice)
	}
	if buildTask(m) == nil || !buildTask(m).running() {
		t.Fatal("no running build after b")
	}
	t.Cleanup(func() { buildTask(m).cancel() })
	return buildTask(m)
}

func TestLogWithCompileErrorAndJump(t *testing.T) {
	m := newTestModel(t, 100, 30)
	keys(m, "tab", "down", "space")
	j := startBuild(t, m)
	if m.focused().id != paneLog {
		t.Fatal("a build should focus the log")
	}
	var evs []any
	evs = append(evs, buildEvent{0, build.Started{Command: "env GOARCH=arm64 go build ./examples/workload"}})
	for i := 0; i < 40; i++ {
		evs = append(evs, buildEvent{0, build.Line{Text: "mkdir -p $WORK/b0" + strconv.Itoa(10+i) + "/"}})
	}
	evs = append(evs,
		buildEvent{0, build.Line{Stderr: true, Text: "# armbench/examples/workload"}},
		buildEvent{0, build.Line{Stderr: true, Text: "examples/workload/main.go:12:5: undefined: fooBar"}},
	)
	for i := 0; i < 30; i++ {
		evs = append(evs, buildEvent{0, build.Line{Text: "rm -r $WORK/b0" + strconv.Itoa(10+i) + "/"}})
	}
	failed := build.Result{Target: "local-arm64", Profile: "release", ExitCode: 1,
		Duration: 1500 * time.Millisecond, Err: errors.New("build local-arm64/release: exit status 1")}
	evs = append(evs, buildEvent{0, build.Finished{Result: failed}})
	if cmd := send(m, taskMsg{id: j.id, events: evs}); cmd == nil {
		t.Fatal("an open task must keep draining its events")
	}
	if cmd := send(m, taskMsg{id: j.id, closed: true}); cmd != nil {
		t.Fatal("a closed task asked for more events")
	}
	keys(m, "e")
	out := screen(m)
	assertSize(t, out, 100, 30)
	golden(t, "log_error_100x30", out)
	for _, want := range []string{">examples/workload/main.go:12:5: undefined: fooBar", "release FAILED", "1 of 1 failed", "exit 1"} {
		if !strings.Contains(plain(out), want) {
			t.Errorf("%q missing:\n%s", want, plain(out))
		}
	}
}

func TestCancelledBuild(t *testing.T) {
	m := newTestModel(t, 100, 30)
	keys(m, "tab", "down", "space", "down", "space")
	j := startBuild(t, m)
	send(m, taskMsg{id: j.id, events: []any{
		buildEvent{0, build.Line{Text: "compiling release"}},
		buildEvent{1, build.Line{Text: "compiling speed"}},
	}})
	m.env.now = func() time.Time { return fixedNow.Add(2300 * time.Millisecond) }
	keys(m, "x")
	if !j.cancelled || j.running() {
		t.Fatal("x did not cancel the build")
	}
	if j.ctx.Err() == nil {
		t.Fatal("x did not cancel the build's context")
	}
	// Late messages of the cancelled build are dropped, not drawn.
	ok := build.Result{Profile: "release", Artifact: &build.Artifact{Size: 1}}
	if cmd := send(m, taskMsg{id: j.id, events: []any{
		buildEvent{0, build.Line{Text: "LATE LINE"}},
		buildEvent{0, build.Finished{Result: ok}},
	}}); cmd != nil {
		t.Fatal("a cancelled build's batch asked for more")
	}
	out := screen(m)
	assertSize(t, out, 100, 30)
	golden(t, "cancelled_100x30", out)
	if strings.Contains(plain(out), "LATE LINE") || buildOf(j).states[0] != stateCancelled {
		t.Fatalf("late message of a cancelled build was applied:\n%s", plain(out))
	}
	for _, want := range []string{"cancelled local-arm64 × release,speed after 2.3s", "release  cancelled"} {
		if !strings.Contains(plain(out), want) {
			t.Errorf("%q missing:\n%s", want, plain(out))
		}
	}
}

func TestEmptyWorkspace(t *testing.T) {
	m := New(Options{})
	send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	keys(m, "down", "enter", "tab", "space", "down", "tab", "j", "tab", "e", "/", "x", "enter", "b")
	if !strings.Contains(plain(screen(m)), "no target: add one to targets.toml") {
		t.Fatalf("b without a target gave no notice:\n%s", plain(screen(m)))
	}
	keys(m, "tab") // round to the targets pane
	out := screen(m)
	assertSize(t, out, 80, 24)
	if !strings.Contains(plain(out), "no targets in targets.toml") {
		t.Fatalf("empty config not explained:\n%s", plain(out))
	}
	if buildTask(m) != nil {
		t.Fatal("b started a build with no target")
	}
}

// With nothing ticked, b builds the profile the plan pane previews, the
// same rule d follows, so the key never answers with a chore.
func TestBuildWithoutTickBuildsThePreviewedProfile(t *testing.T) {
	m := newTestModel(t, 100, 30)
	keys(m, "tab", "down")
	focused, ok := m.profiles.Focused()
	if !ok {
		t.Fatal("no focused profile")
	}
	if n := len(m.profiles.Selected()); n != 0 {
		t.Fatalf("%d profiles ticked, want none", n)
	}
	j := startBuild(t, m)
	if len(j.profiles) != 1 || j.profiles[0] != focused.Name {
		t.Fatalf("b built %v, want [%s]", j.profiles, focused.Name)
	}
}

// A debug log that cannot be created says why on the first screen, with
// the step and path that failed; the TUI still starts.
func TestDebugLogUnwritable(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	writeFile(t, notDir, "")
	m := New(Options{LogFile: filepath.Join(notDir, "logs", "armbench.log")})
	t.Cleanup(m.close)
	if !strings.HasPrefix(m.notice, "no debug log: mkdir "+notDir+":") {
		t.Errorf("notice %q", m.notice)
	}
}

// BenchmarkFirstFrame is the TUI's work before its first frame on the
// shipped workspace: load targets.toml and the profiles, New, the first
// WindowSizeMsg and View. scripts/tui-start.sh measures the same from
// process start, in a real terminal.
func BenchmarkFirstFrame(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("..", "targets.toml"))
	if err != nil {
		b.Fatal(err)
	}
	for _, sz := range [][2]int{{80, 24}, {200, 60}} {
		b.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				cfg, err := targets.Parse("targets.toml", data)
				if err != nil {
					b.Fatal(err)
				}
				ps, err := profiles.Load(cfg)
				if err != nil {
					b.Fatal(err)
				}
				m := New(Options{Config: cfg, Profiles: ps})
				m.Init()
				m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
				if v := m.View(); !strings.Contains(v.Content, "Profiles") {
					b.Fatalf("first frame lacks the profiles:\n%s", v.Content)
				}
				m.close()
			}
		})
	}
}

// A long comment wraps into lines that are all comments: pasted into a
// shell, no tail of a note may run as a command.
func TestWrapCommentKeepsEveryLineAComment(t *testing.T) {
	note := "POSIX sh: paste into Git Bash or WSL; PowerShell and cmd.exe set variables and quote otherwise"
	lines := wrapComment(note, 30)
	if len(lines) < 3 {
		t.Fatalf("%q at width 30 took %d lines: %q", note, len(lines), lines)
	}
	var words []string
	for _, l := range lines {
		if !strings.HasPrefix(l, "# ") || len(l) > 30 {
			t.Errorf("line %q: want a comment of at most 30 columns", l)
		}
		words = append(words, strings.Fields(strings.TrimPrefix(l, "# "))...)
	}
	if got := strings.Join(words, " "); got != note {
		t.Errorf("rejoined %q, want %q", got, note)
	}
}
