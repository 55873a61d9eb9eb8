package sweep

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"armbench/profiles"
	"armbench/targets"
)

// kind is what a knob turns.
type kind int

const (
	kGOGC kind = iota
	kGOMAXPROCS
	kGOMEMLIMIT
	kGODEBUG // one GODEBUG setting, key = its name
	kEnv     // one run environment variable, key = its name
	kGOARM
	kGOARM64
	kGcflags
	kPGO
	kTags
)

// Unset is the value of a knob the profile leaves unset (GOMAXPROCS, a
// GODEBUG setting, an environment variable); as a listed value it
// removes the profile's setting.
const Unset = "unset"

// none is the value of an empty build setting (no -gcflags, no tags).
const none = "none"

// KnobNames lists the knobs a sweep can turn, as written on the command
// line; NAME stands for a GODEBUG setting or a variable name.
var KnobNames = []string{
	"GOGC", "GOMAXPROCS", "GOMEMLIMIT", "GODEBUG:NAME", "env:NAME",
	"goarm", "goarm64", "gcflags", "pgo", "tags",
}

// Knob is one setting swept over values: `--knob GOGC=25,100,400`.
type Knob struct {
	// Name is the knob as armbench writes it: GOGC, GOMAXPROCS,
	// GOMEMLIMIT, GODEBUG:madvdontneed, env:MYVAR, goarm, goarm64,
	// gcflags, pgo, tags.
	Name string `json:"name"`
	// Values are the values in the order given, each in its canonical
	// spelling (GOGC "off", pgo "on", tags "a+b" sorted, "none" for no
	// gcflags or tags, "unset" for no setting).
	Values []string `json:"values"`
	kind   kind
	key    string // the GODEBUG setting or variable name
}

// Build reports whether the knob changes the binary (goarm, goarm64,
// gcflags, pgo, tags) rather than its run environment.
func (k Knob) Build() bool { return k.kind >= kGOARM }

// ParseKnob reads one --knob: NAME=V1,V2,… Values are separated by
// commas; a value in double quotes may contain commas ("-m,-l"). For
// goarm and goarm64, + stands for the comma of a feature suffix
// (v8.2+lse is "v8.2,lse"); for tags, + joins several tags in one value
// (netgo+osusergo), and "none" is no tags.
func ParseKnob(spec string) (Knob, error) {
	name, list, ok := strings.Cut(spec, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return Knob{}, fmt.Errorf("knob %q: write NAME=V1,V2,… (knobs: %s)", spec, strings.Join(KnobNames, ", "))
	}
	k, err := knobByName(name)
	if err != nil {
		return Knob{}, err
	}
	raw, err := splitValues(list)
	if err != nil {
		return Knob{}, fmt.Errorf("knob %s: %w", k.Name, err)
	}
	if len(raw) == 0 {
		return Knob{}, fmt.Errorf("knob %s: no values; write %s=V1,V2,…", k.Name, k.Name)
	}
	for _, v := range raw {
		c, err := k.canonical(v)
		if err != nil {
			return Knob{}, fmt.Errorf("knob %s: value %q: %w", k.Name, v, err)
		}
		if slices.Contains(k.Values, c) {
			return Knob{}, fmt.Errorf("knob %s: value %q is listed twice", k.Name, c)
		}
		k.Values = append(k.Values, c)
	}
	return k, nil
}

