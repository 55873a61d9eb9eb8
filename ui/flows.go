package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	tea "charm.land/bubbletea/v2"

	"armbench/bench"
	"armbench/build"
	"armbench/profiles"
	"armbench/remote"
	"armbench/targets"
)

// BenchOptions are the TUI's bench session settings; zero values take the
// same defaults as `armbench bench`.
type BenchOptions struct {
	Count     int    // rounds that count (default bench.DefaultCount)
	Warmup    int    // rounds run first and discarded (<0 = none; 0 = bench.DefaultWarmup)
	Bench     string // -test.bench regexp (default ".")
	Benchtime string // -test.benchtime ("" = the go default)
	RunsDir   string // where runs are stored ("" = .armbench/runs in the module root)
}

// deployItem is one profile's artifact on its way to the device.
type deployItem struct {
	profile string
	name    string // file name in deploy_dir: <base of pkg>-<profile>
	file    remote.File
}

// Events of a deploy activity, sent by its goroutine.
type (
	deployEvent struct {
		i  int
		ev remote.Event
	}
	deployDoneEvent struct {
		i    int
		inst remote.Installed
		err  error
	}
	// connectFailed is pool.Get failing: unknown or changed host key,
	// unreachable, authentication.
	connectFailed struct{ err error }
	// benchResult is the comparison table of a finished session.
	benchResult struct {
		run *bench.Run
		tab *bench.Table
		err error
	}
)

// deployRecord is what the root keeps of a deploy, for the status bar and
// for retrying after a host key was trusted.
type deployRecord struct {
	target targets.Target
	items  []deployItem
	inst   []*remote.Installed
}

// retry is what to start again once a host key was trusted.
type retry func() tea.Cmd

// remoteOptions are the options every connection of this TUI uses: the
// configured ones, with the passphrase asked through the model.
func (m *Model) remoteOptions() remote.Options {
	return m.remoteOpts
}

// deployPlans are the plans a deploy acts on: the ticked profiles, or the
// one under the cursor.
func (m *Model) deployPlans() ([]profiles.Plan, error) {
	entries, _ := m.plans()
	if len(entries) == 0 {
		return nil, errors.New("no profile: tick one with space")
	}
	var plans []profiles.Plan
	for _, e := range entries {
		if e.Err != nil {
			return nil, fmt.Errorf("plan %s: %w", e.Profile, e.Err)
		}
		plans = append(plans, e.Plan)
	}
	return plans, nil
}

// startDeploy builds (the go command's cache makes an unchanged rebuild a
// no-op link) and, when every build succeeded, deploys.
func (m *Model) startDeploy() tea.Cmd {
	t, cmd := m.buildChosen()
	if cmd == nil {
		return nil
	}
	m.afterBuild = func(j *job) tea.Cmd { return m.deployBuilt(t, j) }
	return cmd
}

// deployBuilt starts the deploy of a finished build's artifacts.
func (m *Model) deployBuilt(t targets.Target, j *job) tea.Cmd {
	var items []deployItem
	for i, r := range j.results {
		if r == nil || r.Artifact == nil || j.states[i] != stateOK {
			m.notice = fmt.Sprintf("not deployed: the build of %s failed (1 shows the log)", j.profiles[i])
			return nil
		}
		a := r.Artifact
		items = append(items, deployItem{
			profile: j.profiles[i],
			name:    bench.DeployName(j.plans[i]),
			file:    remote.File{Path: a.Path, SHA256: a.SHA256, Size: a.Size},
		})
	}
	cmd := m.runDeploy(t, items)
	m.act.start = j.start // "deployed … in" counts the build the user waited for too
	return cmd
}

// runDeploy deploys items over the pool's connection to t.
func (m *Model) runDeploy(t targets.Target, items []deployItem) tea.Cmd {
	names := make([]string, len(items))
	for i, it := range items {
		names[i] = it.profile
	}
	a := m.beginActivity(actDeploy, t.Name, names, func() tea.Cmd { return m.runDeploy(t, items) })
	m.deploy = &deployRecord{target: t, items: items, inst: make([]*remote.Installed, len(items))}
	dt := t
	if dt.IsLocal() && dt.DeployDir == "" {
		dt.DeployDir = remote.DefaultLocalDeployDir(dt.Name) // what the local device will use
	}
	m.deployPane.Start(dt, names)
	m.showMain(paneDeploy)
	m.logger.Printf("deploy %d: %s × %s", a.id, t.Name, strings.Join(names, ","))
	device := m.device
	a.run(func(ctx context.Context, emit func(any)) {
		dev, err := device(ctx, t)
		if err != nil {
			emit(connectFailed{err: err})
			return
		}
		for i, it := range items {
			inst, err := dev.Deploy(ctx, it.file, it.name, func(ev remote.Event) { emit(deployEvent{i, ev}) })
			emit(deployDoneEvent{i: i, inst: inst, err: err})
			if err != nil {
				return
			}
		}
	})
	return tea.Batch(a.waitCmd(), m.spinner.Tick)
}

