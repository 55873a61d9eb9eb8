package build

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"armbench/internal/testenv"
	"armbench/profiles"
	"armbench/targets"
)

// moduleRoot is the armbench module, where the go command runs for the
// plans built in these tests.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("module root not found above the build package: %v", err)
	}
	return dir
}

// spec is a hand-written (target, profile) for plans built without
// profiles.Resolve.
type spec struct {
	name    string
	goarch  string
	goarm   string
	goarm64 string
	mode    profiles.Mode
	pkg     string
	extra   []string // go flags before -o
	release bool     // -trimpath -ldflags='-s -w'
}

// handPlan fills a Plan the way profiles.Resolve does, with its output in a
// fresh temporary directory.
func handPlan(t testing.TB, s spec) profiles.Plan {
	t.Helper()
	if s.pkg == "" {
		s.pkg = "./examples/workload"
	}
	outDir := filepath.Join(t.TempDir(), "out", s.name, "release")
	out := filepath.Join(outDir, "workload")
	if s.mode == profiles.ModeTest {
		out += ".test"
	}
	env := []profiles.EnvVar{{Key: "CGO_ENABLED", Value: "0"}, {Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: s.goarch}}
	expect := map[string]string{"GOOS": "linux", "GOARCH": s.goarch, "CGO_ENABLED": "0"}
	switch {
	case s.goarm != "":
		env = append(env, profiles.EnvVar{Key: "GOARM", Value: s.goarm})
		expect["GOARM"] = s.goarm
	case s.goarm64 != "":
		env = append(env, profiles.EnvVar{Key: "GOARM64", Value: s.goarm64})
		expect["GOARM64"] = s.goarm64
	}
	args := []string{"build"}
	if s.mode == profiles.ModeTest {
		args = []string{"test", "-c"}
	}
	args = append(args, s.extra...)
	prof := profiles.Profile{Name: "default"}
	if s.release {
		args = append(args, "-trimpath", "-ldflags=-s -w")
		expect["-trimpath"] = "true"
		expect["-ldflags"] = "-s -w"
		prof = profiles.Profile{Name: "release", Build: profiles.Build{Trimpath: true, Ldflags: "-s -w", Static: true}}
	}
	args = append(args, "-o", out, s.pkg)
	return profiles.Plan{
		Target:   targets.Target{Name: s.name, GOOS: "linux", GOARCH: s.goarch, GOARM: s.goarm, GOARM64: s.goarm64},
		Profile:  prof,
		Mode:     s.mode,
		Pkg:      s.pkg,
		Dir:      moduleRoot(t),
		Output:   out,
		LogPath:  filepath.Join(outDir, "build.log"),
		BuildEnv: env,
		Args:     args,
		Expect:   expect,
	}
}

// recorder collects events; safe for RunAll's callback too.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) emit(ev Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func (r *recorder) lines() []Line {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ls []Line
	for _, ev := range r.events {
		if l, ok := ev.(Line); ok {
			ls = append(ls, l)
		}
	}
	return ls
}

// checkShape asserts Started first, Finished last and only once.
func (r *recorder) checkShape(t *testing.T) Result {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) < 2 {
		t.Fatalf("got %d events, want at least Started and Finished", len(r.events))
	}
	if _, ok := r.events[0].(Started); !ok {
		t.Errorf("first event is %T, want Started", r.events[0])
	}
	fin, ok := r.events[len(r.events)-1].(Finished)
	if !ok {
		t.Fatalf("last event is %T, want Finished", r.events[len(r.events)-1])
	}
	for _, ev := range r.events[1 : len(r.events)-1] {
		if _, ok := ev.(Line); !ok {
			t.Errorf("event %T between Started and Finished, want only Line", ev)
		}
	}
	return fin.Result
}

// armRunner returns the command prefix that runs an ARM binary here:
// nothing when binfmt_misc hands it to qemu-user, else qemu-*-static.
// Missing qemu is a skip outside CI and a failure under CI=true.
func armRunner(t *testing.T, goarch string) []string {
	t.Helper()
	if r := testenv.Qemu(t, goarch); r != "" {
		return []string{r}
	}
	return nil
}

// runArtifact runs an ARM binary with args and returns its combined output.
func runArtifact(t *testing.T, goarch, path string, args ...string) string {
	t.Helper()
	return runArtifactEnv(t, goarch, nil, path, args...)
}

// runArtifactEnv is runArtifact with extra environment (a plan's RunEnv).
func runArtifactEnv(t *testing.T, goarch string, env []string, path string, args ...string) string {
	t.Helper()
	prefix := armRunner(t, goarch)
	argv := append(append(prefix, path), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("running %s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return string(out)
}

// groupMembers lists the live pids whose process group is pgid, read from
// /proc. Zombies are dead processes waiting for init to reap them; they are
// logged, not returned.
func groupMembers(t *testing.T, pgid int) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatalf("read /proc: %v", err)
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // exited while we looked
		}
		// pid (comm) state ppid pgrp …; comm may hold spaces and parens.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 3 {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g == pgid {
			if f[0] == "Z" {
				t.Logf("pid %d of group %d is a zombie (dead, not yet reaped by its new parent %s)", pid, pgid, f[1])
				continue
			}
			pids = append(pids, pid)
		}
	}
	return pids
}

// entries lists a directory's names (to spot leftover temporary files).
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		// The fingerprint is there only when the inputs were old enough
		// to trust (racyWindow); fingerprint_test.go checks it.
		if strings.HasSuffix(e.Name(), ".inputs.json") {
			continue
		}
		names = append(names, e.Name())
	}
	return names
}
