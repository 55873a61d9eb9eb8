package fleet

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"armbench/build"
	"armbench/internal/testdevice"
	"armbench/internal/testenv"
	"armbench/profiles"
	"armbench/remote"
	"armbench/state"
	"armbench/targets"
)

// TestRollout runs two rollouts over a group of eight real sshd devices:
// one where a device's health check fails, one where a device's
// connection is cut during its check.
func TestRollout(t *testing.T) {
	testenv.Slow(t, "builds a program and starts eight sshd devices")
	testenv.Qemu(t, "arm64")
	const n = 8
	devs := startDevices(t, n, func(i int) []testdevice.Option {
		if i == n-1 {
			// The last device refuses port forwarding: a URL check
			// through it fails, which shows the check goes through SSH.
			return []testdevice.Option{testdevice.WithConfig("AllowTcpForwarding no")}
		}
		return nil
	})
	mod := appModule(t)
	pool := testPool(t)
	hist := state.History{Dir: t.TempDir()}

	// Every device starts with v1 installed.
	v1 := appPlans(t, mod, "v1", devs, nil)
	art1 := buildOne(t, v1[0])
	name := v1[0].DeployName()
	for _, d := range devs {
		copyFile(t, art1.Path, filepath.Join(d.Target.DeployDir, name))
	}

	t.Run("health check fails", func(t *testing.T) {
		failingHealth(t, devs, mod, pool, hist, art1.SHA256)
	})
	t.Run("status", func(t *testing.T) {
		fleetStatus(t, devs, name, pool, hist, art1.SHA256)
	})
	t.Run("connection cut", func(t *testing.T) {
		cutConnection(t, devs, mod, pool)
	})
	t.Run("url through ssh", func(t *testing.T) {
		urlHealth(t, devs, v1[0], pool)
	})
}

// failingHealth: waves of two; the fifth device's check fails. It is rolled
// back, the rollout stops after its wave, and the devices themselves saw
// at most two of them down at any moment.
func failingHealth(t *testing.T, devs []*testdevice.Device, mod string, pool *remote.Pool, hist state.History, v1 string) {
	logDir := t.TempDir()
	const failing = 4
	plans := appPlans(t, mod, "v2", devs, func(i int) *targets.Health {
		// The binary's change time is when the install renamed it into
		// place; the line is written when the check ends, sleeping long
		// enough that overlapping installs could not go unnoticed.
		cmd := `s=$(stat -c %.9Z "$ARMBENCH_BINARY"); sleep 0.3; echo "$s $(date +%s.%N)" >> ` + logDir + `/"$ARMBENCH_TARGET"`
		if i == failing {
			cmd += "; exit 1"
		}
		return &targets.Health{Command: cmd, Timeout: 10 * time.Second, Retries: 1, Interval: 50 * time.Millisecond}
	})
	name := plans[0].DeployName()
	var rec recorder
	res, err := Rollout(context.Background(), plans, Options{MaxUnavailable: 2, Pool: pool, History: hist}, rec.emit)
	if err != nil {
		t.Fatal(err)
	}
	v2 := res.Devices[0].SHA256
	if v2 == "" || v2 == v1 {
		t.Fatalf("v2 sha %q", v2)
	}
	want := []State{StateDeployed, StateDeployed, StateDeployed, StateDeployed, StateRolledBack, StateDeployed, StateNotAttempted, StateNotAttempted}
	for i, d := range res.Devices {
		if d.State != want[i] || d.Wave != i/2+1 {
			t.Errorf("%s: state %s wave %d, want %s wave %d (err %v)", d.Target, d.State, d.Wave, want[i], i/2+1, d.Err)
		}
		onDevice := fileSHA(t, filepath.Join(devs[i].Target.DeployDir, name))
		if wantSHA := map[State]string{StateDeployed: v2, StateRolledBack: v1, StateNotAttempted: v1}[want[i]]; onDevice != wantSHA {
			t.Errorf("%s runs %s, want %s", d.Target, onDevice[:12], wantSHA[:12])
		}
		if _, err := os.Stat(filepath.Join(devs[i].Target.DeployDir, name+".staged")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: staged binary left behind (%v)", d.Target, err)
		}
	}
	bad := res.Devices[failing]
	if bad.Step != "health" || bad.HealthAttempts != 2 || !containsAll(bad.Err.Error(), "dev4", "health", "exit status 1") {
		t.Errorf("failed device: step %q, %d attempts, %v", bad.Step, bad.HealthAttempts, bad.Err)
	}
	if got := fileSHA(t, filepath.Join(devs[failing].Target.DeployDir, name+".prev")); got != v2 {
		t.Errorf("after the rollback, %s.prev is %s, want the failed v2", name, got[:12])
	}
	if res.StoppedBy != "dev4" || !containsAll(res.Err().Error(), "1 of 8 devices failed (dev4)", "not attempted: dev6, dev7") {
		t.Errorf("stopped by %q: %v", res.StoppedBy, res.Err())
	}
	checkEvents(t, &rec)
	checkWindows(t, readWindows(t, logDir), devs[failing], name)

	// The install records name the profile of what the devices run.
	if r, ok := hist.Find("dev0", v2); !ok || r.Profile != "fleet" || r.Name != name {
		t.Errorf("history: %+v %v", r, ok)
	}
	if _, ok := hist.Find("dev6", v2); ok {
		t.Error("history has an install on a device that was not attempted")
	}
}

