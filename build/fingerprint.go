package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"armbench/internal/atomicfile"
	"armbench/profiles"
)

// An unchanged rebuild is the common case of deploy, run and bench. The go
// command answers it from its cache, but only after hashing every source
// file of every dependency: ~0.3 s for the sample workload and ~0.4 s for
// cmd/go, longer than an SSH handshake. A fingerprint records what a build
// read — every file of every package directory, the go.mod, go.sum and
// go.work files, the go env file, the toolchain, the command line and the
// environment — by name, size, times and inode. When none of that changed,
// the recorded artifact is the answer and the go command is not run; the
// check costs a few thousand stat calls.
//
// Anything a fingerprint cannot see means none is written and the go
// command decides: cgo (C headers live outside the module), an overlay or
// modfile, a VCS other than git, a go list that failed, or an input written
// so close to the build that its timestamp cannot tell (see racyWindow).

// fingerprintVersion changes whenever what a fingerprint covers does, so
// that an older armbench's fingerprints are ignored rather than trusted.
const fingerprintVersion = 1

// racyWindow: a file written just after the go command read it may carry
// an mtime from before that read, by up to the filesystem's timestamp
// granularity (whole seconds on ext3 and HFS+, two on FAT). A build is
// fingerprinted only when all of its inputs are older than its start by
// more than this, as git treats "racily clean" index entries.
const racyWindow = 2 * time.Second

// fingerprint is what fingerprintPath holds.
type fingerprint struct {
	Version  int               `json:"version"`
	Key      string            `json:"key"` // command line, environment, toolchain
	Built    time.Time         `json:"built"`
	Output   stamp             `json:"output"`
	Artifact Artifact          `json:"artifact"`
	Files    map[string]stamp  `json:"files"` // a zero stamp: the file must not exist
	Dirs     map[string]string `json:"dirs"`  // package directory → dirStamp
	VCS      string            `json:"vcs,omitempty"`
}

// stamp is what the filesystem says about a file without reading it.
type stamp struct {
	Size  int64  `json:"s,omitempty"`
	MTime int64  `json:"m,omitempty"` // ns
	CTime int64  `json:"c,omitempty"` // ns; changes with any write, chmod or rename
	Ino   uint64 `json:"i,omitempty"`
	Mode  uint32 `json:"o,omitempty"`
}

func fingerprintPath(output string) string { return output + ".inputs.json" }

// upToDate returns the fingerprint beside plan's output when it still
// holds, else nil and why not (for the build log).
func upToDate(plan profiles.Plan, env goEnv, goCmd string) (*fingerprint, string) {
	b, err := os.ReadFile(fingerprintPath(plan.OutputPath()))
	if err != nil {
		return nil, "no fingerprint of an earlier build"
	}
	var fp fingerprint
	if err := json.Unmarshal(b, &fp); err != nil || fp.Version != fingerprintVersion {
		return nil, "fingerprint of an earlier build unreadable"
	}
	if why := fp.check(plan, env, goCmd); why != "" {
		return nil, why
	}
	return &fp, ""
}

// check says what changed since fp was recorded, or "" when nothing did.
// The cheap checks come first, and git, the one that starts processes,
// runs beside the directory walk.
func (fp *fingerprint) check(plan profiles.Plan, env goEnv, goCmd string) string {
	key, ok := fingerprintKey(plan, env, goCmd)
	if !ok || key != fp.Key {
		return "command line, environment or toolchain changed"
	}
	if statStamp(plan.OutputPath()) != fp.Output {
		return "the output file changed"
	}
	for _, f := range slices.Sorted(maps.Keys(fp.Files)) {
		if statStamp(f) != fp.Files[f] {
			return f + " changed"
		}
	}
	vcs := make(chan string, 1)
	go func() { vcs <- vcsState(plan.Dir, fp.Artifact.Settings) }()
	why := ""
	for _, d := range slices.Sorted(maps.Keys(fp.Dirs)) {
		if sum, _ := dirStamp(d); sum != fp.Dirs[d] {
			why = d + " changed"
			break
		}
	}
	if state := <-vcs; why == "" && state != fp.VCS {
		why = "the git revision or its modified state changed"
	}
	return why
}

