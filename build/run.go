package build

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"armbench/internal/procgroup"
	"armbench/profiles"
)

// waitDelay bounds how long Run waits for output after the go command has
// exited or been killed, and for its process group to disappear.
const waitDelay = 2 * time.Second

// hooks lets tests observe the process without global state, and sets
// how it runs.
type hooks struct {
	started func(pid int) // called right after the go command starts
	idle    bool          // run at the lowest CPU priority (RunIdle)
}

// Run builds plan with the go command and reports Started, one Line per
// output line, and Finished. The artifact appears at plan.Output only if
// the build succeeded and passed Verify; otherwise a previous file there is
// left alone. Cancelling ctx kills the whole process group and removes the
// partial output and the go command's temporary files. emit may be nil; it
// is never called concurrently.
func Run(ctx context.Context, plan profiles.Plan, emit func(Event)) Result {
	return run(ctx, plan, emit, hooks{})
}

// RunIdle is Run at the lowest CPU priority: for builds nobody waits on
// yet (the delta helper, built beside a first deploy), which must not
// slow what the user does wait on.
func RunIdle(ctx context.Context, plan profiles.Plan, emit func(Event)) Result {
	return run(ctx, plan, emit, hooks{idle: true})
}

func run(ctx context.Context, plan profiles.Plan, emit func(Event), h hooks) (res Result) {
	if emit == nil {
		emit = func(Event) {}
	}
	res = Result{
		Target:   plan.Target.Name,
		Profile:  plan.Profile.Name,
		Output:   plan.OutputPath(),
		LogPath:  plan.LogFile(),
		Start:    time.Now(),
		ExitCode: -1,
	}
	command := Command(plan)
	emit(Started{Time: res.Start, Command: command})
	defer func() {
		res.Duration = time.Since(res.Start)
		emit(Finished{Result: res})
	}()
	fail := func(err error) Result {
		res.Err = fmt.Errorf("build %s/%s: %w", plan.Target.Name, plan.Profile.Name, err)
		return res
	}

	env, err := buildEnv(ctx, plan)
	if err != nil {
		return fail(err)
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return fail(fmt.Errorf("go command: %w", err))
	}
	var log *logFile
	if plan.LogPath != "" {
		log = openLog(res.LogPath)
	}
	sink := newSink(emit, log)
	defer sink.close() // closing twice is harmless; every path closes it
	sink.logText("$ " + command + "\n")

	fp, stale := upToDate(plan, env, goCmd)
	if fp != nil {
		art := fp.Artifact
		art.Path = res.Output
		res.ExitCode, res.Artifact, res.UpToDate = 0, &art, true
		sink.logText(fmt.Sprintf("# up to date: no input changed since the build of %s; the go command was not run\n# ok %s %d bytes sha256 %s\n",
			fp.Built.Format(time.DateTime), res.Output, art.Size, art.SHA256))
		if err := sink.close(); err != nil {
			return fail(fmt.Errorf("write log: %w", err))
		}
		return res
	}
	sink.logText("# " + stale + ": the go command decides\n")
	// A real build replaces the output: the old fingerprint describes
	// neither, whatever happens below.
	os.Remove(fingerprintPath(res.Output))

	out, err := stage(res.Output)
	if err != nil {
		return fail(err)
	}
	// Whatever happens below, nothing but a verified artifact may stay.
	defer out.cleanup()

	// go list runs beside the build, so a real build does not wait for it;
	// not at all when a file of the main package was just saved (watch's
	// builds), since no fingerprint would be written from it.
	listCtx, stopList := context.WithCancel(ctx)
	listed := make(chan listResult, 1)
	if justSaved(plan, res.Start) {
		listed <- listResult{err: errors.New("an input was just saved")}
	} else {
		go func() {
			in, err := listInputs(listCtx, plan, env, goCmd)
			listed <- listResult{in, err}
		}()
	}
	waitList := sync.OnceValue(func() listResult { return <-listed })
	defer func() { stopList(); waitList() }() // no go list outlives Run

	res.ExitCode, err = goRun{plan: plan, env: env, goCmd: goCmd, tmp: out.tmp, sink: sink, began: res.Start, hooks: h}.run(ctx)
	if err != nil {
		return fail(err)
	}
	if res.Artifact, err = install(plan, out, res.Output, sink); err != nil {
		return fail(err)
	}
	// The staging name may still be a second link to the output; removing
	// it changes the output's ctime, which the fingerprint stamps.
	out.cleanup()
	if l := waitList(); l.err == nil {
		record(plan, env, goCmd, l.in, res.Artifact, res.Start)
	}
	return res
}