// checkEvents: one build for eight devices, and each device's phases in
// order.
func checkEvents(t *testing.T, rec *recorder) {
	t.Helper()
	builds := 0
	for _, ev := range rec.events {
		if b, ok := ev.(BuildEvent); ok {
			if _, started := b.Event.(build.Started); started {
				builds++
				if len(b.Targets) != 8 {
					t.Errorf("the build is shared by %v", b.Targets)
				}
			}
		}
	}
	if builds != 1 {
		t.Errorf("%d builds, want 1", builds)
	}
	ph := rec.phases()
	for target, want := range map[string][]Phase{
		"dev0": {PhaseBuild, PhaseUpload, PhaseStaged, PhaseInstall, PhaseHealth, PhaseDone},
		"dev4": {PhaseBuild, PhaseUpload, PhaseStaged, PhaseInstall, PhaseHealth, PhaseRollback, PhaseFailed},
		"dev7": {PhaseBuild, PhaseUpload, PhaseStaged, PhaseSkipped},
	} {
		got := ph[target]
		// dev7's upload may be cancelled before it ends when the rollout stops.
		if target == "dev7" {
			got = slices.DeleteFunc(got, func(p Phase) bool { return p == PhaseStaged })
			want = slices.DeleteFunc(want, func(p Phase) bool { return p == PhaseStaged })
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s phases %v, want %v", target, got, want)
		}
	}
}

// checkWindows: from the devices' own clocks and files, never more than
// two devices down at once, and two at once did happen (so the check
// could have seen three).
func checkWindows(t *testing.T, logs map[string][]window, failing *testdevice.Device, name string) {
	t.Helper()
	var ws []window
	for target, lines := range logs {
		w := window{target: target, start: lines[0].start, end: lines[len(lines)-1].end}
		if target == failing.Target.Name {
			if len(lines) != 2 {
				t.Errorf("%s ran its check %d times, want 2", target, len(lines))
			}
			// Down until the rollback renamed the old binary back.
			fi, err := os.Stat(filepath.Join(failing.Target.DeployDir, name))
			if err != nil {
				t.Fatal(err)
			}
			w.end = changeSeconds(fi)
		}
		if w.end < w.start {
			t.Errorf("%s: window %v", target, w)
		}
		ws = append(ws, w)
	}
	if len(ws) != 6 {
		t.Errorf("%d devices ran checks, want 6: %v", len(ws), logs)
	}
	if got := maxOverlap(ws); got != 2 {
		t.Errorf("at most %d devices down at once, want exactly 2 (max-unavailable): %v", got, ws)
	}
}