// fingerprintable reports whether the fingerprint can see every input of
// a build of plan: not on a system whose file stamps lack the change
// time and inode, nor when cgo reads C headers from the system, or an
// overlay or modfile redirects the go command to files it cannot list.
func fingerprintable(plan profiles.Plan, env goEnv) bool {
	if !stampsComplete {
		return false
	}
	vars := goVars(env.all())
	if vars["CGO_ENABLED"] != "0" {
		return false
	}
	for _, a := range append(slices.Clone(plan.Args), strings.Fields(vars["GOFLAGS"])...) {
		a = strings.TrimLeft(a, "-")
		if strings.HasPrefix(a, "overlay") || strings.HasPrefix(a, "modfile") {
			return false
		}
	}
	return true
}

// fingerprintKey hashes what selects the build other than files: the
// fingerprint format, the go command (path and stamp), where it runs, its
// arguments (but the output's temporary name) and the environment the go
// command reads.
func fingerprintKey(plan profiles.Plan, env goEnv, goCmd string) (string, bool) {
	if !fingerprintable(plan, env) {
		return "", false
	}
	h := sha256.New()
	fmt.Fprintf(h, "v%d\x00%s\x00%+v\x00%s\x00", fingerprintVersion, goCmd, statStamp(goCmd), absDir(plan.Dir))
	for _, a := range plan.Args {
		fmt.Fprintf(h, "%s\x00", a)
	}
	vars := goVars(env.all())
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		fmt.Fprintf(h, "%s=%s\x00", k, vars[k])
	}
	return hex.EncodeToString(h.Sum(nil)), true
}

// goVars keeps, last value winning as exec does, the variables the go
// command and its toolchain read: GO*, CGO_*, the C tools, PATH (which go
// and which tools), and the homes that locate GOCACHE, GOPATH and the go
// env file.
func goVars(env []string) map[string]string {
	vars := map[string]string{}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(k, "GO"), strings.HasPrefix(k, "CGO_"):
		case k == "CC", k == "CXX", k == "FC", k == "AR", k == "PKG_CONFIG", k == "PATH",
			k == "HOME", k == "XDG_CONFIG_HOME", k == "XDG_CACHE_HOME":
		default:
			continue
		}
		vars[k] = v
	}
	return vars
}

func absDir(dir string) string {
	if a, err := filepath.Abs(dir); err == nil {
		return a
	}
	return dir
}

// dirStamp hashes what a package directory holds: each file's name and
// stamp, and the names of its subdirectories (what they hold belongs to
// other packages, or is embedded and stamped through its own directory).
// newest is the latest mtime among them, for the racy check.
func dirStamp(dir string) (sum string, newest int64) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "unreadable", 0
	}
	h := sha256.New()
	var line []byte
	for _, e := range ents {
		line = append(line[:0], e.Name()...)
		if e.IsDir() {
			line = append(line, "\x00d\n"...)
			h.Write(line)
			continue
		}
		s := statStamp(filepath.Join(dir, e.Name()))
		newest = max(newest, s.MTime)
		line = append(line, 0)
		for _, n := range []int64{s.Size, s.MTime, s.CTime, int64(s.Ino), int64(s.Mode)} {
			line = strconv.AppendInt(append(line, ' '), n, 10)
		}
		h.Write(append(line, '\n'))
	}
	return hex.EncodeToString(h.Sum(nil)), newest
}

// statStamp stamps path, following symbolic links as the go command does
// when it reads a file; the zero stamp when there is no such file.
func statStamp(path string) stamp {
	fi, err := os.Stat(path)
	if err != nil {
		return stamp{}
	}
	return stampOf(fi)
}

