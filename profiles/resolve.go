package profiles

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
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
	pkg := cmp.Or(o.Pkg, targets.DefaultPkg)
	if strings.Contains(pkg, "...") {
		return fail("package %q matches several packages; name exactly one", pkg)
	}
	if strings.HasPrefix(pkg, "-") || strings.ContainsAny(pkg, "\x00\n") {
		return fail("%q is not a package path", pkg)
	}
	r := resolver{t: t, b: p.Build, plan: &Plan{
		Target: t, Profile: p, Mode: o.Mode, Pkg: pkg, Dir: cmp.Or(o.Dir, "."), Expect: map[string]string{},
	}}
	r.outputs(cmp.Or(o.OutRoot, DefaultOutRoot))
	r.buildEnv()
	r.buildFlags()
	if err := r.pgo(); err != nil {
		return fail("pgo profile: %v", err)
	}
	r.plan.Args = append(r.plan.Args, "-o", r.plan.Output, pkg)
	r.runEnv(p.Run)
	r.plan.Health = cmp.Or(p.Health, t.Health)
	return *r.plan, nil
}

// resolver fills in a Plan, one part at a time.
type resolver struct {
	t    targets.Target
	b    Build
	plan *Plan
}

// note explains a choice the profile or target did not spell out.
func (r *resolver) note(format string, a ...any) {
	r.plan.Notes = append(r.plan.Notes, fmt.Sprintf(format, a...))
}

// expectEnv sets a build variable that the build info records.
func (r *resolver) expectEnv(k, v string) {
	r.plan.BuildEnv = append(r.plan.BuildEnv, EnvVar{k, v})
	r.plan.Expect[k] = v
}

// outputs places the artifact and its build log in
// <outRoot>/<target>/<profile>/.
func (r *resolver) outputs(outRoot string) {
	p := r.plan
	base := binaryName(p.Pkg, p.Dir)
	outDir := filepath.Join(outRoot, r.t.Name, p.Profile.Name)
	if p.Mode == ModeTest {
		p.Output = filepath.Join(outDir, base+".test")
		p.LogPath = filepath.Join(outDir, "test-build.log")
	} else {
		p.Output = filepath.Join(outDir, base)
		p.LogPath = filepath.Join(outDir, "build.log")
	}
}

// buildEnv is the go command's environment: cgo, the platform with its
// architecture level, the C compiler for cgo, and the profile's extras.
func (r *resolver) buildEnv() {
	t, b := r.t, r.b
	if b.CGO {
		r.expectEnv("CGO_ENABLED", "1")
	} else {
		r.expectEnv("CGO_ENABLED", "0")
	}
	r.expectEnv("GOOS", cmp.Or(t.GOOS, "linux"))
	r.expectEnv("GOARCH", t.GOARCH)
	r.archLevel()
	if b.CGO {
		cc := t.CC
		if cc == "" {
			cc = DefaultCC(t.GOARCH)
			r.note("target %s sets no cc: using %s, the Debian cross compiler for %s", t.Name, cc, t.GOARCH)
		}
		r.plan.BuildEnv = append(r.plan.BuildEnv, EnvVar{"CC", cc})
	} else if b.Static {
		r.note("static: with CGO_ENABLED=0 the Go linker already produces a static binary")
	}
	for _, e := range b.Env {
		r.plan.BuildEnv = append(r.plan.BuildEnv, e)
		if b.CGO && strings.HasPrefix(e.Key, "CGO_") && e.Key != "CGO_ENABLED" {
			// go build records the CGO_*FLAGS it used when cgo is on.
			r.plan.Expect[e.Key] = e.Value
		}
	}
}

// archLevel writes GOARM or GOARM64 out, Go's default when the target
// sets none, so a build never depends on the caller's environment.
func (r *resolver) archLevel() {
	t := r.t
	switch t.GOARCH {
	case "arm":
		if t.GOARM == "" {
			r.note("target %s sets no goarm: using Go's default GOARM=%s (ARMv7); a Pi Zero or Pi 1 needs goarm = \"6\"", t.Name, defaultGOARM)
		}
		r.expectEnv("GOARM", cmp.Or(t.GOARM, defaultGOARM))
	case "arm64":
		if t.GOARM64 == "" {
			r.note("target %s sets no goarm64: using Go's default GOARM64=%s, which runs on every arm64 board", t.Name, defaultGOARM64)
		}
		r.expectEnv("GOARM64", cmp.Or(t.GOARM64, defaultGOARM64))
	}
}

// buildFlags are the go command's arguments before -pgo: the sub-command,
// -trimpath, the target's and profile's tags, -gcflags and -ldflags.
func (r *resolver) buildFlags() {
	p, b := r.plan, r.b
	if p.Mode == ModeTest {
		p.Args = []string{"test", "-c"}
	} else {
		p.Args = []string{"build"}
	}
	if b.Trimpath {
		p.Args = append(p.Args, "-trimpath")
		p.Expect["-trimpath"] = "true"
	}
	var tags []string
	for _, tag := range slices.Concat(r.t.Tags, b.Tags) {
		if !slices.Contains(tags, tag) {
			tags = append(tags, tag)
		}
	}
	if len(tags) > 0 {
		v := strings.Join(tags, ",")
		p.Args = append(p.Args, "-tags="+v)
		p.Expect["-tags"] = v
	}
	if b.Gcflags != "" {
		p.Args = append(p.Args, "-gcflags="+b.Gcflags)
		p.Expect["-gcflags"] = b.Gcflags
	}
	ldflags := b.Ldflags
	if b.CGO && b.Static && !strings.Contains(ldflags, "-extldflags") {
		ldflags = strings.TrimSpace(ldflags + " " + StaticLdflags)
	}
	if ldflags != "" {
		p.Args = append(p.Args, "-ldflags="+ldflags)
		// Go leaves -ldflags out of the build info under -trimpath,
		// since linker flags can carry local paths (go.dev/issue/52372).
		if !b.Trimpath {
			p.Expect["-ldflags"] = ldflags
		}
	}
}

