// Package profiles holds the built-in optimization profiles, merges user
// profiles from targets.toml, and resolves (target, profile) into a Plan.
package profiles

import "armbench/targets"

// Build is a profile's build settings, fully resolved (no "unset").
type Build struct {
	CGO      bool
	Trimpath bool
	Ldflags  string
	Gcflags  string
	Tags     []string
	PGO      string // "" (go default), "auto", "off", or a file path
	Static   bool
	Env      []EnvVar // extra build env, e.g. CGO_CFLAGS=-O2, sorted by key
}

// Run is a profile's runtime settings.
type Run struct {
	GOMAXPROCS int    // 0 = unset
	GOGC       string // "" = unset
	GOMEMLIMIT string // "" = unset; "auto" resolved by Resolve from the target's memory
	GODEBUG    string
	Env        []EnvVar
}

// EnvVar is one environment variable; a slice of them keeps a stable order
// so printed commands are reproducible.
type EnvVar struct{ Key, Value string }

func (e EnvVar) String() string { return e.Key + "=" + e.Value }

// Profile is a named set of build and run settings.
type Profile struct {
	Name        string
	Description string
	Extends     string
	Builtin     bool
	Build       Build
	Run         Run
	// Health is the check a rolling deploy runs after installing this
	// profile's binary; nil leaves it to the target's.
	Health *targets.Health
}

// Mode says what go command a Plan runs.
type Mode int

const (
	ModeBinary Mode = iota // go build
	ModeTest               // go test -c (for on-device Go benchmarks)
)

// Plan is everything needed to build one (target, profile) pair and to run
// the result: one value, printable as the exact shell commands.
type Plan struct {
	Target  targets.Target
	Profile Profile
	Mode    Mode
	Pkg     string // e.g. "./examples/workload"
	Dir     string // working directory of the go command (module root)
	Output  string // final artifact path, e.g. .armbench/out/<target>/<profile>/workload
	LogPath string // build log beside the binary

	// BuildEnv is only what armbench sets on top of the inherited
	// environment (GOOS, GOARCH, GOARM…, CGO_ENABLED, CC, …), in print order.
	BuildEnv []EnvVar
	// Args are the go command's arguments without "go", e.g.
	// ["build", "-trimpath", "-ldflags=-s -w", "-o", Output, Pkg].
	Args []string
	// RunEnv is the runtime environment for the device (GOMAXPROCS, GOGC…).
	RunEnv []EnvVar
	// Health is the check after a rolling deploy: the profile's when it
	// has one (it is chosen for this deploy, the target's is the device's
	// everyday check), else the target's; nil for none.
	Health *targets.Health
	// Expect is what debug/buildinfo of the artifact must say, key → value
	// (GOOS, GOARCH, GOARM or GOARM64, CGO_ENABLED, -trimpath, -ldflags…).
	Expect map[string]string
	// Notes explain choices Resolve made that the profile or target did
	// not spell out (a default GOARM, a guessed CC, GOMEMLIMIT left unset…),
	// for the plan pane and `armbench plan`.
	Notes []string
}
