package targets

import (
	"slices"
	"strconv"
	"strings"

	"armbench/internal/lazyregexp"
)

var (
	profileKeys = []string{"name", "description", "extends", "build", "run", "health"}
	buildKeys   = []string{"cgo", "trimpath", "ldflags", "gcflags", "tags", "pgo", "static", "env"}
	runKeys     = []string{"gomaxprocs", "gogc", "gomemlimit", "godebug", "env"}
)

// Variables armbench derives from the target or from a dedicated key; an
// env table that set them would silently fight the plan.
var (
	reservedBuildEnv = map[string]string{
		"GOOS":        "it comes from the target's goos",
		"GOARCH":      "it comes from the target's goarch",
		"GOARM":       "it comes from the target's goarm",
		"GOARM64":     "it comes from the target's goarm64",
		"CGO_ENABLED": "use build.cgo = true or false",
		"CC":          "it comes from the target's cc",
	}
	reservedRunEnv = map[string]string{
		"GOMAXPROCS": "use run.gomaxprocs",
		"GOGC":       "use run.gogc",
		"GOMEMLIMIT": "use run.gomemlimit",
		"GODEBUG":    "use run.godebug",
	}
)

// profile turns one [[profile]] table into a ProfileSpec.
func (c *checker) profile(m map[string]any, idx string) (ProfileSpec, bool) {
	before := len(c.errs)
	base := []string{"profile", idx}
	p := ProfileSpec{Pos: c.at(base...), KeyPos: map[string]Position{}, ValPos: map[string]Position{}}
	c.keyPositions(p.KeyPos, p.ValPos, m, base, "")

	nameSuggested := false
	for _, k := range sortedKeys(m) {
		e := c.entry(k, m[k], append(slices.Clone(base), k)...)
		switch k {
		case "name":
			p.Name = c.name(e)
		case "description":
			p.Description, _ = c.str(e)
		case "extends":
			p.Extends, _ = c.str(e)
		case "build":
			if t, ok := c.table(e, "[profile.build]"); ok {
				c.buildSpec(&p.Build, t, append(slices.Clone(base), k))
			}
		case "run":
			if t, ok := c.table(e, "[profile.run]"); ok {
				c.runSpec(&p.Run, t, append(slices.Clone(base), k))
			}
		case "health":
			p.Health = c.health(e, append(slices.Clone(base), k), "[profile.health]")
		default:
			// A build or run key written directly under [[profile]] is the
			// likely mistake; point at where it belongs.
			switch {
			case slices.Contains(buildKeys, k):
				c.add(e.pos, k, "belongs in [profile.build]: write build.%s = … or put it under a [profile.build] header", k)
			case slices.Contains(runKeys, k):
				c.add(e.pos, k, "belongs in [profile.run]: write run.%s = … or put it under a [profile.run] header", k)
			default:
				nameSuggested = nameSuggested || c.unknown(e.pos, k, profileKeys, "[[profile]]") == "name"
			}
		}
	}
	if _, ok := m["name"]; !ok && !nameSuggested {
		c.add(p.Pos, "name", "missing; every [[profile]] needs name = \"…\" (%s)", nameRule)
	}
	if _, ok := p.KeyPos["name"]; !ok {
		p.KeyPos["name"] = p.Pos
		p.ValPos["name"] = p.Pos
	}
	return p, len(c.errs) == before
}

// keyPositions fills KeyPos and ValPos with every dotted key below a
// profile.
func (c *checker) keyPositions(keys, vals map[string]Position, m map[string]any, path []string, prefix string) {
	for k, v := range m {
		full := append(slices.Clone(path), k)
		keys[prefix+k] = c.at(full...)
		vals[prefix+k] = c.vat(full...)
		if sub, ok := v.(map[string]any); ok {
			c.keyPositions(keys, vals, sub, full, prefix+k+".")
		}
	}
}

