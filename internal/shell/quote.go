// Package shell quotes words for POSIX sh, so that commands armbench prints
// can be pasted, and commands it sends to a device mean exactly what they say.
package shell

import "strings"

// safe reports whether s needs no quoting in sh: only characters that are
// never special anywhere in a word.
func safe(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("-_./:,+@%=", r):
		default:
			return false
		}
	}
	return true
}

// Quote returns s as one sh word. Plain words are left as they are so
// printed commands stay readable; everything else is single-quoted. An
// embedded single quote ends the quoted part, is written as \', and a
// new quoted part starts.
func Quote(s string) string {
	if safe(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// QuoteAssign quotes KEY=VALUE keeping the key bare, as people write it:
// -ldflags='-s -w' or GOFLAGS='-a -v'.
func QuoteAssign(key, value string) string {
	if safe(value) {
		return key + "=" + value
	}
	return key + "=" + Quote(value)
}

// Join quotes every word and joins them with spaces.
func Join(words ...string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = Quote(w)
	}
	return strings.Join(q, " ")
}

// QuoteFlag quotes a -flag=value argument as -flag='value' when the value
// needs it, so `go build -ldflags='-s -w'` prints the way people type it.
func QuoteFlag(arg string) string {
	if safe(arg) {
		return arg
	}
	if strings.HasPrefix(arg, "-") {
		if i := strings.IndexByte(arg, '='); i > 0 && safe(arg[:i]) {
			return QuoteAssign(arg[:i], arg[i+1:])
		}
	}
	return Quote(arg)
}

// HomePath returns p as an sh word that expands a leading "~/" on the
// device while quoting the rest: "~/my dir" becomes "$HOME/'my dir'".
func HomePath(p string) string {
	switch {
	case p == "~":
		return `"$HOME"`
	case strings.HasPrefix(p, "~/"):
		return `"$HOME"/` + Quote(p[2:])
	}
	return Quote(p)
}