// knobByName finds the knob name stands for.
func knobByName(name string) (Knob, error) {
	switch up := strings.ToUpper(name); up {
	case "GOGC":
		return Knob{Name: "GOGC", kind: kGOGC}, nil
	case "GOMAXPROCS":
		return Knob{Name: "GOMAXPROCS", kind: kGOMAXPROCS}, nil
	case "GOMEMLIMIT":
		return Knob{Name: "GOMEMLIMIT", kind: kGOMEMLIMIT}, nil
	case "GODEBUG":
		return Knob{}, fmt.Errorf("knob GODEBUG: name one setting, e.g. GODEBUG:madvdontneed=0,1")
	case "GOARM":
		return Knob{Name: "goarm", kind: kGOARM}, nil
	case "GOARM64":
		return Knob{Name: "goarm64", kind: kGOARM64}, nil
	case "GCFLAGS", "-GCFLAGS":
		return Knob{Name: "gcflags", kind: kGcflags}, nil
	case "PGO", "-PGO":
		return Knob{Name: "pgo", kind: kPGO}, nil
	case "TAGS", "-TAGS":
		return Knob{Name: "tags", kind: kTags}, nil
	}
	if prefix, key, ok := strings.Cut(name, ":"); ok {
		switch strings.ToUpper(prefix) {
		case "GODEBUG":
			if !isWord(key) {
				return Knob{}, fmt.Errorf("knob %s: %q is not a GODEBUG setting name (letters, digits and _)", name, key)
			}
			return Knob{Name: "GODEBUG:" + key, kind: kGODEBUG, key: key}, nil
		case "ENV":
			if err := targets.CheckRunEnvName(key); err != nil {
				if k, kerr := knobByName(key); kerr == nil && !strings.Contains(key, ":") {
					return Knob{}, fmt.Errorf("knob %s: %v: write --knob %s=…", name, err, k.Name)
				}
				return Knob{}, fmt.Errorf("knob %s: %w", name, err)
			}
			return Knob{Name: "env:" + key, kind: kEnv, key: key}, nil
		}
	}
	msg := fmt.Sprintf("unknown knob %q", name)
	best, bestD := "", 3
	for _, k := range KnobNames {
		base, _, _ := strings.Cut(k, ":")
		if d := targets.EditDistance(strings.ToUpper(name), strings.ToUpper(base)); d < bestD {
			best, bestD = k, d
		}
	}
	switch {
	case best != "":
		msg += fmt.Sprintf(" (did you mean %s?)", best)
	case isWord(name) && strings.ToUpper(name) == name:
		msg += fmt.Sprintf(" (an environment variable is env:%s)", name)
	}
	return Knob{}, fmt.Errorf("%s; knobs: %s", msg, strings.Join(KnobNames, ", "))
}