type listResult struct {
	in  inputs
	err error
}

// goEnv is the environment of a build: what the go command would see
// typed by hand in this shell (inherited), and the plan's own settings.
type goEnv struct {
	inherited, plan []string
}

// all is the environment as the go command sees it: the plan's settings
// last, so they win.
func (e goEnv) all(extra ...string) []string {
	return append(append(slices.Clip(e.inherited), extra...), e.plan...)
}

// buildEnv checks that plan can be built here before anything is
// created: it has an output and arguments, a cgo build has its C compiler,
// and ctx is still live.
func buildEnv(ctx context.Context, plan profiles.Plan) (goEnv, error) {
	if plan.Output == "" {
		return goEnv{}, errors.New("plan has no output path")
	}
	if len(plan.Args) == 0 {
		return goEnv{}, errors.New("plan has no go command arguments")
	}
	env := goEnv{inherited: os.Environ(), plan: plan.BuildEnvStrings()}
	if err := checkCC(env.all(), plan.Target.GOARCH); err != nil {
		return goEnv{}, err
	}
	return env, ctx.Err()
}

// staging is where the go command writes: a temporary name beside the
// output, so that only a verified artifact ever appears at the output.
type staging struct {
	tmp  string
	prev *prevHash // the previous artifact's hash, when there was one
}

// stage prepares the temporary name for output. It offers the previous
// artifact under that name: when it is up to date the go command sees its
// build ID and skips the link, as a hand-typed go build -o would. A hard
// link costs nothing and is safe with the go command, which installs an
// output by rename or by remove-and-create, never by writing into the
// existing file. While the go command runs, the previous artifact is
// hashed on the side, so an up-to-date rebuild need not read it again.
func stage(output string) (*staging, error) {
	if err := os.MkdirAll(filepath.Dir(output), 0o755); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	tmp, err := tempName(output)
	if err != nil {
		return nil, err
	}
	sweepStale(output, staleAfter)
	s := &staging{tmp: tmp}
	if os.Link(output, tmp) == nil {
		s.prev = hashInBackground(tmp)
	}
	return s, nil
}

// cleanup removes what is left at the temporary name (the go command may
// also leave its umask probe beside it) once the hash is done, so no
// goroutine outlives Run.
func (s *staging) cleanup() {
	if s.prev != nil {
		<-s.prev.done
	}
	os.Remove(s.tmp + "-go-tmp-umask")
	os.Remove(s.tmp)
}

// goRun is one run of the go command for a plan.
type goRun struct {
	plan  profiles.Plan
	env   goEnv
	goCmd string
	tmp   string // the output the go command writes
	sink  *sink  // gets its stdout and stderr line by line
	began time.Time
	hooks hooks
}

