package fleet

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"armbench/build"
	"armbench/internal/testdevice"
	"armbench/internal/testenv"
	"armbench/profiles"
	"armbench/remote"
	"armbench/targets"
)

// appSource is the program the fleet tests deploy: it says its version,
// which the linker sets, so a device's binary can be run and recognised.
const appSource = `package main

import "fmt"

var version = "none"

func main() { fmt.Println("version", version) }
`

// appModule writes the program's module and returns its folder.
func appModule(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{"main.go": appSource, "go.mod": "module fleetapp\n\ngo 1.21\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// appPlans resolves the program at version for each device: one profile,
// so every device needs the same binary. health gives each device's check.
func appPlans(t testing.TB, mod, version string, devs []*testdevice.Device, health func(i int) *targets.Health) []profiles.Plan {
	t.Helper()
	p := profiles.Profile{Name: "fleet", Build: profiles.Build{Trimpath: true, Ldflags: "-s -w -X main.version=" + version}}
	var plans []profiles.Plan
	for i, d := range devs {
		plan, err := profiles.Resolve(d.Target, p, profiles.Options{Pkg: ".", Dir: mod, OutRoot: filepath.Join(mod, "out-"+version)})
		if err != nil {
			t.Fatal(err)
		}
		if health != nil {
			plan.Health = health(i)
		}
		plans = append(plans, plan)
	}
	return plans
}

// startDevices starts n sshd devices at once, named dev0…dev(n-1); opts
// gives each its options.
func startDevices(t testing.TB, n int, opts func(i int) []testdevice.Option) []*testdevice.Device {
	t.Helper()
	// testdevice.Start skips the test without sshd, which only works from
	// the test's goroutine: check here, not in the goroutines below.
	if _, err := testdevice.FindSSHD(); err != nil {
		testenv.Missing(t, "%v", err)
	}
	devs := make([]*testdevice.Device, n)
	var wg sync.WaitGroup
	for i := range devs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var o []testdevice.Option
			if opts != nil {
				o = opts(i)
			}
			devs[i] = testdevice.Start(t, o...)
			devs[i].Target.Name = "dev" + strconv.Itoa(i)
		}()
	}
	wg.Wait()
	for _, d := range devs {
		if d == nil {
			t.FailNow() // Start already said why
		}
	}
	return devs
}

func testPool(t testing.TB) *remote.Pool {
	pool := remote.NewPool(remote.Options{NoAgent: true, NoDefaultKeys: true, SSHConfig: os.DevNull, StateDir: filepath.Join(t.TempDir(), "state"), DeltaCache: filepath.Join(t.TempDir(), "deployed")})
	t.Cleanup(func() { pool.Close() })
	return pool
}

// buildOne builds plan with the real go command.
func buildOne(t *testing.T, plan profiles.Plan) *build.Artifact {
	t.Helper()
	res := build.Run(context.Background(), plan, nil)
	if res.Err != nil {
		t.Fatalf("build: %v", res.Err)
	}
	return res.Artifact
}

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("device file: %v", err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// recorder keeps a rollout's events.
type recorder struct {
	mu     sync.Mutex
	events []Event
	hook   func(Event)
}

func (r *recorder) emit(ev Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	if r.hook != nil {
		r.hook(ev)
	}
}

// phases lists the phases each device went through.
func (r *recorder) phases() map[string][]Phase {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]Phase{}
	for _, ev := range r.events {
		if d, ok := ev.(DeviceEvent); ok && d.Progress == nil {
			if ps := out[d.Target]; len(ps) == 0 || ps[len(ps)-1] != d.Phase {
				out[d.Target] = append(ps, d.Phase)
			}
		}
	}
	return out
}

// window is when a device was down, as the device itself saw it.
type window struct {
	target     string
	start, end float64 // seconds since the epoch
}

// readWindows reads the lines the health commands appended on the
// devices: "START END", START the change time the install's rename gave
// the binary, END when the check passed (or failed).
func readWindows(t *testing.T, dir string) map[string][]window {
	t.Helper()
	out := map[string][]window{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var w window
			if _, err := fmt.Sscanf(sc.Text(), "%g %g", &w.start, &w.end); err != nil {
				t.Fatalf("%s: bad line %q", e.Name(), sc.Text())
			}
			w.target = e.Name()
			out[w.target] = append(out[w.target], w)
		}
		f.Close()
	}
	return out
}

// maxOverlap is the largest number of windows open at one instant.
func maxOverlap(ws []window) int {
	type edge struct {
		at    float64
		delta int
	}
	var es []edge
	for _, w := range ws {
		es = append(es, edge{w.start, +1}, edge{w.end, -1})
	}
	// At a tie a window closes before the next opens: the next wave can
	// only start once the last one is healthy.
	sort.Slice(es, func(i, j int) bool {
		return es[i].at < es[j].at || es[i].at == es[j].at && es[i].delta < es[j].delta
	})
	n, most := 0, 0
	for _, e := range es {
		n += e.delta
		most = max(most, n)
	}
	return most
}

func TestMaxOverlap(t *testing.T) {
	ws := []window{{"a", 1, 3}, {"b", 2, 4}, {"c", 2.5, 5}, {"d", 5, 6}}
	if got := maxOverlap(ws); got != 3 {
		t.Errorf("maxOverlap = %d, want 3", got)
	}
	if got := maxOverlap(ws[3:]); got != 1 {
		t.Errorf("maxOverlap one = %d", got)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
