package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"armbench/remote"
)

// BoardEvent is one event of one board's session in a bench over several
// boards (ExecuteBoards).
type BoardEvent struct {
	Board  int    // the session's position (0 = the base board)
	Target string // the board's target name
	// Column is the comparison column of the board's first profile: its
	// profile i is column Column+i.
	Column int
	Event  Event
}

func (BoardEvent) benchEvent() {}

// Flat is the board's event as the comparison names things: profiles as
// "target/profile" (ColumnLabel), Index as the column, phases as
// "target phase". Events without a profile come back unchanged, save
// phases; the probe's (Index -1) keeps Index -1.
func (e BoardEvent) Flat() Event {
	label := func(p string) string { return ColumnLabel(e.Target, p) }
	col := func(i int) int {
		if i < 0 {
			return i
		}
		return e.Column + i
	}
	switch ev := e.Event.(type) {
	case Phase:
		ev.Name = e.Target + " " + ev.Name
		return ev
	case Building:
		ev.Profile, ev.Index = label(ev.Profile), col(ev.Index)
		return ev
	case Deploying:
		ev.Profile, ev.Index = label(ev.Profile), col(ev.Index)
		return ev
	case RunStarted:
		ev.Profile, ev.Index = label(ev.Profile), col(ev.Index)
		return ev
	case Line:
		ev.Profile, ev.Index = label(ev.Profile), col(ev.Index)
		return ev
	case Sched:
		ev.Profile, ev.Index = label(ev.Profile), col(ev.Index)
		return ev
	case Proc:
		ev.Profile, ev.Index = label(ev.Profile), col(ev.Index)
		return ev
	case RunDone:
		ev.Profile, ev.Index = label(ev.Profile), col(ev.Index)
		ev.Stats.Profile = label(ev.Stats.Profile)
		return ev
	}
	return e.Event
}

// ColumnLabel names a profile's column when boards are compared:
// "local-armv7/default".
func ColumnLabel(target, profile string) string { return target + "/" + profile }

// columnLabels names the columns of Compare(runs...), one per profile of
// each run: by profile when that is unique; when the runs come from
// several targets, by target and profile (ColumnLabel), so each column
// says its board; by run ID and profile where that still repeats (two
// runs of one board).
func columnLabels(runs []*Run) []string {
	boards := map[string]bool{}
	for _, r := range runs {
		boards[r.Target.Name] = true
	}
	name := func(r *Run, p ProfileRun) string {
		if len(boards) > 1 {
			return ColumnLabel(r.Target.Name, p.Name)
		}
		return p.Name
	}
	count := map[string]int{}
	for _, r := range runs {
		for _, p := range r.Profiles {
			count[name(r, p)]++
		}
	}
	var labels []string
	for _, r := range runs {
		for _, p := range r.Profiles {
			label := name(r, p)
			if count[label] > 1 {
				label = r.ID + "/" + p.Name
			}
			labels = append(labels, label)
		}
	}
	return labels
}

// BoardsError is how a bench over several boards failed: the boards
// that failed, each with its error, in session order.
type BoardsError struct {
	Targets []string
	Errs    []error
}

func (e *BoardsError) Error() string {
	if len(e.Errs) == 1 {
		return e.Errs[0].Error()
	}
	var parts []string
	for i, t := range e.Targets {
		parts = append(parts, t+": "+e.Errs[i].Error())
	}
	return fmt.Sprintf("bench failed on %d boards: %s", len(e.Targets), strings.Join(parts, "; "))
}

func (e *BoardsError) Unwrap() []error { return e.Errs }

// ExecuteBoards benches several boards at once, one Spec per board over
// its own device (devs[i] for specs[i]): on each board the profiles'
// rounds interleave as Execute runs them, and the boards run in
// parallel. Every board is built and deployed before any measures, so a
// build on this machine does not slow a round of another board. A board
// that fails does not stop the others; ctx does.
//
// runs are in the order of specs, nil where a board failed, and are
// stored each on its own as Execute stores them; Compare(runs...) is the
// comparison with a column per board and profile, the first the base.
// err is a *BoardsError when any board failed. emit gets every board's
// events as BoardEvents, never concurrently.
func ExecuteBoards(ctx context.Context, specs []Spec, devs []remote.Device, emit func(Event)) (runs []*Run, err error) {
	if len(specs) == 0 {
		return nil, errors.New("bench: no boards")
	}
	if len(devs) != len(specs) {
		return nil, fmt.Errorf("bench: %d boards but %d devices", len(specs), len(devs))
	}
	seen := map[string]bool{}
	for _, s := range specs {
		if seen[s.Target.Name] {
			return nil, fmt.Errorf("bench: board %s twice", s.Target.Name)
		}
		seen[s.Target.Name] = true
	}
	emit = serialEmit(emit)
	notes := sharedCPUNotes(specs)
	gate := newStartGate(len(specs))
	runs = make([]*Run, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	column := 0
	for i, spec := range specs {
		spec.Notes = append(slices.Clone(spec.Notes), notes...)
		arrived := false
		prev := spec.Start
		spec.Start = func(ctx context.Context) error {
			arrived = true
			if err := gate.wait(ctx); err != nil {
				return err
			}
			if prev != nil {
				return prev(ctx)
			}
			return nil
		}
		board := BoardEvent{Board: i, Target: spec.Target.Name, Column: column}
		column += len(spec.Plans)
		wg.Go(func() {
			runs[i], errs[i] = Execute(ctx, spec, devs[i], func(ev Event) {
				b := board
				b.Event = ev
				emit(b)
			})
			if !arrived {
				gate.leave()
			}
		})
	}
	wg.Wait()
	var failed BoardsError
	for i, e := range errs {
		if e != nil {
			failed.Targets = append(failed.Targets, specs[i].Target.Name)
			failed.Errs = append(failed.Errs, fmt.Errorf("bench on %s: %w", specs[i].Target.Name, e))
		}
	}
	if len(failed.Errs) > 0 {
		return runs, &failed
	}
	return runs, nil
}

// sharedCPUNotes warns that boards emulated on this machine measured
// while sharing its CPUs: their rounds ran at the same time.
func sharedCPUNotes(specs []Spec) []string {
	var local []string
	for _, s := range specs {
		if s.Target.IsLocal() {
			local = append(local, s.Target.Name)
		}
	}
	if len(local) < 2 {
		return nil
	}
	return []string{fmt.Sprintf("%s ran at the same time on this machine's %d CPUs: each slowed the other", strings.Join(local, ", "), runtime.NumCPU())}
}

// startGate holds every board's first round until all boards still
// running are ready to measure.
type startGate struct {
	mu      sync.Mutex
	n       int // boards that may still arrive or have arrived
	waiting int
	open    chan struct{}
	opened  bool
}

func newStartGate(n int) *startGate { return &startGate{n: n, open: make(chan struct{})} }

// wait counts a board in and waits until every board is in.
func (g *startGate) wait(ctx context.Context) error {
	g.mu.Lock()
	g.waiting++
	g.check()
	g.mu.Unlock()
	select {
	case <-g.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// leave takes out a board that ended before it was ready (it failed),
// so the others do not wait for it.
func (g *startGate) leave() {
	g.mu.Lock()
	g.n--
	g.check()
	g.mu.Unlock()
}

func (g *startGate) check() {
	if !g.opened && g.waiting >= g.n {
		g.opened = true
		close(g.open)
	}
}
