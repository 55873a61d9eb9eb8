package ui

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"golang.org/x/crypto/ssh"

	"armbench/bench"
	"armbench/build"
	"armbench/remote"
	"armbench/targets"
)

// newFlowModel is newTestModel whose device never connects: pure tests
// feed the deploy and bench events by hand, as the build tests feed
// build events.
func newFlowModel(t *testing.T, w, h int) *Model {
	t.Helper()
	m := newTestModel(t, w, h)
	m.env.prewarm = nil // the stub below is the device
	m.env.device = func(ctx context.Context, _ targets.Target) (remote.Device, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return m
}

// tickProfiles ticks the named profiles in the profiles pane.
func tickProfiles(t *testing.T, m *Model, names ...string) {
	t.Helper()
	for _, n := range names {
		if !m.profiles.Toggle(n) {
			t.Fatalf("no profile %q", n)
		}
	}
	send(m, selectionChangedMsg{})
}

const sum = "3f1c9a0b7d2e44c1a9e8f00112233445566778899aabbccddeeff0011223344"

// builtRelease presses d with release ticked and finishes its build.
func builtRelease(t *testing.T, m *Model) {
	t.Helper()
	tickProfiles(t, m, "release")
	keys(m, "d")
	if buildTask(m) == nil || !buildTask(m).running() {
		t.Fatalf("d did not start the build; notice %q", m.notice)
	}
	res := build.Result{Target: "local-arm64", Profile: "release", Output: ".armbench/out/local-arm64/release/workload", Duration: 800 * time.Millisecond,
		Artifact: &build.Artifact{Path: ".armbench/out/local-arm64/release/workload", Size: 1 << 20, SHA256: sum, Static: true, Stripped: true}}
	send(m, taskMsg{id: buildTask(m).id, events: []any{buildEvent{0, build.Finished{Result: res}}}, closed: true})
	if actTask(m) == nil || actTask(m).kind != "deploy" || !actTask(m).running() {
		t.Fatalf("no deploy after a successful build; notice %q", m.notice)
	}
}

func deployEvents(steps ...string) []any {
	var evs []any
	for _, s := range steps {
		evs = append(evs, deployEvent{0, remote.Step{Name: s}}, deployEvent{0, remote.Step{Name: s, Done: true}})
		if s == "upload" {
			evs = append(evs, deployEvent{0, remote.Progress{Sent: 1 << 19, Total: 1 << 20, WireBytes: 300 << 10, Rate: 4 << 20, ETA: 125 * time.Millisecond}})
		}
	}
	return evs
}

func TestDeployScreen(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {200, 60}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			m := newFlowModel(t, sz[0], sz[1])
			builtRelease(t, m)
			if m.main.shown != paneDeploy {
				t.Errorf("main area shows %s during a deploy", m.main.shown)
			}
			id := actTask(m).id
			evs := deployEvents("connect", "upload", "verify", "install")
			evs = append(evs, deployDoneEvent{i: 0, inst: remote.Installed{
				Path: "/home/pi/armbench/workload-release", SHA256: sum, Previous: "/home/pi/armbench/workload-release.prev",
				Duration: 1234 * time.Millisecond, WireBytes: 300 << 10}})
			send(m, taskMsg{id: id, events: evs, closed: true})
			scr := screen(m)
			for _, want := range []string{"deployed local-arm64 × release", "installed /home/pi/armbench/workload-release", "sha256 " + sum[:12]} {
				if !strings.Contains(plain(scr), want) {
					t.Errorf("screen lacks %q:\n%s", want, plain(scr))
				}
			}
			golden(t, fmt.Sprintf("deploy_%dx%d", sz[0], sz[1]), scr)
		})
	}
}

