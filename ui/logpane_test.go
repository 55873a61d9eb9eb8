package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"armbench/build"
	"armbench/profiles"
)

func TestRingNeverExceedsCapacity(t *testing.T) {
	const capacity = 1000
	r := newRing(capacity)
	for i := 0; i < 3*capacity+17; i++ {
		r.push(newLogLine(fmt.Sprintf("line %d", i)))
		if r.len() > capacity || len(r.buf) > capacity || cap(r.buf) > 2*capacity {
			t.Fatalf("after %d pushes: len %d, buf %d/%d, capacity %d",
				i+1, r.len(), len(r.buf), cap(r.buf), capacity)
		}
	}
	if r.len() != capacity {
		t.Fatalf("len %d, want %d", r.len(), capacity)
	}
	if r.end() != 3*capacity+17 || r.first() != 2*capacity+17 {
		t.Fatalf("first %d end %d", r.first(), r.end())
	}
	for _, abs := range []int{r.first(), r.first() + 1, r.end() - 1} {
		l, ok := r.at(abs)
		if !ok || l.text != fmt.Sprintf("line %d", abs) {
			t.Fatalf("at(%d) = %q, %v", abs, l.text, ok)
		}
	}
	if _, ok := r.at(r.first() - 1); ok {
		t.Fatal("a dropped line is still readable")
	}
	if _, ok := r.at(r.end()); ok {
		t.Fatal("a line past the end is readable")
	}
}

func TestLogViewErrorIndexBounded(t *testing.T) {
	v := newLogView("release", 100)
	for i := 0; i < 10_000; i++ {
		v.append(fmt.Sprintf("./main.go:%d:1: undefined: x%d", i+1, i))
	}
	if got := len(v.errors()); got != 100 {
		t.Fatalf("%d retained errors, want 100", got)
	}
	if len(v.errs) > 100+1024+1 && len(v.errs) > 2*100 {
		t.Fatalf("error index grew to %d entries for a 100-line ring", len(v.errs))
	}
	if e := v.errors()[0]; e != v.lines.first() {
		t.Fatalf("first error %d, first retained line %d", e, v.lines.first())
	}
}

func TestErrorLocation(t *testing.T) {
	for _, c := range []struct{ line, want string }{
		{"./main.go:12:5: undefined: foo", "./main.go:12:5"},
		{"examples/workload/alloc.go:3:2: \"os\" imported and not used", "examples/workload/alloc.go:3:2"},
		{"main.go:7: missing return", "main.go:7"},
		{"    bench_test.go:40: unexpected 3", "bench_test.go:40"},
		{"vet.go:1:1:", "vet.go:1:1"},
		{"# armbench/examples/workload", ""},
		{"see main.go:12 for details", ""},
		{"main.go:x: nope", ""},
		{".go:1:1: no file name", ""},
		{"mkdir -p $WORK/b001/", ""},
		{"main.golang:1:2: not go", ""},
		{"", ""},
	} {
		if got := errorLocation(c.line); got != c.want {
			t.Errorf("errorLocation(%q) = %q, want %q", c.line, got, c.want)
		}
	}
}

func FuzzErrorLocation(f *testing.F) {
	f.Add("./main.go:12:5: undefined: foo")
	f.Add("  x_test.go:9: boom")
	f.Add("a.go:1:")
	f.Fuzz(func(t *testing.T, s string) {
		loc := errorLocation(s)
		if loc == "" {
			return
		}
		if !strings.Contains(s, loc) || !strings.Contains(loc, ".go:") {
			t.Fatalf("errorLocation(%q) = %q, not a location inside the line", s, loc)
		}
	})
}

func newTestLog(w, h int) *LogPane {
	c := &Common{Styles: DefaultStyles()}
	p := NewLogPane(c, 1000)
	p.SetSize(w, h)
	p.Focus()
	return p
}

// compileFailure is what `go build` prints for a package with two type
// errors, after a little -x noise.
func compileFailure(p *LogPane, i int) {
	for n := 0; n < 30; n++ {
		p.Append(i, fmt.Sprintf("mkdir -p $WORK/b%03d/", n))
	}
	p.Append(i,
		"# armbench/examples/workload",
		"examples/workload/main.go:12:5: undefined: fooBar",
		"examples/workload/hash.go:40:2: declared and not used: sum",
	)
	for n := 0; n < 10; n++ {
		p.Append(i, fmt.Sprintf("rm -r $WORK/b%03d/", n))
	}
}

