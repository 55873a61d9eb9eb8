package targets

import (
	"slices"
	"strconv"
	"strings"
)

// Group is a named set of targets that commands take wherever they take
// a target (`--target GROUP`): a fleet deployed in waves, benchmarked
// device by device.
type Group struct {
	Name        string
	Description string
	// Targets are the members in rollout order: the [[group]]'s own list
	// first, then the targets that name the group in their groups key, in
	// file order.
	Targets []string
	// Declared is false for a group that exists only through targets'
	// groups keys.
	Declared bool
	Pos      Position // the [[group]] table, or the first groups key naming it
}

var groupKeys = []string{"name", "description", "targets"}

// groupRef is one target naming a group in its groups key.
type groupRef struct {
	group, target string
	pos           Position
}

// groupList reads a target's groups key: ["edge", "lab"] or "edge,lab".
func (c *checker) groupList(e entry, path []string, target string) []string {
	var out []string
	add := func(s string, p Position) {
		if !nameRE.MatchString(s) || len(s) > 64 {
			c.add(p, e.key, "%q is not a valid group name: use %s (at most 64)", s, nameRule)
			return
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
			c.refs = append(c.refs, groupRef{group: s, target: target, pos: p})
		}
	}
	switch x := e.val.(type) {
	case string:
		for _, s := range strings.FieldsFunc(x, func(r rune) bool { return r == ',' || r == ' ' }) {
			add(s, e.vpos)
		}
	case []any:
		for i, v := range x {
			p := c.at(append(slices.Clone(path), strconv.Itoa(i))...)
			s, ok := v.(string)
			if !ok {
				c.add(p, e.key, "must be an array of group names, element %d is %s", i+1, describe(v))
				continue
			}
			add(s, p)
		}
	default:
		c.add(e.vpos, e.key, `must be an array of group names, e.g. ["edge", "lab"], got %s`, describe(e.val))
	}
	return out
}

// groups reads the [[group]] tables (v, when present) and merges them
// with the targets' groups keys. known are the target names the file
// defines, valid or not, so a broken target does not also show up as an
// unknown member.
func (c *checker) groups(v any, present bool, known []string) []Group {
	var out []Group
	index := map[string]int{}
	if present {
		elems, _ := c.tables(c.entry("group", v, "group"), "[[group]]")
		for i, m := range elems {
			g := c.group(m, strconv.Itoa(i), known)
			if g.Name == "" {
				continue
			}
			if j, dup := index[g.Name]; dup {
				c.add(c.vat("group", strconv.Itoa(i), "name"), "name", "duplicate group name %q (first defined at line %d); group names must be unique", g.Name, out[j].Pos.Line)
				continue
			}
			index[g.Name] = len(out)
			out = append(out, g)
		}
	}
	declared := len(out)
	for _, r := range c.refs {
		j, ok := index[r.group]
		if !ok {
			if !c.implicitGroup(r, out, known) {
				continue
			}
			j = len(out)
			index[r.group] = j
			out = append(out, Group{Name: r.group, Pos: r.pos})
		}
		if !slices.Contains(out[j].Targets, r.target) {
			out[j].Targets = append(out[j].Targets, r.target)
		}
	}
	for _, g := range out[:declared] {
		if len(g.Targets) == 0 {
			c.add(g.Pos, "group", "%q has no targets: list them in targets = [\"…\"], or add groups = [%q] to targets", g.Name, g.Name)
		}
	}
	return out
}

// implicitGroup checks a group that only targets' groups keys name: it
// must not clash with a target, and a name an edit or two away from a
// declared group is most likely a typo of it.
func (c *checker) implicitGroup(r groupRef, have []Group, known []string) bool {
	if slices.Contains(known, r.group) {
		c.add(r.pos, "groups", "%q is a target, not a group: group names and target names must differ", r.group)
		return false
	}
	var declared []string
	for _, g := range have {
		if g.Declared {
			declared = append(declared, g.Name)
		}
	}
	if s := closestName(r.group, declared); s != "" {
		c.add(r.pos, "groups", "group %q is named only here (did you mean %q?); declare it with [[group]] name = %q to keep both", r.group, s, r.group)
		return false
	}
	return true
}

// group reads one [[group]] table. A group with errors is still
// returned, so that a later one of the same name is reported too.
func (c *checker) group(m map[string]any, idx string, known []string) Group {
	base := []string{"group", idx}
	g := Group{Declared: true, Pos: c.at(base...)}
	for _, k := range sortedKeys(m) {
		e := c.entry(k, m[k], append(slices.Clone(base), k)...)
		switch k {
		case "name":
			g.Name = c.name(e)
			if slices.Contains(known, g.Name) {
				c.add(e.vpos, k, "%q is already a target: group names and target names must differ, since --target takes both", g.Name)
			}
		case "description":
			g.Description, _ = c.str(e)
		case "targets":
			g.Targets = c.members(e, append(slices.Clone(base), k), known)
		default:
			c.unknown(e.pos, k, groupKeys, "[[group]]")
		}
	}
	if _, ok := m["name"]; !ok {
		c.add(g.Pos, "name", "missing; every [[group]] needs name = \"…\" (%s)", nameRule)
	}
	return g
}

// members reads a [[group]]'s targets list; each must be a target of the
// file.
func (c *checker) members(e entry, path []string, known []string) []string {
	x, ok := e.val.([]any)
	if !ok {
		c.add(e.vpos, e.key, `must be an array of target names, e.g. ["pi4", "pi5"], got %s`, describe(e.val))
		return nil
	}
	var out []string
	for i, v := range x {
		p := c.at(append(slices.Clone(path), strconv.Itoa(i))...)
		s, isStr := v.(string)
		switch {
		case !isStr:
			c.add(p, e.key, "must be an array of target names, element %d is %s", i+1, describe(v))
		case !slices.Contains(known, s):
			msg := "unknown target %q"
			if sug := closestName(s, known); sug != "" {
				msg += " (did you mean " + strconv.Quote(sug) + "?)"
			}
			c.add(p, e.key, msg+"; targets: %s", s, strings.Join(known, ", "))
		case !slices.Contains(out, s):
			out = append(out, s)
		}
	}
	return out
}

// closestName is the name in names nearest to s when it is a plausible
// typo of it (one edit for short names, two otherwise), else "".
func closestName(s string, names []string) string {
	best, bestD := "", 1<<30
	for _, n := range names {
		if d := EditDistance(s, n); d < bestD && n != s {
			best, bestD = n, d
		}
	}
	limit := 2
	if len(s) <= 4 {
		limit = 1
	}
	if bestD <= limit {
		return best
	}
	return ""
}