// run runs the go command and returns its exit code (-1 when it did not
// run). A cancelled or failed build is noted in the log.
func (g goRun) run(ctx context.Context) (int, error) {
	plan, sink := g.plan, g.sink
	goCmd := g.goCmd
	// A private temporary directory for the go command ($WORK) and the C
	// compiler: a killed build cannot clean up after itself, so we do.
	scratch, err := os.MkdirTemp(scratchBase(g.env.all()), "armbench-go-")
	if err != nil {
		return -1, fmt.Errorf("temporary directory: %w", err)
	}
	defer os.RemoveAll(scratch)

	cmd := exec.CommandContext(ctx, goCmd, withOutput(plan.Args, g.tmp)...)
	cmd.Dir = plan.Dir
	// The go command asks git for the state it stamps into a binary; a
	// git status killed with a cancelled build must not leave the user's
	// checkout locked (.git/index.lock), so it takes no optional lock.
	cmd.Env = g.env.all("GOTMPDIR="+scratch, "TMPDIR="+scratch, "GIT_OPTIONAL_LOCKS=0")
	// A process that left the group could hold the output pipes open;
	// don't wait for it forever.
	cmd.WaitDelay = waitDelay
	stdout := &lineWriter{sink: sink}
	stderr := &lineWriter{sink: sink, stderr: true}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// A group of its own (a process group, a Windows job), so that cancel
	// reaches compile, link, cgo and anything else the go command starts,
	// not just the go command.
	group, err := procgroup.Start(cmd)
	if err != nil {
		return -1, fmt.Errorf("start go: %w", err)
	}
	defer group.Close()
	if g.hooks.idle {
		group.LowerPriority()
	}
	if g.hooks.started != nil {
		g.hooks.started(group.ID())
	}
	waitErr := cmd.Wait()
	stdout.flush()
	stderr.flush()
	code := cmd.ProcessState.ExitCode()

	if ctx.Err() != nil {
		// The go command is gone; make sure nothing it started outlives it.
		group.Reap(waitDelay)
		sink.logText(fmt.Sprintf("# cancelled after %v\n", time.Since(g.began).Round(time.Millisecond)))
		return code, ctx.Err()
	}
	if waitErr != nil {
		sink.logText(fmt.Sprintf("# go %s failed: %v\n", plan.Args[0], waitErr))
		return code, fmt.Errorf("go %s: %w", plan.Args[0], waitErr)
	}
	return code, nil
}

// install verifies what the go command wrote at s.tmp against plan,
// completes the log and only then moves the artifact to output: a build
// whose log could not be written fails like any other, leaving output
// alone.
func install(plan profiles.Plan, s *staging, output string, sink *sink) (*Artifact, error) {
	art, err := verify(s.tmp, plan, s.prev.result(s.tmp))
	if err != nil {
		sink.logText(fmt.Sprintf("# %v\n", err))
		return nil, err
	}
	sink.logText(fmt.Sprintf("# ok %s %d bytes sha256 %s\n", output, art.Size, art.SHA256))
	if err := sink.close(); err != nil {
		return nil, fmt.Errorf("write log: %w", err)
	}
	if err := os.Rename(s.tmp, output); err != nil {
		return nil, fmt.Errorf("install artifact: %w", err)
	}
	art.Path = output
	return art, nil
}

// Command is the printable form of plan, the exact shell command a user
// could paste: what Started carries and the log begins with.
func Command(plan profiles.Plan) string { return plan.Shell() }