func TestLogErrorHighlightAndJump(t *testing.T) {
	p := newTestLog(80, 12)
	p.Reset([]string{"release"})
	compileFailure(p, 0)
	p.SetState(0, stateFailed)

	out := p.View()
	assertSize(t, out, 80, 12)
	if strings.Contains(plain(out), "main.go:12:5") {
		t.Fatal("the error is visible before jumping; the test would prove nothing")
	}
	p.Update(press("e"))
	out = p.View()
	golden(t, "log_error_jump", out)
	v := p.activeView()
	if l, _ := v.lines.at(v.mark); !strings.HasPrefix(l.text, "examples/workload/main.go:12:5") {
		t.Fatalf("e marked %q, want the first error", l.text)
	}
	if v.follow {
		t.Fatal("jumping to an error must pause follow mode")
	}
	if !strings.Contains(plain(out), ">examples/workload/main.go:12:5: undefined: fooBar") {
		t.Fatalf("marked error line not drawn with its gutter:\n%s", plain(out))
	}
	if !strings.Contains(plain(out), "!examples/workload/hash.go:40:2") {
		t.Fatalf("second error line not flagged:\n%s", plain(out))
	}
	// The error must be highlighted by more than the gutter: an escape
	// sequence (bold/reverse survive NO_COLOR) right after it.
	if !strings.Contains(out, ">"+p.common.Styles.LogMark.pre+"examples/workload/main.go") {
		t.Fatal("marked line carries no highlight style")
	}
	if !strings.Contains(out, "!"+p.common.Styles.LogError.pre+"examples/workload/hash.go") {
		t.Fatal("error line carries no highlight style")
	}

	p.Update(press("e"))
	if l, _ := v.lines.at(v.mark); !strings.HasPrefix(l.text, "examples/workload/hash.go") {
		t.Fatalf("second e marked %q, want the second error", l.text)
	}
	p.Update(press("e"))
	if l, _ := v.lines.at(v.mark); !strings.HasPrefix(l.text, "examples/workload/main.go") {
		t.Fatalf("third e marked %q, want to wrap to the first error", l.text)
	}
}

func TestLogFollowScrollResume(t *testing.T) {
	p := newTestLog(60, 10)
	p.Reset([]string{"release"})
	h := p.bodyHeight()
	for n := 0; n < 50; n++ {
		p.Append(0, fmt.Sprintf("line %d", n))
	}
	v := p.activeView()
	if got := v.visibleTop(h); got != 50-h {
		t.Fatalf("follow: top %d, want %d", got, 50-h)
	}
	p.Update(press("k"))
	if v.follow {
		t.Fatal("scrolling up did not pause follow")
	}
	p.Append(0, "line 50")
	if got := v.visibleTop(h); got != 50-h-1 {
		t.Fatalf("paused: new output moved the window to %d", got)
	}
	if !strings.Contains(plain(p.View()), "paused") {
		t.Fatal("footer does not say follow is paused")
	}
	p.Update(press("g"))
	if got := v.visibleTop(h); got != 0 {
		t.Fatalf("g: top %d", got)
	}
	p.Update(press("pgdown"))
	if got := v.visibleTop(h); got != h-1 {
		t.Fatalf("pgdown: top %d, want %d", got, h-1)
	}
	p.Update(press("G"))
	p.Append(0, "line 51")
	if !v.follow || v.visibleTop(h) != 52-h {
		t.Fatalf("G did not resume following: follow=%v top=%d", v.follow, v.visibleTop(h))
	}
	// Scrolling down onto the last page resumes follow on its own.
	p.Update(press("k"))
	p.Update(press("j"))
	if !v.follow {
		t.Fatal("reaching the bottom did not resume follow")
	}
}

func TestLogSearch(t *testing.T) {
	p := newTestLog(60, 8)
	p.Reset([]string{"release"})
	for n := 0; n < 100; n++ {
		text := fmt.Sprintf("step %d", n)
		if n%30 == 7 {
			text += " CACHE miss"
		}
		p.Append(0, text)
	}
	v := p.activeView()
	p.Update(press("g"))
	p.Update(press("/"))
	if !p.Capturing() {
		t.Fatal("/ did not open the search input")
	}
	for _, r := range "cache" {
		p.Update(press(string(r)))
	}
	// While typing, the pane's own keys are text: "n" must not search.
	p.Update(press("enter"))
	if p.Capturing() {
		t.Fatal("enter did not close the search input")
	}
	want := []int{7, 37, 67, 97, 7}
	for i, w := range want {
		if i > 0 {
			p.Update(press("n"))
		}
		if v.mark != w {
			t.Fatalf("hit %d at line %d, want %d", i, v.mark, w)
		}
	}
	p.Update(press("N"))
	if v.mark != 97 {
		t.Fatalf("N went to %d, want 97 (wrapping backwards)", v.mark)
	}
	// Upper case in the query makes it case-sensitive.
	p.Update(press("/"))
	for _, r := range "Cache" {
		p.Update(press(string(r)))
	}
	p.Update(press("enter"))
	if !strings.Contains(plain(p.View()), `no match for "Cache"`) {
		t.Fatalf("no feedback for a failed search:\n%s", plain(p.View()))
	}
}

