package targets

import (
	"fmt"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
)

// targetKeys is the [[target]] schema, in the order the docs list it.
var targetKeys = []string{
	"name", "description", "host", "user", "port", "goos", "goarch", "goarm", "goarm64",
	"cpu", "cores", "memory", "deploy_dir", "runner", "cc", "tags", "known_hosts", "identity_file",
	"groups", "health",
	"service", // last: it checks host and runner
}

// goosFor lists, per GOARCH, the GOOS values `go tool dist list` pairs with it.
var goosFor = map[string][]string{
	"arm":   {"android", "freebsd", "linux", "netbsd", "openbsd", "plan9"},
	"arm64": {"android", "darwin", "freebsd", "ios", "linux", "netbsd", "openbsd", "windows"},
}

// Arch is the short architecture label shown in target lists:
// "arm64 v8.0", "arm v6", "arm v7,softfloat", or just "arm64" when the
// level is unset (the go command then uses its default).
func (t Target) Arch() string {
	switch {
	case t.GOARCH == "arm" && t.GOARM != "":
		return "arm v" + t.GOARM
	case t.GOARCH == "arm64" && t.GOARM64 != "":
		return "arm64 " + t.GOARM64
	}
	return t.GOARCH
}

var nameRE = matchFunc(isName)

const nameRule = "letters, digits, - _ and ., starting with a letter or digit"

// name reads a target or profile name, which becomes a file name and a
// command-line argument, hence the narrow rule.
func (c *checker) name(e entry) string {
	s, ok := c.str(e)
	if ok && (!nameRE.MatchString(s) || len(s) > 64) {
		c.add(e.vpos, e.key, "%q is not a valid name: use %s (at most 64)", s, nameRule)
	}
	return s
}

var (
	goarmRE   = matchFunc(isGOARM)
	goarm64RE = matchFunc(isGOARM64)
)

const (
	goarmRule   = `"5", "6" or "7", optionally followed by ",softfloat" or ",hardfloat" (e.g. "6" or "7,softfloat")`
	goarm64Rule = `"v8.0" … "v8.9" or "v9.0" … "v9.5", optionally followed by ",lse" and/or ",crypto" (e.g. "v8.2" or "v8.0,crypto")`
)

// target turns one [[target]] table, merged with [defaults], into a Target.
func (c *checker) target(m map[string]any, idx string, defaults map[string]entry) (Target, bool) {
	before := len(c.errs)
	base := []string{"target", idx}
	t := Target{Pos: c.at(base...)}
	entries, suggested := c.targetEntries(m, base, defaults)
	for _, k := range targetKeys {
		if e, ok := entries[k]; ok {
			c.targetField(&t, e, append(slices.Clone(base), k))
		}
	}
	c.targetAsWhole(&t, entries, suggested)
	if t.DeployDir == "" {
		if t.IsLocal() {
			t.DeployDir = path.Join(".armbench", "device", t.Name)
		} else {
			t.DeployDir = DefaultDeployDir
		}
	}
	return t, len(c.errs) == before
}

// targetEntries are the keys of one [[target]] table with the [defaults]
// it does not set, and the keys suggested for misspelt ones: a misspelt
// required key is one mistake, since "gorach: did you mean goarch"
// already says it and "goarch: missing" would be noise.
func (c *checker) targetEntries(m map[string]any, base []string, defaults map[string]entry) (entries map[string]entry, suggested map[string]bool) {
	entries, suggested = map[string]entry{}, map[string]bool{}
	for _, k := range sortedKeys(m) {
		e := c.entry(k, m[k], append(slices.Clone(base), k)...)
		if !slices.Contains(targetKeys, k) {
			suggested[c.unknown(e.pos, k, targetKeys, "[[target]]")] = true
			continue
		}
		entries[k] = e
	}
	// goarch decides which of the defaults' goarm / goarm64 apply, so a
	// [defaults] block can serve a mixed fleet.
	goarch := ""
	if e, ok := entries["goarch"]; ok {
		goarch, _ = e.val.(string)
	} else if e, ok := defaults["goarch"]; ok {
		goarch, _ = e.val.(string)
	}
	for k, e := range defaults {
		_, set := entries[k]
		if !set && (k != "goarm" || goarch == "arm") && (k != "goarm64" || goarch == "arm64") {
			entries[k] = e
		}
	}
	return entries, suggested
}

