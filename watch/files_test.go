package watch

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"armbench/internal/testenv"
)

// TestListFilesFollowsTheBuild lists a module with a local import, an
// embedded directory, a file for another architecture and a test file,
// and checks which saves would trigger a rebuild of an arm64 build.
func TestListFilesFollowsTheBuild(t *testing.T) {
	testenv.Tool(t, "go", "golang-go") // go list
	dir := t.TempDir()
	for name, content := range map[string]string{
		"go.mod":            "module listtest\n\ngo 1.26\n",
		"main.go":           "package main\n\nimport (\n\t\"embed\"\n\n\t\"listtest/sub\"\n)\n\n//go:embed static\nvar static embed.FS\n\nfunc main() { sub.F(); _ = static }\n",
		"main_test.go":      "package main\n",
		"only_amd64.go":     "//go:build amd64\n\npackage main\n",
		"static/index.html": "<p>hi</p>\n",
		"sub/sub.go":        "package sub\n\nfunc F() {}\n",
		"notes.txt":         "not built\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, path, content)
	}
	plan := planFor(t, localTarget(t), dir)
	set, err := listFiles(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	wantDirs := []string{dir, filepath.Join(dir, "static"), filepath.Join(dir, "sub")}
	if got := set.sortedDirs(); !slices.Equal(got, wantDirs) {
		t.Errorf("dirs %q, want %q", got, wantDirs)
	}
	// main.go, static/index.html and sub/sub.go; only_amd64.go is not
	// listed but still counts as a .go file of the package directory.
	if n := set.count(); n != 4 {
		t.Errorf("count %d, want 4", n)
	}
	for name, want := range map[string]bool{
		"main.go":              true,
		"new.go":               true, // a file created later
		"sub/sub.go":           true,
		"static/index.html":    true,
		"static/new.css":       true,
		"go.mod":               true,
		"go.sum":               true,
		"default.pgo":          true,
		"main_test.go":         false,
		"notes.txt":            false,
		".main.go.swp":         false,
		"main.go~":             false,
		"static/.index.swp":    false,
		"sub/4913":             false,
		"elsewhere/x.go":       false,
		".armbench/out/x/y.go": false,
	} {
		if got := set.triggers(filepath.Join(dir, name)); got != want {
			t.Errorf("triggers(%s) = %v, want %v", name, got, want)
		}
	}
}

func TestListFilesReportsABrokenModule(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "go.mod"), "module x\n\ngo 1.26\nrequire (\n")
	write(t, filepath.Join(dir, "main.go"), "package main\n\nfunc main() {}\n")
	if _, err := listFiles(context.Background(), planFor(t, localTarget(t), dir)); err == nil {
		t.Fatal("no error for a broken go.mod")
	}
}