func isWord(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// splitValues splits a comma-separated list; a value in double quotes
// may hold commas and spaces, and "" is the empty value.
func splitValues(list string) ([]string, error) {
	var out []string
	rest := list
	for {
		trimmed := strings.TrimLeft(rest, " \t")
		if strings.HasPrefix(trimmed, `"`) {
			end := strings.IndexByte(trimmed[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("a quote opened in %q is not closed", list)
			}
			out = append(out, trimmed[1:1+end])
			after := strings.TrimLeft(trimmed[2+end:], " \t")
			if after == "" {
				return out, nil
			}
			if after[0] != ',' {
				return nil, fmt.Errorf("after the quoted value %q comes %q; separate values with commas", trimmed[1:1+end], after)
			}
			rest = after[1:]
			continue
		}
		v, tail, more := strings.Cut(rest, ",")
		v = strings.TrimSpace(v)
		switch {
		case strings.Contains(v, `"`):
			return nil, fmt.Errorf("value %q: a quote must open the value and close it", v)
		case v == "" && (more || len(out) > 0):
			return nil, fmt.Errorf("an empty value in %q; write \"\" for an empty value", list)
		case v != "":
			out = append(out, v)
		}
		if !more {
			return out, nil
		}
		rest = tail
	}
}

// canonical checks v for the knob and spells it one way, so that the
// profile's own value is recognised in the list.
func (k Knob) canonical(v string) (string, error) {
	if strings.ContainsAny(v, "\x00\n\r") {
		return "", fmt.Errorf("must be one line")
	}
	switch k.kind {
	case kGOGC:
		if strings.EqualFold(v, "off") {
			return "off", nil
		}
		n, err := strconv.ParseUint(v, 10, 31)
		if err != nil {
			return "", fmt.Errorf(`want a percentage such as 200, or "off"`)
		}
		return strconv.FormatUint(n, 10), nil
	case kGOMAXPROCS:
		if strings.EqualFold(v, Unset) {
			return Unset, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 4096 {
			return "", fmt.Errorf(`want a number of threads from 1 to 4096, or "unset" (all the device's cores)`)
		}
		return strconv.Itoa(n), nil
	case kGOMEMLIMIT:
		if l := strings.ToLower(v); l == "off" || l == "auto" {
			v = l
		}
		return v, targets.CheckGOMEMLIMIT(v)
	case kGODEBUG:
		if strings.EqualFold(v, Unset) {
			return Unset, nil
		}
		if v == "" || strings.ContainsAny(v, ", \t\"") {
			return "", fmt.Errorf(`want a value without commas or spaces (GODEBUG %s=VALUE), or "unset"`, k.key)
		}
		return v, nil
	case kEnv:
		if strings.EqualFold(v, Unset) {
			return Unset, nil
		}
		return v, nil
	case kGOARM:
		v = strings.ReplaceAll(v, "+", ",")
		return v, targets.CheckGOARM(v)
	case kGOARM64:
		v = strings.ReplaceAll(v, "+", ",")
		return v, targets.CheckGOARM64(v)
	case kGcflags:
		if v == "" || v == none {
			return none, nil
		}
		if strings.HasPrefix(v, "-gcflags") {
			return "", fmt.Errorf("write the flags' value only, e.g. gcflags=all=-l")
		}
		return v, nil
	case kPGO:
		switch strings.ToLower(v) {
		case "on", "auto":
			return "on", nil
		case "off":
			return "off", nil
		}
		if strings.HasSuffix(v, ".pgo") {
			return v, nil
		}
		return "", fmt.Errorf(`want "on" (default.pgo when the package has one), "off", or a .pgo file`)
	case kTags:
		return canonicalTags(v)
	}
	return "", fmt.Errorf("unknown knob kind %d", k.kind)
}

func canonicalTags(v string) (string, error) {
	if v == "" || v == none {
		return none, nil
	}
	var tags []string
	for _, t := range strings.Split(v, "+") {
		if t == "" || !isTag(t) {
			return "", fmt.Errorf(`%q is not a build tag: letters, digits, _ and .; join several with + (netgo+osusergo), or "none"`, t)
		}
		if !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	slices.Sort(tags)
	return strings.Join(tags, "+"), nil
}

func isTag(s string) bool {
	for _, r := range s {
		if !(r == '_' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// own is the value the profile (and target, for goarm and goarm64) has
// for the knob, with a note when that value is a default rather than
// something the profile says.
func (k Knob) own(t targets.Target, p profiles.Profile) (value, note string) {
	switch k.kind {
	case kGOGC:
		if p.Run.GOGC == "" {
			return "100", fmt.Sprintf("%s sets no GOGC: its own value is the runtime's default, 100", p.Name)
		}
		if c, err := k.canonical(p.Run.GOGC); err == nil {
			return c, ""
		}
		return p.Run.GOGC, ""
	case kGOMAXPROCS:
		if p.Run.GOMAXPROCS <= 0 {
			return Unset, ""
		}
		return strconv.Itoa(p.Run.GOMAXPROCS), ""
	case kGOMEMLIMIT:
		if p.Run.GOMEMLIMIT == "" {
			return "off", fmt.Sprintf("%s sets no GOMEMLIMIT: its own value is the runtime's default, off (no limit)", p.Name)
		}
		return p.Run.GOMEMLIMIT, ""
	case kGODEBUG:
		for _, part := range strings.Split(p.Run.GODEBUG, ",") {
			if name, v, ok := strings.Cut(part, "="); ok && name == k.key {
				return v, ""
			}
		}
		return Unset, ""
	case kEnv:
		for _, e := range p.Run.Env {
			if e.Key == k.key {
				return e.Value, ""
			}
		}
		return Unset, ""
	case kGOARM:
		if t.GOARM == "" {
			return "7", fmt.Sprintf("target %s sets no goarm: its own value is Go's default, 7", t.Name)
		}
		return t.GOARM, ""
	case kGOARM64:
		if t.GOARM64 == "" {
			return "v8.0", fmt.Sprintf("target %s sets no goarm64: its own value is Go's default, v8.0", t.Name)
		}
		return t.GOARM64, ""
	case kGcflags:
		if p.Build.Gcflags == "" {
			return none, ""
		}
		return p.Build.Gcflags, ""
	case kPGO:
		switch p.Build.PGO {
		case "", "auto":
			return "on", ""
		}
		return p.Build.PGO, ""
	case kTags:
		if c, err := canonicalTags(strings.Join(p.Build.Tags, "+")); err == nil {
			return c, ""
		}
		return strings.Join(p.Build.Tags, "+"), ""
	}
	return "", ""
}

// check says whether the knob can turn on target t.
func (k Knob) check(t targets.Target) error {
	switch {
	case k.kind == kGOARM && t.GOARCH != "arm":
		return fmt.Errorf("knob goarm: target %s has goarch %s; goarm is for goarch arm (use goarm64)", t.Name, t.GOARCH)
	case k.kind == kGOARM64 && t.GOARCH != "arm64":
		return fmt.Errorf("knob goarm64: target %s has goarch %s; goarm64 is for goarch arm64 (use goarm)", t.Name, t.GOARCH)
	}
	return nil
}

// apply sets the knob to v (a canonical value) in a copy of the target
// and profile.
func (k Knob) apply(v string, t *targets.Target, p *profiles.Profile) {
	switch k.kind {
	case kGOGC:
		p.Run.GOGC = v
	case kGOMAXPROCS:
		p.Run.GOMAXPROCS = 0
		if v != Unset {
			p.Run.GOMAXPROCS, _ = strconv.Atoi(v)
		}
	case kGOMEMLIMIT:
		p.Run.GOMEMLIMIT = v
	case kGODEBUG:
		p.Run.GODEBUG = setGODEBUG(p.Run.GODEBUG, k.key, v)
	case kEnv:
		p.Run.Env = setEnv(p.Run.Env, k.key, v)
	case kGOARM:
		t.GOARM = v
	case kGOARM64:
		t.GOARM64 = v
	case kGcflags:
		p.Build.Gcflags = ""
		if v != none {
			p.Build.Gcflags = v
		}
	case kPGO:
		if v == "on" {
			v = "auto"
		}
		p.Build.PGO = v
	case kTags:
		p.Build.Tags = nil
		if v != none {
			p.Build.Tags = strings.Split(v, "+")
		}
	}
}

// setGODEBUG sets (or, for Unset, removes) one setting of a GODEBUG
// value, keeping the others in order.
func setGODEBUG(godebug, key, v string) string {
	var parts []string
	done := false
	for _, part := range strings.Split(godebug, ",") {
		if part == "" {
			continue
		}
		if name, _, _ := strings.Cut(part, "="); name == key {
			if v != Unset && !done {
				parts = append(parts, key+"="+v)
			}
			done = true
			continue
		}
		parts = append(parts, part)
	}
	if !done && v != Unset {
		parts = append(parts, key+"="+v)
	}
	return strings.Join(parts, ",")
}

// setEnv returns a copy of env with key set to v, or removed for Unset
// (sorted by key, as profiles keep it).
func setEnv(env []profiles.EnvVar, key, v string) []profiles.EnvVar {
	out := slices.DeleteFunc(slices.Clone(env), func(e profiles.EnvVar) bool { return e.Key == key })
	if v == Unset {
		return out
	}
	out = append(out, profiles.EnvVar{Key: key, Value: v})
	slices.SortFunc(out, func(a, b profiles.EnvVar) int { return strings.Compare(a.Key, b.Key) })
	return out
}