// cutConnection: one device at a time; the third device's connection is
// cut while its check runs. The drop is reported with the host and the
// step, the device is rolled back over a new connection, and every device
// still runs a complete binary.
func cutConnection(t *testing.T, devs []*testdevice.Device, mod string, pool *remote.Pool) {
	mark := filepath.Join(t.TempDir(), "checking")
	plans := appPlans(t, mod, "v3", devs, func(i int) *targets.Health {
		if i == 2 {
			return &targets.Health{Command: "touch " + mark + "; sleep 5", Timeout: 20 * time.Second}
		}
		return &targets.Health{Command: `$ARMBENCH_RUNNER "$ARMBENCH_BINARY" | grep -q 'version v3'`, Timeout: 20 * time.Second}
	})
	name := plans[0].DeployName()
	cut := make(chan int, 1)
	go func() {
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if _, err := os.Stat(mark); err == nil {
				cut <- devs[2].CutConnections()
				return
			}
		}
		cut <- -1
	}()
	res, err := Rollout(context.Background(), plans, Options{Pool: pool}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := <-cut; n < 1 {
		t.Fatalf("no connection was cut (%d)", n)
	}
	d2 := res.Devices[2]
	addr := devs[2].Host + ":"
	if d2.State != StateRolledBack || d2.Step != "health" || !containsAll(d2.Err.Error(), "dev2", addr, "health", "connection lost") {
		t.Errorf("dev2: %s at %q: %v", d2.State, d2.Step, d2.Err)
	}
	states := []State{StateDeployed, StateDeployed, StateRolledBack, StateNotAttempted, StateNotAttempted, StateNotAttempted, StateNotAttempted, StateNotAttempted}
	// What each device runs after both rollouts (see failingHealth).
	versions := []string{"v3", "v3", "v2", "v2", "v1", "v2", "v1", "v1"}
	for i, d := range res.Devices {
		if d.State != states[i] {
			t.Errorf("%s: %s, want %s (%v)", d.Target, d.State, states[i], d.Err)
		}
		dev, err := pool.Get(context.Background(), devs[i].Target)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		st, err := dev.Run(context.Background(), remote.Command{Path: name}, func(ev remote.Event) {
			if o, ok := ev.(remote.Output); ok {
				out = append(out, o.Text)
			}
		})
		if err != nil || st.Code != 0 || !slices.Equal(out, []string{"version " + versions[i]}) {
			t.Errorf("%s: running %s: %v, status %+v, output %q, want version %s", d.Target, name, err, st, out, versions[i])
		}
	}
}

// urlHealth: a URL check is fetched from the device's side through the
// SSH connection; a device whose sshd forbids forwarding cannot pass it.
func urlHealth(t *testing.T, devs []*testdevice.Device, plan profiles.Plan, pool *remote.Pool) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ok" {
			http.Error(w, "sick", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	check := func(dev *testdevice.Device, path string) error {
		d, err := pool.Get(context.Background(), dev.Target)
		if err != nil {
			t.Fatal(err)
		}
		plan.Health = &targets.Health{URL: srv.URL + path, Timeout: 5 * time.Second}
		_, err = checkHealth(context.Background(), d, plan, func(int, error) {})
		return err
	}
	if err := check(devs[0], "/ok"); err != nil {
		t.Errorf("healthy URL: %v", err)
	}
	if err := check(devs[0], "/sick"); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("503: %v", err)
	}
	if err := check(devs[7], "/ok"); err == nil || !containsAll(err.Error(), "dial", devs[7].Host) {
		t.Errorf("through a device that forbids forwarding: %v", err)
	}
}

// fleetStatus: after failingHealth, the devices report their binaries; the
// ones armbench installed are named by its records, the ones put there by
// hand are not.
func fleetStatus(t *testing.T, devs []*testdevice.Device, name string, pool *remote.Pool, hist state.History, v1 string) {
	var ts []targets.Target
	for _, d := range devs {
		ts = append(ts, d.Target)
	}
	sts := Status(context.Background(), pool, ts, []string{"nope", name, name + ".prev"}, hist)
	for i, st := range sts {
		if st.Err != nil || st.Target != devs[i].Target.Name || !strings.Contains(st.Addr, devs[i].Host) {
			t.Fatalf("%+v", st)
		}
		var got []string
		for _, b := range st.Binaries {
			got = append(got, b.Name)
			if want := fileSHA(t, filepath.Join(devs[i].Target.DeployDir, b.Name)); b.SHA256 != want || b.Size < 1000 || b.Modified.IsZero() {
				t.Errorf("%s: %+v, want sha %s", st.Target, b, want)
			}
		}
		wantNames := []string{name}
		if i < 6 {
			wantNames = append(wantNames, name+".prev")
		}
		if !slices.Equal(got, wantNames) {
			t.Errorf("%s has %v, want %v", st.Target, got, wantNames)
		}
		b := st.Binaries[0]
		switch known := b.Record != nil; {
		case b.SHA256 == v1 && known:
			t.Errorf("%s: a binary copied by hand has a record: %+v", st.Target, b.Record)
		case b.SHA256 != v1 && (!known || b.Record.Profile != "fleet" || b.Record.Time.IsZero()):
			t.Errorf("%s: the installed v2 has no record: %+v", st.Target, b.Record)
		}
	}
}
