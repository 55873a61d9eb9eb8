package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"armbench/build"
	"armbench/internal/atomicfile"
	"armbench/internal/elfz"
	"armbench/profiles"
	"armbench/remote"
	"armbench/targets"
)

// The device-side delta helper (package internal/elfz): built on this
// host with the local go command, the same Go that builds the binaries
// it rebuilds on the device, which is what makes its recompression
// exact.

// helper is the delta helper as a program armbench carries. It is built
// as the default profile builds (not trimmed), so that on a first deploy
// of a default-profile binary, the only kind whose deltas need it, the
// standard library it uses is already in the go build cache.
var helper = build.Embedded{
	Name: "armbench-elfz", Description: "armbench's on-device delta helper",
	Source: elfz.Source, Under: filepath.Join("internal", "elfz"), Pkg: "./internal/elfz/helper", SrcDir: "elfz-src",
	Build: &profiles.Build{Ldflags: "-s -w"},
}

// Helpers builds the helper once per helper source, Go toolchain and
// target architecture, into a cache shared by every project (see
// HelperCacheDir). A helper already there is answered from a stamp
// beside it, without running the go command. Use NewHelpers; Close it.
type Helpers struct {
	root string

	mu    sync.Mutex
	slots map[string]*slot // by cache directory

	idle       sync.WaitGroup // Warm's builds
	idleCtx    context.Context
	stopIdle   context.CancelFunc
	sourceOnce func() (string, error)
}

// slot serializes the builds of one cache directory.
type slot struct {
	mu   sync.Mutex
	file remote.File
}

// HelperCacheDir is the user's cache of helpers, beside (not in) the go
// build cache, so that every project shares one helper per toolchain and
// architecture. With no user cache directory, outRoot (a project's out
// root) is used instead.
func HelperCacheDir(outRoot string) string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "armbench", "elfz")
	}
	return filepath.Join(outRoot, "armbench-elfz")
}

// NewHelpers builds under root (HelperCacheDir, or a test's directory).
func NewHelpers(root string) *Helpers {
	ctx, cancel := context.WithCancel(context.Background())
	return &Helpers{root: root, slots: map[string]*slot{}, idleCtx: ctx, stopIdle: cancel,
		sourceOnce: sync.OnceValues(sourceKey)}
}

// Helper returns the helper built for t: remote.Options.ELFZHelper.
// Concurrent calls for one architecture share a build.
func (b *Helpers) Helper(ctx context.Context, t targets.Target) (remote.File, error) {
	return b.helper(ctx, t, build.Run)
}

// Warm starts building the helper for t at the lowest CPU priority when
// it is not built yet, and returns at once: remote.Options.ELFZWarm,
// called when a deploy starts that may lead to deltas. A build Close
// stops before it ends leaves nothing behind but the go build cache's
// entries, which the next build reuses.
func (b *Helpers) Warm(t targets.Target) {
	if _, ok := b.cached(t); ok {
		return
	}
	b.idle.Go(func() { _, _ = b.helper(b.idleCtx, t, build.RunIdle) })
}

// Close stops Warm's builds and waits for them to clean up: a process
// that exits with one running would leave its temporary files.
func (b *Helpers) Close() {
	b.stopIdle()
	b.idle.Wait()
}

// cached is the helper for t when it is built, without building it.
func (b *Helpers) cached(t targets.Target) (remote.File, bool) {
	dir, err := b.dir(t)
	if err != nil {
		return remote.File{}, false
	}
	s := b.slot(dir)
	if !s.mu.TryLock() {
		return remote.File{}, false // being built
	}
	defer s.mu.Unlock()
	return s.load(dir)
}

func (b *Helpers) helper(ctx context.Context, t targets.Target, run func(context.Context, profiles.Plan, func(build.Event)) build.Result) (remote.File, error) {
	dir, err := b.dir(t)
	if err != nil {
		return remote.File{}, fmt.Errorf("elfz helper for %s: %w", t.Name, err)
	}
	s := b.slot(dir)
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.load(dir); ok {
		return f, nil
	}
	plan, err := HelperPlan(t, dir)
	if err != nil {
		return remote.File{}, err
	}
	res := run(ctx, plan, nil)
	if res.Err != nil {
		return remote.File{}, fmt.Errorf("elfz helper: %w", res.Err)
	}
	if res.Artifact == nil {
		return remote.File{}, fmt.Errorf("elfz helper for %s: no artifact", t.Name)
	}
	a := res.Artifact
	s.file = remote.File{Path: a.Path, SHA256: a.SHA256, Size: a.Size}
	if err := writeStamp(dir, s.file); err != nil {
		return remote.File{}, fmt.Errorf("elfz helper for %s: %w", t.Name, err)
	}
	return s.file, nil
}

func (b *Helpers) slot(dir string) *slot {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.slots[dir]
	if s == nil {
		s = &slot{}
		b.slots[dir] = s
	}
	return s
}

// dir is the cache directory of t's helper: named by what decides its
// bytes, the helper's source, the toolchain and t's architecture, so a
// directory never holds another helper than its name says.
func (b *Helpers) dir(t targets.Target) (string, error) {
	src, err := b.sourceOnce()
	if err != nil {
		return "", err
	}
	tool, err := build.ToolchainKey()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00", src, tool, t.GOOS, t.GOARCH, t.GOARM, t.GOARM64)
	return filepath.Join(b.root, hex.EncodeToString(h.Sum(nil))[:24]), nil
}

// sourceKey hashes the helper's embedded source and its build settings.
func sourceKey() (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%+v\x00", *helper.Build)
	err := fs.WalkDir(helper.Source, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(helper.Source, path)
		fmt.Fprintf(h, "%s\x00%d\x00%s", path, len(data), data)
		return err
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

// stampName is the file beside a built helper that says what it is: its
// path, sha256 and size, written once the build is verified.
const stampName = "helper.stamp"

func writeStamp(dir string, f remote.File) error {
	stamp := fmt.Sprintf("%s %d %s\n", f.SHA256, f.Size, f.Path)
	return atomicfile.Write(filepath.Join(dir, stampName), []byte(stamp), 0o600)
}

// load answers from memory or from the stamp, when the helper it names
// is still there with its size; the device checks the sha256 of what it
// receives, so a file changed in place costs a failed install, not a
// wrong helper.
func (s *slot) load(dir string) (remote.File, bool) {
	if s.file.Path != "" && sizeIs(s.file.Path, s.file.Size) {
		return s.file, true
	}
	data, err := os.ReadFile(filepath.Join(dir, stampName))
	if err != nil {
		return remote.File{}, false
	}
	fields := strings.SplitN(strings.TrimSpace(string(data)), " ", 3)
	if len(fields) != 3 || len(fields[0]) != 64 {
		return remote.File{}, false
	}
	size, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil || !sizeIs(fields[2], size) {
		return remote.File{}, false
	}
	s.file = remote.File{Path: fields[2], SHA256: fields[0], Size: size}
	return s.file, true
}

func sizeIs(path string, size int64) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Size() == size
}

// HelperPlan is the plan that cross-compiles the helper for t, under outRoot.
func HelperPlan(t targets.Target, outRoot string) (profiles.Plan, error) {
	// The target's name only names the output's folder; the cache
	// directory already says which architecture it is for.
	t.Name = "helper"
	return helper.Plan(t, outRoot)
}
