package cli

import (
	"armbench/internal/testenv"
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBenchCLIUsageErrors(t *testing.T) {
	runs := t.TempDir()
	for _, args := range [][]string{
		{"bench", "--count", "0"},
		{"bench", "--warmup", "-1"},
		{"bench", "--interval", "1ms"},
		{"bench", "--target", "no-such-target"},
		{"bench", "--target", "local-arm64", "--profile", "no-such-profile"},
		{"bench", "--target", "local-arm64", "stray"},
		{"bench", "--target", "local-arm64,no-such-target"},
		{"bench", "--target", "local-arm64,local-armv7", "--profile", "no-such-profile"},
		{"compare", "--runs", runs},
		{"compare", "--runs", runs, "no-such-run"},
		{"compare", "--runs", runs, "--format", "pdf", "some-run"},
	} {
		code, _, stderr := runCLI(t, args...)
		if code != exitUsage {
			t.Errorf("armbench %s: exit %d, want %d (stderr %q)", strings.Join(args, " "), code, exitUsage, stderr)
		}
		if stderr == "" {
			t.Errorf("armbench %s: no message", strings.Join(args, " "))
		}
	}
}

// TestBenchCLIEndToEnd runs `armbench bench --json` on the shipped local
// arm64 target (qemu-user), then compares the stored run by ID.
func TestBenchCLIEndToEnd(t *testing.T) {
	testenv.Slow(t, "builds and runs benchmarks under qemu")
	testenv.Qemu(t, "arm64")
	dir := chdirRepoCopy(t)
	runs := filepath.Join(dir, "runs")
	code, stdout, stderr := runCLI(t, "bench", "--target", "local-arm64", "--profile", "release,lowmem",
		"--bench", "^BenchmarkAllocGC$", "--benchtime", "20x", "--warmup", "0", "--runs", runs, "--json")
	if code != 0 {
		t.Fatalf("bench exit %d\nstderr: %s\nstdout tail: %s", code, stderr, tailLines(stdout, 10))
	}
	types := map[string]int{}
	var result benchResultJSON
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var probe struct{ Type string }
		if err := json.Unmarshal(sc.Bytes(), &probe); err != nil {
			t.Fatalf("not JSON: %q", sc.Text())
		}
		types[probe.Type]++
		if probe.Type == "result" {
			if err := json.Unmarshal(sc.Bytes(), &result); err != nil {
				t.Fatal(err)
			}
		}
	}
	if types["round_done"] != 12 || types["round_started"] != 12 || types["result"] != 1 || types["sched"] == 0 || types["phase"] == 0 {
		t.Errorf("event counts %v: want 12 rounds (6 × 2 profiles), sched samples, phases, one result", types)
	}
	if result.Table == nil || len(result.Runs) != 1 || result.Runs[0].Device == nil || result.Runs[0].Device.Machine != "aarch64" {
		t.Fatalf("result %+v", result)
	}
	var gc bool
	for _, u := range result.Table.Units {
		if u.Unit == "gc/op" && len(u.Rows) == 1 && u.Rows[0].Cells[1].Compared {
			gc = true
		}
	}
	if !gc {
		t.Errorf("no compared gc/op row in %+v", result.Table.Units)
	}

	id := result.Runs[0].ID
	code, stdout, stderr = runCLI(t, "compare", id, "--runs", runs)
	if code != 0 {
		t.Fatalf("compare exit %d: %s", code, stderr)
	}
	for _, want := range []string{"run " + id, "release", "lowmem", "gc/op", "vs base", "binary size", "peak RSS", "mean run queue", "benchstat -ignore /gomaxprocs release.txt lowmem.txt"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("compare output lacks %q:\n%s", want, stdout)
		}
	}
	for _, f := range []string{"run.json", "release.txt", "lowmem.txt"} {
		if _, err := os.Stat(filepath.Join(runs, id, f)); err != nil {
			t.Error(err)
		}
	}
	code, stdout, _ = runCLI(t, "compare", "--runs", runs, "--list")
	if code != 0 || strings.TrimSpace(stdout) != id {
		t.Errorf("compare --list: %d %q", code, stdout)
	}

	// The same run exported for a README and for slides.
	code, stdout, stderr = runCLI(t, "compare", id, "--runs", runs, "--format", "md")
	if code != 0 || !strings.Contains(stdout, "| benchmark | release | lowmem | vs release |") || !strings.Contains(stdout, "| AllocGC |") {
		t.Errorf("compare --format md: exit %d, stderr %q:\n%s", code, stderr, stdout)
	}
	svg := filepath.Join(dir, "cmp.svg")
	code, stdout, stderr = runCLI(t, "compare", id, "--runs", runs, "--format", "svg", "--out", svg)
	if b, err := os.ReadFile(svg); code != 0 || err != nil || strings.Count(string(b), `class="bar"`) < 2 {
		t.Errorf("compare --format svg --out: exit %d, %v, stderr %q, stdout %q", code, err, stderr, stdout)
	}
}

