package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// DefaultLogLines bounds each profile's log in memory. The complete log is
// on disk beside the artifact (Plan.LogPath); the pane only has to hold what
// anyone would scroll back through.
const DefaultLogLines = 100_000

// hscrollStep is how far ←/→ move the log sideways.
const hscrollStep = 8

// buildState is where one tab's stream is: a profile's build, or a run.
type buildState int

const (
	stateRunning buildState = iota
	stateOK
	stateFailed
	stateCancelled
)

func (s buildState) String() string {
	switch s {
	case stateRunning:
		return "building"
	case stateOK:
		return "ok"
	case stateFailed:
		return "FAILED"
	case stateCancelled:
		return "cancelled"
	}
	return "?"
}

// logView is one tab of a log pane: one profile's build, or one run.
type logView struct {
	name  string
	state buildState
	lines *ring

	errs    []int // absolute indexes of error lines, ascending
	errHead int   // errs[:errHead] have fallen out of the ring

	top    int  // absolute index of the first visible line (when !follow)
	follow bool // stick to the newest line
	xoff   int  // columns scrolled sideways
	mark   int  // absolute index of the highlighted line, -1 for none
}

func newLogView(name string, capacity int) *logView {
	return &logView{name: name, lines: newRing(capacity), follow: true, mark: -1}
}

func (v *logView) append(text string) {
	l := newLogLine(text)
	v.lines.push(l)
	if l.kind == kindError {
		v.errs = append(v.errs, v.lines.end()-1)
	}
	first := v.lines.first()
	for v.errHead < len(v.errs) && v.errs[v.errHead] < first {
		v.errHead++
	}
	// Compact once the dropped prefix dominates, so errs stays bounded by
	// the ring's capacity however long the build runs.
	if v.errHead > 1024 && v.errHead > len(v.errs)/2 {
		v.errs = append(v.errs[:0], v.errs[v.errHead:]...)
		v.errHead = 0
	}
}

// errors returns the absolute indexes of the retained error lines.
func (v *logView) errors() []int { return v.errs[v.errHead:] }

func (v *logView) lastTop(h int) int {
	return max(v.lines.first(), v.lines.end()-h)
}

// visibleTop is the first line drawn in a body of h lines.
func (v *logView) visibleTop(h int) int {
	if v.follow {
		return v.lastTop(h)
	}
	return min(max(v.top, v.lines.first()), v.lastTop(h))
}

// scrollTo moves the window so that top is the first visible line; reaching
// the bottom resumes follow mode, scrolling away from it pauses it.
func (v *logView) scrollTo(top, h int) {
	last := v.lastTop(h)
	top = min(max(top, v.lines.first()), last)
	v.top = top
	v.follow = top >= last
}

// show puts abs in view (a third from the top, like an editor's jump) and
// marks it.
func (v *logView) show(abs, h int) {
	v.mark = abs
	v.scrollTo(abs-h/3, h)
	if v.follow && abs < v.lastTop(h) {
		v.follow = false
	}
	v.xoff = 0
}

// nextError returns the first error line after the marked one, wrapping to
// the first error; so `e` first jumps to the first error, then walks them.
func (v *logView) nextError() (int, bool) {
	errs := v.errors()
	if len(errs) == 0 {
		return 0, false
	}
	if v.isError(v.mark) {
		for _, e := range errs {
			if e > v.mark {
				return e, true
			}
		}
	}
	return errs[0], true
}

func (v *logView) isError(abs int) bool {
	l, ok := v.lines.at(abs)
	return ok && l.kind == kindError
}

// find searches for q from line `from` in direction dir (+1/-1), wrapping
// around the retained lines once. The search is case-insensitive unless q
// has an upper-case letter (smart case, as in less and vim).
func (v *logView) find(q string, from, dir int) (int, bool) {
	if q == "" {
		return 0, false
	}
	fold := strings.ToLower(q) == q
	first, end := v.lines.first(), v.lines.end()
	n := end - first
	if n == 0 {
		return 0, false
	}
	from = min(max(from, first), end-1)
	for i := 0; i < n; i++ {
		abs := first + ((from-first)+dir*i%n+n)%n
		l, _ := v.lines.at(abs)
		if matchIndex(l.text, q, fold) >= 0 {
			return abs, true
		}
	}
	return 0, false
}

