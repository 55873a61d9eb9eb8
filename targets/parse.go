package targets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"armbench/internal/lazyregexp"
)

// EmbeddedName is Config.Path (and the file in error positions) when the
// configuration comes from the bytes compiled into armbench.
const EmbeddedName = "(embedded)"

// DefaultPkg is what armbench builds when neither --pkg nor [project] pkg
// says otherwise.
const DefaultPkg = "./examples/workload"

// DefaultDeployDir is where a remote target keeps its binaries.
const DefaultDeployDir = "~/armbench"

// EnvConfig names the environment variable that chooses the config file.
const EnvConfig = "ARMBENCH_CONFIG"

// Open loads the configuration: path when given (it must exist), otherwise
// $ARMBENCH_CONFIG when set (it must exist), otherwise ./targets.toml when
// it exists, otherwise embedded, so armbench runs anywhere.
func Open(path string, embedded []byte) (*Config, error) {
	if path != "" {
		return openFile(path, "")
	}
	if env := os.Getenv(EnvConfig); env != "" {
		return openFile(env, " (from "+EnvConfig+")")
	}
	data, err := os.ReadFile("targets.toml")
	switch {
	case err == nil:
		return Parse("targets.toml", data)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read config: %w", err)
	}
	if embedded == nil {
		return nil, errors.New("no config: ./targets.toml does not exist and no embedded default was given; pass --config or set " + EnvConfig)
	}
	return Parse(EmbeddedName, embedded)
}

func openFile(path, why string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config%s: %w", why, err)
	}
	return Parse(path, data)
}

// Parse decodes and validates a targets.toml. name is used in error
// positions. On failure the error is an ErrorList with every problem found.
func Parse(name string, data []byte) (*Config, error) {
	src := string(data)
	// toml.Decode skips a byte-order mark and counts positions after it; do
	// the same so both agree.
	src = strings.TrimPrefix(src, "\xef\xbb\xbf")

	var raw map[string]any
	if _, err := toml.Decode(src, &raw); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			pos := Position{File: name, Line: pe.Position.Line, Col: max(pe.Position.Col, 1)}
			if pos.Line < 1 {
				// Some errors at the end of input carry only a byte offset.
				pos = offsetPos(name, src, pe.Position.Start)
			}
			return nil, ErrorList{{
				Pos: pos,
				Key: pe.LastKey,
				Msg: "TOML syntax: " + pe.Message,
			}}
		}
		return nil, ErrorList{{Pos: Position{File: name}, Msg: err.Error()}}
	}

	keys, vals := locate(name, src)
	c := &checker{file: name, pos: keys, vals: vals}
	cfg := c.config(raw)
	if len(c.errs) > 0 {
		return nil, c.errs.normalize()
	}
	cfg.Path = name
	return cfg, nil
}

// offsetPos turns a byte offset into a position, clamped into src.
func offsetPos(name, src string, off int) Position {
	off = min(max(off, 0), len(src))
	line := 1 + strings.Count(src[:off], "\n")
	return Position{File: name, Line: line, Col: off - (strings.LastIndexByte(src[:off], '\n') + 1) + 1}
}

type checker struct {
	file string
	pos  map[string]Position // keys
	vals map[string]Position // values
	errs ErrorList
	refs []groupRef // targets' groups keys, for the groups pass
	// names are the target names written in the file, valid or not.
	names []string
}

// at returns where path was written, or its nearest located ancestor.
func (c *checker) at(path ...string) Position {
	for n := len(path); n > 0; n-- {
		if p, ok := c.pos[joinPath(path[:n]...)]; ok {
			return p
		}
	}
	return Position{File: c.file, Line: 1, Col: 1}
}

// vat returns where path's value was written, falling back to the key.
func (c *checker) vat(path ...string) Position {
	if p, ok := c.vals[joinPath(path...)]; ok {
		return p
	}
	return c.at(path...)
}

func (c *checker) add(p Position, key, format string, a ...any) {
	c.errs = append(c.errs, &Error{Pos: p, Key: key, Msg: fmt.Sprintf(format, a...)})
}

// entry is one key's value with the places and name to report it under:
// pos for problems with the key, vpos for problems with its value.
type entry struct {
	key  string
	val  any
	pos  Position
	vpos Position
}

