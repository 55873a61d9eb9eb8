// Package targets loads and validates targets.toml: the devices armbench
// builds for, deploys to and measures on.
package targets

import "fmt"

// Position is a place in a TOML file, 1-based, for error messages that a
// user can jump to (file:line:col). Col counts bytes, as the go command and
// the TOML library do.
type Position struct {
	File string
	Line int
	Col  int
}

func (p Position) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// LocalHost is the host value of a target that runs on this machine
// (through qemu-user when the architecture differs) instead of over SSH.
const LocalHost = "local"

// Target is one device, with [defaults] already applied.
type Target struct {
	Name        string
	Description string
	Host        string // "local" or an ssh host / ~/.ssh/config alias
	User        string // "" = from ssh config or current user
	Port        int    // 0 = from ssh config or 22
	GOOS        string // default "linux"
	GOARCH      string // "arm" | "arm64"
	GOARM       string // arm only: "5" | "6" | "7", optional ",softfloat" | ",hardfloat"
	GOARM64     string // arm64 only: "v8.0".."v9.5", optional ",lse" ",crypto"
	CPU         string // free text, e.g. "cortex-a72"
	Cores       int    // 0 = unknown
	Memory      int64  // bytes, 0 = unknown
	MemoryText  string // as written, e.g. "4GiB"
	DeployDir   string // default "~/armbench" (remote) or ".armbench/device/<name>" (local)
	Runner      string // e.g. "qemu-aarch64"; "" = native or binfmt_misc
	CC          string // C cross compiler for cgo profiles
	Tags        []string
	KnownHosts  string   // optional known_hosts file for this target only
	Identity    string   // optional private key file
	Service     *Service // systemd mode for watch; nil = off
	Groups      []string // groups this target joins (its groups key), besides [[group]] lists
	Health      *Health  // health check of rolling deploys; nil = none (a profile's wins)

	Pos Position // where the [[target]] table starts
}

// IsLocal reports whether the target runs on this machine without SSH.
func (t Target) IsLocal() bool { return t.Host == LocalHost }

// Project is the [project] table: what to build.
type Project struct {
	Pkg string // package to build and benchmark, default "./examples/workload"
}

// ProfileSpec is a [[profile]] table as written in the file. The profiles
// package merges it with the built-ins and resolves `extends`; it lives here
// because this package owns the file's schema and its positions.
type ProfileSpec struct {
	Name        string
	Description string
	Extends     string
	Build       BuildSpec
	Run         RunSpec
	Health      *Health // [profile.health]; nil = inherit (extends), else the target's
	Pos         Position
	// KeyPos maps a dotted key ("build.ldflags", "extends") to where it was
	// written, so later semantic checks can still point at file:line:col.
	KeyPos map[string]Position
	// ValPos is like KeyPos but points at each key's value, for messages
	// about what was written rather than which key.
	ValPos map[string]Position
}

// BuildSpec is a profile's [profile.build] table. Pointers tell "unset"
// from the zero value so that `extends` can inherit.
type BuildSpec struct {
	CGO      *bool
	Trimpath *bool
	Ldflags  *string
	Gcflags  *string
	Tags     []string
	PGO      *string // "auto", "off" or a path to a .pgo file
	Static   *bool
	Env      map[string]string // e.g. CGO_CFLAGS
}

// RunSpec is a profile's [profile.run] table.
type RunSpec struct {
	GOMAXPROCS *int
	GOGC       *string // "100", "off"
	GOMEMLIMIT *string // "512MiB", "off", or "auto" (derived from the target's memory)
	GODEBUG    *string
	Env        map[string]string
}

// Config is a loaded targets.toml.
type Config struct {
	Path     string // the file read, or "(embedded)"
	Project  Project
	Targets  []Target
	Groups   []Group
	Profiles []ProfileSpec
}

// Lookup returns the target named name.
func (c *Config) Lookup(name string) (Target, bool) {
	for _, t := range c.Targets {
		if t.Name == name {
			return t, true
		}
	}
	return Target{}, false
}

// LookupGroup returns the group named name.
func (c *Config) LookupGroup(name string) (Group, bool) {
	for _, g := range c.Groups {
		if g.Name == name {
			return g, true
		}
	}
	return Group{}, false
}

// Resolve returns what a --target value names: one target, or a group's
// members in rollout order (group is then the group's name). Target and
// group names never clash: Parse refuses that.
func (c *Config) Resolve(name string) (ts []Target, group string, ok bool) {
	if t, ok := c.Lookup(name); ok {
		return []Target{t}, "", true
	}
	g, ok := c.LookupGroup(name)
	if !ok {
		return nil, "", false
	}
	for _, m := range g.Targets {
		if t, ok := c.Lookup(m); ok {
			ts = append(ts, t)
		}
	}
	return ts, g.Name, true
}