// matchIndex is strings.Index, optionally ignoring ASCII case without
// allocating a lowered copy of every line.
func matchIndex(s, q string, fold bool) int {
	if !fold {
		return strings.Index(s, q)
	}
	if len(q) == 0 || len(q) > len(s) {
		return -1
	}
	c0 := q[0]
	for i := 0; i+len(q) <= len(s); i++ {
		if lower(s[i]) != c0 {
			continue
		}
		j := 1
		for j < len(q) && lower(s[i+j]) == q[j] {
			j++
		}
		if j == len(q) {
			return i
		}
	}
	return -1
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// LogPane is a log pane: one tab per stream (a profile's build, a
// program's run), each a bounded ring of lines of which only the visible
// window is ever rendered. The build log and the run pane are both one,
// told apart by their LogOptions.
type LogPane struct {
	common  *Common
	keys    LogKeys
	width   int
	height  int
	focused bool

	capacity int
	views    []*logView
	active   int

	searching bool
	input     textinput.Model
	query     string
	notice    string // one-shot feedback, e.g. "no match"

	title      string
	empty      string // shown before the first Reset
	stateLabel func(buildState) string
}

// LogOption sets what a log pane shows besides its lines.
type LogOption func(*LogPane)

// LogTitle sets the title in the top border.
func LogTitle(title string) LogOption { return func(p *LogPane) { p.title = title } }

// LogEmpty sets the text shown before anything was logged.
func LogEmpty(text string) LogOption { return func(p *LogPane) { p.empty = text } }

// LogStates sets the word each tab's state shows as.
func LogStates(label func(buildState) string) LogOption {
	return func(p *LogPane) { p.stateLabel = label }
}

// LogSingleTab is for one stream at a time: no keys to switch tabs.
func LogSingleTab() LogOption {
	return func(p *LogPane) {
		p.keys.PrevTab.SetEnabled(false)
		p.keys.NextTab.SetEnabled(false)
	}
}

// NewLogPane returns an empty log pane whose tabs keep capacity lines each;
// without options it is the build log.
func NewLogPane(c *Common, capacity int, opts ...LogOption) *LogPane {
	if capacity <= 0 {
		capacity = DefaultLogLines
	}
	in := textinput.New()
	in.Prompt = "/"
	in.Placeholder = "search"
	p := &LogPane{common: c, keys: newLogKeys(), capacity: capacity, input: in,
		title:      "Build log",
		empty:      "No build yet: choose a target (enter), tick profiles (space), press b.",
		stateLabel: buildState.String,
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func (p *LogPane) SetSize(w, h int) {
	p.width, p.height = w, h
	p.input.SetWidth(min(max(w-8, 1), 40))
}

func (p *LogPane) Focus()               { p.focused = true }
func (p *LogPane) Blur()                { p.focused = false; p.stopSearch() }
func (p *LogPane) KeyMap() help.KeyMap  { return p.keys }
func (p *LogPane) Capturing() bool      { return p.searching }
func (p *LogPane) bodyHeight() int      { return max(p.height-2, 0) }
func (p *LogPane) view(i int) *logView  { return p.views[i] }
func (p *LogPane) activeView() *logView { return p.at(p.active) }

// SetState sets the state tab i shows.
func (p *LogPane) SetState(i int, s buildState) {
	if v := p.at(i); v != nil {
		v.state = s
	}
}

// EndRunning gives the tabs still running state s.
func (p *LogPane) EndRunning(s buildState) {
	for _, v := range p.views {
		if v.state == stateRunning {
			v.state = s
		}
	}
}

func (p *LogPane) at(i int) *logView {
	if i < 0 || i >= len(p.views) {
		return nil
	}
	return p.views[i]
}

// Reset starts a new set of tabs, one per profile name, for a new build.
func (p *LogPane) Reset(names []string) {
	p.views = p.views[:0]
	for _, n := range names {
		v := newLogView(n, p.capacity)
		v.state = stateRunning
		p.views = append(p.views, v)
	}
	p.active = 0
	p.notice = ""
}

// Add appends a running tab named name, for a build that starts after
// the others (a rollout's builds), and returns its index.
func (p *LogPane) Add(name string) int {
	v := newLogView(name, p.capacity)
	v.state = stateRunning
	p.views = append(p.views, v)
	return len(p.views) - 1
}

// Append adds lines to tab i.
func (p *LogPane) Append(i int, lines ...string) {
	v := p.at(i)
	if v == nil {
		return
	}
	for _, l := range lines {
		v.append(l)
	}
}

func (p *LogPane) stopSearch() {
	p.searching = false
	p.input.Blur()
}

// Update handles the pane's keys; the root only calls it when the pane has
// focus.
func (p *LogPane) Update(msg tea.Msg) tea.Cmd {
	if p.searching {
		return p.updateSearch(msg)
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	v := p.activeView()
	h := p.bodyHeight()
	p.notice = ""
	switch {
	case key.Matches(km, p.keys.PrevTab):
		if len(p.views) > 0 {
			p.active = (p.active + len(p.views) - 1) % len(p.views)
		}
	case key.Matches(km, p.keys.NextTab):
		if len(p.views) > 0 {
			p.active = (p.active + 1) % len(p.views)
		}
	case v == nil:
		return nil
	case key.Matches(km, p.keys.Up):
		v.scrollTo(v.visibleTop(h)-1, h)
	case key.Matches(km, p.keys.Down):
		v.scrollTo(v.visibleTop(h)+1, h)
	case key.Matches(km, p.keys.PageUp):
		v.scrollTo(v.visibleTop(h)-max(h-1, 1), h)
	case key.Matches(km, p.keys.PageDown):
		v.scrollTo(v.visibleTop(h)+max(h-1, 1), h)
	case key.Matches(km, p.keys.Top):
		v.scrollTo(v.lines.first(), h)
		if v.lines.len() > h {
			v.follow = false
		}
	case key.Matches(km, p.keys.Bottom):
		v.follow = true
	case key.Matches(km, p.keys.Left):
		v.xoff = max(v.xoff-hscrollStep, 0)
	case key.Matches(km, p.keys.Right):
		v.xoff += hscrollStep
	case key.Matches(km, p.keys.Error):
		if abs, ok := v.nextError(); ok {
			v.show(abs, h)
		} else {
			p.notice = "no errors"
		}
	case key.Matches(km, p.keys.Search):
		p.searching = true
		p.input.SetValue("")
		return p.input.Focus()
	case key.Matches(km, p.keys.Next):
		p.findNext(+1)
	case key.Matches(km, p.keys.PrevHit):
		p.findNext(-1)
	case key.Matches(km, p.keys.Clear):
		p.query = ""
		v.mark = -1
	}
	return nil
}

func (p *LogPane) updateSearch(msg tea.Msg) tea.Cmd {
	if km, ok := msg.(tea.KeyPressMsg); ok {
		switch km.String() {
		case "enter":
			p.stopSearch()
			p.query = p.input.Value()
			if v := p.activeView(); v != nil && p.query != "" {
				// Search from the top of the window, so the first hit
				// is the one the user is most likely looking at.
				p.jump(v, v.visibleTop(p.bodyHeight()), +1)
			}
			return nil
		case "esc":
			p.stopSearch()
			return nil
		}
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	return cmd
}

func (p *LogPane) findNext(dir int) {
	v := p.activeView()
	if v == nil || p.query == "" {
		return
	}
	from := v.mark
	if from < 0 {
		from = v.visibleTop(p.bodyHeight()) - dir
	}
	p.jump(v, from+dir, dir)
}

func (p *LogPane) jump(v *logView, from, dir int) {
	if abs, ok := v.find(p.query, from, dir); ok {
		v.show(abs, p.bodyHeight())
		return
	}
	p.notice = fmt.Sprintf("no match for %q", p.query)
}

// View draws the pane at its size. Work is proportional to the window, not
// to the log: the ring is indexed directly and only visible lines are cut,
// padded and styled.
func (p *LogPane) View() string {
	var b strings.Builder
	b.Grow(p.width * p.height * 2)
	p.render(&b)
	return b.String()
}

func (p *LogPane) render(b *strings.Builder) {
	w, h := p.width, p.bodyHeight()
	if w < 4 || p.height < 3 {
		return
	}
	inner := w - 2
	lines := make([]string, 0, h)
	v := p.activeView()
	if v == nil {
		lines = append(lines, fit(p.common.Styles.Dim.Render(p.empty), inner))
	} else {
		var lb strings.Builder
		top := v.visibleTop(h)
		for i := 0; i < h; i++ {
			abs := top + i
			l, ok := v.lines.at(abs)
			if !ok {
				break
			}
			lb.Reset()
			p.renderLine(&lb, v, l, abs, inner)
			lines = append(lines, lb.String())
		}
	}
	p.common.Styles.box(b, p.tabs(inner), p.footer(v, h), lines, w, p.height, p.focused)
}

// renderLine writes one log line, exactly width columns: a one-column
// gutter ('>' the marked line, '!' an error) then the text, cut at the
// horizontal offset and padded.
func (p *LogPane) renderLine(b *strings.Builder, v *logView, l logLine, abs, width int) {
	st := p.common.Styles
	gutter, sp := byte(' '), span{}
	switch {
	case abs == v.mark:
		gutter, sp = '>', st.LogMark
	case l.kind == kindError:
		gutter, sp = '!', st.LogError
	case l.kind == kindHeader:
		sp = st.LogHeader
	}
	tw := width - 1
	var seg string
	var segW int
	if l.ascii {
		if v.xoff < len(l.text) {
			seg = l.text[v.xoff:min(len(l.text), v.xoff+tw)]
		}
		segW = len(seg)
	} else {
		seg = ansi.Cut(l.text, v.xoff, v.xoff+tw)
		segW = ansi.StringWidth(seg)
		if segW > tw {
			// Cutting through a double-width rune keeps all of it.
			seg = ansi.Truncate(seg, tw, "")
			segW = ansi.StringWidth(seg)
		}
	}
	b.WriteByte(gutter)
	b.WriteString(sp.pre)
	if p.query != "" && abs != v.mark {
		writeMatches(b, seg, p.query, st.LogMatch, sp)
	} else {
		b.WriteString(seg)
	}
	if segW < tw {
		b.WriteString(strings.Repeat(" ", tw-segW))
	}
	b.WriteString(sp.post)
}

// writeMatches writes seg with every occurrence of q wrapped in hl,
// re-opening the line's own style after each, since a style's suffix resets
// all attributes.
func writeMatches(b *strings.Builder, seg, q string, hl, outer span) {
	fold := strings.ToLower(q) == q
	for {
		i := matchIndex(seg, q, fold)
		if i < 0 || hl.pre == "" {
			b.WriteString(seg)
			return
		}
		b.WriteString(seg[:i])
		b.WriteString(hl.pre)
		b.WriteString(seg[i : i+len(q)])
		b.WriteString(hl.post)
		b.WriteString(outer.pre)
		seg = seg[i+len(q):]
	}
}

// tabs is the top border label: the pane title and one tab per profile with
// its state; the shown tab in brackets.
func (p *LogPane) tabs(width int) string {
	st := p.common.Styles
	var b strings.Builder
	b.WriteString(p.title)
	for i, v := range p.views {
		label := v.name + " " + p.stateLabel(v.state)
		b.WriteString("  ")
		if i == p.active && len(p.views) > 1 {
			b.WriteString(st.TabActive.Render("[" + label + "]"))
		} else if i == p.active {
			b.WriteString(st.TabActive.Render(label))
		} else {
			b.WriteString(st.Tab.Render(label))
		}
	}
	return ansi.Truncate(b.String(), max(width-3, 1), "…")
}

// footer is the bottom border label: the search prompt while typing, else
// where the window is and whether it follows.
func (p *LogPane) footer(v *logView, h int) string {
	if p.searching {
		return p.input.View()
	}
	if v == nil {
		return ""
	}
	var parts []string
	if p.notice != "" {
		parts = append(parts, p.notice)
	}
	n := v.lines.len()
	if n > 0 {
		top := v.visibleTop(h)
		first := v.lines.first()
		parts = append(parts, fmt.Sprintf("%d-%d/%d", top-first+1, min(top-first+h, n), n))
	}
	if v.follow {
		parts = append(parts, "follow")
	} else {
		parts = append(parts, "paused (G follows)")
	}
	if e := len(v.errors()); e > 0 {
		parts = append(parts, plural(e, "error")+" (e)")
	}
	if p.query != "" {
		parts = append(parts, "/"+p.query)
	}
	if v.xoff > 0 {
		parts = append(parts, fmt.Sprintf("→%d", v.xoff))
	}
	if dropped := v.lines.first(); dropped > 0 {
		parts = append(parts, fmt.Sprintf("%d older lines in the log file", dropped))
	}
	return strings.Join(parts, " · ")
}
