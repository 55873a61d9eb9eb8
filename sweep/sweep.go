// Package sweep measures one or two knobs of a profile over a list of
// values: each value (each point of the grid, for two knobs) is a variant
// of the profile, and the variants are benchmarked interleaved in one
// bench session, against the profile's own value, with bench's
// statistics. It finds the best variant, writes the result as a table
// or an SVG chart, and can save the best variant as a profile in
// targets.toml. Like the other engines it takes a context and reports
// progress as typed events; it knows nothing of the front ends.
package sweep

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"armbench/bench"
	"armbench/profiles"
	"armbench/remote"
	"armbench/targets"
)

// MaxVariants bounds a sweep: every variant is built, deployed and run
// Count times, interleaved with the others.
const MaxVariants = 24

// Spec says what to sweep.
type Spec struct {
	Target  targets.Target
	Profile profiles.Profile
	Knobs   []Knob // one, or two for a grid
	Pkg     string // package to build ("" = targets.DefaultPkg)
	Dir     string // module root ("" = current directory)
	OutRoot string // where variants are built ("" = profiles.DefaultOutRoot in Dir)

	// Bench is the session's settings (Count, Warmup, Bench, Benchtime,
	// RunsDir, NoStore, History, …), as for `armbench bench`; Target and
	// Plans are filled in by the sweep.
	Bench bench.Spec
}

// Variant is one point of a sweep: the profile with the knobs at Values.
type Variant struct {
	// Name is the variant's profile name in the run: the profile's own
	// name for the base, else e.g. "release.gogc-400".
	Name   string   `json:"name"`
	Values []string `json:"values"` // one per knob
	// Base marks the profile's own values; Added says the base was not
	// among the listed values and was added as the first variant.
	Base  bool `json:"base,omitempty"`
	Added bool `json:"added,omitempty"`

	Profile profiles.Profile `json:"-"`
	Target  targets.Target   `json:"-"`
}

// Label is the variant as knob settings: "GOGC=400 GOMAXPROCS=2".
func Label(knobs []Knob, values []string) string {
	parts := make([]string, len(knobs))
	for i, k := range knobs {
		parts[i] = k.Name + "=" + values[i]
	}
	return strings.Join(parts, " ")
}

// Sweep is a prepared sweep: its variants in display order (the grid in
// the order the values were given; an added base first).
type Sweep struct {
	Spec     Spec
	Variants []Variant
	Base     int      // index of the base in Variants
	Notes    []string // what the reader should know (an added base, defaults)
}

// New checks spec and lays out the variants.
func New(spec Spec) (*Sweep, error) {
	t, p := spec.Target, spec.Profile
	switch {
	case len(spec.Knobs) == 0:
		return nil, errors.New("sweep: no knob; add --knob NAME=V1,V2,…")
	case len(spec.Knobs) > 2:
		return nil, fmt.Errorf("sweep: %d knobs; sweep one knob, or two for a grid", len(spec.Knobs))
	case len(spec.Knobs) == 2 && spec.Knobs[0].Name == spec.Knobs[1].Name:
		return nil, fmt.Errorf("sweep: knob %s given twice; list all its values in one --knob", spec.Knobs[0].Name)
	}
	s := &Sweep{Spec: spec}
	own := make([]string, len(spec.Knobs))
	size := 1
	for i, k := range spec.Knobs {
		if len(k.Values) == 0 {
			return nil, fmt.Errorf("sweep: knob %s has no values", k.Name)
		}
		if err := k.check(t); err != nil {
			return nil, fmt.Errorf("sweep: %w", err)
		}
		var note string
		own[i], note = k.own(t, p)
		if note != "" {
			s.Notes = append(s.Notes, note)
		}
		size *= len(k.Values)
	}
	if size > MaxVariants {
		return nil, fmt.Errorf("sweep: %d variants; at most %d (each is built, deployed and run every round)", size, MaxVariants)
	}
	for _, values := range grid(spec.Knobs) {
		s.Variants = append(s.Variants, Variant{Values: values})
	}
	s.Base = slices.IndexFunc(s.Variants, func(v Variant) bool { return slices.Equal(v.Values, own) })
	if s.Base < 0 {
		s.Variants = slices.Insert(s.Variants, 0, Variant{Values: own, Added: true})
		s.Base = 0
		s.Notes = append(s.Notes, fmt.Sprintf("%s (%s's own) was not listed: added as the first variant, the base the others are compared with", Label(spec.Knobs, own), p.Name))
	}
	if len(s.Variants) < 2 {
		return nil, fmt.Errorf("sweep: only %s, %s's own value: list at least one other value", Label(spec.Knobs, own), p.Name)
	}
	taken := map[string]bool{}
	for i := range s.Variants {
		v := &s.Variants[i]
		v.Base = i == s.Base
		v.Target, v.Profile = t, p
		if !v.Base {
			v.Profile.Run.Env = slices.Clone(p.Run.Env)
			v.Profile.Build.Tags = slices.Clone(p.Build.Tags)
			for j, k := range spec.Knobs {
				k.apply(v.Values[j], &v.Target, &v.Profile)
			}
			v.Profile.Name = variantName(p.Name, spec.Knobs, v.Values, taken)
			v.Profile.Description = fmt.Sprintf("%s with %s", p.Name, Label(spec.Knobs, v.Values))
			v.Profile.Extends, v.Profile.Builtin = p.Name, false
		}
		v.Name = v.Profile.Name
		taken[v.Name] = true
	}
	return s, nil
}