func TestLogHorizontalScrollNoWrap(t *testing.T) {
	p := newTestLog(30, 5)
	p.Reset([]string{"release"})
	long := "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
	p.Append(0, long, "tab\there", "wide 日本語 text that is long enough")
	out := p.View()
	assertSize(t, out, 30, 5)
	if !strings.Contains(plain(out), "│ 0123456789abcdefghijklmnopq│") {
		t.Fatalf("long line not truncated at the pane edge:\n%s", plain(out))
	}
	if !strings.Contains(plain(out), "tab     here") {
		t.Fatalf("tab not expanded:\n%s", plain(out))
	}
	p.Update(press("right"))
	out = p.View()
	assertSize(t, out, 30, 5)
	if !strings.Contains(plain(out), "│ 89abcdefghijklmnopqrstuvwxy│") {
		t.Fatalf("→ did not scroll sideways:\n%s", plain(out))
	}
}

func TestLogTabs(t *testing.T) {
	p := newTestLog(70, 6)
	p.Reset([]string{"release", "speed"})
	p.Append(0, "from release")
	p.Append(1, "from speed")
	p.SetState(0, stateOK)
	out := plain(p.View())
	if !strings.Contains(out, "[release ok]") || !strings.Contains(out, "from release") {
		t.Fatalf("first tab not shown:\n%s", out)
	}
	p.Update(press("]"))
	out = plain(p.View())
	if !strings.Contains(out, "[speed building]") || !strings.Contains(out, "from speed") {
		t.Fatalf("] did not switch tab:\n%s", out)
	}
}

// BenchmarkLogView measures one frame of the log pane at 200×60 with a
// full 100k-line ring, appending a batch of lines before each frame as a
// running build does.
func BenchmarkLogView(b *testing.B) {
	for _, q := range []string{"", "work"} {
		name := "follow"
		if q != "" {
			name = "search"
		}
		b.Run(name, func(b *testing.B) {
			c := &Common{Styles: DefaultStyles()}
			p := NewLogPane(c, DefaultLogLines)
			p.SetSize(200, 60)
			p.Reset([]string{"release"})
			for n := 0; n < DefaultLogLines; n++ {
				p.Append(0, goBuildXLine(n))
			}
			p.query = q
			batch := make([]string, 32)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j := range batch {
					batch[j] = goBuildXLine(i*len(batch) + j)
				}
				p.Append(0, batch...)
				_ = p.View()
			}
			b.StopTimer()
			if n := p.activeView().lines.len(); n != DefaultLogLines {
				b.Fatalf("ring holds %d lines, want %d", n, DefaultLogLines)
			}
		})
	}
}

// goBuildXLine imitates `go build -x` output, with a compile error now
// and then so the error path is part of the measurement.
func goBuildXLine(n int) string {
	switch n % 50 {
	case 0:
		return fmt.Sprintf("# armbench/examples/workload/p%d", n)
	case 1:
		return fmt.Sprintf("examples/workload/main.go:%d:5: undefined: fooBar%d", n%900+1, n)
	}
	return fmt.Sprintf("cd $WORK/b%03d && /usr/lib/go/pkg/tool/linux_arm64/compile -o $WORK/b%03d/_pkg_.a -trimpath \"$WORK/b%03d=>\" -p main -lang=go1.26 -complete -buildid abc/def -goversion go1.26 -c=2 -nolocalimports -importcfg $WORK/b%03d/importcfg -pack ./main.go ./alloc.go", n, n, n, n)
}

// BenchmarkScreen is a whole frame of the root model at 200×60 (all panes,
// status and help) while a build streams into a full 100k-line log.
func BenchmarkScreen(b *testing.B) {
	m := New(Options{Config: fixtureConfig(), Profiles: fixtureProfiles()})
	m.env.runAll = func(ctx context.Context, plans []profiles.Plan, _ int, _ func(int, build.Event)) []build.Result {
		<-ctx.Done() // the benchmark feeds the events itself
		return nil
	}
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
	m.Update(press("tab"))
	m.Update(press("down"))
	m.Update(press("space"))
	m.Update(press("b"))
	j := buildTask(m)
	defer j.cancel()
	evs := make([]any, DefaultLogLines)
	for n := range evs {
		evs[n] = buildEvent{0, build.Line{Text: goBuildXLine(n)}}
	}
	m.Update(taskMsg{id: j.id, events: evs})
	batch := make([]any, 32)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := range batch {
			batch[k] = buildEvent{0, build.Line{Text: goBuildXLine(i*len(batch) + k)}}
		}
		m.Update(taskMsg{id: j.id, events: batch})
		_ = m.View()
	}
	b.StopTimer()
	if n := m.main.log.view(0).lines.len(); n != DefaultLogLines {
		b.Fatalf("ring holds %d lines, want %d", n, DefaultLogLines)
	}
}
