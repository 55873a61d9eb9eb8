package build

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"armbench/internal/testenv"
	"armbench/profiles"
)

// fpModule is a small module in a temporary directory whose files a test
// may change: a main package that embeds a file and prints it.
type fpModule struct {
	t    *testing.T
	dir  string
	plan profiles.Plan
	age  time.Duration // how far in the past the next settle puts a file
}

func newFPModule(t *testing.T, pkgDir string) *fpModule {
	t.Helper()
	dir := t.TempDir()
	m := &fpModule{t: t, dir: dir, age: time.Hour}
	m.write("go.mod", "module fptest\n\ngo 1.26\n")
	m.write(filepath.Join(pkgDir, "main.go"), `package main

import (
	_ "embed"
	"fmt"
)

//go:embed msg.txt
var msg string

func main() { fmt.Print("msg=", msg) }
`)
	m.write(filepath.Join(pkgDir, "msg.txt"), "one")
	plan := handPlan(t, spec{name: "fp-arm64", goarch: "arm64", goarm64: "v8.0", pkg: "./" + filepath.ToSlash(pkgDir)})
	plan.Dir = dir
	m.plan = plan
	return m
}

// write writes a file and settles it: older than the racy window, as a
// file saved a while before the build is.
func (m *fpModule) write(name, content string) {
	m.t.Helper()
	p := filepath.Join(m.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		m.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		m.t.Fatal(err)
	}
	m.settle(p)
}

// settle dates a file in the past; each call a second later than the
// last, so that a rewrite is seen by its mtime too, not only its ctime.
func (m *fpModule) settle(p string) {
	m.t.Helper()
	when := time.Now().Add(-m.age)
	m.age -= time.Second
	if err := os.Chtimes(p, when, when); err != nil {
		m.t.Fatal(err)
	}
}

// build runs the plan and reports whether the go command ran.
func (m *fpModule) build(t *testing.T) (Result, bool) {
	t.Helper()
	ran := false
	res := run(context.Background(), m.plan, nil, hooks{started: func(int) { ran = true }})
	if res.Err != nil {
		t.Fatalf("build: %v", res.Err)
	}
	if res.UpToDate == ran {
		t.Fatalf("UpToDate = %v, but the go command ran: %v", res.UpToDate, ran)
	}
	return res, ran
}

// output runs the artifact.
func (m *fpModule) output(t *testing.T) string {
	t.Helper()
	return runArtifact(t, "arm64", m.plan.OutputPath())
}

func TestFingerprintAnswersAnUnchangedRebuild(t *testing.T) {
	testenv.Tool(t, "go", "golang-go")
	m := newFPModule(t, "app")
	first, ran := m.build(t)
	if !ran {
		t.Fatal("the first build did not run the go command")
	}
	second, ran := m.build(t)
	if ran {
		t.Fatal("an unchanged rebuild ran the go command")
	}
	if second.Artifact.SHA256 != first.Artifact.SHA256 || second.Artifact.Path != m.plan.OutputPath() {
		t.Errorf("artifact %+v, want the first build's %s at %s", second.Artifact, first.Artifact.SHA256, m.plan.OutputPath())
	}
	if second.Artifact.Settings["GOARM64"] != "v8.0" || len(second.Artifact.Checks) == 0 {
		t.Errorf("the recorded artifact lost its buildinfo or checks: %+v", second.Artifact)
	}
	log, err := os.ReadFile(m.plan.LogFile())
	if err != nil || !strings.Contains(string(log), "up to date") || !strings.Contains(string(log), first.Artifact.SHA256) {
		t.Errorf("build log does not say it was up to date (%v):\n%s", err, log)
	}
}

