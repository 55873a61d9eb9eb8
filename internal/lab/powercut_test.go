package lab_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"armbench/internal/lab"
	"armbench/internal/shell"
)

// cutsPerBoard is how many power cuts TestPowerCut makes on each board:
// ARMBENCH_LAB_CUTS, or two, as CI runs it (each cut is a cold boot of an
// emulated board, two minutes and more). scripts/lab/powercut.sh runs the
// README's count.
func cutsPerBoard(t *testing.T) int {
	if s := os.Getenv("ARMBENCH_LAB_CUTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("ARMBENCH_LAB_CUTS=%q: want a positive number", s)
		}
		return n
	}
	return 2
}

// cutOutcome is one power cut and what the board had after it.
type cutOutcome struct {
	Arch    string `json:"arch"`
	When    string `json:"when"` // upload, install (after a delay), reported (just after success)
	DelayMS int64  `json:"delay_ms"`
	Got     string `json:"got"` // old, new, or what was wrong
	Bad     bool   `json:"bad"`
}

// TestPowerCut cuts a board's power at random points of a deploy (during
// the upload, during the install, just after the deploy reported
// success), boots it again from the same disk, and checks that the
// installed binary is the old one or the new one, whole, and runs; after
// a reported success it must be the new one. The next deploy then
// succeeds and leaves no temporary file. What makes this hold is the
// fsync of the file and of its directory after the rename: only a real
// kernel, losing its page cache, can show that it does.
func TestPowerCut(t *testing.T) {
	ms := boards.Boards(t)
	w := newWorkbench(t)
	for _, m := range ms {
		w.ok("detect", fmt.Sprintf("root@127.0.0.1:%d", m.Port), "--add", "cut-"+m.Image.Arch,
			"--identity", m.Image.Key(), "--known-hosts", m.KnownHosts())
	}
	n := cutsPerBoard(t)
	var mu sync.Mutex
	var outcomes []cutOutcome
	t.Run("boards", func(t *testing.T) {
		for _, m := range ms {
			t.Run(m.Image.Arch, func(t *testing.T) {
				t.Parallel()
				got := cutBoard(t, w.on(t), m, n)
				mu.Lock()
				outcomes = append(outcomes, got...)
				mu.Unlock()
			})
		}
	})
	bad := 0
	for _, o := range outcomes {
		if o.Bad {
			bad++
			t.Errorf("bad install after a cut %s (+%d ms) on %s: %s", o.When, o.DelayMS, o.Arch, o.Got)
		}
	}
	t.Logf("power cuts: %d, bad installs: %d", len(outcomes), bad)
	if path := os.Getenv("ARMBENCH_LAB_CUTS_OUT"); path != "" {
		b, _ := json.MarshalIndent(outcomes, "", "  ")
		os.WriteFile(path, b, 0o644)
	}
}

// cutBoard runs n cuts on m. Each round builds a new edition of the
// program, deploys it, and cuts the power at a random point.
func cutBoard(t *testing.T, w *workbench, m *lab.Machine, n int) []cutOutcome {
	target := "cut-" + m.Image.Arch
	// Editions are separate projects' outputs: each goroutine builds into
	// its own profile output, so the two boards never share a file.
	old, bin := deployEdition(t, w, target, m.Image.Arch, 0, nil)
	if old == "" {
		return nil
	}
	var out []cutOutcome
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(m.Port)))
	for i := 1; i <= n; i++ {
		when := []string{"upload", "install", "reported"}[rng.IntN(3)]
		delay := time.Duration(rng.IntN(400)) * time.Millisecond
		newSum := buildEdition(t, w, target, m.Image.Arch, i)
		if newSum == "" {
			return out
		}
		o := cutOutcome{Arch: m.Image.Arch, When: when, DelayMS: delay.Milliseconds()}
		reported := cutDuringDeploy(t, w, m, target, when, delay)
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
		err := m.Boot(ctx)
		cancel()
		if err != nil {
			t.Errorf("%s: boot after cut %d: %v", m.Image.Arch, i, err)
			return out
		}
		o.Got, o.Bad = inspect(m, bin, old, newSum, reported)
		out = append(out, o)
		t.Logf("%s cut %d: %s +%v (reported=%v) → %s", m.Image.Arch, i, when, delay, reported, o.Got)
		// The next deploy (of this edition) must work and sweep what the
		// cut left.
		if sum, _ := deployEdition(t, w, target, m.Image.Arch, i, m); sum == "" {
			return out
		}
		old = newSum
	}
	return out
}

