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
	"io/fs"
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

// Plan is the plan that cross-compiles the helper for t, release-like
// (static, stripped, trimmed), from the embedded source written under
// outRoot.
func Plan(t targets.Target, outRoot string) (profiles.Plan, error) {
	abs, err := filepath.Abs(outRoot)
	if err != nil {
		return profiles.Plan{}, fmt.Errorf("elfz helper: %w", err)
	}
	src := filepath.Join(abs, "elfz-src")
	if err := writeSource(src); err != nil {
		return profiles.Plan{}, fmt.Errorf("elfz helper: %w", err)
	}
	prof := profiles.Profile{
		Name:        "armbench-elfz",
		Description: "armbench's on-device delta helper",
		Build:       profiles.Build{Trimpath: true, Ldflags: "-s -w"},
	}
	// Only the architecture matters, not the project's tags or compiler.
	t.Tags, t.CC = nil, ""
	plan, err := profiles.Resolve(t, prof, profiles.Options{Pkg: "./internal/elfz/helper", Dir: src, OutRoot: abs, Mode: profiles.ModeBinary})
	if err != nil {
		return plan, fmt.Errorf("elfz helper: %w", err)
	}
	// A go.work around the project must not pull the helper's module in.
	plan.BuildEnv = append(plan.BuildEnv, profiles.EnvVar{Key: "GOWORK", Value: "off"})
	return plan, nil
}

// writeSource writes the helper's module under dir, leaving files that
// are already right alone so the build cache and fingerprint stay warm.
func writeSource(dir string) error {
	files := map[string][]byte{"go.mod": []byte("module armbench\n\ngo 1.26\n")}
	err := fs.WalkDir(helperSource, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := helperSource.ReadFile(path)
		files[filepath.Join("internal", "elfz", path)] = data
		return err
	})
	if err != nil {
		return err
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if old, err := os.ReadFile(p); err == nil && string(old) == string(data) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		tmp := p + ".tmp"
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, p); err != nil {
			os.Remove(tmp)
			return err
		}
	}
	return nil
}
