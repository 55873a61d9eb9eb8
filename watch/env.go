package watch

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

// Overrides are runtime settings laid over the profile's environment
// (GOGC, GOMAXPROCS, GOMEMLIMIT or any other variable), by name: each
// replaces the profile's value of that variable or is added after them.
// A value is taken literally ("" sets the variable empty). A set of
// overrides replaces the previous one whole: a variable left out is back
// at the profile's value.
type Overrides map[string]string

// validate reports a name or value the program's environment (or a
// service unit's Environment= line) cannot hold.
func (o Overrides) validate() error {
	for k, v := range o {
		if k == "" || strings.ContainsAny(k, "=\x00\n\r") {
			return fmt.Errorf("watch: override %q: a variable name cannot be empty or hold '=', a line break or NUL", k)
		}
		if strings.ContainsAny(v, "\x00\n\r") {
			return fmt.Errorf("watch: override %s=%q: a value cannot hold a line break or NUL", k, v)
		}
	}
	return nil
}

// apply is env (KEY=VALUE, in order) with o laid over it: a variable o
// sets is replaced where it stands, the rest are appended by name.
func (o Overrides) apply(env []string) []string {
	out := make([]string, 0, len(env)+len(o))
	seen := make(map[string]bool, len(o))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if v, ok := o[k]; ok {
			if !seen[k] {
				out = append(out, k+"="+v)
			}
			seen[k] = true
			continue
		}
		out = append(out, kv)
	}
	for _, k := range slices.Sorted(maps.Keys(o)) {
		if !seen[k] {
			out = append(out, k+"="+o[k])
		}
	}
	return out
}

// envChange says how the environment after differs from before, one
// variable at a time, by name: "GOGC=200", "GOMAXPROCS unset"; "" when
// nothing differs.
func envChange(before, after []string) string {
	vals := func(env []string) map[string]string {
		m := make(map[string]string, len(env))
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = v
		}
		return m
	}
	b, a := vals(before), vals(after)
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(a)) {
		if v, ok := b[k]; !ok || v != a[k] {
			parts = append(parts, k+"="+a[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(b)) {
		if _, ok := a[k]; !ok {
			parts = append(parts, k+" unset")
		}
	}
	return strings.Join(parts, " ")
}

// ErrEnded is what Control.SetEnv returns once the session it was given
// to has ended.
var ErrEnded = errors.New("watch: the session has ended")

// Control changes a watch session while it runs: give it to one Run in
// Options.Control and call SetEnv from any goroutine.
type Control struct {
	reqs chan Overrides // taken by the session's loop

	mu    sync.Mutex
	bound bool
	ended chan struct{} // closed once Run returned
}

// NewControl returns a Control for one session.
func NewControl() *Control {
	return &Control{reqs: make(chan Overrides), ended: make(chan struct{})}
}

// bind gives c to a session; a Control serves one.
func (c *Control) bind() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bound {
		return errors.New("watch: Options.Control was given to another session already")
	}
	c.bound = true
	return nil
}

// end says the session is over: SetEnv returns ErrEnded from now on.
func (c *Control) end() { close(c.ended) }

// SetEnv lays o over the profile's runtime environment from now on,
// replacing the overrides set before (nil or empty: none, the profile's
// own settings again). The program restarts at once with it, over the
// session's connection, without a rebuild or a redeploy (in service mode
// the unit is rewritten with it and restarted); if a cycle is building or
// deploying, its restart takes it instead; and every later cycle keeps
// it. The session reports it with an EnvSet event, and the restart as
// usual (Stopping, Started, or Failed).
//
// SetEnv returns once the session has taken o, not once the program
// restarted (called before Run started, it waits for it): an error for
// an override no environment can hold, ctx's error if it ends first, or
// ErrEnded once the session is over. It must
// not be called from the goroutine that handles the session's events,
// which the session may be waiting on.
func (c *Control) SetEnv(ctx context.Context, o Overrides) error {
	if err := o.validate(); err != nil {
		return err
	}
	o = maps.Clone(o)
	select {
	case c.reqs <- o:
		return nil
	case <-c.ended:
		return ErrEnded
	case <-ctx.Done():
		return fmt.Errorf("watch: setting %s: %w", envChange(nil, Overrides(o).apply(nil)), ctx.Err())
	}
}

// envState is the session's overrides. The loop sets them, a cycle's
// restart reads them; gen counts the sets, started is the gen the
// running program was started with.
type envState struct {
	mu        sync.Mutex
	overrides Overrides
	gen       int
	started   int
}

// set records o and returns its gen.
func (e *envState) set(o Overrides) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.overrides = o
	e.gen++
	return e.gen
}

// take is the environment for the next start of the program: the plan's,
// overrides applied, and marks them started.
func (e *envState) take(base []string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.started = e.gen
	return e.overrides.apply(base)
}

// now is the overrides in force (a copy) and the environment they give
// base.
func (e *envState) now(base []string) (Overrides, []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.overrides), e.overrides.apply(base)
}

// stale reports whether overrides were set since the program last started.
func (e *envState) stale() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.gen != e.started
}