// startBench runs a bench session over the ticked profiles with the
// same Spec `armbench bench` builds.
func (m *Model) startBench() tea.Cmd {
	t, ok := m.idleTarget()
	if !ok {
		return nil
	}
	sel := m.profiles.Selected()
	if len(sel) == 0 {
		m.notice = m.whyDisabled("r")
		return nil
	}
	var plans []profiles.Plan
	for _, p := range sel {
		plan, err := m.eng.resolve(t, p, profiles.Options{Pkg: m.common.Pkg, Dir: m.common.Dir, OutRoot: m.outRoot, Mode: profiles.ModeTest})
		if err != nil {
			m.notice = fmt.Sprintf("plan %s: %v", p.Name, err)
			return nil
		}
		plans = append(plans, plan)
	}
	o := m.benchOpts
	spec := bench.Spec{
		Target:    t,
		Plans:     plans,
		Bench:     o.Bench,
		Benchtime: o.Benchtime,
		Count:     o.Count,
		Warmup:    o.Warmup,
		Interval:  bench.DefaultInterval,
		RunsDir:   o.RunsDir,
		OutRoot:   m.outRoot,
	}
	if spec.Bench == "" {
		spec.Bench = "."
	}
	if spec.Count == 0 {
		spec.Count = bench.DefaultCount
	}
	switch {
	case spec.Warmup == 0:
		spec.Warmup = bench.DefaultWarmup
	case spec.Warmup < 0:
		spec.Warmup = 0
	}
	if len(plans) == 1 {
		m.notice = "one profile: a comparison needs two or more ticked"
	}
	return m.runBench(spec)
}

func (m *Model) runBench(spec bench.Spec) tea.Cmd {
	names := make([]string, len(spec.Plans))
	for i, p := range spec.Plans {
		names[i] = p.Profile.Name
	}
	a := m.beginActivity(actBench, spec.Target.Name, names, func() tea.Cmd { return m.runBench(spec) })
	m.benchPane.Reset(names)
	m.log.Reset(names)
	m.showMain(paneBench)
	m.logger.Printf("bench %d: %s × %s, count %d", a.id, spec.Target.Name, strings.Join(names, ","), spec.Count)
	device := m.device
	a.run(func(ctx context.Context, emit func(any)) {
		dev, err := device(ctx, spec.Target)
		if err != nil {
			emit(connectFailed{err: err})
			return
		}
		run, err := bench.Execute(ctx, spec, dev, func(ev bench.Event) { emit(ev) })
		if err != nil {
			return // Finished carried the error
		}
		tab, err := bench.Compare(run)
		emit(benchResult{run: run, tab: tab, err: err})
	})
	return tea.Batch(a.waitCmd(), m.spinner.Tick)
}

// onActivity applies a batch of an activity's events.
func (m *Model) onActivity(msg activityMsg) tea.Cmd {
	a := m.act
	if a == nil || msg.id != a.id || !a.live {
		return nil // cancelled or superseded: its goroutine ends on its own
	}
	for _, ev := range msg.events {
		m.applyActivity(a, ev)
	}
	if !msg.closed {
		return a.waitCmd()
	}
	a.live = false
	if a.end.IsZero() {
		a.end = m.now()
	}
	a.cancel()
	if a.kind == actDeploy && a.err == nil && !m.hostPromptOpen() {
		m.deploySummary(a)
	}
	return nil
}