// targetField checks one key's value and sets it on t.
func (c *checker) targetField(t *Target, e entry, kpath []string) {
	switch e.key {
	case "name":
		t.Name = c.name(e)
	case "description":
		t.Description, _ = c.str(e)
	case "host":
		t.Host = c.checkedStr(e, c.host)
	case "user":
		t.User = c.checkedStr(e, c.user)
	case "port":
		t.Port, _ = c.integer(e, 1, 65535)
	case "goos":
		t.GOOS, _ = c.str(e)
	case "goarch":
		t.GOARCH = c.checkedStr(e, c.goarch)
	case "goarm":
		t.GOARM = c.checkedStr(e, c.goarm)
	case "goarm64":
		t.GOARM64 = c.checkedStr(e, c.goarm64)
	case "cpu":
		t.CPU, _ = c.str(e)
	case "cores":
		t.Cores, _ = c.integer(e, 1, 4096)
	case "memory":
		t.Memory, t.MemoryText, _ = c.memory(e)
	case "deploy_dir":
		t.DeployDir = c.checkedStr(e, c.deployDir)
	case "runner":
		t.Runner, _ = c.str(e)
	case "cc":
		t.CC = c.checkedStr(e, c.cc)
	case "tags":
		t.Tags, _ = c.stringList(e, kpath)
	case "known_hosts":
		t.KnownHosts, _ = c.str(e)
	case "identity_file":
		t.Identity, _ = c.str(e)
	case "service":
		t.Service = c.service(e, kpath, *t)
	case "groups":
		t.Groups = c.groupList(e, kpath, t.Name)
	case "health":
		t.Health = c.health(e, kpath, "[target.health]")
	}
}

// targetAsWhole checks what no single key can: the required keys, an
// architecture level that fits goarch, and a goos Go pairs with it.
func (c *checker) targetAsWhole(t *Target, entries map[string]entry, suggested map[string]bool) {
	for _, k := range []string{"name", "host", "goarch"} {
		if _, ok := entries[k]; !ok && !suggested[k] {
			c.add(t.Pos, k, "missing; every [[target]] needs %s", requiredHint[k])
		}
	}
	if e, ok := entries["goarm"]; ok && t.GOARCH == "arm64" {
		c.add(e.pos, "goarm", `is for goarch = "arm"; this target has goarch = "arm64": use goarm64 = %s`, goarm64Rule)
	}
	if e, ok := entries["goarm64"]; ok && t.GOARCH == "arm" {
		c.add(e.pos, "goarm64", `is for goarch = "arm64"; this target has goarch = "arm": use goarm = %s`, goarmRule)
	}
	if t.GOOS == "" {
		t.GOOS = "linux"
	}
	if oses, ok := goosFor[t.GOARCH]; ok && !slices.Contains(oses, t.GOOS) {
		p := t.Pos
		if e, ok := entries["goos"]; ok {
			p = e.vpos
		}
		c.add(p, "goos", "%q cannot be combined with goarch = %q; allowed: %s", t.GOOS, t.GOARCH, strings.Join(oses, ", "))
	}
}

// checkedStr is e's string, checked by check; "" when e is no string.
func (c *checker) checkedStr(e entry, check func(entry, string)) string {
	s, ok := c.str(e)
	if ok {
		check(e, s)
	}
	return s
}

func (c *checker) user(e entry, s string) {
	if s == "" || strings.ContainsAny(s, " \t\n@:/") || strings.HasPrefix(s, "-") {
		c.add(e.vpos, e.key, "%q is not a login name: no spaces, @, : or /, and not starting with -", s)
	}
}

func (c *checker) goarm(e entry, s string) {
	if goarmRE.MatchString(s) {
		return
	}
	hint := ""
	if v := strings.TrimPrefix(strings.ToLower(s), "v"); v != s && goarmRE.MatchString(v) {
		hint = fmt.Sprintf(" (did you mean %q?)", v)
	}
	c.add(e.vpos, e.key, "%q is not allowed%s; write %s", s, hint, goarmRule)
}

func (c *checker) goarm64(e entry, s string) {
	if goarm64RE.MatchString(s) && strings.Count(s, ",lse") <= 1 && strings.Count(s, ",crypto") <= 1 {
		return
	}
	hint := ""
	if v := "v" + strings.TrimPrefix(strings.ToLower(s), "armv"); goarm64RE.MatchString(v) {
		hint = fmt.Sprintf(" (did you mean %q?)", v)
	}
	c.add(e.vpos, e.key, "%q is not allowed%s; write %s", s, hint, goarm64Rule)
}

