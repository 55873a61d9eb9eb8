package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"armbench/build"
	"armbench/profiles"
)

// chattyRunAll stands in for build.RunAll where a test needs a build that
// prints a known amount (the real engine is driven by the program tests):
// it emits lines for every plan, then Finished.
func chattyRunAll(lines int) func(context.Context, []profiles.Plan, int, func(int, build.Event)) []build.Result {
	return func(ctx context.Context, plans []profiles.Plan, _ int, emit func(int, build.Event)) []build.Result {
		res := make([]build.Result, len(plans))
		for i, p := range plans {
			emit(i, build.Started{Command: "go build"})
			for n := 0; n < lines; n++ {
				emit(i, build.Line{Text: fmt.Sprintf("%s line %d", p.Profile.Name, n)})
			}
			res[i] = build.Result{Profile: p.Profile.Name, Err: ctx.Err()}
			if res[i].Err == nil {
				res[i].Artifact = &build.Artifact{Size: 1 << 20, SHA256: strings.Repeat("ab", 32)}
			}
			emit(i, build.Finished{Result: res[i]})
		}
		return res
	}
}

// drive runs cmd and feeds its messages back into the model until no
// command is left, as the Bubble Tea loop would (batches are unrolled).
func drive(t *testing.T, m *Model, cmd tea.Cmd) (batches int) {
	t.Helper()
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		msg := c()
		switch msg := msg.(type) {
		case tea.BatchMsg:
			queue = append(queue, msg...)
			continue
		case taskMsg:
			batches++
			if len(msg.events) > maxBatch {
				t.Fatalf("a batch of %d events, more than %d", len(msg.events), maxBatch)
			}
		default:
			// Spinner ticks would loop forever in a test; the real loop
			// stops them once the task ends.
			continue
		}
		_, next := m.Update(msg)
		queue = append(queue, next)
	}
	return batches
}

func TestTaskStreamsInBatches(t *testing.T) {
	m := newTestModel(t, 100, 30)
	m.env.runAll = chattyRunAll(20_000)
	keys(m, "tab", "down", "space", "down", "space")
	cmd := send(m, press("b"))
	batches := drive(t, m, cmd)

	j := buildTask(m)
	if j.running() {
		t.Fatal("build still running after its events closed")
	}
	if batches >= 2*20_000 {
		t.Fatalf("%d batches for 40k lines: not batched", batches)
	}
	for i, name := range []string{"release", "speed"} {
		v := m.main.log.view(i)
		// Started, 20k lines, then the "built" and no log-path line.
		if got := v.lines.len(); got != 20_002 {
			t.Fatalf("%s: %d lines in the log, want 20002", name, got)
		}
		if l, _ := v.lines.at(20_000); l.text != name+" line 19999" {
			t.Fatalf("%s: lines out of order, got %q", name, l.text)
		}
		if buildOf(j).states[i] != stateOK {
			t.Fatalf("%s: state %v", name, buildOf(j).states[i])
		}
	}
	if !strings.Contains(plain(screen(m)), "built local-arm64 × release,speed") {
		t.Fatalf("status does not show the finished build:\n%s", plain(screen(m)))
	}
}

// A cancelled task's goroutine must end even though the model stops
// draining its events: nothing may stay blocked on a full channel.
func TestCancelledTaskGoroutineEnds(t *testing.T) {
	m := newTestModel(t, 100, 30)
	started := make(chan struct{})
	m.env.runAll = func(ctx context.Context, plans []profiles.Plan, _ int, emit func(int, build.Event)) []build.Result {
		close(started)
		for n := 0; ctx.Err() == nil; n++ {
			emit(0, build.Line{Text: fmt.Sprintf("line %d", n)}) // fills the channel, then blocks until cancel
		}
		return make([]build.Result, len(plans))
	}
	keys(m, "tab", "down", "space")
	cmd := send(m, press("b"))
	j := buildTask(m)
	// Run the start command in the background, as Bubble Tea would, but
	// never feed its batches back after the first.
	go func() {
		for _, c := range cmd().(tea.BatchMsg) {
			if c != nil {
				go c()
			}
		}
	}()
	<-started
	keys(m, "x")
	select {
	case <-j.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the cancelled build's goroutine is still running")
	}
	if buildTask(m).running() || !buildTask(m).cancelled {
		t.Fatal("build not marked cancelled")
	}
}

func TestQuitCancelsAndWaits(t *testing.T) {
	m := newTestModel(t, 100, 30)
	release := make(chan struct{})
	m.env.runAll = func(ctx context.Context, plans []profiles.Plan, _ int, emit func(int, build.Event)) []build.Result {
		<-ctx.Done()
		<-release // a go command taking a moment to die
		return make([]build.Result, len(plans))
	}
	keys(m, "tab", "down", "space")
	cmd := send(m, press("b"))
	for _, c := range cmd().(tea.BatchMsg) {
		if c != nil {
			go c()
		}
	}
	quit := send(m, press("q"))
	if quit == nil {
		t.Fatal("q returned no command")
	}
	if buildTask(m).ctx.Err() == nil {
		t.Fatal("q did not cancel the running build")
	}
	got := make(chan tea.Msg, 1)
	go func() { got <- quit() }()
	select {
	case <-got:
		t.Fatal("quit did not wait for the build to stop")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	select {
	case msg := <-got:
		if _, ok := msg.(tea.QuitMsg); !ok {
			t.Fatalf("quit command returned %T", msg)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("quit never finished")
	}
}

func TestResize(t *testing.T) {
	m := newTestModel(t, 200, 60)
	keys(m, "tab", "down", "space")
	for _, sz := range []struct{ w, h int }{{200, 60}, {80, 24}, {120, 40}, {100, 30}, {60, 20}, {200, 60}} {
		send(m, tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
		assertSize(t, screen(m), sz.w, sz.h)
	}
	send(m, tea.WindowSizeMsg{Width: 30, Height: 8})
	if out := plain(screen(m)); !strings.Contains(out, "needs at least") {
		t.Fatalf("tiny terminal: %q", out)
	}
	// The log alone at 80×24 when it has focus.
	send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	keys(m, "tab", "tab")
	out := plain(screen(m))
	if !strings.Contains(out, "Build log") || strings.Contains(out, "Targets") {
		t.Fatalf("narrow layout with the log focused should show the log alone:\n%s", out)
	}
}

func TestNoColor(t *testing.T) {
	for _, c := range []struct {
		env  []string
		want bool
	}{
		{[]string{"NO_COLOR=1"}, true},
		{[]string{"NO_COLOR=yes"}, true}, // no-color.org: any value
		{[]string{"NO_COLOR="}, false},
		{[]string{"TERM=xterm"}, false},
	} {
		if got := noColor(c.env); got != c.want {
			t.Errorf("noColor(%q) = %v", c.env, got)
		}
	}
}
