package profiles

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"armbench/internal/shell"
	"armbench/targets"
)

// DefaultOutRoot is where artifacts go: <OutRoot>/<target>/<profile>/.
const DefaultOutRoot = ".armbench/out"

// Options says what to build and where.
type Options struct {
	Pkg     string // package to build; "" = targets.DefaultPkg
	Dir     string // module root, the go command's working directory; "" = "."
	OutRoot string // "" = DefaultOutRoot; relative paths are relative to Dir
	Mode    Mode
}

// DefaultCC is the conventional Debian cross compiler for goarch, used by
// cgo profiles when the target names none ("" if there is none).
func DefaultCC(goarch string) string {
	switch goarch {
	case "arm64":
		return "aarch64-linux-gnu-gcc"
	case "arm":
		return "arm-linux-gnueabihf-gcc"
	}
	return ""
}

// Go's defaults when GOARM / GOARM64 are unset; Resolve writes them out so
// a build never depends on the caller's environment.
const (
	defaultGOARM   = "7"
	defaultGOARM64 = "v8.0"
)

// Resolve merges a target and a profile into a Plan: the exact build
// environment and arguments, where the artifact goes, the environment to
// run it in, and what its build info must say.
func Resolve(t targets.Target, p Profile, o Options) (Plan, error) {
	if t.Name == "" {
		return Plan{}, errors.New("resolve: target has no name")
	}
	if p.Name == "" {
		return Plan{}, fmt.Errorf("resolve %s: profile has no name", t.Name)
	}
	fail := func(format string, a ...any) (Plan, error) {
		return Plan{}, fmt.Errorf("resolve %s/%s: %s", t.Name, p.Name, fmt.Sprintf(format, a...))
	}
	if t.GOARCH != "arm" && t.GOARCH != "arm64" {
		return fail("target goarch %q is not arm or arm64", t.GOARCH)
	}
	pkg := o.Pkg
	if pkg == "" {
		pkg = targets.DefaultPkg
	}
	if strings.Contains(pkg, "...") {
		return fail("package %q matches several packages; name exactly one", pkg)
	}
	if strings.HasPrefix(pkg, "-") || strings.ContainsAny(pkg, "\x00\n") {
		return fail("%q is not a package path", pkg)
	}
	dir := o.Dir
	if dir == "" {
		dir = "."
	}
	outRoot := o.OutRoot
	if outRoot == "" {
		outRoot = DefaultOutRoot
	}

	plan := Plan{Target: t, Profile: p, Mode: o.Mode, Pkg: pkg, Dir: dir, Expect: map[string]string{}}
	note := func(format string, a ...any) { plan.Notes = append(plan.Notes, fmt.Sprintf(format, a...)) }

	base := binaryName(pkg, dir)
	outDir := filepath.Join(outRoot, t.Name, p.Name)
	if o.Mode == ModeTest {
		plan.Output = filepath.Join(outDir, base+".test")
		plan.LogPath = filepath.Join(outDir, "test-build.log")
	} else {
		plan.Output = filepath.Join(outDir, base)
		plan.LogPath = filepath.Join(outDir, "build.log")
	}

	b := p.Build
	env := func(k, v string) {
		plan.BuildEnv = append(plan.BuildEnv, EnvVar{k, v})
		plan.Expect[k] = v
	}
	if b.CGO {
		env("CGO_ENABLED", "1")
	} else {
		env("CGO_ENABLED", "0")
	}
	goos := t.GOOS
	if goos == "" {
		goos = "linux"
	}
	env("GOOS", goos)
	env("GOARCH", t.GOARCH)
	switch t.GOARCH {
	case "arm":
		v := t.GOARM
		if v == "" {
			v = defaultGOARM
			note("target %s sets no goarm: using Go's default GOARM=%s (ARMv7); a Pi Zero or Pi 1 needs goarm = \"6\"", t.Name, v)
		}
		env("GOARM", v)
	case "arm64":
		v := t.GOARM64
		if v == "" {
			v = defaultGOARM64
			note("target %s sets no goarm64: using Go's default GOARM64=%s, which runs on every arm64 board", t.Name, v)
		}
		env("GOARM64", v)
	}
	if b.CGO {
		cc := t.CC
		if cc == "" {
			cc = DefaultCC(t.GOARCH)
			note("target %s sets no cc: using %s, the Debian cross compiler for %s", t.Name, cc, t.GOARCH)
		}
		plan.BuildEnv = append(plan.BuildEnv, EnvVar{"CC", cc})
	} else if b.Static {
		note("static: with CGO_ENABLED=0 the Go linker already produces a static binary")
	}
	for _, e := range b.Env {
		plan.BuildEnv = append(plan.BuildEnv, e)
		if b.CGO && strings.HasPrefix(e.Key, "CGO_") && e.Key != "CGO_ENABLED" {
			// go build records the CGO_*FLAGS it used when cgo is on.
			plan.Expect[e.Key] = e.Value
		}
	}

	if o.Mode == ModeTest {
		plan.Args = []string{"test", "-c"}
	} else {
		plan.Args = []string{"build"}
	}
	if b.Trimpath {
		plan.Args = append(plan.Args, "-trimpath")
		plan.Expect["-trimpath"] = "true"
	}
	var tags []string
	for _, tag := range slices.Concat(t.Tags, b.Tags) {
		if !slices.Contains(tags, tag) {
			tags = append(tags, tag)
		}
	}
	if len(tags) > 0 {
		v := strings.Join(tags, ",")
		plan.Args = append(plan.Args, "-tags="+v)
		plan.Expect["-tags"] = v
	}
	if b.Gcflags != "" {
		plan.Args = append(plan.Args, "-gcflags="+b.Gcflags)
		plan.Expect["-gcflags"] = b.Gcflags
	}
	ldflags := b.Ldflags
	if b.CGO && b.Static && !strings.Contains(ldflags, "-extldflags") {
		ldflags = strings.TrimSpace(ldflags + " " + StaticLdflags)
	}
	if ldflags != "" {
		plan.Args = append(plan.Args, "-ldflags="+ldflags)
		// Go leaves -ldflags out of the build info under -trimpath,
		// since linker flags can carry local paths (go.dev/issue/52372).
		if !b.Trimpath {
			plan.Expect["-ldflags"] = ldflags
		}
	}
	pkgDir, local := localDir(pkg, dir)
	hasDefaultPGO := false
	if local {
		if st, err := os.Stat(filepath.Join(pkgDir, "default.pgo")); err == nil && st.Mode().IsRegular() {
			hasDefaultPGO = true
		}
	}
	switch b.PGO {
	case "":
		if hasDefaultPGO {
			note("%s has a default.pgo: go build applies it (-pgo=auto is the go default)", pkg)
			expectPGO(&plan, b.Trimpath, "default.pgo")
		}
	case "auto":
		switch {
		case hasDefaultPGO:
			plan.Args = append(plan.Args, "-pgo=auto")
			expectPGO(&plan, b.Trimpath, "default.pgo")
		case local:
			note("no default.pgo in %s: building without PGO (record a CPU profile there to enable it)", pkg)
		default:
			plan.Args = append(plan.Args, "-pgo=auto")
		}
	case "off":
		// Only meaningful when there is a default.pgo to ignore; printing
		// it otherwise would suggest a difference that does not exist.
		if hasDefaultPGO {
			plan.Args = append(plan.Args, "-pgo=off")
			note("%s has a default.pgo; profile %s builds without it", pkg, p.Name)
		}
	default:
		f := b.PGO
		if !filepath.IsAbs(f) {
			f = filepath.Join(dir, f)
		}
		if _, err := os.Stat(f); err != nil {
			return fail("pgo profile: %v", err)
		}
		plan.Args = append(plan.Args, "-pgo="+b.PGO)
		expectPGO(&plan, b.Trimpath, b.PGO)
	}
	plan.Args = append(plan.Args, "-o", plan.Output, pkg)

	r := p.Run
	if r.GOMAXPROCS > 0 {
		plan.RunEnv = append(plan.RunEnv, EnvVar{"GOMAXPROCS", strconv.Itoa(r.GOMAXPROCS)})
	}
	if r.GOGC != "" {
		plan.RunEnv = append(plan.RunEnv, EnvVar{"GOGC", r.GOGC})
	}
	switch r.GOMEMLIMIT {
	case "":
	case "auto":
		if t.Memory > 0 {
			limit := t.Memory * MemLimitShare / 100 / (1 << 20) * (1 << 20)
			if limit == 0 {
				limit = t.Memory * MemLimitShare / 100
			}
			v := targets.FormatMemory(limit)
			plan.RunEnv = append(plan.RunEnv, EnvVar{"GOMEMLIMIT", v})
			note("GOMEMLIMIT=%s: %d%% of target %s's memory (%s)", v, MemLimitShare, t.Name, memoryText(t))
		} else {
			note("GOMEMLIMIT not set: target %s has no memory; add memory = \"1GiB\" (for example) to targets.toml", t.Name)
		}
	default:
		plan.RunEnv = append(plan.RunEnv, EnvVar{"GOMEMLIMIT", r.GOMEMLIMIT})
	}
	if r.GODEBUG != "" {
		plan.RunEnv = append(plan.RunEnv, EnvVar{"GODEBUG", r.GODEBUG})
	}
	plan.RunEnv = append(plan.RunEnv, r.Env...)
	return plan, nil
}