func TestDeployUnchanged(t *testing.T) {
	m := newFlowModel(t, 100, 30)
	builtRelease(t, m)
	send(m, taskMsg{id: actTask(m).id, events: []any{deployDoneEvent{i: 0, inst: remote.Installed{
		Path: "/home/pi/armbench/workload-release", SHA256: sum, Skipped: true, Duration: 40 * time.Millisecond}}}, closed: true})
	if s := plain(screen(m)); !strings.Contains(s, "deployed local-arm64 × release in 0.0s: unchanged /home/pi/armbench/workload-release") ||
		!strings.Contains(s, "already on the device") {
		t.Errorf("a skipped deploy does not say so:\n%s", s)
	}
}

// TestDeployErrors shows each failure a user acts on differently in its
// own words, with the engine's host and step after it.
func TestDeployErrors(t *testing.T) {
	opErr := func(step string, err error) error {
		return &remote.OpError{Op: "deploy", Target: "local-arm64", Addr: "pi@pi5.local:22", Step: step, Err: err}
	}
	cases := []struct {
		name    string
		connect bool
		err     error
		want    []string
	}{
		{"auth", true, opErr("connect", fmt.Errorf("%w: no key accepted", remote.ErrAuth)), []string{"authentication failed", "pi@pi5.local:22"}},
		{"unreachable", true, opErr("connect", fmt.Errorf("%w: connection refused", remote.ErrUnreachable)), []string{"host unreachable", "connection refused"}},
		{"disk full", false, opErr("upload", remote.ErrDiskFull), []string{"disk full on the device", "upload"}},
		{"permission", false, opErr("install", remote.ErrPermission), []string{"permission denied on the device (check deploy_dir)", "install"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newFlowModel(t, 160, 30)
			builtRelease(t, m)
			ev := any(deployDoneEvent{i: 0, err: c.err})
			if c.connect {
				ev = connectFailed{err: c.err}
			}
			send(m, taskMsg{id: actTask(m).id, events: []any{ev}, closed: true})
			s := plain(screen(m))
			for _, w := range c.want {
				if !strings.Contains(s, w) {
					t.Errorf("screen lacks %q:\n%s", w, s)
				}
			}
			if strings.Contains(s, "deployed local-arm64") {
				t.Errorf("a failed deploy reads as a success:\n%s", s)
			}
		})
	}
}

func TestDeployNotAfterFailedBuild(t *testing.T) {
	m := newFlowModel(t, 100, 30)
	tickProfiles(t, m, "release")
	keys(m, "d")
	res := build.Result{Profile: "release", Err: errors.New("exit status 1")}
	send(m, taskMsg{id: buildTask(m).id, events: []any{buildEvent{0, build.Finished{Result: res}}}, closed: true})
	if actTask(m) != nil {
		t.Fatal("deployed after a failed build")
	}
	if !strings.Contains(m.notice, "not deployed: the build of release failed") {
		t.Errorf("notice %q", m.notice)
	}
}

func testHostKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestHostKeyPrompt(t *testing.T) {
	m := newFlowModel(t, 100, 30)
	builtRelease(t, m)
	key := testHostKey(t)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	unknown := &remote.UnknownHostError{Host: "[pi5.local]:2222", KeyType: key.Type(), Fingerprint: "SHA256:q5xWIj0I9v0Gc5c0pPd1bJ2m8Xb7dD8a3n0S4w8yJ0o", Key: key, File: "~/.ssh/known_hosts"}
	first := actTask(m).id
	send(m, taskMsg{id: first, events: []any{connectFailed{err: &remote.OpError{Op: "connect", Target: "local-arm64", Err: unknown}}}, closed: true})
	golden(t, "hostkey_100x30", screen(m))
	s := plain(screen(m))
	for _, w := range []string{"[pi5.local]:2222", "ssh-ed25519", unknown.Fingerprint, "y trust and connect"} {
		if !strings.Contains(s, w) {
			t.Errorf("prompt lacks %q", w)
		}
	}

	// y appends exactly the key shown (to a temp file here), then deploys again.
	unknown.File = kh
	cmd := send(m, press("y"))
	if cmd == nil {
		t.Fatal("y did nothing")
	}
	send(m, cmd())
	data, err := os.ReadFile(kh)
	if err != nil || !strings.Contains(string(data), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))) {
		t.Fatalf("known_hosts after y: %q, %v", data, err)
	}
	if actTask(m).id == first || !actTask(m).running() || actTask(m).kind != "deploy" {
		t.Errorf("no new deploy after trusting the key")
	}
}