func (c *checker) deployDir(e entry, s string) {
	if strings.TrimSpace(s) == "" || strings.ContainsAny(s, "\x00\n\r") {
		c.add(e.vpos, e.key, "%q is not a usable directory: write a path such as %q", s, DefaultDeployDir)
	}
}

func (c *checker) cc(e entry, s string) {
	if strings.ContainsAny(s, "\x00\n\r") {
		c.add(e.vpos, e.key, "contains a control character")
	}
}

var requiredHint = map[string]string{
	"name":   `name = "…" (` + nameRule + ")",
	"host":   `host = "local" or an ssh host, e.g. host = "raspberrypi.local"`,
	"goarch": `goarch = "arm" or goarch = "arm64"`,
}

func (c *checker) host(e entry, s string) {
	switch {
	case s == "":
		c.add(e.vpos, e.key, `is empty; write "local" or an ssh host or ~/.ssh/config alias`)
	case strings.HasPrefix(s, "-"):
		c.add(e.vpos, e.key, "%q must not start with - (ssh would read it as an option)", s)
	case strings.Contains(s, "@"):
		u, h, _ := strings.Cut(s, "@")
		c.add(e.vpos, e.key, "%q contains @: write host = %q and user = %q", s, h, u)
	case strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f || strings.ContainsRune("/\\'\"`$;&|<>(){}*?!#", r) }):
		c.add(e.vpos, e.key, "%q is not a host name: letters, digits, . - _ : (IPv6) and [ ] only", s)
	}
}

func (c *checker) goarch(e entry, s string) {
	switch strings.ToLower(s) {
	case "arm", "arm64":
		if s != strings.ToLower(s) {
			c.add(e.vpos, e.key, "%q must be lower case: %q", s, strings.ToLower(s))
		}
		return
	case "aarch64", "armv8", "arm64v8", "armv8l":
		c.add(e.vpos, e.key, `%q is not a Go architecture name; write goarch = "arm64"`, s)
	case "armhf", "armel", "armv6", "armv6l", "armv7", "armv7l", "arm32", "armv5", "armv5l":
		c.add(e.vpos, e.key, `%q is not a Go architecture name; write goarch = "arm" and set goarm ("5", "6" or "7")`, s)
	default:
		c.add(e.vpos, e.key, `%q is not allowed: armbench builds for goarch = "arm" (32-bit) or "arm64" (64-bit)`, s)
	}
}

const memoryRule = `an integer number of bytes or a string such as "4GiB", "512MiB", "1G" (K/M/G/T and KiB/MiB/GiB/TiB are powers of 1024, KB/MB/GB/TB of 1000)`

func (c *checker) memory(e entry) (int64, string, bool) {
	var n int64
	var text string
	switch x := e.val.(type) {
	case int64:
		n, text = x, strconv.FormatInt(x, 10)
	case string:
		v, err := ParseMemory(x)
		if err != nil {
			c.add(e.vpos, e.key, "%v; write %s", err, memoryRule)
			return 0, "", false
		}
		n, text = v, x
	default:
		c.add(e.vpos, e.key, "must be %s, got %s", memoryRule, describe(e.val))
		return 0, "", false
	}
	if n < 1<<20 {
		c.add(e.vpos, e.key, "%s is %d bytes, less than Go needs to run; a plain number is bytes: did you mean %q?", text, n, text+"GiB")
		return 0, "", false
	}
	return n, text, true
}

var memUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
	"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
	"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
	"t": 1 << 40, "tib": 1 << 40, "tb": 1e12,
}

// ParseMemory reads a memory size: "4GiB", "512MiB", "1.5G", "1000000".
// K, M, G and T alone mean powers of 1024, as in free(1) and ls -h.
func ParseMemory(s string) (int64, error) {
	m := memorySubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a memory size", s)
	}
	mult, ok := memUnits[strings.ToLower(m[2])]
	if !ok {
		return 0, fmt.Errorf("%q has an unknown unit %q", s, m[2])
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a memory size", s)
	}
	v := f * mult
	if v >= math.MaxInt64/2 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(v), nil
}

// FormatMemory writes n bytes in the largest binary unit that divides it,
// in the syntax GOMEMLIMIT accepts ("2GiB", "384MiB", "1000B").
func FormatMemory(n int64) string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}
