package targets

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// BurntSushi/toml keeps key positions only in unexported metadata, keyed by
// dotted name, so the elements of an array of tables ([[target]]) all share
// one entry. The locator below re-scans the (already validated) text and
// records where every key, table and array element starts, addressed by its
// full path with array indices, e.g. target/2/goarch.
//
// It is a scanner for valid TOML, not a validator: toml.Decode runs first
// and reports syntax errors. On invalid input it must still terminate
// without panicking (FuzzLocate checks both).

// pathSep joins path segments; keys may contain '.', never this byte
// unless escaped, and an escaped one only makes a lookup miss.
const pathSep = "\x00"

func joinPath(segs ...string) string { return strings.Join(segs, pathSep) }

type locator struct {
	src        string
	i          int
	lineStarts []int
	file       string
	out        map[string]Position
	vals       map[string]Position // where each key's value starts
	aot        map[string]int      // array-of-tables path → elements seen
	lastBare   string
}

// locate returns the position of every key path in src, and of every
// key's value.
func locate(file, src string) (keys, vals map[string]Position) {
	l := &locator{
		src:  src,
		file: file,
		out:  make(map[string]Position),
		vals: make(map[string]Position),
		aot:  make(map[string]int),
	}
	l.lineStarts = append(l.lineStarts, 0)
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			l.lineStarts = append(l.lineStarts, i+1)
		}
	}
	l.run()
	return l.out, l.vals
}

func (l *locator) posAt(off int) Position {
	line := sort.Search(len(l.lineStarts), func(i int) bool { return l.lineStarts[i] > off })
	return Position{File: l.file, Line: line, Col: off - l.lineStarts[line-1] + 1}
}

func (l *locator) record(path []string, off int, overwrite bool) {
	k := joinPath(path...)
	if _, ok := l.out[k]; ok && !overwrite {
		return
	}
	l.out[k] = l.posAt(off)
}

func (l *locator) peek(n int) byte {
	if l.i+n < len(l.src) {
		return l.src[l.i+n]
	}
	return 0
}

func (l *locator) eof() bool { return l.i >= len(l.src) }

func (l *locator) skipSpace() {
	for !l.eof() && (l.src[l.i] == ' ' || l.src[l.i] == '\t') {
		l.i++
	}
}

// skipBlank skips spaces, newlines and comments: the filler allowed between
// array elements and (TOML 1.1) inline table entries.
func (l *locator) skipBlank() {
	for !l.eof() {
		switch l.src[l.i] {
		case ' ', '\t', '\r', '\n':
			l.i++
		case '#':
			l.skipComment()
		default:
			return
		}
	}
}

func (l *locator) skipComment() {
	for !l.eof() && l.src[l.i] != '\n' {
		l.i++
	}
}

func (l *locator) run() {
	var table []string
	for !l.eof() {
		start := l.i
		l.skipSpace()
		if l.eof() {
			break
		}
		switch c := l.src[l.i]; c {
		case '\r', '\n':
			l.i++
		case '#':
			l.skipComment()
		case '[':
			table = l.header()
			l.skipSpace()
			if !l.eof() && l.src[l.i] == '#' {
				l.skipComment()
			}
		default:
			l.keyval(table)
			l.skipSpace()
			if !l.eof() && l.src[l.i] == '#' {
				l.skipComment()
			}
		}
		if l.i == start {
			l.i++ // invalid input: never loop in place
		}
	}
}

type keySeg struct {
	name string
	off  int
}

// header reads [a.b] or [[a.b]] and returns the table's full path.
func (l *locator) header() []string {
	headerOff := l.i
	array := l.peek(1) == '['
	if array {
		l.i += 2
	} else {
		l.i++
	}
	segs := l.key()
	l.skipSpace()
	if array && strings.HasPrefix(l.src[l.i:], "]]") {
		l.i += 2
	} else if !l.eof() && l.src[l.i] == ']' {
		l.i++
	}
	var cur []string
	for j, s := range segs {
		cur = append(cur, s.name)
		l.record(cur, s.off, false)
		k := joinPath(cur...)
		last := j == len(segs)-1
		switch {
		case last && array:
			n := l.aot[k]
			l.aot[k] = n + 1
			cur = append(cur, strconv.Itoa(n))
			l.record(cur, headerOff, true)
		case l.aot[k] > 0:
			// [a.b] after [[a]] means b inside the last a.
			cur = append(cur, strconv.Itoa(l.aot[k]-1))
		}
	}
	return cur
}

// key reads a possibly dotted, possibly quoted key.
func (l *locator) key() []keySeg {
	var segs []keySeg
	for {
		l.skipSpace()
		if l.eof() {
			return segs
		}
		off := l.i
		var name string
		switch l.src[l.i] {
		case '"':
			name = l.basicString()
		case '\'':
			l.i++
			end := strings.IndexAny(l.src[l.i:], "'\n")
			if end < 0 {
				end = len(l.src) - l.i
			}
			name = l.src[l.i : l.i+end]
			l.i += end
			if !l.eof() && l.src[l.i] == '\'' {
				l.i++
			}
		default:
			for !l.eof() && isBareKeyByte(l.src[l.i]) {
				l.i++
			}
			name = l.src[off:l.i]
		}
		if l.i == off {
			return segs
		}
		segs = append(segs, keySeg{name, off})
		l.skipSpace()
		if l.eof() || l.src[l.i] != '.' {
			return segs
		}
		l.i++
	}
}

func isBareKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// keyval reads key = value inside table.
func (l *locator) keyval(table []string) {
	segs := l.key()
	if len(segs) == 0 {
		return
	}
	path := append([]string(nil), table...)
	for _, s := range segs {
		path = append(path, s.name)
		l.record(path, s.off, false)
	}
	l.skipSpace()
	if l.eof() || l.src[l.i] != '=' {
		return
	}
	l.i++
	l.skipSpace()
	l.vals[joinPath(path...)] = l.posAt(l.i)
	l.value(path)
}

func (l *locator) value(path []string) {
	if l.eof() {
		return
	}
	switch {
	case strings.HasPrefix(l.src[l.i:], `"""`):
		l.multiline('"')
	case strings.HasPrefix(l.src[l.i:], `'''`):
		l.multiline('\'')
	case l.src[l.i] == '"':
		l.basicString()
	case l.src[l.i] == '\'':
		l.i++
		for !l.eof() && l.src[l.i] != '\'' && l.src[l.i] != '\n' {
			l.i++
		}
		if !l.eof() && l.src[l.i] == '\'' {
			l.i++
		}
	case l.src[l.i] == '[':
		n := 0
		l.items(']', func() {
			elem := append(append([]string(nil), path...), strconv.Itoa(n))
			l.record(elem, l.i, true)
			l.value(elem)
			n++
		})
	case l.src[l.i] == '{':
		l.items('}', func() { l.keyval(path) })
	default:
		l.bare()
		// A date-time may have a space instead of T: 1979-05-27 07:32:00.
		if tok := l.lastBare; len(tok) == 10 && tok[4] == '-' && tok[7] == '-' &&
			l.peek(0) == ' ' && l.peek(1) >= '0' && l.peek(1) <= '9' {
			l.i++
			l.bare()
		}
	}
}

// items reads the comma-separated elements of an array or inline table up
// to the closing byte, calling item at the start of each one.
func (l *locator) items(closing byte, item func()) {
	l.i++
	for {
		l.skipBlank()
		if l.eof() {
			return
		}
		start := l.i
		switch l.src[l.i] {
		case closing:
			l.i++
			return
		case ',':
			l.i++
			continue
		}
		item()
		if l.i == start {
			l.i++ // invalid input: never loop in place
		}
	}
}

func (l *locator) bare() {
	start := l.i
	for !l.eof() && !strings.ContainsRune(" \t\r\n,]}#", rune(l.src[l.i])) {
		l.i++
	}
	l.lastBare = l.src[start:l.i]
}

// multiline skips a """ or ”' string; up to two extra quotes before the
// closing three belong to the content.
func (l *locator) multiline(q byte) {
	l.i += 3
	for !l.eof() {
		c := l.src[l.i]
		if c == '\\' && q == '"' {
			l.i += 2
			continue
		}
		if c == q && l.peek(1) == q && l.peek(2) == q {
			l.i += 3
			for extra := 0; extra < 2 && !l.eof() && l.src[l.i] == q; extra++ {
				l.i++
			}
			return
		}
		l.i++
	}
	if l.i > len(l.src) {
		l.i = len(l.src)
	}
}

// basicString reads "..." at l.i and returns its decoded value, so quoted
// keys match the names toml.Decode produces.
func (l *locator) basicString() string {
	l.i++ // opening quote
	var b strings.Builder
	for !l.eof() {
		c := l.src[l.i]
		switch {
		case c == '"':
			l.i++
			return b.String()
		case c == '\n':
			return b.String()
		case c == '\\' && l.i+1 < len(l.src):
			l.escape(&b)
		default:
			b.WriteByte(c)
			l.i++
		}
	}
	return b.String()
}

// escape decodes the escape sequence at l.i (a backslash and at least
// one more byte) into b; one TOML does not know is kept as written.
func (l *locator) escape(b *strings.Builder) {
	e := l.src[l.i+1]
	l.i += 2
	switch e {
	case 'b':
		b.WriteByte('\b')
	case 't':
		b.WriteByte('\t')
	case 'n':
		b.WriteByte('\n')
	case 'f':
		b.WriteByte('\f')
	case 'r':
		b.WriteByte('\r')
	case 'e':
		b.WriteByte(0x1b)
	case '"', '\\':
		b.WriteByte(e)
	case 'x', 'u', 'U':
		n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
		if l.i+n <= len(l.src) {
			v, err := strconv.ParseUint(l.src[l.i:l.i+n], 16, 32)
			if err == nil && utf8.ValidRune(rune(v)) {
				b.WriteRune(rune(v))
				l.i += n
				return
			}
		}
		b.WriteByte('\\')
		b.WriteByte(e)
	default:
		b.WriteByte('\\')
		b.WriteByte(e)
	}
}