func TestHostKeyDeclined(t *testing.T) {
	m := newFlowModel(t, 100, 30)
	builtRelease(t, m)
	unknown := &remote.UnknownHostError{Host: "pi5.local", KeyType: "ssh-ed25519", Fingerprint: "SHA256:abc", File: filepath.Join(t.TempDir(), "kh")}
	send(m, taskMsg{id: actTask(m).id, events: []any{connectFailed{err: unknown}}, closed: true})
	cmd := send(m, press("n"))
	if cmd == nil {
		t.Fatal("n did not answer the prompt")
	}
	if next := send(m, cmd()); next != nil {
		t.Error("n started something")
	}
	if top[*HostKeyPrompt](m) != nil {
		t.Error("prompt still open after n")
	}
	s := plain(screen(m))
	if !strings.Contains(s, "deploy aborted: host key SHA256:abc of pi5.local not trusted") {
		t.Errorf("screen after n:\n%s", s)
	}
	if _, err := os.Stat(unknown.File); !os.IsNotExist(err) {
		t.Errorf("known_hosts written after n: %v", err)
	}
}

func TestHostKeyChangedScreen(t *testing.T) {
	m := newFlowModel(t, 100, 30)
	builtRelease(t, m)
	changed := &remote.HostKeyChangedError{Host: "[pi5.local]:2222", KeyType: "ssh-ed25519", Fingerprint: "SHA256:new0fingerprint", File: "known_hosts", Line: 3}
	send(m, taskMsg{id: actTask(m).id, events: []any{connectFailed{err: changed}}, closed: true})
	golden(t, "hostkey_changed_100x30", screen(m))
	s := plain(screen(m))
	for _, w := range []string{"WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!", "SHA256:new0fingerprint", "Offending key in known_hosts:3", "Host key verification failed."} {
		if !strings.Contains(s, w) {
			t.Errorf("screen lacks %q", w)
		}
	}
	if strings.Contains(s, "y trust") {
		t.Error("a changed key must not be offered for trust")
	}
	keys(m, "y")
	if top[*hostChangedDialog](m) == nil {
		t.Error("y dismissed the changed-key screen")
	}
	keys(m, "esc")
	if top[*hostChangedDialog](m) != nil {
		t.Error("esc did not close it")
	}
}