func (c *checker) entry(key string, val any, path ...string) entry {
	return entry{key, val, c.at(path...), c.vat(path...)}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var topKeys = []string{"project", "defaults", "target", "group", "profile"}

func (c *checker) config(raw map[string]any) *Config {
	cfg := &Config{Project: Project{Pkg: DefaultPkg}}
	topSuggested := map[string]bool{}
	for _, k := range sortedKeys(raw) {
		if !slices.Contains(topKeys, k) {
			topSuggested[c.unknown(c.at(k), k, topKeys, "top level")] = true
		}
	}
	if v, ok := raw["project"]; ok {
		c.project(v, &cfg.Project)
	}
	defaults := map[string]entry{}
	if v, ok := raw["defaults"]; ok {
		defaults = c.defaults(v)
	}
	if v, ok := raw["target"]; ok {
		cfg.Targets = c.targets(v, defaults)
	} else if !topSuggested["target"] {
		c.add(Position{File: c.file, Line: 1, Col: 1}, "target", "no [[target]] tables: add at least one, e.g.\n\t[[target]]\n\tname = \"pi4\"\n\thost = \"raspberrypi.local\"\n\tgoarch = \"arm64\"")
	}
	v, ok := raw["group"]
	cfg.Groups = c.groups(v, ok, c.names)
	if v, ok := raw["profile"]; ok {
		cfg.Profiles = c.profiles(v)
	}
	return cfg
}

// project reads the [project] table into p.
func (c *checker) project(v any, p *Project) {
	m, ok := c.table(c.entry("project", v, "project"), "[project]")
	if !ok {
		return
	}
	for _, k := range sortedKeys(m) {
		e := c.entry(k, m[k], "project", k)
		if k != "pkg" {
			c.unknown(e.pos, k, []string{"pkg"}, "[project]")
			continue
		}
		s, ok := c.str(e)
		switch {
		case !ok:
		case strings.TrimSpace(s) == "" || strings.ContainsAny(s, " \t\n") || strings.HasPrefix(s, "-"):
			c.add(e.vpos, k, "%q is not a package path; write an import path or a ./relative directory, e.g. pkg = %q", s, DefaultPkg)
		default:
			p.Pkg = s
		}
	}
}

// defaults reads the [defaults] table: target keys every [[target]]
// inherits unless it sets them.
func (c *checker) defaults(v any) map[string]entry {
	defaults := map[string]entry{}
	m, ok := c.table(c.entry("defaults", v, "defaults"), "[defaults]")
	if !ok {
		return defaults
	}
	for _, k := range sortedKeys(m) {
		e := c.entry(k, m[k], "defaults", k)
		switch {
		case k == "name":
			c.add(e.pos, k, "not allowed in [defaults]: every [[target]] needs its own name")
		case !slices.Contains(targetKeys, k):
			c.unknown(e.pos, k, targetKeys[1:], "[defaults]")
		default:
			defaults[k] = e
		}
	}
	return defaults
}

// targets reads the [[target]] tables; a repeated name is an error at
// the repeat.
func (c *checker) targets(v any, defaults map[string]entry) []Target {
	elems, ok := c.tables(c.entry("target", v, "target"), "[[target]]")
	if !ok {
		return nil
	}
	var out []Target
	first := map[string]Position{}
	for i, m := range elems {
		idx := strconv.Itoa(i)
		t, ok := c.target(m, idx, defaults)
		if p, dup := first[t.Name]; dup && t.Name != "" {
			c.add(c.vat("target", idx, "name"), "name", "duplicate target name %q (first defined at line %d); target names must be unique", t.Name, p.Line)
			continue
		}
		if t.Name != "" {
			first[t.Name] = c.at("target", idx, "name")
			c.names = append(c.names, t.Name)
		}
		if ok {
			out = append(out, t)
		}
	}
	return out
}

// profiles reads the [[profile]] tables; a repeated name is an error at
// the repeat.
func (c *checker) profiles(v any) []ProfileSpec {
	elems, ok := c.tables(c.entry("profile", v, "profile"), "[[profile]]")
	if !ok {
		return nil
	}
	var out []ProfileSpec
	first := map[string]Position{}
	for i, m := range elems {
		idx := strconv.Itoa(i)
		p, ok := c.profile(m, idx)
		if fp, dup := first[p.Name]; dup && p.Name != "" {
			c.add(c.vat("profile", idx, "name"), "name", "duplicate profile name %q (first defined at line %d); profile names must be unique", p.Name, fp.Line)
			continue
		}
		if p.Name != "" {
			first[p.Name] = p.KeyPos["name"]
		}
		if ok {
			out = append(out, p)
		}
	}
	return out
}

// ---- value helpers ----

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("string %q", x)
	case int64:
		return fmt.Sprintf("integer %d", x)
	case float64:
		return fmt.Sprintf("float %v", x)
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case time.Time:
		return "date-time " + x.Format(time.RFC3339)
	case []map[string]any:
		return "array of tables"
	case []any:
		return "array"
	case map[string]any:
		return "table"
	}
	return fmt.Sprintf("%T", v)
}

func (c *checker) str(e entry) (string, bool) {
	s, ok := e.val.(string)
	if !ok {
		c.add(e.vpos, e.key, "must be a string, got %s", describe(e.val))
	}
	return s, ok
}

func (c *checker) boolean(e entry) (bool, bool) {
	b, ok := e.val.(bool)
	if !ok {
		c.add(e.vpos, e.key, "must be true or false, got %s", describe(e.val))
	}
	return b, ok
}