// pgo adds the -pgo flag the profile asks for, where it makes a
// difference, given whether the package has a default.pgo.
func (r *resolver) pgo() error {
	p, b := r.plan, r.b
	pkgDir, local := localDir(p.Pkg, p.Dir)
	hasDefault := false
	if local {
		st, err := os.Stat(filepath.Join(pkgDir, "default.pgo"))
		hasDefault = err == nil && st.Mode().IsRegular()
	}
	switch {
	case b.PGO == "" && hasDefault:
		r.note("%s has a default.pgo: go build applies it (-pgo=auto is the go default)", p.Pkg)
		r.expectPGO("default.pgo")
	case b.PGO == "":
	case b.PGO == "auto" && local && !hasDefault:
		r.note("no default.pgo in %s: building without PGO (record a CPU profile there to enable it)", p.Pkg)
	case b.PGO == "auto":
		p.Args = append(p.Args, "-pgo=auto")
		if hasDefault {
			r.expectPGO("default.pgo")
		}
	case b.PGO == "off":
		// Only meaningful when there is a default.pgo to ignore; printing
		// it otherwise would suggest a difference that does not exist.
		if hasDefault {
			p.Args = append(p.Args, "-pgo=off")
			r.note("%s has a default.pgo; profile %s builds without it", p.Pkg, p.Profile.Name)
		}
	default:
		f := b.PGO
		if !filepath.IsAbs(f) {
			f = filepath.Join(p.Dir, f)
		}
		if _, err := os.Stat(f); err != nil {
			return err
		}
		p.Args = append(p.Args, "-pgo="+b.PGO)
		r.expectPGO(b.PGO)
	}
	return nil
}

// expectPGO records the profile in Expect when the recorded form is
// predictable: under -trimpath go build keeps only the file's base name;
// otherwise it records an absolute path whose spelling (symlinks, $PWD)
// depends on how the go command was started, so it is not checked.
func (r *resolver) expectPGO(file string) {
	if r.b.Trimpath {
		r.plan.Expect["-pgo"] = filepath.Base(file)
	}
}

// runEnv is the runtime environment on the device.
func (r *resolver) runEnv(run Run) {
	add := func(k, v string) { r.plan.RunEnv = append(r.plan.RunEnv, EnvVar{k, v}) }
	if run.GOMAXPROCS > 0 {
		add("GOMAXPROCS", strconv.Itoa(run.GOMAXPROCS))
	}
	if run.GOGC != "" {
		add("GOGC", run.GOGC)
	}
	switch run.GOMEMLIMIT {
	case "":
	case "auto":
		r.memLimit()
	default:
		add("GOMEMLIMIT", run.GOMEMLIMIT)
	}
	if run.GODEBUG != "" {
		add("GODEBUG", run.GODEBUG)
	}
	r.plan.RunEnv = append(r.plan.RunEnv, run.Env...)
}

// memLimit resolves GOMEMLIMIT=auto: MemLimitShare of the target's
// memory, rounded down to whole MiB when it has that many.
func (r *resolver) memLimit() {
	t := r.t
	if t.Memory <= 0 {
		r.note("GOMEMLIMIT not set: target %s has no memory; add memory = \"1GiB\" (for example) to targets.toml", t.Name)
		return
	}
	limit := t.Memory * MemLimitShare / 100 / (1 << 20) * (1 << 20)
	if limit == 0 {
		limit = t.Memory * MemLimitShare / 100
	}
	v := targets.FormatMemory(limit)
	r.plan.RunEnv = append(r.plan.RunEnv, EnvVar{"GOMEMLIMIT", v})
	r.note("GOMEMLIMIT=%s: %d%% of target %s's memory (%s)", v, MemLimitShare, t.Name, memoryText(t))
}

func memoryText(t targets.Target) string {
	if t.MemoryText != "" {
		return t.MemoryText
	}
	return targets.FormatMemory(t.Memory)
}

// isMajorSuffix reports whether b is a major-version path element such
// as v2 (^v[0-9]+$), checked by hand: it runs for every plan, and a regexp
// compiled on the way costs more than the whole check.
func isMajorSuffix(b string) bool {
	if len(b) < 2 || b[0] != 'v' {
		return false
	}
	for i := 1; i < len(b); i++ {
		if b[i] < '0' || b[i] > '9' {
			return false
		}
	}
	return true
}

// binaryName is the name go build gives pkg's binary: the last path
// element, skipping a /vN major-version suffix.
func binaryName(pkg, dir string) string {
	p := strings.TrimRight(filepath.ToSlash(pkg), "/")
	b := path.Base(p)
	if isMajorSuffix(b) && path.Dir(p) != "." && path.Dir(p) != "/" {
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

// ShellNote says which shell Shell's commands are written for, on a host
// whose own shell is another one (Windows), and is "" elsewhere.
func ShellNote() string { return shellNote(runtime.GOOS) }

func shellNote(goos string) string {
	if goos != "windows" {
		return ""
	}
	return "POSIX sh: paste into Git Bash or WSL; PowerShell and cmd.exe set variables and quote otherwise"
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
