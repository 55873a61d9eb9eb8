package build

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"armbench/internal/atomicfile"
	"armbench/profiles"
	"armbench/targets"
)

// Embedded is a program armbench carries as source and cross-compiles for
// each target it needs it on (the bench probe, the delta helper): its own
// module, written under the out root, so it builds from any project.
type Embedded struct {
	Name        string // the profile's name, and the file's
	Description string
	Source      fs.FS  // the source files
	Under       string // their directory in the module: "bench", "internal/elfz"
	Pkg         string // the main package, from the module's root
	SrcDir      string // the module's directory under the out root
	// Build replaces the release-like settings (static, stripped,
	// trimmed) when set.
	Build *profiles.Build
}

// Plan is the plan that cross-compiles e for t: release-like (static,
// stripped, trimmed) and for t's architecture only, not its tags or C
// compiler, from the source written under outRoot.
func (e Embedded) Plan(t targets.Target, outRoot string) (profiles.Plan, error) {
	abs, err := filepath.Abs(outRoot)
	if err != nil {
		return profiles.Plan{}, fmt.Errorf("%s: %w", e.Name, err)
	}
	src := filepath.Join(abs, e.SrcDir)
	if err := e.write(src); err != nil {
		return profiles.Plan{}, fmt.Errorf("%s: %w", e.Name, err)
	}
	prof := profiles.Profile{
		Name:        e.Name,
		Description: e.Description,
		Build:       profiles.Build{Trimpath: true, Ldflags: "-s -w"},
	}
	if e.Build != nil {
		prof.Build = *e.Build
	}
	t.Tags, t.CC = nil, ""
	plan, err := profiles.Resolve(t, prof, profiles.Options{Pkg: e.Pkg, Dir: src, OutRoot: abs, Mode: profiles.ModeBinary})
	if err != nil {
		return plan, fmt.Errorf("%s: %w", e.Name, err)
	}
	// A go.work around the project must not pull this module in.
	plan.BuildEnv = append(plan.BuildEnv, profiles.EnvVar{Key: "GOWORK", Value: "off"})
	// The module is written under the project, often inside its git
	// checkout: stamping that checkout's state would cost four git
	// commands a build and tell nothing about this program.
	plan.Args = slices.Insert(plan.Args, 1, "-buildvcs=false")
	return plan, nil
}

// write puts the module under dir, leaving files that are already right
// alone, so the go build cache and the fingerprint stay warm.
func (e Embedded) write(dir string) error {
	files := map[string][]byte{"go.mod": []byte("module armbench\n\ngo 1.26\n")}
	err := fs.WalkDir(e.Source, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(e.Source, path)
		files[filepath.Join(e.Under, path)] = data
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
		if err := atomicfile.Write(p, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
