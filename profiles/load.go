package profiles

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"armbench/targets"
)

// Load returns the built-in profiles followed by the user profiles of cfg
// (in file order), each with its extends chain applied. Problems come back
// as a targets.ErrorList pointing into the file.
func Load(cfg *targets.Config) ([]Profile, error) {
	ps := Builtins()
	if cfg == nil || len(cfg.Profiles) == 0 {
		return ps, nil
	}
	builtin := map[string]Profile{}
	for _, p := range ps {
		builtin[p.Name] = p
	}

	r := &loader{
		builtin: builtin,
		specs:   map[string]targets.ProfileSpec{},
		done:    map[string]Profile{},
		state:   map[string]int{},
	}
	var order []string
	for _, s := range cfg.Profiles {
		if _, ok := builtin[s.Name]; ok {
			// Shadowing a built-in would make "release" mean different
			// things in different workspaces; extending it is explicit.
			r.errorf(valPos(s, "name"), "name", "%q is a built-in profile; choose another name and write extends = %q to build on it", s.Name, s.Name)
			continue
		}
		if _, dup := r.specs[s.Name]; dup {
			continue // targets.Parse already reported it
		}
		r.specs[s.Name] = s
		order = append(order, s.Name)
	}
	r.known = append(Names(ps), order...)
	for _, name := range order {
		if p, ok := r.resolve(name, nil); ok {
			ps = append(ps, p)
		}
	}
	if len(r.errs) > 0 {
		sort.SliceStable(r.errs, func(i, j int) bool {
			a, b := r.errs[i].Pos, r.errs[j].Pos
			return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
		})
		return nil, r.errs
	}
	return ps, nil
}

// Find returns the profile named name.
func Find(ps []Profile, name string) (Profile, bool) {
	for _, p := range ps {
		if p.Name == name {
			return p, true
		}
	}
	return Profile{}, false
}

// Names lists the profiles' names in order.
func Names(ps []Profile) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

const (
	unvisited = iota
	visiting
	resolved
	failed
)

type loader struct {
	builtin map[string]Profile
	specs   map[string]targets.ProfileSpec
	known   []string
	done    map[string]Profile
	state   map[string]int
	errs    targets.ErrorList
}

func (r *loader) errorf(p targets.Position, key, format string, a ...any) {
	r.errs = append(r.errs, &targets.Error{Pos: p, Key: key, Msg: fmt.Sprintf(format, a...)})
}

// valPos is where key's value was written (errors are about the value).
func valPos(s targets.ProfileSpec, key string) targets.Position {
	if p, ok := s.ValPos[key]; ok {
		return p
	}
	if p, ok := s.KeyPos[key]; ok {
		return p
	}
	return s.Pos
}

// resolve applies name's extends chain; chain is the path that led here,
// for the cycle message.
func (r *loader) resolve(name string, chain []string) (Profile, bool) {
	if p, ok := r.builtin[name]; ok {
		return p, true
	}
	switch r.state[name] {
	case resolved:
		return r.done[name], true
	case failed:
		return Profile{}, false
	case visiting:
		// The caller at the end of chain closes the cycle; report there.
		last := r.specs[chain[len(chain)-1]]
		i := slices.Index(chain, name)
		cycle := append(slices.Clone(chain[i:]), name)
		r.errorf(valPos(last, "extends"), "extends", "cycle: %s; a profile cannot extend itself, directly or through others", strings.Join(cycle, " → "))
		for _, n := range chain[i:] {
			r.state[n] = failed
		}
		return Profile{}, false
	}
	s := r.specs[name]
	r.state[name] = visiting
	parent := r.builtin["default"]
	if s.Extends != "" {
		_, isSpec := r.specs[s.Extends]
		_, isBuiltin := r.builtin[s.Extends]
		if !isSpec && !isBuiltin {
			msg := fmt.Sprintf("unknown profile %q", s.Extends)
			if sug := closest(s.Extends, r.known); sug != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", sug)
			}
			r.errorf(valPos(s, "extends"), "extends", "%s; known profiles: %s", msg, strings.Join(r.known, ", "))
			r.state[name] = failed
			return Profile{}, false
		}
		p, ok := r.resolve(s.Extends, append(slices.Clone(chain), name))
		if !ok {
			r.state[name] = failed
			return Profile{}, false
		}
		parent = p
	}
	p := apply(parent, s)
	r.state[name] = resolved
	r.done[name] = p
	return p, true
}

// apply lays a user spec over its parent: set keys win, env tables merge.
func apply(parent Profile, s targets.ProfileSpec) Profile {
	p := Profile{
		Name:        s.Name,
		Description: s.Description,
		Extends:     s.Extends,
		Build:       parent.Build,
		Run:         parent.Run,
		Health:      parent.Health,
	}
	if s.Health != nil {
		p.Health = s.Health
	}
	if p.Description == "" {
		if s.Extends != "" {
			p.Description = "user profile based on " + s.Extends
		} else {
			p.Description = "user profile"
		}
	}
	b := s.Build
	set(&p.Build.CGO, b.CGO)
	set(&p.Build.Trimpath, b.Trimpath)
	set(&p.Build.Ldflags, b.Ldflags)
	set(&p.Build.Gcflags, b.Gcflags)
	set(&p.Build.PGO, b.PGO)
	set(&p.Build.Static, b.Static)
	if b.Tags != nil {
		p.Build.Tags = slices.Clone(b.Tags)
	} else {
		p.Build.Tags = slices.Clone(parent.Build.Tags)
	}
	p.Build.Env = mergeEnv(parent.Build.Env, b.Env)

	u := s.Run
	set(&p.Run.GOMAXPROCS, u.GOMAXPROCS)
	set(&p.Run.GOGC, u.GOGC)
	set(&p.Run.GOMEMLIMIT, u.GOMEMLIMIT)
	set(&p.Run.GODEBUG, u.GODEBUG)
	p.Run.Env = mergeEnv(parent.Run.Env, u.Env)
	return p
}

// set overrides *dst with what the spec wrote; nil means inherit.
func set[T any](dst *T, spec *T) {
	if spec != nil {
		*dst = *spec
	}
}

// mergeEnv returns base overlaid with over, sorted by key.
func mergeEnv(base []EnvVar, over map[string]string) []EnvVar {
	m := make(map[string]string, len(base)+len(over))
	for _, e := range base {
		m[e.Key] = e.Value
	}
	for k, v := range over {
		m[k] = v
	}
	if len(m) == 0 {
		return nil
	}
	out := make([]EnvVar, 0, len(m))
	for k, v := range m {
		out = append(out, EnvVar{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// closest suggests a known name within two edits of s.
func closest(s string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := targets.EditDistance(s, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}