// expectPGO records the profile in Expect when the recorded form is
// predictable: under -trimpath go build keeps only the file's base name;
// otherwise it records an absolute path whose spelling (symlinks, $PWD)
// depends on how the go command was started, so it is not checked.
func expectPGO(plan *Plan, trimpath bool, file string) {
	if trimpath {
		plan.Expect["-pgo"] = filepath.Base(file)
	}
}

func memoryText(t targets.Target) string {
	if t.MemoryText != "" {
		return t.MemoryText
	}
	return targets.FormatMemory(t.Memory)
}

var majorSuffix = regexp.MustCompile(`^v[0-9]+$`)

// binaryName is the name go build gives pkg's binary: the last path
// element, skipping a /vN major-version suffix.
func binaryName(pkg, dir string) string {
	p := strings.TrimRight(filepath.ToSlash(pkg), "/")
	b := path.Base(p)
	if majorSuffix.MatchString(b) && path.Dir(p) != "." && path.Dir(p) != "/" {
		b = path.Base(path.Dir(p))
	}
	if b == "." || b == ".." || b == "/" || b == "" {
		abs, err := filepath.Abs(filepath.Join(dir, filepath.FromSlash(p)))
		if err == nil {
			b = filepath.Base(abs)
		}
		if b == "." || b == "/" || b == "" {
			b = "main"
		}
	}
	return strings.TrimSuffix(b, ".go")
}

