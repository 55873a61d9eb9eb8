package lazyregexp

import (
	"slices"
	"sync"
	"testing"
)

func TestMatchesAsRegexpDoes(t *testing.T) {
	r := New(`^v(8\.[0-9]|9\.[0-5])((,lse)|(,crypto))*$`)
	for s, want := range map[string]bool{"v8.0": true, "v9.5,lse,crypto": true, "v9.6": false, "8.0": false, "": false} {
		if got := r.MatchString(s); got != want {
			t.Errorf("MatchString(%q) = %v, want %v", s, got, want)
		}
	}
	mem := New(`^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$`)
	if got := mem.FindStringSubmatch(" 1.5 GiB "); !slices.Equal(got, []string{" 1.5 GiB ", "1.5", "GiB"}) {
		t.Errorf("FindStringSubmatch = %q", got)
	}
	if got := New(`\b[0-9a-f]{4}\b`).FindString("sum: beef  x"); got != "beef" {
		t.Errorf("FindString = %q, want beef", got)
	}
}

// Compiled once even when first used from many goroutines at once.
func TestConcurrentFirstUse(t *testing.T) {
	r := New(`^[a-z]+$`)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if !r.MatchString("abc") || r.MatchString("ABC") {
				t.Error("wrong match")
			}
		})
	}
	wg.Wait()
}

func TestBadExpressionPanicsOnFirstUse(t *testing.T) {
	r := New(`(`) // no panic here
	defer func() {
		if recover() == nil {
			t.Error("no panic on first use of a bad expression")
		}
	}()
	r.MatchString("x")
}