// lookupEnv returns the last value of key in env, as exec.Cmd resolves
// duplicates.
func lookupEnv(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// debianPackages names the Debian package of the usual C cross compilers.
var debianPackages = map[string]string{
	"aarch64-linux-gnu-gcc":   "gcc-aarch64-linux-gnu",
	"arm-linux-gnueabihf-gcc": "gcc-arm-linux-gnueabihf",
	"arm-linux-gnueabi-gcc":   "gcc-arm-linux-gnueabi",
	"aarch64-linux-gnu-g++":   "g++-aarch64-linux-gnu",
	"arm-linux-gnueabihf-g++": "g++-arm-linux-gnueabihf",
	"arm-linux-gnueabi-g++":   "g++-arm-linux-gnueabi",
}

// CCPackage returns the Debian package that provides the C compiler cc,
// or "" when armbench does not know it.
func CCPackage(cc string) string { return debianPackages[filepath.Base(cc)] }

// checkCC fails fast when a cgo build's C compiler is missing: the go
// command's own error comes late and does not say how to get one.
func checkCC(env []string, goarch string) error {
	if v, _ := lookupEnv(env, "CGO_ENABLED"); v != "1" {
		return nil
	}
	cc, _ := lookupEnv(env, "CC")
	fields := strings.Fields(cc)
	if len(fields) == 0 {
		if goarch != "" && goarch != runtime.GOARCH {
			return fmt.Errorf("cgo build for %s needs a C cross compiler: set cc in the target (e.g. aarch64-linux-gnu-gcc from package gcc-aarch64-linux-gnu)", goarch)
		}
		return nil
	}
	// "ccache aarch64-linux-gnu-gcc" style values: every word must exist.
	for _, f := range fields {
		if strings.HasPrefix(f, "-") {
			break
		}
		if _, err := exec.LookPath(f); err != nil {
			if pkg := CCPackage(f); pkg != "" {
				return fmt.Errorf("C compiler %s not found on PATH (CGO_ENABLED=1); install it with: apt-get install %s", f, pkg)
			}
			return fmt.Errorf("C compiler %s not found on PATH (CGO_ENABLED=1): install it, or set cc in the target to a cross compiler that is installed", f)
		}
	}
	return nil
}

// staleAfter is how old a staging name beside an output must be before a
// later build of that output takes it for one a killed armbench left.
// Linking the name sets its ctime and the go command writes it only at
// the end, so a live build's is younger than the longest build.
const staleAfter = time.Hour

// sweepStale removes the staging names of out older than age, which a
// process killed mid-build left behind (a hard link to the output, or a
// partial binary).
func sweepStale(out string, age time.Duration) {
	names, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*"))
	for _, n := range names {
		if fi, err := os.Lstat(n); err == nil && time.Since(changeTime(fi)) > age {
			os.Remove(n)
		}
	}
}

// changeTime is when fi's inode last changed, or now where the platform
// does not say (so nothing is swept there).
func changeTime(fi os.FileInfo) time.Time {
	if c := stampOf(fi).CTime; c != 0 {
		return time.Unix(0, c)
	}
	return time.Now()
}

// tempName is a fresh name beside out. The file is not created: the go
// command refuses to overwrite a file that is not an object file.
func tempName(out string) (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".tmp-"+hex.EncodeToString(b[:])), nil
}

// withOutput returns args with the output path replaced by tmp. A plan
// without -o gets one, right after the sub-command, where flags belong.
func withOutput(args []string, tmp string) []string {
	a := make([]string, 0, len(args)+2)
	replaced := false
	for i := 0; i < len(args); i++ {
		switch s := args[i]; {
		case !replaced && (s == "-o" || s == "--o") && i+1 < len(args):
			a = append(a, s, tmp)
			i++
			replaced = true
		case !replaced && (strings.HasPrefix(s, "-o=") || strings.HasPrefix(s, "--o=")):
			a = append(a, "-o="+tmp)
			replaced = true
		default:
			a = append(a, s)
		}
	}
	if !replaced {
		a = append(a[:1:1], append([]string{"-o", tmp}, a[1:]...)...)
	}
	return a
}

// scratchBase is where the private temporary directory goes: the
// environment's GOTMPDIR, else its TMPDIR, else the system default.
func scratchBase(env []string) string {
	for _, k := range []string{"GOTMPDIR", "TMPDIR"} {
		if v, ok := lookupEnv(env, k); ok && v != "" {
			return v
		}
	}
	return os.TempDir()
}

// prevHash is the sha256 of the previous artifact, computed while the go
// command runs.
type prevHash struct {
	done chan struct{}
	info os.FileInfo // the file hashed, as it was before hashing
	sum  fileSum
	err  error
}

func hashInBackground(path string) *prevHash {
	p := &prevHash{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		f, err := os.Open(path)
		if err != nil {
			p.err = err
			return
		}
		defer f.Close()
		if p.info, err = f.Stat(); err != nil {
			p.err = err
			return
		}
		p.sum, p.err = hashFile(f)
	}()
	return p
}

// result returns the hash when path is still the very file that was hashed
// (same inode and size): the go command left it in place. Only the inode
// counts, not the modification time, which the go command touches on an
// up-to-date output; it never writes into an existing file. Otherwise, or
// on any error, the zero fileSum: verify hashes the new file.
func (p *prevHash) result(path string) fileSum {
	if p == nil {
		return fileSum{}
	}
	<-p.done
	if p.err != nil {
		return fileSum{}
	}
	now, err := os.Stat(path)
	if err != nil || !os.SameFile(now, p.info) || now.Size() != p.info.Size() {
		return fileSum{}
	}
	return p.sum
}