// localDir returns pkg's directory when pkg is a relative or absolute
// directory path rather than an import path.
func localDir(pkg, dir string) (string, bool) {
	switch {
	case filepath.IsAbs(pkg):
		return pkg, true
	case pkg == "." || pkg == ".." || strings.HasPrefix(pkg, "./") || strings.HasPrefix(pkg, "../"):
		return filepath.Join(dir, pkg), true
	}
	return "", false
}

// DeployName is the file name of the plan's binary on the device:
// "<base>-<profile>.test" for Go benchmarks, "<base>-<profile>" otherwise,
// so the binaries of several profiles sit side by side in deploy_dir.
func (p Plan) DeployName() string {
	base := filepath.Base(p.Output)
	if stem, ok := strings.CutSuffix(base, ".test"); ok {
		return stem + "-" + p.Profile.Name + ".test"
	}
	return base + "-" + p.Profile.Name
}

// OutputPath is Output as a path from the current directory (Output itself
// is relative to Dir, as the go command sees it).
func (p Plan) OutputPath() string { return p.fromDir(p.Output) }

// LogFile is LogPath as a path from the current directory.
func (p Plan) LogFile() string { return p.fromDir(p.LogPath) }

// fromDir resolves f as the go command does, relative to Dir; "" (no
// log, say) stays "".
func (p Plan) fromDir(f string) string {
	if f == "" || filepath.IsAbs(f) || p.Dir == "" || p.Dir == "." {
		return f
	}
	return filepath.Join(p.Dir, f)
}

// Shell is the build as one command a user can paste into sh, e.g.
// env CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=6 go build -trimpath -ldflags='-s -w' -o … ./examples/workload
func (p Plan) Shell() string {
	var b strings.Builder
	if p.Dir != "" && p.Dir != "." {
		b.WriteString("cd " + shell.Quote(p.Dir) + " && ")
	}
	if len(p.BuildEnv) > 0 {
		b.WriteString("env ")
		for _, e := range p.BuildEnv {
			b.WriteString(shell.QuoteAssign(e.Key, e.Value) + " ")
		}
	}
	b.WriteString("go")
	for _, a := range p.Args {
		b.WriteString(" " + shell.QuoteFlag(a))
	}
	return b.String()
}

// RunShell is the command that runs binary (a path on the device) with
// the profile's runtime settings: env GOMAXPROCS=1 GOGC=50 ./workload.
func (p Plan) RunShell(binary string) string {
	word := shell.HomePath(binary)
	if len(p.RunEnv) == 0 {
		return word
	}
	parts := []string{"env"}
	for _, e := range p.RunEnv {
		parts = append(parts, shell.QuoteAssign(e.Key, e.Value))
	}
	return strings.Join(append(parts, word), " ")
}

// RunEnvStrings is RunEnv as KEY=VALUE strings, for exec.Cmd.Env or SSH.
func (p Plan) RunEnvStrings() []string { return envStrings(p.RunEnv) }

// BuildEnvStrings is BuildEnv as KEY=VALUE strings, to append to
// os.Environ() for the go command.
func (p Plan) BuildEnvStrings() []string { return envStrings(p.BuildEnv) }

func envStrings(env []EnvVar) []string {
	out := make([]string, len(env))
	for i, e := range env {
		out[i] = e.String()
	}
	return out
}