// buildEdition builds edition i for target and returns its sha256.
func buildEdition(t *testing.T, w *workbench, target, arch string, i int) string {
	t.Helper()
	w.editionMu.Lock()
	defer w.editionMu.Unlock()
	w.sh(fmt.Sprintf("printf 'package main\\n\\nfunc init() { labEdition = %d }\\n\\nvar labEdition int\\n' > edition.go", 1000*len(arch)+i))
	code, out, errOut := w.run("build", "--target", target, "--json")
	if code != 0 {
		t.Errorf("build edition %d for %s: exit %d\n%s%s", i, target, code, out, errOut)
		return ""
	}
	for _, line := range jsonLines(t, out) {
		if line["type"] == "result" {
			if s, ok := line["sha256"].(string); ok && s != "" {
				return s
			}
		}
	}
	t.Errorf("build --json printed no sha256:\n%s", out)
	return ""
}

// deployEdition builds and deploys edition i (all of it, no cut) and
// returns the installed sha256 and path; with m it also checks that the
// deploy left no temporary file on the board.
func deployEdition(t *testing.T, w *workbench, target, arch string, i int, m *lab.Machine) (string, string) {
	t.Helper()
	sum := buildEdition(t, w, target, arch, i)
	if sum == "" {
		return "", ""
	}
	code, out, errOut := w.run("deploy", "--no-build", "--target", target, "--json")
	if code != 0 {
		t.Errorf("deploy after a cut on %s: exit %d\n%s%s", target, code, out, errOut)
		return "", ""
	}
	r := result(t, out)
	bin, _ := r["path"].(string)
	if r["sha256"] != sum || bin == "" {
		t.Errorf("deploy of edition %d to %s: installed %v at %q, want %s", i, target, r["sha256"], bin, sum)
		return "", ""
	}
	if m != nil {
		left, err := m.Run(context.Background(), "root", "ls -a "+shell.HomePath(path.Dir(bin))+" | grep -e '\\.armbench-tmp-' || true")
		if err != nil || strings.TrimSpace(left) != "" {
			t.Errorf("%s: the deploy after a cut left %q (%v)", target, left, err)
		}
	}
	return sum, bin
}

// cutDuringDeploy starts a deploy of the built edition and kills the
// board when the deploy reaches when (plus delay), or just after it
// reports success. It says whether the deploy had reported success.
func cutDuringDeploy(t *testing.T, w *workbench, m *lab.Machine, target, when string, delay time.Duration) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.bin, "deploy", "--no-build", "--target", target, "--json")
	cmd.Dir, cmd.Env = w.proj, w.env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reported := false
	cut := sync.OnceFunc(m.Kill)
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		var ev map[string]any
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		if ev["type"] == "step" && ev["name"] == when && ev["done"] != true {
			time.AfterFunc(delay, cut)
		}
		if ev["type"] == "result" && ev["ok"] == true {
			reported = true
			if when == "reported" {
				cut()
			}
		}
	}
	cmd.Wait()
	cut()
	return reported
}

// inspect reads the installed binary bin on the rebooted board: its
// sha256 must be old's or new's, it must run, and a reported install
// must have survived.
func inspect(m *lab.Machine, bin, old, newSum string, reported bool) (string, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	q := shell.HomePath(bin)
	out, err := m.Run(ctx, "root", "sha256sum "+q+" | cut -c1-64 && "+q+" -duration 50ms -mode chan >/dev/null && echo runs")
	lines := strings.Fields(out)
	if err != nil || len(lines) < 2 || lines[len(lines)-1] != "runs" {
		return fmt.Sprintf("installed binary broken: %v %q", err, out), true
	}
	switch lines[0] {
	case newSum:
		return "new", false
	case old:
		if reported {
			return "old, though the deploy had reported success", true
		}
		return "old", false
	}
	return "neither old nor new: " + lines[0], true
}
