package shell

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"armbench/internal/testenv"
)

// TestQuoteRoundTrip hands quoted words to a real sh and checks that each
// arrives as exactly one, unchanged argument.
func TestQuoteRoundTrip(t *testing.T) {
	words := []string{"plain", "", "two words", "it's", `"dq"`, "$(touch /tmp/pwned)", "a;b", "`x`", "back\\slash", "tab\there", "new\nline", "*", "~", "-ldflags=-s -w", "ünï", "'", "''"}
	for _, w := range words {
		out, err := exec.Command(testenv.Tool(t, "sh", "dash"), "-c", "printf '%s' "+Quote(w)).Output()
		if err != nil {
			t.Fatalf("sh -c for %q: %v", w, err)
		}
		if string(out) != w {
			t.Errorf("Quote(%q) = %s; sh saw %q", w, Quote(w), out)
		}
	}
	out, err := exec.Command(testenv.Tool(t, "sh", "dash"), "-c", "for a in "+Join("a b", "c", "d'e")+`; do printf '[%s]' "$a"; done`).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "[a b][c][d'e]"; got != want {
		t.Errorf("Join: sh saw %s, want %s", got, want)
	}
}

func TestQuoteFlag(t *testing.T) {
	cases := map[string]string{
		"-trimpath":          "-trimpath",
		"-ldflags=-s -w":     "-ldflags='-s -w'",
		"-gcflags=all=-N -l": "-gcflags='all=-N -l'",
		"./cmd/app":          "./cmd/app",
		"my file":            "'my file'",
	}
	for in, want := range cases {
		if got := QuoteFlag(in); got != want {
			t.Errorf("QuoteFlag(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestHomePath(t *testing.T) {
	cmd := exec.Command(testenv.Tool(t, "sh", "dash"), "-c", "printf '%s' "+HomePath("~/my $(dir)"))
	cmd.Env = append(os.Environ(), "HOME=/h o")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := string(out); got != "/h o/my $(dir)" {
		t.Errorf("HomePath expanded to %q", got)
	}
	if strings.Contains(HomePath("/abs"), "HOME") {
		t.Error("absolute path must not mention HOME")
	}
}

func FuzzQuote(f *testing.F) {
	for _, s := range []string{"a", "it's", "$(x)", "", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, 0) {
			return // sh cannot carry NUL in an argument
		}
		out, err := exec.Command(testenv.Tool(t, "sh", "dash"), "-c", "printf '%s' "+Quote(s)).Output()
		if err != nil {
			t.Fatalf("sh: %v", err)
		}
		if string(out) != s {
			t.Fatalf("Quote(%q) = %s; sh saw %q", s, Quote(s), out)
		}
	})
}