// Each change is one a fingerprint must see: the next build runs the go
// command, builds the right thing, and the one after is answered again.
func TestFingerprintSeesEveryKindOfChange(t *testing.T) {
	testenv.Tool(t, "go", "golang-go")
	m := newFPModule(t, "app")
	m.build(t)
	msgPath := filepath.Join(m.dir, "app", "msg.txt")
	cases := []struct {
		name   string
		change func()
		want   string // the program's output afterwards
	}{
		{"an edited source file", func() {
			m.write("app/main.go", strings.Replace(readFile(t, filepath.Join(m.dir, "app", "main.go")), `"msg="`, `"message="`, 1))
		}, "message=one"},
		{"an edited embedded file", func() { m.write("app/msg.txt", "two") }, "message=two"},
		{"a file added to the package", func() {
			m.write("app/extra.go", "package main\n\nfunc init() { msg += \"+extra\" }\n")
		}, "message=two+extra"},
		{"a file removed from the package", func() { os.Remove(filepath.Join(m.dir, "app", "extra.go")) }, "message=two"},
		{"a rewrite that keeps size and mtime", func() {
			fi, _ := os.Stat(msgPath)
			os.WriteFile(msgPath, []byte("TWO"), 0o644)
			os.Chtimes(msgPath, fi.ModTime(), fi.ModTime())
		}, "message=TWO"},
		{"go.mod", func() { m.write("go.mod", "module fptest\n\ngo 1.26\n\n// touched\n") }, "message=TWO"},
		{"the build command", func() { m.plan.Args = append([]string{"build", "-ldflags=-s"}, m.plan.Args[1:]...) }, "message=TWO"},
		{"the environment", func() { t.Setenv("GOFLAGS", "-tags=fingerprint") }, "message=TWO"},
		{"an output replaced by a copy", func() {
			out := m.plan.OutputPath()
			if err := os.WriteFile(out+".copy", []byte(readFile(t, out)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(out+".copy", out); err != nil {
				t.Fatal(err)
			}
		}, "message=TWO"},
		{"a removed output", func() { os.Remove(m.plan.OutputPath()) }, "message=TWO"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.change()
			if _, ran := m.build(t); !ran {
				t.Fatalf("after %s the go command did not run", c.name)
			}
			if got := m.output(t); got != c.want {
				t.Errorf("after %s the program prints %q, want %q", c.name, got, c.want)
			}
			if _, ran := m.build(t); ran {
				t.Errorf("the build after %s left no fingerprint: the next unchanged build ran the go command", c.name)
			}
		})
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A file written just before a build may have changed after the go
// command read it without its mtime saying so: no fingerprint is trusted
// until the files are older than the racy window.
func TestFingerprintNotWrittenForRacilyNewInputs(t *testing.T) {
	testenv.Tool(t, "go", "golang-go")
	m := newFPModule(t, "app")
	if err := os.WriteFile(filepath.Join(m.dir, "app", "msg.txt"), []byte("fresh"), 0o644); err != nil {
		t.Fatal(err)
	}
	m.build(t)
	if _, err := os.Stat(fingerprintPath(m.plan.OutputPath())); !os.IsNotExist(err) {
		t.Fatalf("a fingerprint was written although an input was written just before the build (stat: %v)", err)
	}
	if _, ran := m.build(t); !ran {
		t.Error("the rebuild was answered without a fingerprint")
	}
}

// With VCS stamping on, the binary says which commit it was built from and
// whether the tree was modified: a commit, or a change anywhere in the
// tree, makes the go command stamp it anew, so the fingerprint must see it.
func TestFingerprintFollowsGitState(t *testing.T) {
	git := testenv.Tool(t, "git", "git")
	t.Setenv("GOFLAGS", "-buildvcs=true")
	m := newFPModule(t, "cmd/app")
	gitIn := func(args ...string) {
		t.Helper()
		cmd := exec.Command(git, args...)
		cmd.Dir = m.dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	gitIn("init", "-q")
	os.WriteFile(filepath.Join(m.dir, ".gitignore"), []byte(".armbench/\n"), 0o644)
	gitIn("add", ".")
	gitIn("commit", "-q", "-m", "one")

	first, _ := m.build(t)
	if first.Artifact.Settings["vcs.modified"] != "false" || first.Artifact.Settings["vcs.revision"] == "" {
		t.Fatalf("the binary carries no clean git state: %v", first.Artifact.Settings)
	}
	if _, ran := m.build(t); ran {
		t.Fatal("an unchanged rebuild in a git tree ran the go command")
	}
	// A file outside every package directory: only git's state changes.
	os.WriteFile(filepath.Join(m.dir, "NOTES"), []byte("x"), 0o644)
	res, ran := m.build(t)
	if !ran || res.Artifact.Settings["vcs.modified"] != "true" {
		t.Fatalf("after an untracked file appeared: ran %v, vcs.modified %q; want a rebuild stamped modified", ran, res.Artifact.Settings["vcs.modified"])
	}
	gitIn("add", "NOTES")
	gitIn("commit", "-q", "-m", "two")
	res, ran = m.build(t)
	if !ran || res.Artifact.Settings["vcs.revision"] == first.Artifact.Settings["vcs.revision"] || res.Artifact.Settings["vcs.modified"] != "false" {
		t.Fatalf("after a commit: ran %v, settings %v; want a rebuild stamped with the new clean revision", ran, res.Artifact.Settings)
	}
}

func TestFingerprintNotUsedWhereItCannotSee(t *testing.T) {
	plan := handPlan(t, spec{name: "fp", goarch: "arm64"})
	for _, c := range []struct {
		name string
		env  []string
		args []string
	}{
		{"cgo", []string{"CGO_ENABLED=1"}, nil},
		{"an overlay flag", nil, []string{"-overlay=o.json"}},
		{"an overlay in GOFLAGS", []string{"GOFLAGS=-mod=mod -overlay=o.json"}, nil},
		{"a modfile", nil, []string{"-modfile=alt.mod"}},
	} {
		p := plan
		p.Args = append(append([]string{"build"}, c.args...), plan.Args[1:]...)
		env := goEnv{inherited: c.env, plan: []string{"GOOS=linux"}}
		if !slices.Contains(c.env, "CGO_ENABLED=1") {
			env.plan = append(env.plan, "CGO_ENABLED=0")
		}
		if fingerprintable(p, env) {
			t.Errorf("%s: fingerprintable, want not", c.name)
		}
	}
	// Where file status lacks what the fingerprint needs (Windows: no
	// inode, no change time), no build is fingerprintable.
	if got := fingerprintable(plan, goEnv{plan: plan.BuildEnvStrings()}); got != stampsComplete {
		t.Errorf("a plain CGO_ENABLED=0 build: fingerprintable %v, want %v (file stamps complete on %s: %v)", got, stampsComplete, runtime.GOOS, stampsComplete)
	}
}

func TestListArgsKeepsBuildFlags(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{[]string{"build", "-trimpath", "-ldflags=-s -w", "-o", "out/x", "./p"}, "-deps|-trimpath|-ldflags=-s -w|./p"},
		{[]string{"test", "-c", "-tags", "a,b", "-o=x.test", "./p"}, "-deps|-test|-tags|a,b|./p"},
	} {
		got, ok := listArgs(c.in)
		if !ok {
			t.Fatalf("listArgs(%q) refused", c.in)
		}
		var kept []string
		for _, a := range got[1:] {
			if !strings.HasPrefix(a, "-json") && a != "-e=false" {
				kept = append(kept, a)
			}
		}
		if strings.Join(kept, "|") != c.want {
			t.Errorf("listArgs(%q) = %q, want %s", c.in, got, c.want)
		}
	}
	if _, ok := listArgs([]string{"run", "."}); ok {
		t.Error("listArgs accepted go run")
	}
}

func TestPGOFileIsStamped(t *testing.T) {
	dir := t.TempDir()
	abs := filepath.Join(t.TempDir(), "cpu.pgo") // absolute on every host
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"build", "-pgo=prof/cpu.pgo", "-o", "x", "./p"}, filepath.Join(dir, "prof", "cpu.pgo")},
		{[]string{"build", "-pgo", abs, "./p"}, abs},
		{[]string{"build", "-pgo=auto", "./p"}, ""},
		{[]string{"build", "-pgo=off", "./p"}, ""},
		{[]string{"build", "./p"}, ""},
	} {
		if got := pgoFile(profiles.Plan{Dir: dir, Args: c.args}); got != c.want {
			t.Errorf("pgoFile(%q) = %q, want %q", c.args, got, c.want)
		}
	}
}