func (c *checker) integer(e entry, lo, hi int64) (int, bool) {
	n, ok := e.val.(int64)
	if !ok {
		c.add(e.vpos, e.key, "must be an integer from %d to %d, got %s", lo, hi, describe(e.val))
		return 0, false
	}
	if n < lo || n > hi {
		c.add(e.vpos, e.key, "%d is out of range; allowed: %d to %d", n, lo, hi)
		return 0, false
	}
	return int(n), true
}

func (c *checker) table(e entry, what string) (map[string]any, bool) {
	m, ok := e.val.(map[string]any)
	if !ok {
		c.add(e.vpos, e.key, "must be a table (%s), got %s", what, describe(e.val))
	}
	return m, ok
}

// tables accepts an array of tables; [target] written with single brackets
// is the classic mistake, so it gets its own message.
func (c *checker) tables(e entry, what string) ([]map[string]any, bool) {
	switch x := e.val.(type) {
	case []map[string]any:
		return x, true
	case map[string]any:
		c.add(e.pos, e.key, "must be an array of tables: write %s (double brackets) for each one", what)
	default:
		c.add(e.vpos, e.key, "must be an array of tables (%s), got %s", what, describe(e.val))
	}
	return nil, false
}

var tagRE = lazyregexp.New(`^[A-Za-z0-9_.]+$`)

// stringList accepts ["a", "b"] or "a,b" (the form go build -tags takes).
func (c *checker) stringList(e entry, path []string) ([]string, bool) {
	var out []string
	ok := true
	check := func(s string, p Position) {
		if !tagRE.MatchString(s) {
			c.add(p, e.key, "build tag %q is not allowed: tags are letters, digits, _ and .", s)
			ok = false
			return
		}
		out = append(out, s)
	}
	switch x := e.val.(type) {
	case string:
		for _, s := range strings.FieldsFunc(x, func(r rune) bool { return r == ',' || r == ' ' }) {
			check(s, e.vpos)
		}
	case []any:
		for i, v := range x {
			p := c.at(append(slices.Clone(path), strconv.Itoa(i))...)
			s, isStr := v.(string)
			if !isStr {
				c.add(p, e.key, "must be an array of strings, element %d is %s", i+1, describe(v))
				ok = false
				continue
			}
			check(s, p)
		}
	default:
		c.add(e.vpos, e.key, `must be an array of strings, e.g. ["netgo", "osusergo"], got %s`, describe(e.val))
		return nil, false
	}
	return out, ok
}

var envKeyRE = lazyregexp.New(`^[A-Za-z_][A-Za-z0-9_]*$`)

// env reads an env table; reserved maps a variable armbench sets itself to
// the key that controls it.
func (c *checker) env(e entry, path []string, reserved map[string]string) (map[string]string, bool) {
	m, ok := e.val.(map[string]any)
	if !ok {
		c.add(e.vpos, e.key, `must be a table of strings, e.g. %s = { CGO_CFLAGS = "-O2" }, got %s`, e.key, describe(e.val))
		return nil, false
	}
	out := make(map[string]string, len(m))
	for _, k := range sortedKeys(m) {
		ke := c.entry(e.key+"."+k, m[k], append(slices.Clone(path), k)...)
		if !envKeyRE.MatchString(k) {
			c.add(ke.pos, ke.key, "%q is not an environment variable name: letters, digits and _, not starting with a digit", k)
			ok = false
			continue
		}
		if use, r := reserved[k]; r {
			c.add(ke.pos, ke.key, "%s is set by armbench; %s", k, use)
			ok = false
			continue
		}
		s, isStr := c.str(ke)
		if !isStr {
			ok = false
			continue
		}
		if strings.ContainsRune(s, 0) {
			c.add(ke.vpos, ke.key, "contains a NUL byte")
			ok = false
			continue
		}
		out[k] = s
	}
	return out, ok
}

// unknown reports a key that is not part of the schema, with the closest
// allowed key when there is a plausible one; it returns that suggestion.
func (c *checker) unknown(p Position, key string, allowed []string, where string) string {
	msg := fmt.Sprintf("unknown key in %s", where)
	s := suggest(key, allowed)
	if s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	msg += "; allowed: " + strings.Join(allowed, ", ")
	c.add(p, key, "%s", msg)
	return s
}

func suggest(key string, allowed []string) string {
	best, bestD := "", 1<<30
	lk := strings.ToLower(strings.ReplaceAll(key, "-", "_"))
	for _, a := range allowed {
		d := EditDistance(lk, a)
		if d < bestD {
			best, bestD = a, d
		}
	}
	limit := 2
	if len(key) <= 4 {
		limit = 1
	}
	if bestD <= limit {
		return best
	}
	return ""
}

// EditDistance is the optimal string alignment distance: like Levenshtein,
// but a swap of two neighbours (gorach → goarch) costs one edit. It ranks
// "did you mean" suggestions for keys here and for profile names.
func EditDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
