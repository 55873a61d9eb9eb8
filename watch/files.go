package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"armbench/profiles"
)

// dirRole says which files of a watched directory trigger a rebuild.
type dirRole uint8

const (
	roleGo     dirRole = 1 << iota // a package of the module: its non-test .go files, *.pgo
	roleEmbed                      // holds //go:embed files: any file
	roleModule                     // module root: go.mod, go.sum, go.work, go.work.sum
)

// fileSet is what a build of the plan reads from the module, as `go list`
// sees it for the plan's GOOS, GOARCH and tags.
type fileSet struct {
	dirs  map[string]dirRole
	files map[string]bool // listed non-Go sources (C, assembly, syso, embed)
}

// sortedDirs is the watched directories, sorted.
func (s fileSet) sortedDirs() []string {
	dirs := make([]string, 0, len(s.dirs))
	for d := range s.dirs {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	return dirs
}

// count is how many files trigger a rebuild today: the listed ones and
// the .go files of package directories.
func (s fileSet) count() int {
	n := len(s.files)
	for d, role := range s.dirs {
		if role&roleGo == 0 {
			continue
		}
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if !e.IsDir() && isGoSource(e.Name()) && !s.files[filepath.Join(d, e.Name())] {
				n++
			}
		}
	}
	return n
}

// triggers reports whether a change to path should rebuild.
func (s fileSet) triggers(path string) bool {
	base := filepath.Base(path)
	if scratchName(base) {
		return false
	}
	if s.files[path] {
		return true
	}
	role := s.dirs[filepath.Dir(path)]
	switch {
	case role&roleEmbed != 0:
		return true
	case role&roleGo != 0 && (isGoSource(base) || strings.HasSuffix(base, ".pgo")):
		return true
	case role&roleModule != 0:
		switch base {
		case "go.mod", "go.sum", "go.work", "go.work.sum":
			return true
		}
	}
	return false
}

// isGoSource is a .go file a go build compiles (tests are not built).
func isGoSource(name string) bool {
	return strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")
}

// scratchName is a file editors and tools write beside the real one: the
// go command and go:embed ignore dot and underscore files too.
func scratchName(base string) bool {
	return strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_") || strings.HasPrefix(base, "#") ||
		strings.HasSuffix(base, "~") || strings.HasSuffix(base, ".swp") || strings.HasSuffix(base, ".swx") ||
		base == "4913" // vim's probe for a writable directory
}

// listedPackage is the part of `go list -json` watch needs.
type listedPackage struct {
	Dir        string
	GoFiles    []string
	CgoFiles   []string
	CFiles     []string
	CXXFiles   []string
	HFiles     []string
	SFiles     []string
	SysoFiles  []string
	EmbedFiles []string
	Standard   bool
	Module     *struct {
		Dir   string
		GoMod string
		Main  bool
	}
}

// listFiles asks the go command which files of the module the plan's
// package and its local dependencies are built from. Packages outside the
// main module (the module cache, the standard library) do not change
// while one edits.
func listFiles(ctx context.Context, plan profiles.Plan) (fileSet, error) {
	if len(plan.Args) == 0 {
		return fileSet{}, errors.New("plan has no go command arguments")
	}
	pkg := plan.Args[len(plan.Args)-1]
	args := []string{"list", "-e", "-deps", "-json=Dir,GoFiles,CgoFiles,CFiles,CXXFiles,HFiles,SFiles,SysoFiles,EmbedFiles,Standard,Module"}
	if tags := planTags(plan.Args); tags != "" {
		args = append(args, "-tags="+tags)
	}
	args = append(args, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = plan.Dir
	// The plan's GOOS, GOARCH, CGO_ENABLED and GOARM pick the files.
	cmd.Env = append(os.Environ(), plan.BuildEnvStrings()...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fileSet{}, fmt.Errorf("go list %s: %w: %s", pkg, err, strings.TrimSpace(stderr.String()))
	}
	set := fileSet{dirs: map[string]dirRole{}, files: map[string]bool{}}
	dec := json.NewDecoder(&stdout)
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return fileSet{}, fmt.Errorf("go list %s: read its output: %w", pkg, err)
		}
		if p.Standard || p.Module == nil || !p.Module.Main || p.Dir == "" {
			continue
		}
		set.dirs[p.Dir] |= roleGo
		if p.Module.GoMod != "" {
			set.dirs[filepath.Dir(p.Module.GoMod)] |= roleModule
		}
		for _, list := range [][]string{p.GoFiles, p.CgoFiles, p.CFiles, p.CXXFiles, p.HFiles, p.SFiles, p.SysoFiles} {
			for _, f := range list {
				set.files[filepath.Join(p.Dir, f)] = true
			}
		}
		for _, f := range p.EmbedFiles {
			path := filepath.Join(p.Dir, f)
			set.files[path] = true
			set.dirs[filepath.Dir(path)] |= roleEmbed
		}
	}
	if len(set.dirs) == 0 {
		return fileSet{}, fmt.Errorf("go list %s: no package of the main module to watch", pkg)
	}
	return set, nil
}

// planTags is the -tags value of a go command line, "" when none.
func planTags(args []string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "-tags="); ok {
			return v
		}
		if a == "-tags" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}