// BenchmarkUnchangedRebuild compares the answer to an unchanged rebuild
// of the sample workload from its fingerprint with the obvious
// alternative, the go command's own up-to-date check (go build -o onto
// the up-to-date artifact, as typed by hand).
func BenchmarkUnchangedRebuild(b *testing.B) {
	plan := handPlan(b, spec{name: "unchanged", goarch: "arm64", goarm64: "v8.0"})
	if r := Run(context.Background(), plan, nil); r.Err != nil {
		b.Fatal(r.Err)
	}
	b.Run("fingerprint", func(b *testing.B) {
		for b.Loop() {
			r := Run(context.Background(), plan, nil)
			if r.Err != nil || !r.UpToDate {
				b.Skipf("not answered from the fingerprint (%v): an input of the workload is newer than %s", r.Err, racyWindow)
			}
		}
	})
	b.Run("go-build", func(b *testing.B) {
		for b.Loop() {
			cmd := exec.Command("go", plan.Args...)
			cmd.Dir, cmd.Env = plan.Dir, append(os.Environ(), plan.BuildEnvStrings()...)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("go build: %v\n%s", err, out)
			}
		}
	})
}

// A build right after a save (watch's) does not run go list: its
// fingerprint would be refused as racy anyway.
func TestJustSavedSeesTheMainPackage(t *testing.T) {
	m := newFPModule(t, "app")
	if justSaved(m.plan, time.Now()) {
		t.Fatal("settled files read as just saved")
	}
	if err := os.WriteFile(filepath.Join(m.dir, "app", "msg.txt"), []byte("saved"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !justSaved(m.plan, time.Now()) {
		t.Error("a file written now does not read as just saved")
	}
	byPath := m.plan
	byPath.Pkg = "fptest/app" // an import path: not looked at
	if justSaved(byPath, time.Now()) {
		t.Error("an import-path package read as just saved")
	}
}
