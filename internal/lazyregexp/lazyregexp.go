// Package lazyregexp is a regexp compiled on first use, as in the Go
// tree's own internal/lazyregexp. Package-level regexps that validate rare
// input (a user profile's GODEBUG, a device's sha256sum line) would
// otherwise be compiled at start-up by every armbench command, which is
// part of what `armbench build` costs over a hand-typed `go build`.
package lazyregexp

import (
	"regexp"
	"sync"
)

// Regexp is a regexp.Regexp compiled once, when first used. It is safe
// for concurrent use. A bad expression panics on first use, not at start.
type Regexp struct {
	re func() *regexp.Regexp
}

// New returns expr to be compiled on first use.
func New(expr string) *Regexp {
	return &Regexp{re: sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })}
}

// MatchString reports whether s contains any match of the expression.
func (r *Regexp) MatchString(s string) bool { return r.re().MatchString(s) }

// FindString returns the leftmost match in s, or "".
func (r *Regexp) FindString(s string) string { return r.re().FindString(s) }

// FindStringSubmatch returns the leftmost match and its submatches, or nil.
func (r *Regexp) FindStringSubmatch(s string) []string { return r.re().FindStringSubmatch(s) }

// String returns the expression.
func (r *Regexp) String() string { return r.re().String() }
