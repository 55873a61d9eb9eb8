package ui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// lineKind classifies a log line once, when it arrives, so that drawing a
// frame never parses text.
type lineKind uint8

const (
	kindPlain  lineKind = iota
	kindError           // a compile or vet error: path.go:12:5: …
	kindHeader          // "# pkg/path" banners of the go command, "$ command" of ours
)

// logLine is one line of build output, cleaned for display: no escape
// sequences, tabs expanded.
type logLine struct {
	text  string
	kind  lineKind
	ascii bool // one byte per column: cut by byte offsets, no width maths
}

const tabWidth = 8

func newLogLine(text string) logLine {
	text = strings.TrimRight(text, "\r\n")
	if strings.IndexByte(text, '\x1b') >= 0 {
		text = ansi.Strip(text)
	}
	if strings.IndexByte(text, '\t') >= 0 {
		text = expandTabs(text)
	}
	l := logLine{text: text, ascii: isASCII(text)}
	switch {
	case strings.HasPrefix(text, "# "), strings.HasPrefix(text, "$ "):
		l.kind = kindHeader
	case errorLocation(text) != "":
		l.kind = kindError
	}
	return l
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || s[i] < 0x20 {
			return false
		}
	}
	return true
}

func expandTabs(s string) string {
	var b strings.Builder
	col := 0
	for _, r := range s {
		if r == '\t' {
			n := tabWidth - col%tabWidth
			b.WriteString(strings.Repeat(" ", n))
			col += n
			continue
		}
		b.WriteRune(r)
		col++
	}
	return b.String()
}

// errorLocation returns the "path.go:line[:col]" that starts a compiler,
// vet or test error line, or "" when the line is not one. It is a hand
// parser rather than a regexp because it runs on every incoming line.
func errorLocation(s string) string {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	start := i
	dot := strings.Index(s[i:], ".go:")
	if dot < 0 {
		return ""
	}
	pathEnd := i + dot + len(".go")
	if pathEnd == start+len(".go") {
		return "" // no file name before ".go"
	}
	for j := start; j < pathEnd; j++ {
		if s[j] == ' ' || s[j] == '\t' {
			return ""
		}
	}
	j := pathEnd + 1 // past ':'
	d := digits(s, j)
	if d == 0 {
		return ""
	}
	j += d
	if j < len(s) && s[j] == ':' {
		if c := digits(s, j+1); c > 0 {
			j += 1 + c
		}
	}
	// The location must be followed by ": message" (or end the line), so
	// "see foo.go:12 for details" in prose does not count.
	if j == len(s) {
		return s[start:j]
	}
	if s[j] != ':' {
		return ""
	}
	return s[start:j]
}

func digits(s string, i int) int {
	n := 0
	for i+n < len(s) && s[i+n] >= '0' && s[i+n] <= '9' {
		n++
	}
	return n
}

// ring is a bounded log: once full, each new line overwrites the oldest.
// Lines are addressed by absolute index (0 = the first line ever pushed),
// so scroll positions and error marks stay valid while old lines fall off.
type ring struct {
	buf   []logLine
	max   int
	head  int // position in buf of the oldest retained line
	total int // lines ever pushed
}

func newRing(capacity int) *ring {
	if capacity < 1 {
		capacity = 1
	}
	return &ring{max: capacity}
}

func (r *ring) push(l logLine) {
	if len(r.buf) < r.max {
		// Grow on demand: most builds print a few lines, and a pane per
		// profile should not reserve 100k slots up front.
		r.buf = append(r.buf, l)
	} else {
		r.buf[r.head] = l
		r.head++
		if r.head == r.max {
			r.head = 0
		}
	}
	r.total++
}

// len is the number of retained lines; never more than the capacity.
func (r *ring) len() int { return len(r.buf) }

// first is the absolute index of the oldest retained line.
func (r *ring) first() int { return r.total - len(r.buf) }

// end is one past the absolute index of the newest line.
func (r *ring) end() int { return r.total }

// at returns the line at absolute index abs, if it is still retained.
func (r *ring) at(abs int) (logLine, bool) {
	i := abs - r.first()
	if i < 0 || abs >= r.total {
		return logLine{}, false
	}
	i += r.head
	if i >= len(r.buf) {
		i -= len(r.buf)
	}
	return r.buf[i], true
}