func (c *checker) buildSpec(b *BuildSpec, m map[string]any, path []string) {
	for _, k := range sortedKeys(m) {
		kp := append(slices.Clone(path), k)
		e := c.entry("build."+k, m[k], kp...)
		switch k {
		case "cgo":
			b.CGO = c.boolPtr(e)
		case "trimpath":
			b.Trimpath = c.boolPtr(e)
		case "static":
			b.Static = c.boolPtr(e)
		case "ldflags":
			b.Ldflags = c.oneLine(e)
		case "gcflags":
			b.Gcflags = c.oneLine(e)
		case "tags":
			if v, ok := c.stringList(e, kp); ok {
				b.Tags = append([]string{}, v...) // tags = [] is set: it clears what the profile extends
			}
		case "pgo":
			if v, ok := c.str(e); ok {
				b.PGO = c.checked(e, v, v != "" && !strings.ContainsAny(v, "\x00\n\r"),
					`%q is not allowed; write "auto" (use default.pgo when the package has one), "off", or the path of a .pgo profile`)
			}
		case "env":
			if v, ok := c.env(e, kp, reservedBuildEnv); ok {
				b.Env = v
			}
		default:
			c.unknown(e.pos, e.key, prefixed("build.", buildKeys), "[profile.build]")
		}
	}
}

var (
	gogcRE       = lazyregexp.New(`^(off|[0-9]+)$`)
	gomemlimitRE = lazyregexp.New(`^(off|auto|[0-9]+(B|KiB|MiB|GiB|TiB)?)$`)
	godebugRE    = lazyregexp.New(`^[A-Za-z0-9_]+=[^,\s]*(,[A-Za-z0-9_]+=[^,\s]*)*$`)
)

func (c *checker) runSpec(r *RunSpec, m map[string]any, path []string) {
	for _, k := range sortedKeys(m) {
		kp := append(slices.Clone(path), k)
		e := c.entry("run."+k, m[k], kp...)
		switch k {
		case "gomaxprocs":
			if v, ok := c.integer(e, 1, 4096); ok {
				r.GOMAXPROCS = &v
			}
		case "gogc":
			if v, ok := c.intOrStr(e, `a percentage such as 200 or "off"`); ok {
				r.GOGC = c.checked(e, v, gogcRE.MatchString(v), `%q is not allowed; write a percentage such as 200 or "off"`)
			}
		case "gomemlimit":
			if v, ok := c.intOrStr(e, `a size such as "512MiB", "auto" or "off"`); ok {
				r.GOMEMLIMIT = c.checked(e, v, gomemlimitRE.MatchString(v),
					`%q is not allowed; write "off", "auto" (half of the target's memory) or an integer with B, KiB, MiB, GiB or TiB, e.g. "512MiB"`)
			}
		case "godebug":
			if v, ok := c.str(e); ok {
				r.GODEBUG = c.checked(e, v, v == "" || godebugRE.MatchString(v),
					`%q is not allowed; write comma-separated name=value pairs, e.g. "gctrace=1,madvdontneed=1"`)
			}
		case "env":
			if v, ok := c.env(e, kp, reservedRunEnv); ok {
				r.Env = v
			}
		default:
			c.unknown(e.pos, e.key, prefixed("run.", runKeys), "[profile.run]")
		}
	}
}

// checked is &v when valid, else nil with msg (formatted with v) reported
// at the value: the one shape of every free-form profile setting.
func (c *checker) checked(e entry, v string, valid bool, msg string) *string {
	if !valid {
		c.add(e.vpos, e.key, msg, v)
		return nil
	}
	return &v
}

// intOrStr reads a setting that may be written bare (gogc = 200) or
// quoted (gogc = "off"), as the environment variable's text.
// boolPtr is e's boolean, nil when e is none (the profile does not
// set it).
func (c *checker) boolPtr(e entry) *bool {
	if v, ok := c.boolean(e); ok {
		return &v
	}
	return nil
}

// oneLine is e's string when it fits on one line, nil otherwise.
func (c *checker) oneLine(e entry) *string {
	if v, ok := c.str(e); ok {
		return c.checked(e, v, !strings.ContainsAny(v, "\x00\n\r"), "%q must be one line")
	}
	return nil
}

func (c *checker) intOrStr(e entry, what string) (string, bool) {
	switch x := e.val.(type) {
	case int64:
		return strconv.FormatInt(x, 10), true
	case string:
		return x, true
	}
	c.add(e.vpos, e.key, "must be %s, got %s", what, describe(e.val))
	return "", false
}

func prefixed(p string, keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = p + k
	}
	return out
}