func (m *Model) applyActivity(a *activity, ev any) {
	switch ev := ev.(type) {
	case connectFailed:
		m.connectFailed(a, ev.err)
	case deployEvent:
		m.deployPane.Push(ev.i, ev.ev)
	case runOutput:
		m.runLog.Append(0, ev.out.Text)
	case runDone:
		m.runFinished(a, ev)
	case rollbackDone:
		m.rollbackFinished(a, ev)
	case deployDoneEvent:
		if m.deploy == nil {
			return
		}
		if ev.err != nil {
			a.err = ev.err
			a.end = m.now()
			a.summary = fmt.Sprintf("deploy failed: %s: %s", m.deploy.items[ev.i].profile, connectErrorText(ev.err))
			m.logger.Printf("deploy %d: %s: %v", a.id, m.deploy.items[ev.i].profile, ev.err)
		} else {
			inst := ev.inst
			m.deploy.inst[ev.i] = &inst
			m.logger.Printf("deploy %d: %s installed %s (skipped %v)", a.id, m.deploy.items[ev.i].profile, inst.Path, inst.Skipped)
		}
		m.deployPane.Done(ev.i, ev.inst, ev.err)
	case bench.Event:
		m.benchPane.Push(ev)
		switch ev := ev.(type) {
		case bench.Building:
			if ev.Index >= 0 {
				switch b := ev.Event.(type) {
				case build.Started:
					m.log.Append(ev.Index, "$ "+b.Command)
				case build.Line:
					m.log.Append(ev.Index, b.Text)
				case build.Finished:
					if b.Result.Err != nil {
						m.log.Append(ev.Index, "armbench: "+b.Result.Err.Error())
					}
				}
			}
		case bench.Finished:
			a.end = m.now()
			if ev.Err != nil {
				a.err = ev.Err
				if !errors.Is(ev.Err, context.Canceled) {
					a.summary = "bench failed: " + firstLine(ev.Err.Error())
				}
				m.logger.Printf("bench %d: %v", a.id, ev.Err)
			} else if ev.Run != nil && ev.Run.Dir != "" {
				m.benchPane.SetFooter("stored in " + m.relPath(ev.Run.Dir))
			}
		}
	case benchResult:
		if ev.err != nil {
			a.err = ev.err
			a.summary = "bench ran, but comparing the results failed: " + firstLine(ev.err.Error())
			return
		}
		m.comparePane.SetTable(ev.tab)
		where := "kept in memory"
		if ev.run.Dir != "" {
			where = "stored in " + m.relPath(ev.run.Dir)
		}
		// The path first: at 80 columns the rest may be cut.
		m.comparePane.SetFooter(where)
		a.summary = fmt.Sprintf("bench %s · %s × %s in %s", where, a.target, strings.Join(a.profiles, ","), seconds(a.end.Sub(a.start)))
		m.logger.Printf("bench %d: %s", a.id, where)
		m.showMain(paneCompare)
	}
}

// connectFailed turns a failed connection into the host-key prompt, the
// changed-key screen, or a plain error.
func (m *Model) connectFailed(a *activity, err error) {
	a.end = m.now()
	var unknown *remote.UnknownHostError
	var changed *remote.HostKeyChangedError
	switch {
	case errors.As(err, &unknown):
		m.logger.Printf("%s %d: unknown host %s (%s %s)", a.kind, a.id, unknown.Host, unknown.KeyType, unknown.Fingerprint)
		a.err = err
		a.summary = "waiting: host key of " + unknown.Host + " not trusted yet"
		t, _ := m.common.Config.Lookup(a.target)
		m.openHostKey(t, unknown)
		return
	case errors.As(err, &changed):
		m.logger.Printf("%s %d: host key of %s changed", a.kind, a.id, changed.Host)
		a.err = err
		a.summary = "host key verification failed for " + changed.Host
		m.hostChanged = changed
		return
	}
	a.err = err
	a.summary = fmt.Sprintf("%s failed: %s", a.kind, connectErrorText(err))
	m.logger.Printf("%s %d: connect: %v", a.kind, a.id, err)
	switch a.kind {
	case actRun, actRollback:
		m.connectFailedRun(a, err)
	case actDeploy:
		m.deployPane.ConnectFailed(err)
	default:
		m.benchPane.Push(bench.Finished{Err: err})
	}
}

// connectErrorText says what went wrong in a user's words first, then the
// engine's full error (host and step).
func connectErrorText(err error) string {
	what := errorWords(err)
	msg := firstLine(err.Error())
	if what == "" {
		return msg
	}
	return what + ": " + msg
}

