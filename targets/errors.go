package targets

import (
	"sort"
	"strings"
)

// Error is one problem in a targets.toml, at the place a user can jump to.
type Error struct {
	Pos Position
	Key string // the key as written in its table, e.g. "goarch" or "build.ldflags"; "" for syntax errors
	Msg string // what is wrong and what is allowed
}

func (e *Error) Error() string {
	if e.Key == "" {
		return e.Pos.String() + ": " + e.Msg
	}
	return e.Pos.String() + ": " + e.Key + ": " + e.Msg
}

// ErrorList is every problem found in one file, so a user fixes them in one
// pass instead of one run per mistake.
type ErrorList []*Error

func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find an individual *Error.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// normalize sorts by position and drops exact duplicates, which arise when a
// bad [defaults] value is merged into several targets.
func (l ErrorList) normalize() ErrorList {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Pos, l[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	out := l[:0]
	seen := make(map[string]bool, len(l))
	for _, e := range l {
		s := e.Error()
		if seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, e)
	}
	return out
}
