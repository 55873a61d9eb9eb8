package lab_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"armbench/internal/lab"
)

// boards are the lab's booted boards, shared by the package's tests.
var boards lab.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	boards.Close()
	os.Exit(code)
}

// workbench is armbench as a new user runs it: the binary built from
// this checkout, a HOME of its own (no cache, no known_hosts; the lab's
// known_hosts files are named in targets.toml), and a project of its own
// outside armbench's checkout (a copy of the sample workload with its own
// go.mod). Only the go build cache is shared with the machine's, so the
// standard library is not compiled again for every test run.
type workbench struct {
	t    *testing.T
	bin  string
	proj string
	env  []string

	// editionMu serialises editing the project's source and building
	// from it, when two boards are driven at the same time.
	editionMu *sync.Mutex
}

// on is w reporting to t, a subtest's: FailNow must come from the test
// that calls it.
func (w *workbench) on(t *testing.T) *workbench {
	c := *w
	c.t = t
	return &c
}

func newWorkbench(t *testing.T) *workbench {
	t.Helper()
	root := moduleRoot(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "armbench")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build armbench: %v\n%s", err, out)
	}
	proj := filepath.Join(dir, "project")
	home := filepath.Join(dir, "home")
	for _, d := range []string{proj, home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	srcs, _ := filepath.Glob(filepath.Join(root, "examples", "workload", "*.go"))
	for _, src := range srcs {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(proj, filepath.Base(src)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goenv := func(name string) string {
		out, err := exec.Command("go", "env", name).Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"),
		"GOCACHE=" + goenv("GOCACHE"), "GOMODCACHE=" + goenv("GOMODCACHE"),
		"GOPROXY=" + goenv("GOPROXY"), "GOTOOLCHAIN=local", "TERM=dumb"}
	if ci := os.Getenv("CI"); ci != "" {
		env = append(env, "CI="+ci)
	}
	w := &workbench{t: t, bin: bin, proj: proj, env: env, editionMu: new(sync.Mutex)}
	w.sh("go mod init example.com/workload")
	if err := os.WriteFile(w.config(), []byte("[project]\npkg = \".\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *workbench) config() string { return filepath.Join(w.proj, "targets.toml") }

func (w *workbench) sh(script string) string {
	w.t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir, cmd.Env = w.proj, w.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		w.t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return string(out)
}

// run runs armbench with args in the project and returns its exit code,
// stdout and stderr.
func (w *workbench) run(args ...string) (int, string, string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.bin, args...)
	cmd.Dir, cmd.Env = w.proj, w.env
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		code = -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
	}
	return code, stdout.String(), stderr.String()
}

// ok runs armbench and fails the test unless it exits 0.
func (w *workbench) ok(args ...string) string {
	w.t.Helper()
	code, out, errOut := w.run(args...)
	if code != 0 {
		w.t.Fatalf("armbench %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not JSON: %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// result is the deploy's "result" line.
func result(t *testing.T, out string) map[string]any {
	t.Helper()
	for _, m := range jsonLines(t, out) {
		if m["type"] == "result" {
			return m
		}
	}
	t.Fatalf("no result line in:\n%s", out)
	return nil
}

// expected is what detect must write for each lab board, key by key: the
// exact architecture settings of its emulated CPU (a Cortex-A72 has the
// crypto extensions and no LSE atomics; a Cortex-A15 is ARMv7 with VFPv4),
// and its size.
var expected = map[string][][2]string{
	"arm64": {{"goarch", `"arm64"`}, {"goarm64", `"v8.0,crypto"`}, {"cpu", `"cortex-a72"`}, {"cores", `2`}, {"memory", `"9\d\dMiB"`}},
	"armhf": {{"goarch", `"arm"`}, {"goarm", `"7"`}, {"cpu", `"cortex-a15"`}, {"cores", `2`}, {"memory", `"\d+MiB"`}},
}

// TestLab is the whole loop on real ARM systems, as a new user runs it:
// detect → deploy (full, zstd delta, elfz delta) → run → bench →
// rollback, health checks, and a rolling deploy to a group of both boards.
func TestLab(t *testing.T) {
	ms := boards.Boards(t)
	w := newWorkbench(t)

	for _, m := range ms {
		name := "lab-" + m.Image.Arch
		t.Run("detect/"+m.Image.Arch, func(t *testing.T) { testDetect(t, w, m, name) })
	}
	for _, m := range ms {
		name := "lab-" + m.Image.Arch
		t.Run("deploy/"+m.Image.Arch, func(t *testing.T) { testDeploys(t, w, name) })
		t.Run("run/"+m.Image.Arch, func(t *testing.T) { testRun(t, w, m, name) })
		t.Run("rollback/"+m.Image.Arch, func(t *testing.T) { testRollback(t, w, name) })
	}
	t.Run("bench", func(t *testing.T) {
		out := w.on(t).ok("bench", "--target", "lab-arm64", "--count", "2", "--warmup", "0",
			"--bench", "BenchmarkAlloc", "--benchtime", "20x", "--no-store")
		if !regexp.MustCompile(`(?m)Alloc\S*\s+\d`).MatchString(out) {
			t.Fatalf("bench printed no time for BenchmarkAlloc:\n%s", out)
		}
	})
	if len(ms) == 2 {
		t.Run("rollout", func(t *testing.T) { testRollout(t, w, ms) })
	}
}

func testDetect(t *testing.T, w *workbench, m *lab.Machine, name string) {
	w = w.on(t)
	spec := fmt.Sprintf("root@127.0.0.1:%d", m.Port)
	w.ok("detect", spec, "--add", name, "--identity", m.Image.Key(), "--known-hosts", m.KnownHosts())
	cfg, err := os.ReadFile(w.config())
	if err != nil {
		t.Fatal(err)
	}
	loc := regexp.MustCompile(`(?m)^name\s*=\s*"` + regexp.QuoteMeta(name) + `"`).FindIndex(cfg)
	if loc == nil {
		t.Fatalf("detect --add %s wrote no target:\n%s", name, cfg)
	}
	block := string(cfg[loc[0]:])
	if j := strings.Index(block, "[["); j > 0 {
		block = block[:j]
	}
	for _, kv := range expected[m.Image.Arch] {
		re := regexp.MustCompile(`(?m)^` + kv[0] + `\s*=\s*` + kv[1] + `\s*(#.*)?$`)
		if !re.MatchString(block) {
			t.Errorf("detected target %s: want %s = %s:\n%s", name, kv[0], kv[1], block)
		}
	}
}

// testDeploys: the first deploy sends the whole binary; a changed build
// goes as a delta: through the elfz helper (which runs on the board's own
// kernel) for the default profile, whose DWARF the linker compressed, and
// as a zstd patch (the board's zstd) for release, stripped, which has
// nothing to expand. An unchanged redeploy sends nothing.
func testDeploys(t *testing.T, w *workbench, name string) {
	w = w.on(t)
	for i, c := range []struct{ profile, kind string }{{"default", "elfz"}, {"release", "patch"}} {
		first := result(t, w.ok("deploy", "--target", name, "--profile", c.profile, "--json"))
		if first["ok"] != true || first["skipped"] == true {
			t.Fatalf("first deploy of %s: %v", c.profile, first)
		}
		if i == 0 && first["delta"] != false {
			t.Fatalf("the first deploy to an empty board sent a delta: %v", first)
		}
		w.sh(fmt.Sprintf("printf 'package main\\n\\nfunc init() { labEdition = %d }\\n\\nvar labEdition int\\n' > edition.go", 10+i))
		r := result(t, w.ok("deploy", "--target", name, "--profile", c.profile, "--json"))
		t.Logf("%s redeploy: delta=%v kind=%v wire=%v of %v no_delta=%v", c.profile, r["delta"], r["delta_kind"], r["wire_bytes"], r["size"], r["no_delta"])
		if r["ok"] != true || r["delta"] != true || r["delta_kind"] != c.kind {
			t.Errorf("changed redeploy of %s: want a %s delta, got %v", c.profile, c.kind, r)
		}
		again := result(t, w.ok("deploy", "--target", name, "--profile", c.profile, "--json"))
		if again["skipped"] != true {
			t.Errorf("an unchanged redeploy of %s sent the binary again: %v", c.profile, again)
		}
	}
}

func testRun(t *testing.T, w *workbench, m *lab.Machine, name string) {
	w = w.on(t)
	out := w.ok("run", "--target", name, "--", "-duration", "300ms", "-mode", "hash")
	want := "workload linux/" + m.Image.GOARCH() + " "
	if !strings.Contains(out, want) || !strings.Contains(out, "NumCPU=2") {
		t.Fatalf("run printed no %q with NumCPU=2 from the board:\n%s", want, out)
	}
	uname, err := m.Run(context.Background(), "root", "uname -m")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: uname -m = %s", name, strings.TrimSpace(uname))
}

func testRollback(t *testing.T, w *workbench, name string) {
	w = w.on(t)
	status := func() string {
		out := w.ok("status", "--target", name, "--json")
		var doc struct {
			Devices []struct {
				Binaries []struct {
					Name, SHA256 string
				} `json:"binaries"`
			} `json:"devices"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Devices) != 1 || len(doc.Devices[0].Binaries) == 0 {
			t.Fatalf("status --json: %v\n%s", err, out)
		}
		return doc.Devices[0].Binaries[0].SHA256
	}
	before := status()
	w.sh("printf 'package main\\n\\nfunc init() { labEdition = 99 }\\n\\nvar labEdition int\\n' > edition.go")
	r := result(t, w.ok("deploy", "--target", name, "--json"))
	if r["sha256"] == before {
		t.Fatalf("the changed build has the old hash %v", before)
	}
	w.ok("rollback", "--target", name)
	if after := status(); after != before {
		t.Fatalf("after rollback the device has %s, want the previous %s", after, before)
	}
	w.ok("run", "--target", name, "--", "-duration", "100ms", "-mode", "chan")
}

// testRollout deploys to a group of both boards, with a command health
// check on the arm64 board (the installed binary runs) and a url check on
// the armhf one (a server on the board's own localhost, reached through
// the SSH connection): two builds (arm64, armv7), installed and healthy.
func testRollout(t *testing.T, w *workbench, ms []*lab.Machine) {
	w = w.on(t)
	for _, m := range ms {
		if m.Image.Arch == "armhf" {
			serveHealth(t, w, m)
		}
	}
	raw, err := os.ReadFile(w.config())
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(raw)
	// detect appended lab-arm64, then lab-armhf: a [target.health] table
	// belongs to the [[target]] above it.
	armhf := strings.LastIndex(cfg, "[[target]]")
	if armhf < 0 || !regexp.MustCompile(`(?m)^name\s*=\s*"lab-armhf"`).MatchString(cfg[armhf:]) {
		t.Fatalf("lab-armhf is not the last target:\n%s", cfg)
	}
	cfg = cfg[:armhf] + "\n[target.health]\ncommand = '\"$ARMBENCH_BINARY\" -duration 50ms -mode chan'\ntimeout = \"60s\"\n\n" +
		cfg[armhf:] + "\n[target.health]\nurl = \"http://localhost:8080/healthz\"\n\n[[group]]\nname = \"lab\"\ntargets = [\"lab-arm64\", \"lab-armhf\"]\n"
	if err := os.WriteFile(w.config(), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	w.sh("printf 'package main\\n\\nfunc init() { labEdition = 7 }\\n\\nvar labEdition int\\n' > edition.go")
	out := w.ok("deploy", "--target", "lab", "--json")
	shas := map[string]string{}
	checks := map[string]string{}
	for _, line := range jsonLines(t, out) {
		if line["type"] == "device" && line["phase"] == "health" && checks[fmt.Sprint(line["target"])] == "" {
			checks[fmt.Sprint(line["target"])] = fmt.Sprint(line["detail"])
		}
		if line["type"] != "result" {
			continue
		}
		devices, _ := line["devices"].([]any)
		for _, d := range devices {
			d, _ := d.(map[string]any)
			if d["state"] == "deployed" {
				shas[fmt.Sprint(d["target"])] = fmt.Sprint(d["sha256"])
			}
		}
	}
	if len(shas) != 2 || shas["lab-arm64"] == shas["lab-armhf"] {
		t.Fatalf("want two distinct builds installed on the group, got %v\n%s", shas, out)
	}
	if !strings.Contains(checks["lab-arm64"], "ARMBENCH_BINARY") || !strings.Contains(checks["lab-armhf"], "GET http://localhost:8080/healthz") {
		t.Fatalf("want a command check on lab-arm64 and a url check on lab-armhf, saw %v", checks)
	}
}

// serveHealth starts a small HTTP server on m's own localhost:8080 (a Go
// program built here for the board, started by systemd-run), for a url
// health check to reach through the SSH connection.
func serveHealth(t *testing.T, w *workbench, m *lab.Machine) {
	dir := t.TempDir()
	src := "package main\n\nimport \"net/http\"\n\nfunc main() {\n\thttp.HandleFunc(\"/healthz\", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(\"ok\")) })\n\tpanic(http.ListenAndServe(\"127.0.0.1:8080\", nil))\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", "labhttp", "main.go")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+m.Image.GOARCH(), "GOARM=7", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the health server: %v\n%s", err, out)
	}
	bin, err := os.ReadFile(filepath.Join(dir, "labhttp"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ssh", m.SSHArgs("root",
		"cat > /usr/local/bin/labhttp && chmod +x /usr/local/bin/labhttp && systemd-run -q --unit=labhttp /usr/local/bin/labhttp")...)
	cmd.Stdin = strings.NewReader(string(bin))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("start the health server on %s: %v\n%s", m.Image.Arch, err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		if _, err := m.Run(ctx, "root", "bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080' 2>/dev/null"); err == nil {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("the health server on %s never listened", m.Image.Arch)
		}
		time.Sleep(time.Second)
	}
}