// vcsState is the git state the go command stamps into a binary (revision
// and modified), read the way it reads it, or "" when the binary carries
// none. A failure to ask git is a state of its own, never a match.
func vcsState(dir string, settings map[string]string) string {
	if settings["vcs"] == "" {
		return ""
	}
	if settings["vcs"] != "git" {
		return "unsupported vcs " + settings["vcs"]
	}
	var rev, status []byte
	var revErr, statusErr error
	var wg sync.WaitGroup
	wg.Go(func() { rev, revErr = gitOutput(dir, "rev-parse", "HEAD") })
	wg.Go(func() { status, statusErr = gitOutput(dir, "status", "--porcelain") })
	wg.Wait()
	if err := errors.Join(revErr, statusErr); err != nil {
		return "git failed: " + err.Error()
	}
	return fmt.Sprintf("%s modified=%t", bytes.TrimSpace(rev), len(bytes.TrimSpace(status)) > 0)
}

func gitOutput(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_OPTIONAL_LOCKS=0") // a status must not take the index lock
	return cmd.Output()
}

// justSaved reports whether the main package's directory (when the plan
// names it by a relative path) holds a file written inside the racy
// window before start: record would refuse that build anyway.
func justSaved(plan profiles.Plan, start time.Time) bool {
	if !strings.HasPrefix(plan.Pkg, ".") {
		return false
	}
	_, newest := dirStamp(filepath.Join(plan.Dir, plan.Pkg))
	return newest > start.Add(-racyWindow).UnixNano()
}

// inputs is what go list says a build of plan reads.
type inputs struct {
	dirs  []string // package directories, and the directories of embedded files
	files []string // go.mod of every module, and its go.sum
}

// listInputs asks the go command, with the build's own flags and
// environment, which packages a build of plan reads. It runs beside the
// build, so a real build does not wait for it.
func listInputs(ctx context.Context, plan profiles.Plan, env goEnv, goCmd string) (inputs, error) {
	args, ok := listArgs(plan.Args)
	if !ok {
		return inputs{}, errors.New("arguments go list does not take")
	}
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir = plan.Dir
	cmd.Env = env.all()
	out, err := cmd.Output()
	if err != nil {
		return inputs{}, fmt.Errorf("go list: %w", err)
	}
	return parseList(plan.Dir, out)
}

// listArgs turns a build's arguments (build … -o OUT PKG, or test -c …)
// into go list -deps with the same build flags.
func listArgs(args []string) ([]string, bool) {
	if len(args) == 0 || (args[0] != "build" && args[0] != "test") {
		return nil, false
	}
	list := []string{"list", "-e=false", "-deps", "-json=Dir,EmbedFiles,TestEmbedFiles,XTestEmbedFiles,Module"}
	if args[0] == "test" {
		list = append(list, "-test")
	}
	for i := 1; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-o" || a == "--o":
			i++
		case strings.HasPrefix(a, "-o=") || strings.HasPrefix(a, "--o="), a == "-c" || a == "--c":
		default:
			list = append(list, a)
		}
	}
	return list, true
}

type listedPackage struct {
	Dir                                         string
	EmbedFiles, TestEmbedFiles, XTestEmbedFiles []string
	Module                                      *struct{ Dir, GoMod string }
}

