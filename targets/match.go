package targets

// The rules every load of targets.toml checks (target names, goarm,
// goarm64, memory sizes) are matched by hand instead of by regexps:
// compiling those four regexps was a third of the instructions armbench
// spent starting up for `armbench build` (callgrind), which goes straight
// into its overhead over a hand-typed `go build`. Each function names the
// regexp it implements; match_test.go checks them against it.

// matchFunc gives a hand-written rule the MatchString of a regexp.
type matchFunc func(string) bool

func (f matchFunc) MatchString(s string) bool { return f(s) }

// isName is ^[A-Za-z0-9][A-Za-z0-9._-]*$.
func isName(s string) bool {
	if s == "" || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// isGOARM is ^[567](,softfloat|,hardfloat)?$.
func isGOARM(s string) bool {
	if s == "" || s[0] < '5' || s[0] > '7' {
		return false
	}
	switch s[1:] {
	case "", ",softfloat", ",hardfloat":
		return true
	}
	return false
}

// isGOARM64 is ^v(8\.[0-9]|9\.[0-5])((,lse)|(,crypto))*$.
func isGOARM64(s string) bool {
	if len(s) < 4 || s[0] != 'v' || s[2] != '.' {
		return false
	}
	switch major, minor := s[1], s[3]; {
	case major == '8' && minor >= '0' && minor <= '9':
	case major == '9' && minor >= '0' && minor <= '5':
	default:
		return false
	}
	for rest := s[4:]; rest != ""; {
		switch {
		case len(rest) >= 4 && rest[:4] == ",lse":
			rest = rest[4:]
		case len(rest) >= 7 && rest[:7] == ",crypto":
			rest = rest[7:]
		default:
			return false
		}
	}
	return true
}

// memorySubmatch is FindStringSubmatch of
// ^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$: the whole string, the
// number and the unit, or nil.
func memorySubmatch(s string) []string {
	i := skipSpace(s, 0)
	numStart := i
	i = skipDigits(s, i)
	if i == numStart {
		return nil
	}
	if i < len(s) && s[i] == '.' {
		if j := skipDigits(s, i+1); j > i+1 {
			i = j
		} else {
			return nil
		}
	}
	num := s[numStart:i]
	i = skipSpace(s, i)
	unitStart := i
	for i < len(s) && isLetter(s[i]) {
		i++
	}
	unit := s[unitStart:i]
	if skipSpace(s, i) != len(s) {
		return nil
	}
	return []string{s, num, unit}
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isAlnum(c byte) bool { return isLetter(c) || '0' <= c && c <= '9' }

// skipSpace skips \s as RE2 defines it: [\t\n\f\r ].
func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\f' || s[i] == '\r') {
		i++
	}
	return i
}

func skipDigits(s string, i int) int {
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}
