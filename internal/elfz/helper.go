// Package elfz builds armbench-elfz, the device-side helper of deltas
// against Go binaries whose DWARF the linker compressed (see package
// codec), for a target, with the local go command: the same Go that
// builds the binaries it rebuilds on the device, which is what makes its
// recompression exact.
package elfz

import (
	"context"
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"armbench/build"
	"armbench/profiles"
	"armbench/remote"
	"armbench/targets"
)

// The helper's source travels inside armbench, like the bench probe's, so
// it builds from any project.
//
//go:embed codec/codec.go helper/main.go
var helperSource embed.FS

// Builder builds the helper for each target it is asked for. The file
// is kept for the process: later calls return it while it is still on
// disk, without asking the build (whose fingerprint would answer in
// ~10 ms). Use NewBuilder.
type Builder struct {
	outRoot string

	mu    sync.Mutex
	built map[string]*slot // by output path
}

// slot serializes the builds of one output path.
type slot struct {
	mu   sync.Mutex
	file remote.File
}

// NewBuilder builds under outRoot (the front end's out root, e.g.
// profiles.DefaultOutRoot in the project).
func NewBuilder(outRoot string) *Builder {
	return &Builder{outRoot: outRoot, built: map[string]*slot{}}
}

// Helper returns the helper built for t: remote.Options.ELFZHelper.
// Concurrent calls for one target share a build.
func (b *Builder) Helper(ctx context.Context, t targets.Target) (remote.File, error) {
	plan, err := Plan(t, b.outRoot)
	if err != nil {
		return remote.File{}, err
	}
	b.mu.Lock()
	s := b.built[plan.OutputPath()]
	if s == nil {
		s = &slot{}
		b.built[plan.OutputPath()] = s
	}
	b.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file.Path != "" {
		if st, err := os.Stat(s.file.Path); err == nil && st.Size() == s.file.Size {
			return s.file, nil
		}
	}
	res := build.Run(ctx, plan, nil)
	if res.Err != nil {
		return remote.File{}, fmt.Errorf("elfz helper: %w", res.Err)
	}
	if res.Artifact == nil {
		return remote.File{}, fmt.Errorf("elfz helper for %s: no artifact", t.Name)
	}
	a := res.Artifact
	s.file = remote.File{Path: a.Path, SHA256: a.SHA256, Size: a.Size}
	return s.file, nil
}

// helper is the delta helper as a program armbench carries.
var helper = build.Embedded{
	Name: "armbench-elfz", Description: "armbench's on-device delta helper",
	Source: helperSource, Under: filepath.Join("internal", "elfz"), Pkg: "./internal/elfz/helper", SrcDir: "elfz-src",
}

// Plan is the plan that cross-compiles the helper for t.
func Plan(t targets.Target, outRoot string) (profiles.Plan, error) {
	return helper.Plan(t, outRoot)
}