func TestPassphrasePrompt(t *testing.T) {
	m := newFlowModel(t, 100, 30)
	asked := make(chan passphraseReply, 1)
	go func() {
		p, err := m.env.asker.ask("/home/u/.ssh/id_ed25519")
		asked <- passphraseReply{p, err}
	}()
	msg := m.Init()() // the listener hands the engine's request to Update
	if cmd := send(m, msg); cmd == nil {
		t.Error("no listener for the next request")
	}
	for _, r := range "s3cret" {
		send(m, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	s := plain(screen(m))
	if strings.Contains(s, "s3cret") || !strings.Contains(s, "******") {
		t.Errorf("passphrase not masked:\n%s", s)
	}
	golden(t, "passphrase_100x30", screen(m))
	send(m, press("enter"))
	select {
	case r := <-asked:
		if string(r.pass) != "s3cret" || r.err != nil {
			t.Errorf("engine got %q, %v", r.pass, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the engine's callback never returned")
	}
	if top[*passphrasePrompt](m) != nil {
		t.Error("prompt still open")
	}
}

func TestPassphraseGivesUpOnQuit(t *testing.T) {
	m := newFlowModel(t, 100, 30)
	done := make(chan error, 1)
	go func() {
		_, err := m.env.asker.ask("key")
		done <- err
	}()
	send(m, m.Init()())
	m.close()
	select {
	case err := <-done:
		if !errors.Is(err, remote.ErrNoPassphrase) {
			t.Errorf("err %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a waiting callback outlived the TUI")
	}
}

func TestBenchScreens(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {200, 60}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			m := newFlowModel(t, sz[0], sz[1])
			tickProfiles(t, m, "default", "single-core")
			keys(m, "r")
			if actTask(m) == nil || actTask(m).kind != "bench" {
				t.Fatalf("r did not start a bench; notice %q", m.notice)
			}
			var evs []any
			for _, ev := range sessionEvents() {
				evs = append(evs, ev)
			}
			send(m, taskMsg{id: actTask(m).id, events: evs})
			golden(t, fmt.Sprintf("bench_%dx%d", sz[0], sz[1]), screen(m))

			run := &bench.Run{ID: "20261127-120000-local-arm64", Dir: ".armbench/runs/20261127-120000-local-arm64"}
			send(m, taskMsg{id: actTask(m).id, events: []any{
				bench.Finished{Run: run},
				benchResult{run: run, tab: compareTable(t)},
			}, closed: true})
			if m.main.shown != paneCompare {
				t.Errorf("main area shows %s after the bench", m.main.shown)
			}
			s := plain(screen(m))
			if !strings.Contains(s, "stored in .armbench/runs/20261127-120000-local-arm64") {
				t.Errorf("the stored run's path is not shown:\n%s", s)
			}
			golden(t, fmt.Sprintf("bench_compare_%dx%d", sz[0], sz[1]), screen(m))
		})
	}
}

// A bench whose results cannot be compared says so on the status line
// and leaves the bench pane (with the stored run's path) in view.
func TestBenchCompareFails(t *testing.T) {
	m := newFlowModel(t, 100, 30)
	tickProfiles(t, m, "default", "single-core")
	keys(m, "r")
	if actTask(m) == nil || actTask(m).kind != "bench" {
		t.Fatalf("r did not start a bench; notice %q", m.notice)
	}
	run := &bench.Run{ID: "20261127-120000-local-arm64", Dir: ".armbench/runs/20261127-120000-local-arm64"}
	send(m, taskMsg{id: actTask(m).id, events: []any{
		bench.Finished{Run: run},
		benchResult{run: run, err: errors.New("no results for single-core")},
	}, closed: true})
	s := plain(screen(m))
	if !strings.Contains(s, "bench ran, but comparing the results failed: no results for single-core") {
		t.Errorf("status does not say the comparison failed:\n%s", s)
	}
	if m.main.shown != paneBench || !strings.Contains(s, "stored in .armbench/runs/20261127-120000-local-arm64") {
		t.Errorf("main area %s, or the stored run's path is not shown:\n%s", m.main.shown, s)
	}
}

func TestBenchNeedsTickedProfiles(t *testing.T) {
	m := newFlowModel(t, 100, 30)
	if actionKey(m, "r").Enabled() {
		t.Error("r offered with nothing ticked")
	}
	keys(m, "r")
	if actTask(m) != nil || !strings.Contains(m.notice, "tick one or more profiles") {
		t.Errorf("r with nothing ticked: act %v, notice %q", actTask(m), m.notice)
	}
	tickProfiles(t, m, "release")
	if !actionKey(m, "r").Enabled() {
		t.Error("r not offered with a profile ticked")
	}
	keys(m, "r")
	if actTask(m) == nil || !strings.Contains(m.notice, "a comparison needs two or more") {
		t.Errorf("one profile: act %v, notice %q", actTask(m), m.notice)
	}
}

func TestCancelBenchDropsLateEvents(t *testing.T) {
	m := newFlowModel(t, 100, 30)
	tickProfiles(t, m, "default", "single-core")
	keys(m, "r")
	a := actTask(m)
	if !m.keys.Cancel.Enabled() || actionKey(m, "r").Enabled() || actionKey(m, "d").Enabled() {
		t.Error("while benching only x should be offered")
	}
	keys(m, "x")
	if a.running() || !a.cancelled {
		t.Fatal("x did not cancel the bench")
	}
	select {
	case <-a.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the bench goroutine did not stop")
	}
	before := plain(screen(m))
	send(m, taskMsg{id: a.id, events: []any{bench.RunStarted{Profile: "default", Round: 5, Rounds: 7}}})
	if after := plain(screen(m)); after != before {
		t.Errorf("a cancelled bench's late event changed the screen")
	}
	if !strings.Contains(before, "bench: cancelled") {
		t.Errorf("bench pane after x:\n%s", before)
	}
	if !strings.Contains(before, "cancelled bench of local-arm64 × default,single-core") {
		t.Errorf("status after x:\n%s", before)
	}
	keys(m, "1")
	if s := plain(screen(m)); !strings.Contains(s, "default cancelled") || strings.Contains(s, "building") {
		t.Errorf("the build log's tabs after x:\n%s", s)
	}
}

func TestMainAreaKeys(t *testing.T) {
	m := newFlowModel(t, 80, 24)
	for k, id := range map[string]paneID{"2": paneDeploy, "3": paneBench, "4": paneCompare, "1": paneLog} {
		keys(m, k)
		if m.main.shown != id || m.focused().id != id {
			t.Errorf("%s: main %s, focus %s", k, m.main.shown, m.focused().id)
		}
	}
	keys(m, "4")
	s := plain(screen(m))
	if !strings.Contains(s, "Compare") || !strings.Contains(s, "no results yet") {
		t.Errorf("4 at 80×24:\n%s", s)
	}
	// tab goes round the panes on screen: the other main panes are skipped.
	seen := map[paneID]bool{}
	for range 8 {
		keys(m, "tab")
		seen[m.focused().id] = true
	}
	if seen[paneLog] || seen[paneBench] || !seen[paneCompare] || !seen[paneTargets] {
		t.Errorf("tab visited %v", seen)
	}
}

func TestTargetAddedReloads(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "targets.toml")
	writeFile(t, path, "[[target]]\nname = \"local-arm64\"\nhost = \"local\"\ngoarch = \"arm64\"\n")
	cfg, err := targets.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := New(Options{Config: cfg, Profiles: fixtureProfiles()})
	send(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	cmd := send(m, press("a"))
	if top[*AddTarget](m) == nil || cmd == nil {
		t.Fatal("a did not open the form")
	}
	if !strings.Contains(plain(screen(m)), "Add a target") {
		t.Errorf("form not shown:\n%s", plain(screen(m)))
	}
	// What the form does on confirmation: append, then hand over to
	// Added, which reloads off the Update loop.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(f, "\n[[target]]\nname = \"pi4\"\nhost = \"raspberrypi.local\"\nuser = \"pi\"\ngoarch = \"arm64\"\n")
	f.Close()
	form := top[*AddTarget](m)
	reload := form.opts.Added(targets.Target{Name: "pi4", GOARCH: "arm64", GOARM64: "v8.0"}, path)
	m.closeOverlay(form) // the form's Update reports done once it appended
	send(m, reload())
	if got, ok := m.targets.Chosen(); !ok || got.Name != "pi4" {
		t.Errorf("chosen %q after adding pi4", got.Name)
	}
	if s := plain(screen(m)); !strings.Contains(s, "pi@raspberrypi.local") {
		t.Errorf("new target not listed:\n%s", s)
	}
}

// TestAddTargetSeedsFromEmbedded: adding a target while running on the
// embedded default starts targets.toml from it, so local-arm64 stays.
func TestAddTargetSeedsFromEmbedded(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv(targets.EnvConfig, "")
	embedded := []byte("[[target]]\nname = \"local-arm64\"\nhost = \"local\"\ngoarch = \"arm64\"\n")
	cfg, err := targets.Parse(targets.EmbeddedName, embedded)
	if err != nil {
		t.Fatal(err)
	}
	m := New(Options{Config: cfg, Profiles: fixtureProfiles(), Embedded: embedded})
	send(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	keys(m, "a")
	if top[*AddTarget](m) == nil {
		t.Fatal("no form")
	}
	if got := top[*AddTarget](m).opts.ConfigPath; got != "targets.toml" {
		t.Errorf("config path %q", got)
	}
	pi := targets.Target{Name: "pi4", Host: "raspberrypi.local", User: "pi", GOOS: "linux", GOARCH: "arm64", GOARM64: "v8.0"}
	if err := top[*AddTarget](m).opts.Append("targets.toml", pi); err != nil {
		t.Fatal(err)
	}
	send(m, top[*AddTarget](m).opts.Added(pi, "targets.toml")())
	names := []string{}
	for _, tg := range m.common.Config.Targets {
		names = append(names, tg.Name)
	}
	if strings.Join(names, ",") != "local-arm64,pi4" {
		t.Errorf("targets after adding: %v", names)
	}
}

// TestDeployFocusedProfile: with nothing ticked, d deploys the profile
// under the cursor, as the plan pane previews it.
func TestDeployFocusedProfile(t *testing.T) {
	m := newFlowModel(t, 100, 30)
	keys(m, "tab", "down")
	if !actionKey(m, "d").Enabled() {
		t.Fatal("d not offered for the focused profile")
	}
	keys(m, "d")
	if buildTask(m) == nil || strings.Join(buildTask(m).profiles, ",") != "release" {
		t.Fatalf("d built %v, want the focused release", buildTask(m))
	}
	b := buildTask(m)
	if buildOf(b).then == nil {
		t.Error("no deploy queued after the build")
	}
	keys(m, "x")
	if b.running() {
		t.Error("x left the build running")
	}
	// The build's last batch arrives late: dropped, so no deploy starts.
	send(m, taskMsg{id: b.id, closed: true})
	if actTask(m) != nil || m.busy() {
		t.Error("x left the deploy pending")
	}
}

func TestCancelDeploy(t *testing.T) {
	m := newFlowModel(t, 120, 30)
	builtRelease(t, m)
	a := actTask(m)
	send(m, taskMsg{id: a.id, events: deployEvents("connect")})
	keys(m, "x")
	if a.running() {
		t.Fatal("x did not cancel the deploy")
	}
	send(m, taskMsg{id: a.id, events: []any{deployDoneEvent{i: 0, inst: remote.Installed{Path: "/late"}}}, closed: true})
	s := plain(screen(m))
	for _, w := range []string{"cancelled deploy of local-arm64 × release", "the device keeps its previous binary"} {
		if !strings.Contains(s, w) {
			t.Errorf("screen lacks %q:\n%s", w, s)
		}
	}
	if strings.Contains(s, "/late") {
		t.Error("a cancelled deploy's late result was drawn")
	}
}

// An install that went through but could not be recorded says so on
// screen: status will not name its profile.
func TestDeployRecordWarningShown(t *testing.T) {
	m := newFlowModel(t, 100, 30)
	builtRelease(t, m)
	send(m, taskMsg{id: actTask(m).id, events: []any{deployDoneEvent{i: 0, inst: remote.Installed{
		Path: "/home/pi/armbench/workload-release", SHA256: sum, Duration: 40 * time.Millisecond},
		warning: "record: install records: permission denied"}}, closed: true})
	if s := plain(screen(m)); !strings.Contains(s, "not recorded for status: record: install records: permission denied") {
		t.Errorf("the record warning is not shown:\n%s", s)
	}
}
