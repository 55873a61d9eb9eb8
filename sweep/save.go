package sweep

import (
	"fmt"
	"strconv"

	"armbench/targets"
)

// ProfileSpec is variant i written as a [[profile]] named name that
// extends the swept profile: only the knobs whose value differs from the
// profile's own are set. The comment lines say what was measured. A
// setting that a profile cannot hold (goarm and goarm64 belong to the
// target; removing a variable or GOMAXPROCS the parent sets) is an error.
func (r *Result) ProfileSpec(i int, name, goal string) (targets.ProfileSpec, []string, error) {
	if i < 0 || i >= len(r.Variants) {
		return targets.ProfileSpec{}, nil, fmt.Errorf("sweep: no variant %d", i)
	}
	v := r.Variants[i]
	base := r.Variants[r.Base]
	spec := targets.ProfileSpec{
		Name:        name,
		Extends:     r.Profile,
		Description: fmt.Sprintf("%s with %s: best by %s in armbench sweep", r.Profile, v.Label, goal),
	}
	for j, k := range r.Knobs {
		val, own := v.Values[j], base.Values[j]
		if val == own {
			continue
		}
		fail := func(format string, a ...any) (targets.ProfileSpec, []string, error) {
			return targets.ProfileSpec{}, nil, fmt.Errorf("save %s: %s=%s: %s", name, k.Name, val, fmt.Sprintf(format, a...))
		}
		str := func(s string) *string { return &s }
		switch k.kind {
		case kGOGC:
			spec.Run.GOGC = str(val)
		case kGOMAXPROCS:
			if val == Unset {
				return fail("a profile that extends %s (GOMAXPROCS=%s) cannot unset it; edit %s instead", r.Profile, own, r.Profile)
			}
			n, _ := strconv.Atoi(val)
			spec.Run.GOMAXPROCS = &n
		case kGOMEMLIMIT:
			spec.Run.GOMEMLIMIT = str(val)
		case kGODEBUG:
			spec.Run.GODEBUG = str(v.Profile.Run.GODEBUG)
		case kEnv:
			if val == Unset {
				return fail("a profile that extends %s cannot remove %s from its run.env; edit %s instead", r.Profile, k.key, r.Profile)
			}
			if spec.Run.Env == nil {
				spec.Run.Env = map[string]string{}
			}
			spec.Run.Env[k.key] = val
		case kGOARM, kGOARM64:
			return fail("%s is a setting of the target, not of a profile: set %s = %q on target %s in targets.toml", k.Name, k.Name, val, r.Target)
		case kGcflags:
			spec.Build.Gcflags = str(v.Profile.Build.Gcflags)
		case kPGO:
			spec.Build.PGO = str(v.Profile.Build.PGO)
		case kTags:
			spec.Build.Tags = append([]string{}, v.Profile.Build.Tags...)
		}
	}
	comment := []string{fmt.Sprintf("measured by `armbench sweep` on %s, run %s (count %d):", r.Target, r.RunID, r.Count)}
	what := fmt.Sprintf("%s, best by %s of %d variants, against %s's own %s", v.Label, goal, len(r.Variants), r.Profile, base.Label)
	if v.Base {
		what = fmt.Sprintf("%s's own %s was the best by %s of %d variants", r.Profile, base.Label, goal, len(r.Variants))
	}
	comment = append(comment, what)
	comment = append(comment, r.Summary(i)...)
	return spec, comment, nil
}

// Save writes the best variant by goal into the targets.toml at path
// (created from seed when missing) as a profile named name, and returns
// its index. check validates the whole file after the append (e.g.
// profiles.Load), before it is written.
func (r *Result) Save(path string, seed []byte, name, goal string, check func(*targets.Config) error) (int, error) {
	i, err := r.Best(goal)
	if err != nil {
		return -1, err
	}
	if goal == "" {
		goal = GoalTime
	}
	spec, comment, err := r.ProfileSpec(i, name, goal)
	if err != nil {
		return i, err
	}
	if err := targets.AppendProfile(path, seed, spec, comment, check); err != nil {
		return i, fmt.Errorf("sweep: %w", err)
	}
	return i, nil
}
