package ui

import (
	"image/color"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Styles is the whole look of the TUI in one value, shared read-only by the
// panes through Common.
//
// Every highlight pairs its colour with an attribute (bold, reverse,
// underline) because under NO_COLOR the renderer drops colours but keeps
// attributes: an error line must still stand out on a monochrome terminal.
type Styles struct {
	Header      lipgloss.Style
	HeaderDim   lipgloss.Style
	Border      lipgloss.Style // pane border, unfocused
	BorderFocus lipgloss.Style // pane border, focused
	Title       lipgloss.Style
	TitleFocus  lipgloss.Style

	Cursor   lipgloss.Style // the list row under the cursor
	Selected lipgloss.Style // a chosen target / ticked profile
	Dim      lipgloss.Style
	Desc     lipgloss.Style

	Comment lipgloss.Style // "# release on local-arm64" above a command
	Command lipgloss.Style
	Error   lipgloss.Style

	Tab       lipgloss.Style
	TabActive lipgloss.Style

	OK        lipgloss.Style
	Fail      lipgloss.Style
	Running   lipgloss.Style
	Cancelled lipgloss.Style

	Strong lipgloss.Style // names and headings inside a pane
	Faint  lipgloss.Style // secondary text inside a pane
	Good   lipgloss.Style // a quiet success ("3 done")
	Warn   lipgloss.Style // flagged rounds, a significant change of unknown direction
	Spark  lipgloss.Style // sparklines
	Unit   lipgloss.Style // a unit heading of the comparison table
	Worse  lipgloss.Style // a significant regression: underlined, so it shows without colour
	Bar    color.Color    // the upload progress bar

	// ChartSeries colours a chart's series in turn (see Chart).
	ChartSeries []lipgloss.Style
	// Big is the verdict of the presentation layout: large figures are
	// drawn in block letters, and this is their colour.
	Big lipgloss.Style

	Help help.Styles

	// Log line styles are pre-split into ANSI prefix/suffix pairs: the log
	// pane draws up to a screenful of lines per frame and lipgloss.Render
	// per line would dominate the frame time.
	LogError  span // compile error: path.go:12:5: …
	LogHeader span // "# armbench/examples/workload"
	LogMark   span // the line jumped to (search hit, `e`)
	LogMatch  span // the search term inside a line
}

// span is a style reduced to the escape sequences around its text.
type span struct{ pre, post string }

func (s span) wrap(text string) string {
	if s.pre == "" {
		return text
	}
	return s.pre + text + s.post
}

func spanOf(st lipgloss.Style) span {
	// A NUL never appears in rendered output, so it splits the rendering
	// of a one-character string into what comes before and after it.
	r := st.Render("\x00")
	i := strings.IndexByte(r, 0)
	if i < 0 {
		return span{}
	}
	return span{pre: r[:i], post: r[i+1:]}
}

// DefaultStyles returns the TUI's styles. Colours are written once in
// true colour; Bubble Tea downsamples them to what the terminal supports,
// and to none at all under NO_COLOR.
func DefaultStyles() *Styles {
	var (
		accent = lipgloss.Color("#7D56F4")
		subtle = lipgloss.Color("#5C5C5C")
		green  = lipgloss.Color("#3FB950")
		red    = lipgloss.Color("#F85149")
		yellow = lipgloss.Color("#D29922")
		blue   = lipgloss.Color("#58A6FF")
	)
	s := &Styles{
		Header:      lipgloss.NewStyle().Bold(true).Foreground(accent),
		HeaderDim:   lipgloss.NewStyle().Foreground(subtle),
		Border:      lipgloss.NewStyle().Foreground(subtle),
		BorderFocus: lipgloss.NewStyle().Foreground(accent),
		Title:       lipgloss.NewStyle().Foreground(subtle),
		TitleFocus:  lipgloss.NewStyle().Bold(true).Foreground(accent),
		Cursor:      lipgloss.NewStyle().Reverse(true),
		Selected:    lipgloss.NewStyle().Bold(true).Foreground(green),
		Dim:         lipgloss.NewStyle().Foreground(subtle),
		Desc:        lipgloss.NewStyle().Italic(true).Foreground(subtle),
		Comment:     lipgloss.NewStyle().Foreground(subtle),
		Command:     lipgloss.NewStyle(),
		Error:       lipgloss.NewStyle().Bold(true).Foreground(red),
		Tab:         lipgloss.NewStyle().Foreground(subtle),
		TabActive:   lipgloss.NewStyle().Bold(true).Underline(true),
		OK:          lipgloss.NewStyle().Bold(true).Foreground(green),
		Fail:        lipgloss.NewStyle().Bold(true).Foreground(red),
		Running:     lipgloss.NewStyle().Foreground(yellow),
		Cancelled:   lipgloss.NewStyle().Bold(true).Foreground(yellow),
		Strong:      lipgloss.NewStyle().Bold(true),
		Faint:       lipgloss.NewStyle().Faint(true),
		Good:        lipgloss.NewStyle().Foreground(green),
		Warn:        lipgloss.NewStyle().Bold(true).Foreground(yellow),
		Spark:       lipgloss.NewStyle().Foreground(blue),
		Unit:        lipgloss.NewStyle().Bold(true).Foreground(blue),
		Worse:       lipgloss.NewStyle().Underline(true).Bold(true).Foreground(red),
		Bar:         accent,
		Help:        help.DefaultDarkStyles(),
	}
	s.ChartSeries = []lipgloss.Style{
		lipgloss.NewStyle().Foreground(blue),
		lipgloss.NewStyle().Foreground(green),
		lipgloss.NewStyle().Foreground(yellow),
		lipgloss.NewStyle().Foreground(accent),
		lipgloss.NewStyle().Foreground(red),
	}
	s.Big = lipgloss.NewStyle().Bold(true).Foreground(accent)
	s.LogError = spanOf(lipgloss.NewStyle().Bold(true).Foreground(red))
	s.LogHeader = spanOf(lipgloss.NewStyle().Bold(true).Foreground(blue))
	s.LogMark = spanOf(lipgloss.NewStyle().Reverse(true))
	s.LogMatch = spanOf(lipgloss.NewStyle().Underline(true).Bold(true).Foreground(yellow))
	return s
}

// fit truncates or pads one rendered line to exactly w columns.
func fit(line string, w int) string {
	if w <= 0 {
		return ""
	}
	lw := ansi.StringWidth(line)
	if lw > w {
		line = ansi.Truncate(line, w, "…")
		lw = ansi.StringWidth(line)
	}
	if lw < w {
		line += strings.Repeat(" ", w-lw)
	}
	return line
}

// box draws a rounded frame of w×h cells around lines, with title set into
// the top border and footer into the bottom one. Lines must already be
// exactly w-2 columns wide (see fit); missing lines are blank. Drawing the
// frame by hand instead of with a lipgloss border keeps it predictable and
// cheap: the log pane redraws it on every frame.
func (s *Styles) box(b *strings.Builder, title, footer string, lines []string, w, h int, focused bool) {
	if w < 2 || h < 2 {
		return
	}
	border, titleStyle := s.Border, s.Title
	if focused {
		border, titleStyle = s.BorderFocus, s.TitleFocus
	}
	bs := spanOf(border)
	inner := w - 2
	edge := func(left, right, label string, st lipgloss.Style) {
		b.WriteString(bs.pre)
		b.WriteString(left)
		rest := inner
		if label != "" && inner > 4 {
			label = ansi.Truncate(label, inner-4, "…")
			b.WriteString("─ ")
			b.WriteString(bs.post)
			b.WriteString(st.Render(label))
			b.WriteString(bs.pre)
			b.WriteString(" ")
			rest = inner - 3 - ansi.StringWidth(label)
		}
		b.WriteString(strings.Repeat("─", max(rest, 0)))
		b.WriteString(right)
		b.WriteString(bs.post)
	}
	edge("╭", "╮", title, titleStyle)
	side := bs.wrap("│")
	blank := strings.Repeat(" ", inner)
	for i := 0; i < h-2; i++ {
		b.WriteByte('\n')
		b.WriteString(side)
		if i < len(lines) {
			b.WriteString(lines[i])
		} else {
			b.WriteString(blank)
		}
		b.WriteString(side)
	}
	b.WriteByte('\n')
	edge("╰", "╯", footer, s.Dim)
}

// frame draws body (lines of at most w-2 columns) in a box of w×h with
// title and footer set into the border: what the panes that draw their
// content unframed (deploy, bench, compare) look like on screen.
func (s *Styles) frame(title, footer, body string, w, h int, focused bool) string {
	if w < 2 || h < 2 {
		return ""
	}
	var lines []string
	if body != "" {
		lines = strings.Split(body, "\n")
	}
	for i, l := range lines {
		lines[i] = fit(l, w-2)
	}
	var b strings.Builder
	s.box(&b, title, footer, lines, w, h, focused)
	return b.String()
}

// overlayBox draws lines in a focused frame filling w×h, one column in
// from the border: how every dialog is drawn.
func overlayBox(st *Styles, title string, lines []string, w, h int) string {
	inner := max(w-2, 0)
	var out []string
	for _, l := range lines {
		for _, part := range strings.Split(l, "\n") {
			out = append(out, fit(" "+part, inner))
		}
	}
	var b strings.Builder
	st.box(&b, title, "", out, w, h, true)
	return b.String()
}