func parseList(dir string, out []byte) (inputs, error) {
	var in inputs
	dirs, files := map[string]bool{}, map[string]bool{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p listedPackage
		if err := dec.Decode(&p); err != nil {
			return inputs{}, fmt.Errorf("go list output: %w", err)
		}
		if p.Dir == "" {
			return inputs{}, errors.New("go list: a package without a directory")
		}
		dirs[p.Dir] = true
		for _, f := range slices.Concat(p.EmbedFiles, p.TestEmbedFiles, p.XTestEmbedFiles) {
			dirs[filepath.Dir(filepath.Join(p.Dir, f))] = true
		}
		if p.Module != nil && p.Module.GoMod != "" {
			files[p.Module.GoMod] = true
			files[filepath.Join(filepath.Dir(p.Module.GoMod), "go.sum")] = true
			files[filepath.Join(filepath.Dir(p.Module.GoMod), "vendor", "modules.txt")] = true
		}
	}
	// A go.work in this directory or above selects the modules.
	for d := absDir(dir); ; d = filepath.Dir(d) {
		files[filepath.Join(d, "go.work")] = true
		files[filepath.Join(d, "go.work.sum")] = true
		if filepath.Dir(d) == d {
			break
		}
	}
	in.dirs, in.files = slices.Sorted(maps.Keys(dirs)), slices.Sorted(maps.Keys(files))
	return in, nil
}

// record writes the fingerprint of a build that started at start and
// produced art at plan's output from in, or nothing when an input is too
// new to trust (see racyWindow) or the build carries state it cannot see.
// It returns why it wrote none, for the build log.
func record(plan profiles.Plan, env goEnv, goCmd string, in inputs, art *Artifact, start time.Time) string {
	key, ok := fingerprintKey(plan, env, goCmd)
	if !ok {
		return "cgo, an overlay or a modfile (inputs outside the module), or file stamps without change time and inode"
	}
	fp := fingerprint{
		Version: fingerprintVersion, Key: key, Built: start,
		Output: statStamp(plan.OutputPath()), Artifact: *art,
		Files: map[string]stamp{}, Dirs: map[string]string{},
		VCS: vcsState(plan.Dir, art.Settings),
	}
	if strings.HasPrefix(fp.VCS, "git failed") || strings.HasPrefix(fp.VCS, "unsupported") {
		return fp.VCS
	}
	limit := start.Add(-racyWindow).UnixNano()
	files := append(slices.Clone(in.files), goEnvFile(env), filepath.Join(goRoot(goCmd), "VERSION"), pgoFile(plan))
	for _, f := range files {
		if f == "" {
			continue
		}
		s := statStamp(f)
		if s.MTime > limit {
			return f + " was written just before the build"
		}
		fp.Files[f] = s
	}
	for _, d := range in.dirs {
		sum, newest := dirStamp(d)
		if newest > limit {
			return "a file in " + d + " was written just before the build"
		}
		fp.Dirs[d] = sum
	}
	b, err := json.Marshal(fp)
	if err != nil {
		return err.Error()
	}
	if err := atomicfile.Write(fingerprintPath(plan.OutputPath()), b, 0o644); err != nil {
		return err.Error()
	}
	return ""
}

// pgoFile is the profile a -pgo=FILE flag names ("" for auto or off,
// whose default.pgo sits in the main package's directory, stamped with it).
func pgoFile(plan profiles.Plan) string {
	for i, a := range plan.Args {
		var v string
		switch {
		case (a == "-pgo" || a == "--pgo") && i+1 < len(plan.Args):
			v = plan.Args[i+1]
		case strings.HasPrefix(a, "-pgo=") || strings.HasPrefix(a, "--pgo="):
			_, v, _ = strings.Cut(a, "=")
		default:
			continue
		}
		if v == "auto" || v == "off" || v == "" {
			return ""
		}
		if !filepath.IsAbs(v) {
			v = filepath.Join(absDir(plan.Dir), v)
		}
		return v
	}
	return ""
}

// goEnvFile is the file `go env -w` writes, which the go command reads.
func goEnvFile(env goEnv) string {
	if f := goVars(env.all())["GOENV"]; f != "" {
		return f
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "go", "env")
}

// goRoot is where the go command at goCmd lives: GOROOT/bin/go.
func goRoot(goCmd string) string {
	if real, err := filepath.EvalSymlinks(goCmd); err == nil {
		goCmd = real
	}
	return filepath.Dir(filepath.Dir(goCmd))
}