// errorWords names the kind of a remote error in a user's words, with
// what to check where that helps; "" for other errors. The status line
// and the deploy pane both lead with these words.
func errorWords(err error) string {
	switch {
	case errors.Is(err, remote.ErrAuth):
		return "authentication failed (check user, identity and ssh-agent)"
	case errors.Is(err, remote.ErrTimeout):
		return "timed out"
	case errors.Is(err, remote.ErrUnreachable):
		return "host unreachable"
	case errors.Is(err, remote.ErrDiskFull):
		return "disk full on the device"
	case errors.Is(err, remote.ErrPermission):
		return "permission denied on the device (check deploy_dir)"
	case errors.Is(err, remote.ErrDisconnected):
		return "connection lost"
	case errors.Is(err, errPassphraseDeclined):
		return "no passphrase given for the key"
	}
	return ""
}

// deploySummary is the status line of a finished deploy: with one
// binary, where it went; with several, how many changed. The deploy pane
// has the details.
func (m *Model) deploySummary(a *activity) {
	d := m.deploy
	if d == nil {
		return
	}
	n, skipped := 0, 0
	var last *remote.Installed
	for _, in := range d.inst {
		if in != nil {
			n++
			last = in
			if in.Skipped {
				skipped++
			}
		}
	}
	a.summary = fmt.Sprintf("deployed %s × %s in %s", a.target, strings.Join(a.profiles, ","), seconds(a.end.Sub(a.start)))
	switch {
	case n == 1 && last.Skipped:
		a.summary += ": unchanged " + m.relPath(last.Path)
	case n == 1:
		// The checksum before the path: at 80 columns the path is cut.
		a.summary += ": sha256 " + shortSum(last.SHA256) + " " + m.relPath(last.Path)
	case skipped > 0:
		a.summary += fmt.Sprintf(" (%d unchanged)", skipped)
	}
}

// relPath shows p relative to the working directory when it is inside it.
func (m *Model) relPath(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if r, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

// busy reports whether a build, deploy or bench is running.
func (m *Model) busy() bool { return m.job.running() || m.act.running() }

func (m *Model) busyWhat() string {
	if m.act.running() {
		return string(m.act.kind)
	}
	return "build"
}

// cancelActivity stops the running deploy or bench; its late messages
// are dropped by id.
func (m *Model) cancelActivity() {
	a := m.act
	if !a.running() {
		return
	}
	a.cancel()
	a.cancelled, a.live, a.end = true, false, m.now()
	a.summary = fmt.Sprintf("cancelled %s of %s × %s after %s", a.kind, a.target, strings.Join(a.profiles, ","), seconds(a.end.Sub(a.start)))
	switch a.kind {
	case actBench:
		m.benchPane.Cancel()
	case actRun:
		// The engine stops the process on the device once ctx is done.
		m.runLog.Append(0, "armbench: cancelled: the process on the device is stopped")
		m.runLog.SetState(0, stateCancelled)
	case actRollback:
		// The rename on the device is one step: it happened or not.
	default:
		m.deployPane.ConnectFailed(context.Canceled) // unfinished binaries: the device keeps its previous one
	}
	if m.pass != nil {
		m.pass.answer(nil, errPassphraseDeclined)
		m.pass = nil
	}
	m.logger.Printf("%s %d: cancelled", a.kind, a.id)
}

// activityLines is the status of the latest deploy or bench.
func (m *Model) activityLines() []string {
	a := m.act
	st := m.common.Styles
	what := a.target + " × " + strings.Join(a.profiles, ",")
	var out []string
	add := func(l string) { out = append(out, fit(l, m.common.Width)) }
	verb := map[activityKind]string{actDeploy: "deploying ", actBench: "benching ", actRun: "running ", actRollback: "rolling back "}[a.kind]
	switch {
	case a.running():
		extra := ""
		if a.kind == actBench && m.benchPane.phase != "" {
			extra = " · " + m.benchPane.phase
		}
		add(st.Running.Render(m.spinner.View()+" "+verb+what) + st.Dim.Render(extra+" · "+seconds(m.now().Sub(a.start))+" · x cancels"))
	case a.cancelled:
		add(st.Cancelled.Render(a.summary))
	case a.err != nil:
		add(st.Fail.Render(firstLine(a.summary)))
	default:
		add(st.OK.Render(a.summary))
	}
	if m.notice != "" {
		out[0] = fit(out[0]+st.Error.Render("  "+m.notice), m.common.Width)
	}
	return out
}

func shortSum(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// activityHeight is how many status lines activityLines draws.
func (m *Model) activityHeight() int { return 1 }
