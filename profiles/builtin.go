package profiles

// MemLimitShare is the part of a target's memory that GOMEMLIMIT "auto"
// (the lowmem profile) gives the Go program, in percent. Half leaves room
// for the kernel, page cache and the other processes of a small board, and
// GOMEMLIMIT is a soft limit: the runtime collects harder as the heap nears
// it instead of failing.
const MemLimitShare = 50

// Builtins returns the built-in profiles, in the order they are listed.
// Each call returns fresh values, so callers may modify them.
func Builtins() []Profile {
	release := Build{Trimpath: true, Ldflags: "-s -w", PGO: "off"}
	return []Profile{
		{
			Name:        "default",
			Description: "plain go build: the baseline the other profiles are measured against",
			Builtin:     true,
		},
		{
			Name:        "debug",
			Description: "optimizations and inlining off (-gcflags=all=-N -l): for delve, expect slower code",
			Builtin:     true,
			Build:       Build{Gcflags: "all=-N -l"},
		},
		{
			Name:        "release",
			Description: "CGO_ENABLED=0, -trimpath, -ldflags=-s -w: a smaller static binary that runs on any libc",
			Builtin:     true,
			Build:       release,
		},
		{
			Name:        "speed",
			Description: "release + PGO from default.pgo when the package has one, GOGC=200: fewer GCs for more memory",
			Extends:     "release",
			Builtin:     true,
			Build:       withPGO(release, "auto"),
			Run:         Run{GOGC: "200"},
		},
		{
			Name:        "lowmem",
			Description: "release + GOGC=50 and GOMEMLIMIT at half the target's memory: a smaller heap for some CPU",
			Extends:     "release",
			Builtin:     true,
			Build:       release,
			Run:         Run{GOGC: "50", GOMEMLIMIT: "auto"},
		},
		{
			Name:        "single-core",
			Description: "release run with GOMAXPROCS=1: one core's throughput, no parallel GC or scheduler help",
			Extends:     "release",
			Builtin:     true,
			Build:       release,
			Run:         Run{GOMAXPROCS: 1},
		},
		{
			Name:        "cgo-static",
			Description: "cgo with the target's C cross compiler, linked fully static, CGO_CFLAGS=-O2: C code with no libc needed on the device",
			Builtin:     true,
			Build: Build{
				CGO:    true,
				Static: true,
				// The static glibc resolver and user lookup need the
				// dynamic libc at run time; the pure Go ones do not.
				Tags: []string{"netgo", "osusergo"},
				Env:  []EnvVar{{"CGO_CFLAGS", "-O2"}},
			},
		},
	}
}

func withPGO(b Build, pgo string) Build {
	b.PGO = pgo
	return b
}

// StaticLdflags are the linker flags that make a cgo binary fully static.
const StaticLdflags = `-linkmode external -extldflags "-static"`
