package shell

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"armbench/internal/testenv"
)

func TestSplit(t *testing.T) {
	for line, want := range map[string][]string{
		"":                               nil,
		" \t\n":                          nil,
		"  -duration 2s  -mode parallel": {"-duration", "2s", "-mode", "parallel"},
		`-name 'a b' -x "c \"d\" \$e"`:   {"-name", "a b", "-x", `c "d" $e`},
		`a\ b ''  "" x'y'"z"`:            {"a b", "", "", "xyz"},
		`"\n" "\\" '\'`:                  {`\n`, `\`, `\`},
		"$HOME ~ * `x`":                  {"$HOME", "~", "*", "`x`"},
	} {
		got, err := Split(line)
		if err != nil || !slices.Equal(got, want) || (got == nil) != (want == nil) {
			t.Errorf("Split(%q) = %q, %v; want %q", line, got, err, want)
		}
	}
	for bad, msg := range map[string]string{
		`'a`:           "unterminated ' at column 1",
		`x "a`:         `unterminated " at column 3`,
		`a\`:           `\ at the end of the line escapes nothing`,
		`"a\"`:         `unterminated " at column 1`,
		`ok 'fine' 'b`: "unterminated ' at column 11",
	} {
		if got, err := Split(bad); err == nil || err.Error() != msg {
			t.Errorf("Split(%q) = %q, %v; want the error %q", bad, got, err, msg)
		}
	}
}

// shWords is what a real sh makes of line as the arguments of a command.
func shWords(t *testing.T, line string) []string {
	t.Helper()
	out, err := exec.Command(testenv.Tool(t, "sh", "dash"), "-c", "set -f -- "+line+`; for a; do printf '%s\0' "$a"; done`).Output()
	if err != nil {
		t.Fatalf("sh with %q: %v", line, err)
	}
	if len(out) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}

// Where sh expands nothing, Split agrees with it word for word.
func TestSplitAgreesWithSh(t *testing.T) {
	for _, line := range []string{
		"-duration 2s -mode parallel",
		`-name 'a b' -x "c \"d\" \\e"`,
		`a\ b ''  "" x'y'"z"`,
		`"\n" 'it'\''s' \"`,
		"\ttab\t separated ",
	} {
		got, err := Split(line)
		if err != nil {
			t.Fatalf("Split(%q): %v", line, err)
		}
		if want := shWords(t, line); !slices.Equal(got, want) {
			t.Errorf("Split(%q) = %q; sh made %q", line, got, want)
		}
	}
}

// noExpansion reports whether sh would take line as plain words: none of
// the characters that expand, start a comment or end a command.
func noExpansion(line string) bool {
	return !strings.ContainsAny(line, "\x00\n$`~#;&|<>(){}*?[!") && strings.ToValidUTF8(line, "") == line
}

// FuzzSplit: whatever splits, quoted again with Join (as the device gets
// it), splits back into the same words; and where sh expands nothing it
// makes the same words.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{"-duration 2s", `a 'b c' "d\"e" f\ g`, `''`, "\t\n", `"a\"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		words, err := Split(line)
		if err != nil {
			return
		}
		again, err := Split(Join(words...))
		if err != nil {
			t.Fatalf("Split(Join(%q)): %v", words, err)
		}
		if !slices.Equal(again, words) {
			t.Fatalf("%q → %q → %q", line, words, again)
		}
		if noExpansion(line) {
			if sh := shWords(t, line); !slices.Equal(words, sh) {
				t.Fatalf("Split(%q) = %q; sh made %q", line, words, sh)
			}
		}
	})
}