// grid is the cartesian product of the knobs' values, the first knob
// outermost.
func grid(knobs []Knob) [][]string {
	out := [][]string{nil}
	for _, k := range knobs {
		var next [][]string
		for _, prefix := range out {
			for _, v := range k.Values {
				next = append(next, append(slices.Clone(prefix), v))
			}
		}
		out = next
	}
	return out
}

// variantName is a file-safe profile name for a variant, unique among
// taken: "release.gogc-400", "release.godebug-madvdontneed-1".
func variantName(profile string, knobs []Knob, values []string, taken map[string]bool) string {
	var b strings.Builder
	b.WriteString(profile)
	for i, k := range knobs {
		b.WriteString("." + slug(strings.ToLower(strings.ReplaceAll(k.Name, ":", "-")), 24) + "-" + slug(values[i], 24))
	}
	name := b.String()
	for n := 2; taken[name]; n++ {
		name = fmt.Sprintf("%s-%d", b.String(), n)
	}
	return name
}

// slug keeps letters, digits, '.', '_' and '-', writes '_' for the rest,
// and cuts s to max bytes.
func slug(s string, max int) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= max {
			break
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// runOrder is the variants' order in the bench session: the base first
// (the comparisons' baseline), then the others in display order.
func (s *Sweep) runOrder() []int {
	order := []int{s.Base}
	for i := range s.Variants {
		if i != s.Base {
			order = append(order, i)
		}
	}
	return order
}

// Plans resolves every variant into a go test -c plan, in run order.
func (s *Sweep) Plans() ([]profiles.Plan, error) {
	var plans []profiles.Plan
	for _, i := range s.runOrder() {
		v := s.Variants[i]
		plan, err := profiles.Resolve(v.Target, v.Profile, profiles.Options{Pkg: s.Spec.Pkg, Dir: s.Spec.Dir, OutRoot: s.Spec.OutRoot, Mode: profiles.ModeTest})
		if err != nil {
			return nil, fmt.Errorf("sweep: variant %s: %w", Label(s.Spec.Knobs, v.Values), err)
		}
		plans = append(plans, plan)
	}
	return plans, nil
}

// Event is one thing that happened during a sweep.
type Event interface{ sweepEvent() }

// Planned is sent first: the variants, in display order.
type Planned struct {
	Knobs    []Knob
	Variants []Variant
	Base     int
	Notes    []string
}

// Benching wraps an event of the bench session. Variant is the index in
// the display order of the variant it is about, -1 for the probe and
// for events about the whole session.
type Benching struct {
	Variant int
	Event   bench.Event
}

func (Planned) sweepEvent()  {}
func (Benching) sweepEvent() {}

// Run benchmarks the variants on dev, interleaved, and analyses the
// stored run. emit may be nil.
func (s *Sweep) Run(ctx context.Context, dev remote.Device, emit func(Event)) (*Result, error) {
	if emit == nil {
		emit = func(Event) {}
	}
	emit(Planned{Knobs: s.Spec.Knobs, Variants: s.Variants, Base: s.Base, Notes: s.Notes})
	plans, err := s.Plans()
	if err != nil {
		return nil, err
	}
	order := s.runOrder()
	bs := s.Spec.Bench
	bs.Target, bs.Plans = s.Spec.Target, plans
	if bs.OutRoot == "" && s.Spec.OutRoot != "" {
		bs.OutRoot = s.Spec.OutRoot
	}
	run, err := bench.Execute(ctx, bs, dev, func(ev bench.Event) {
		emit(Benching{Variant: displayIndex(order, eventIndex(ev)), Event: ev})
	})
	if err != nil {
		return nil, fmt.Errorf("sweep %s on %s: %w", strings.Join(knobNames(s.Spec.Knobs), " × "), s.Spec.Target.Name, err)
	}
	return s.Analyze(run)
}

func knobNames(knobs []Knob) []string {
	out := make([]string, len(knobs))
	for i, k := range knobs {
		out[i] = k.Name
	}
	return out
}

// eventIndex is the run-order profile index a bench event is about, -1
// for none.
func eventIndex(ev bench.Event) int {
	switch ev := ev.(type) {
	case bench.Building:
		return ev.Index
	case bench.Deploying:
		return ev.Index
	case bench.RunStarted:
		return ev.Index
	case bench.Line:
		return ev.Index
	case bench.Sched:
		return ev.Index
	case bench.Proc:
		return ev.Index
	case bench.RunDone:
		return ev.Index
	}
	return -1
}

func displayIndex(order []int, i int) int {
	if i < 0 || i >= len(order) {
		return -1
	}
	return order[i]
}