// TestBenchCLIBoards benches the default profile on local-arm64 and
// local-armv7 at once, the second named through a group: one JSON
// result with a column per board and numbers in both; the stored runs
// compare again into the same table, as text without a "-" in any row.
func TestBenchCLIBoards(t *testing.T) {
	testenv.Slow(t, "builds and benches on two emulated boards")
	testenv.Qemu(t, "arm64")
	testenv.Qemu(t, "arm")
	dir := chdirRepoCopy(t)
	f, err := os.OpenFile(filepath.Join(dir, "targets.toml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("\n[[group]]\nname = \"thirty-two\"\ntargets = [\"local-armv7\"]\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	runs := filepath.Join(dir, "runs")
	code, stdout, stderr := runCLI(t, "bench", "--config", "targets.toml", "--target", "local-arm64,thirty-two", "--profile", "default",
		"--bench", "^BenchmarkSHA256$", "--benchtime", "20x", "--warmup", "0", "--runs", runs, "--json")
	if code != 0 {
		t.Fatalf("bench exit %d\nstderr: %s\nstdout tail: %s", code, stderr, tailLines(stdout, 10))
	}
	var result benchResultJSON
	results := 0
	rounds := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev struct{ Type, Device string }
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("not JSON: %q", sc.Text())
		}
		switch ev.Type {
		case "result":
			results++
			if err := json.Unmarshal(sc.Bytes(), &result); err != nil {
				t.Fatal(err)
			}
		case "round_done":
			rounds[ev.Device]++
		}
	}
	if results != 1 || rounds["local-arm64"] != 6 || rounds["local-armv7"] != 6 {
		t.Errorf("%d results, rounds by device %v: want one result, 6 rounds on each board", results, rounds)
	}
	tab := result.Table
	if tab == nil || len(result.Runs) != 2 || strings.Join(tab.Columns, " ") != "local-arm64/default local-armv7/default" {
		t.Fatalf("result %+v", result)
	}
	if result.Runs[0].Device.Machine != "aarch64" || !strings.HasPrefix(result.Runs[1].Device.Machine, "armv7") {
		t.Errorf("devices %+v %+v", result.Runs[0].Device, result.Runs[1].Device)
	}
	for _, u := range tab.Units {
		if u.Unit != "sec/op" {
			continue
		}
		if len(u.Rows) != 1 || u.Config != "" {
			t.Fatalf("sec/op table %+v", u)
		}
		for i, c := range u.Rows[0].Cells {
			if !c.Present || c.N != 6 || c.Center <= 0 || (i == 1 && !c.Compared) {
				t.Errorf("%s: %+v", tab.Columns[i], c)
			}
		}
	}

	code, stdout, stderr = runCLI(t, "compare", result.Runs[0].ID, result.Runs[1].ID, "--runs", runs)
	if code != 0 {
		t.Fatalf("compare exit %d: %s", code, stderr)
	}
	for _, want := range []string{"local-arm64/default  goarch: arm64", "local-armv7/default  goarch: arm", "vs base"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("compare output lacks %q:\n%s", want, stdout)
		}
	}
	for _, line := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(line, "SHA256") && strings.Contains(line, " - ") {
			t.Errorf("a board without numbers: %q\n%s", line, stdout)
		}
	}
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
