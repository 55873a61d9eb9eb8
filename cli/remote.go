package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/dustin/go-humanize"
	"golang.org/x/crypto/ssh"

	"armbench/build"
	"armbench/deploy"
	"armbench/fleet"
	"armbench/profiles"
	"armbench/remote"
	"armbench/state"
	"armbench/targets"
)

// remoteOptions are the options of every headless command that connects:
// an encrypted key asks for its passphrase on the terminal, and what was
// installed is remembered beside the build outputs, so an unchanged
// redeploy is not hashed on the device again.
//
// Deltas of default-profile binaries (DWARF compressed by the linker) go
// through the device-side helper, built once per toolchain and
// architecture by the same go command as they are.
func (c *cli) remoteOptions() remote.Options {
	return remote.Options{Passphrase: askPassphrase(c), StateDir: state.Dir(c.dir),
		ELFZHelper: c.helpers.Helper, ELFZWarm: c.helpers.Warm, SSHWarn: c.sshWarn()}
}

// sshWarn prints each ssh_config line armbench cannot honour once, on
// stderr (never on stdout, which --json keeps for JSON lines).
func (c *cli) sshWarn() func(remote.SSHWarning) {
	var mu sync.Mutex
	seen := map[remote.SSHWarning]bool{}
	return func(w remote.SSHWarning) {
		mu.Lock()
		defer mu.Unlock()
		if !seen[w] {
			seen[w] = true
			fmt.Fprintf(c.stderr, "armbench: warning: %s\n", w)
		}
	}
}

// askPassphrase reads a passphrase from the controlling terminal, without
// echo, even when stdin/stdout are pipes (as with --json). It is never
// printed or logged.
func askPassphrase(c *cli) func(string) ([]byte, error) {
	var mu sync.Mutex
	return func(keyPath string) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
		if err != nil {
			return nil, fmt.Errorf("%s is encrypted and there is no terminal to ask for its passphrase: add it to ssh-agent (ssh-add %s)", keyPath, keyPath)
		}
		defer tty.Close()
		fmt.Fprintf(tty, "Enter passphrase for key '%s': ", keyPath)
		pass, err := term.ReadPassword(tty.Fd())
		fmt.Fprintln(tty)
		if err != nil {
			return nil, fmt.Errorf("read passphrase: %w", err)
		}
		return pass, nil
	}
}

// withHint adds to err what the user can do about it (remote.Explain):
// the trust command for an unknown host key, OpenSSH's warning for a
// changed one.
func withHint(err error) error {
	_, hint := remote.Explain(err)
	switch {
	case hint == "":
		return err
	case strings.Contains(hint, "\n"):
		return fmt.Errorf("%w\n\n%s", err, hint)
	}
	return fmt.Errorf("%w\n%s", err, hint)
}

// remoteFlags are the flags of deploy, rollback and run.
type remoteFlags struct {
	target, profile string
}

func (c *cli) remoteFlagSet(name string, rf *remoteFlags) *flag.FlagSet {
	fs := c.flags(name)
	fs.StringVar(&rf.target, "target", "", "target name from targets.toml")
	fs.StringVar(&rf.profile, "profile", "default", "profile whose binary to use")
	return fs
}

// onePlan resolves the single (target, profile) a remote command acts on.
func (c *cli) onePlan(rf remoteFlags, mode profiles.Mode) (profiles.Plan, error) {
	if strings.Contains(rf.profile, ",") {
		return profiles.Plan{}, usagef("--profile takes one profile here, not %q", rf.profile)
	}
	w, err := c.load()
	if err != nil {
		return profiles.Plan{}, err
	}
	plans, err := c.plans(w, rf.target, rf.profile, mode)
	if err != nil {
		return profiles.Plan{}, err
	}
	return plans[0], nil
}

// remoteEventJSON is one line of deploy/run --json before the result.
type remoteEventJSON struct {
	Type   string    `json:"type"` // build | step | progress | output
	Time   time.Time `json:"time"`
	Name   string    `json:"name,omitempty"`
	Done   bool      `json:"done,omitempty"`
	Error  string    `json:"error,omitempty"`
	Stream string    `json:"stream,omitempty"`
	Text   string    `json:"text,omitempty"`

	Sent      int64   `json:"sent,omitempty"`
	Total     int64   `json:"total,omitempty"`
	WireBytes int64   `json:"wire_bytes,omitempty"`
	Rate      float64 `json:"rate_bytes_per_s,omitempty"`
	ETAms     int64   `json:"eta_ms,omitempty"`
}

// remoteEmit prints remote events: JSON lines, or steps and a progress
// line (at most once a second) on stderr.
func (c *cli) remoteEmit() func(remote.Event) {
	var mu sync.Mutex
	var lastProgress time.Time
	return func(ev remote.Event) {
		mu.Lock()
		defer mu.Unlock()
		if c.json {
			j := remoteEventJSON{Time: time.Now()}
			switch ev := ev.(type) {
			case remote.Step:
				j.Type, j.Time, j.Name, j.Done, j.Error = "step", ev.Time, ev.Name, ev.Done, errString(ev.Err)
			case remote.Progress:
				j.Type, j.Sent, j.Total, j.WireBytes, j.Rate, j.ETAms = "progress", ev.Sent, ev.Total, ev.WireBytes, ev.Rate, ev.ETA.Milliseconds()
			case remote.Output:
				j.Type, j.Time, j.Text, j.Stream = "output", ev.Time, ev.Text, "stdout"
				if ev.Stderr {
					j.Stream = "stderr"
				}
			case remote.Reconnected:
				j.Type, j.Time, j.Error = "reconnected", ev.Time, errString(ev.Cause)
			default:
				return
			}
			c.printJSON(j)
			return
		}
		switch ev := ev.(type) {
		case remote.Step:
			switch {
			case ev.Err != nil:
				fmt.Fprintf(c.stderr, "%-8s failed\n", ev.Name)
			case ev.Done:
				fmt.Fprintf(c.stderr, "%-8s ok\n", ev.Name)
			}
		case remote.Progress:
			now := time.Now()
			if ev.Sent == 0 || ev.Sent != ev.Total && now.Sub(lastProgress) < time.Second {
				return
			}
			lastProgress = now
			pct := 100.0
			if ev.Total > 0 {
				pct = 100 * float64(ev.Sent) / float64(ev.Total)
			}
			fmt.Fprintf(c.stderr, "upload   %3.0f%%  %s / %s  %s/s  %s on the wire  ETA %s\n", pct,
				humanize.IBytes(uint64(ev.Sent)), humanize.IBytes(uint64(ev.Total)), humanize.IBytes(uint64(int64(ev.Rate))), humanize.IBytes(uint64(ev.WireBytes)), ev.ETA.Round(100*time.Millisecond))
		case remote.Output:
			if ev.Stderr {
				fmt.Fprintln(c.stderr, ev.Text)
			} else {
				fmt.Fprintln(c.stdout, ev.Text)
			}
		case remote.Reconnected:
			fmt.Fprintf(c.stderr, "reconnected (%v)\n", ev.Cause)
		}
	}
}

type deployResultJSON struct {
	Type       string `json:"type"` // result
	OK         bool   `json:"ok"`
	Target     string `json:"target"`
	Profile    string `json:"profile"`
	Name       string `json:"name"`
	Path       string `json:"path,omitempty"`
	SHA256     string `json:"sha256,omitempty"`
	Size       int64  `json:"size,omitempty"`
	Skipped    bool   `json:"skipped"`
	Previous   string `json:"previous,omitempty"`
	DurationMS int64  `json:"duration_ms"`
	WireBytes  int64  `json:"wire_bytes"`
	Delta      bool   `json:"delta"`
	DeltaKind  string `json:"delta_kind,omitempty"` // patch, or elfz (through the device-side helper)
	NoDelta    string `json:"no_delta,omitempty"`
	Error      string `json:"error,omitempty"`
}

func cmdDeploy(ctx context.Context, c *cli, args []string) error {
	var rf remoteFlags
	fs := c.remoteFlagSet("deploy", &rf)
	noBuild := fs.Bool("no-build", false, "deploy the existing artifact without running go build first")
	var ff fleetFlags
	fs.IntVar(&ff.maxUnavailable, "max-unavailable", 1, "a group: how many devices may be down (installing, or not yet healthy) at once")
	fs.IntVar(&ff.parallel, "parallel", fleet.DefaultParallel, "a group: how many uploads run at once")
	fs.BoolVar(&ff.continueOnError, "continue-on-error", false, "a group: go on with the next devices after one failed (it is still rolled back)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("deploy: unexpected argument %q", fs.Arg(0))
	}
	if ff.maxUnavailable < 1 || ff.parallel < 1 {
		return usagef("deploy: --max-unavailable and --parallel must be at least 1")
	}
	w, err := c.load()
	if err != nil {
		return err
	}
	ts, group, err := w.resolveTargets(rf.target, false)
	if err != nil {
		return err
	}
	// Several profiles deploy side by side (each has its own name on the
	// device), over one connection.
	plans, err := c.plans(w, ts[0].Name, rf.profile, profiles.ModeBinary)
	if err != nil {
		return err
	}
	if group || len(plans) == 1 && plans[0].Health != nil {
		// A fleet, or a device with a health check: a rolling deploy
		// (of one device, for the latter).
		ff.noBuild = *noBuild
		return c.deployFleet(ctx, w, ts, rf.profile, ff)
	}

	// One pipeline: it connects while the first build runs, installs
	// each binary over that connection and records every install.
	pipe := deploy.Pipeline{Remote: c.remoteOptions(), History: c.history(), KeepGoing: true}
	jobs := make([]deploy.Job, len(plans))
	for i, plan := range plans {
		jobs[i] = deploy.Job{Plan: plan, NoBuild: *noBuild}
	}
	var errs []error
	buildEmit, remoteEmit := c.buildEmit(), c.remoteEmit()
	pipe.Run(ctx, plans[0].Target, jobs, func(ev deploy.Event) {
		switch ev := ev.(type) {
		case deploy.Building:
			buildEmit(ev.Event)
		case deploy.Deploying:
			remoteEmit(ev.Event)
		case deploy.Done:
			if err := c.reportDeploy(plans[ev.Result.Job], ev.Result); err != nil {
				errs = append(errs, err)
			}
		}
	})
	switch {
	case len(errs) == 0:
		return nil
	case len(plans) == 1 || errors.Is(errs[0], deploy.ErrNotStarted) || len(errs) == len(plans):
		return errs[0]
	}
	for _, err := range errs {
		fmt.Fprintf(c.stderr, "armbench: %v\n", err)
	}
	return fmt.Errorf("%d of %d deploys failed", len(errs), len(plans))
}

// reportDeploy prints how one binary's deploy ended, and returns its
// error.
func (c *cli) reportDeploy(plan profiles.Plan, r deploy.Result) error {
	res := deployResultJSON{Type: "result", Target: plan.Target.Name, Profile: plan.Profile.Name, Name: r.Name}
	if r.Err != nil {
		err := r.Err
		if r.Step == deploy.StepConnect {
			err = withHint(err)
		}
		if c.json {
			res.Error = err.Error()
			c.printJSON(res)
		}
		return err
	}
	inst, art := r.Installed, r.Artifact
	if r.Warning != "" {
		fmt.Fprintf(c.stderr, "armbench: warning: %s\n", r.Warning)
	}
	res.Size = art.Size
	res.OK, res.Path, res.SHA256, res.Skipped, res.Previous = true, inst.Path, inst.SHA256, inst.Skipped, inst.Previous
	res.DurationMS, res.WireBytes = inst.Duration.Milliseconds(), inst.WireBytes
	res.Delta, res.DeltaKind, res.NoDelta = inst.Delta, inst.DeltaKind, inst.NoDelta
	if c.json {
		c.printJSON(res)
		return nil
	}
	if inst.Skipped {
		fmt.Fprintf(c.stdout, "unchanged: %s already has sha256 %s (%s)\n", inst.Path, short(inst.SHA256), inst.Duration.Round(time.Millisecond))
		return nil
	}
	prev := ""
	if inst.Previous != "" {
		prev = ", previous kept as " + filepath.Base(inst.Previous)
	}
	wire := " on the wire"
	if inst.Delta {
		wire = " on the wire (delta)"
	}
	fmt.Fprintf(c.stdout, "installed %s: %s, sha256 %s verified on the device, %s%s in %s%s\n",
		inst.Path, humanize.IBytes(uint64(art.Size)), short(inst.SHA256), humanize.IBytes(uint64(inst.WireBytes)), wire, inst.Duration.Round(time.Millisecond), prev)
	return nil
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}

// buildEmit prints build events: JSON lines, or the command and the go
// command's output on stderr.
func (c *cli) buildEmit() func(build.Event) {
	var mu sync.Mutex
	return func(ev build.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case build.Started:
			if c.json {
				c.printJSON(remoteEventJSON{Type: "build", Time: ev.Time, Text: ev.Command})
			} else {
				fmt.Fprintf(c.stderr, "$ %s\n", ev.Command)
			}
		case build.Line:
			if c.json {
				stream := "stdout"
				if ev.Stderr {
					stream = "stderr"
				}
				c.printJSON(remoteEventJSON{Type: "build", Time: ev.Time, Text: ev.Text, Stream: stream})
			} else {
				fmt.Fprintln(c.stderr, ev.Text)
			}
		}
	}
}

// artifact builds the plan (the go command's cache, or the build's
// fingerprint, makes an unchanged rebuild cheap).
func (c *cli) artifact(ctx context.Context, plan profiles.Plan) (*build.Artifact, error) {
	r := build.Run(ctx, plan, c.buildEmit())
	if r.Err != nil {
		return nil, fmt.Errorf("build %s/%s: %w (log: %s)", plan.Target.Name, plan.Profile.Name, r.Err, r.LogPath)
	}
	if r.Artifact == nil {
		return nil, fmt.Errorf("build %s/%s: no artifact (log: %s)", plan.Target.Name, plan.Profile.Name, r.LogPath)
	}
	return r.Artifact, nil
}

type trustResultJSON struct {
	Type        string `json:"type"` // result
	Target      string `json:"target"`
	Host        string `json:"host"`
	KeyType     string `json:"key_type"`
	Fingerprint string `json:"fingerprint"`
	Key         string `json:"key"` // authorized_keys form
	File        string `json:"known_hosts"`
	Known       bool   `json:"known"` // already in known_hosts before this run
	Added       bool   `json:"added"`
}

func cmdTrust(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("trust")
	target := fs.String("target", "", "target name (or give it as the argument)")
	yes := fs.Bool("yes", false, "accept the key without asking")
	replace := fs.Bool("replace", false, "replace a changed host key (a re-flashed board): remove every old entry for the host, add the new key")
	positional, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	name := *target
	switch {
	case len(positional) == 1 && name == "":
		name = positional[0]
	case len(positional) > 1 || len(positional) == 1 && name != "":
		return usagef("trust takes one target or group: armbench trust TARGET|GROUP [--replace] [--yes] [--json]")
	}
	w, err := c.load()
	if err != nil {
		return err
	}
	ts, fleet, err := w.resolveTargets(name, false)
	if err != nil {
		return err
	}
	if !fleet {
		if ts[0].IsLocal() {
			return usagef("trust: target %s is local: there is no host key to trust", ts[0].Name)
		}
		if *replace {
			return c.replaceOne(ctx, ts[0], *yes)
		}
		return c.trustOne(ctx, ts[0], *yes)
	}
	// A group: each device in turn, every fingerprint shown and asked for
	// on its own; one refused or unreachable device does not stop the rest.
	var failed []string
	for _, t := range ts {
		if t.IsLocal() {
			continue
		}
		one := c.trustOne
		if *replace {
			one = c.replaceOne
		}
		if err := one(ctx, t, *yes); err != nil {
			fmt.Fprintf(c.stderr, "armbench: %v\n", err)
			failed = append(failed, t.Name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("trust %s: not trusted: %s", name, strings.Join(failed, ", "))
	}
	return nil
}

// trustOne shows t's host key and adds it to known_hosts when it is new
// and accepted (--yes, or y at the prompt).
func (c *cli) trustOne(ctx context.Context, t targets.Target, yes bool) error {
	o := c.trustOptions()
	key, err := remote.ScanHostKey(ctx, t, o)
	var ue *remote.UnknownHostError
	res := trustResultJSON{Type: "result", Target: t.Name, Host: key.Host, KeyType: key.KeyType, Fingerprint: key.Fingerprint, File: key.File}
	if key.Key != nil {
		res.Key = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key.Key)))
	}
	switch {
	case err == nil:
		res.Known = true
		if c.json {
			c.printJSON(res)
		} else {
			fmt.Fprintf(c.stdout, "%s (%s) is already trusted: %s key %s\n", t.Name, key.Host, key.KeyType, key.Fingerprint)
		}
		return nil
	case !errors.As(err, &ue):
		return withHint(err)
	}
	accept := yes
	if !accept && !c.json {
		accept = c.confirmHostKey(key)
	}
	if accept {
		added, err := remote.TrustKey(t, o, ue)
		if err != nil {
			return fmt.Errorf("trust %s: %w", t.Name, err)
		}
		res.Added, res.File = true, added.File
	}
	if c.json {
		c.printJSON(res)
		return nil
	}
	if !res.Added {
		return fmt.Errorf("trust %s: %w: %s key %s not added", t.Name, remote.ErrNotTrusted, key.KeyType, key.Fingerprint)
	}
	fmt.Fprintf(c.stdout, "added %s key %s for %s to %s\n", key.KeyType, key.Fingerprint, key.Host, res.File)
	return nil
}

func cmdRollback(ctx context.Context, c *cli, args []string) error {
	var rf remoteFlags
	fs := c.remoteFlagSet("rollback", &rf)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("rollback: unexpected argument %q", fs.Arg(0))
	}
	if strings.Contains(rf.profile, ",") {
		return usagef("--profile takes one profile here, not %q", rf.profile)
	}
	w, err := c.load()
	if err != nil {
		return err
	}
	// On a group: each device in turn, its lines marked with its name; a
	// device without a previous binary does not stop the others.
	return c.eachTarget(w, rf.target, func(c *cli, t targets.Target) error {
		plans, err := c.plans(w, t.Name, rf.profile, profiles.ModeBinary)
		if err != nil {
			return err
		}
		return c.rollbackOne(ctx, plans[0])
	})
}

// rollbackOne puts plan's previous binary back on its target.
func (c *cli) rollbackOne(ctx context.Context, plan profiles.Plan) error {
	name := plan.DeployName()
	dev, err := remote.Open(ctx, plan.Target, c.remoteOptions())
	if err != nil {
		return withHint(err)
	}
	defer dev.Close()
	err = dev.Rollback(ctx, name)
	path := strings.TrimSuffix(dev.DeployDir(), "/") + "/" + name
	if c.json {
		c.printJSON(struct {
			Type     string `json:"type"`
			OK       bool   `json:"ok"`
			Target   string `json:"target"`
			Profile  string `json:"profile"`
			Path     string `json:"path"`
			Previous string `json:"previous"`
			Error    string `json:"error,omitempty"`
		}{"result", err == nil, plan.Target.Name, plan.Profile.Name, path, path + ".prev", errString(err)})
		return err
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "rolled back %s: the previous binary is installed again; the one it replaced is now %s.prev (rollback again to undo)\n", path, name)
	return nil
}

// exitStatusError carries a remote program's exit status out as
// armbench's own.
type exitStatusError struct {
	code   int
	signal string
}

func (e *exitStatusError) Error() string {
	if e.signal != "" {
		return "the program was killed by SIG" + e.signal
	}
	return fmt.Sprintf("the program exited with status %d", e.code)
}

func (e *exitStatusError) ExitCode() int { return e.code }

func cmdRun(ctx context.Context, c *cli, args []string) error {
	var rf remoteFlags
	fs := c.remoteFlagSet("run", &rf)
	metricsAddr := fs.String("metrics", "", "serve the device's samples and the Go scheduler's in Prometheus format on ADDR (e.g. :9101) while the program runs under the probe")
	if err := parse(fs, args); err != nil {
		return err
	}
	if strings.Contains(rf.profile, ",") {
		return usagef("--profile takes one profile here, not %q", rf.profile)
	}
	w, err := c.load()
	if err != nil {
		return err
	}
	// On a group: each device in turn, its lines marked with its name.
	return c.eachTarget(w, rf.target, func(c *cli, t targets.Target) error {
		plans, err := c.plans(w, t.Name, rf.profile, profiles.ModeBinary)
		if err != nil {
			return err
		}
		return c.runOne(ctx, plans[0], fs.Args(), *metricsAddr)
	})
}

// runOne runs plan's deployed binary on its target with args.
func (c *cli) runOne(ctx context.Context, plan profiles.Plan, args []string, metricsAddr string) error {
	dev, err := remote.Open(ctx, plan.Target, c.remoteOptions())
	if err != nil {
		return withHint(err)
	}
	defer dev.Close()
	cmd := remote.Command{Path: plan.DeployName(), Args: args, Env: plan.RunEnvStrings()}
	var st remote.ExitStatus
	if metricsAddr != "" {
		st, err = c.runObserved(ctx, dev, plan, args, metricsAddr)
	} else {
		st, err = dev.Run(ctx, cmd, c.remoteEmit())
	}
	if c.json {
		c.printJSON(struct {
			Type       string   `json:"type"`
			Target     string   `json:"target"`
			Profile    string   `json:"profile"`
			Path       string   `json:"path"`
			Env        []string `json:"env"`
			ExitCode   int      `json:"exit_code"`
			Signal     string   `json:"signal,omitempty"`
			DurationMS int64    `json:"duration_ms"`
			Error      string   `json:"error,omitempty"`
		}{"result", plan.Target.Name, plan.Profile.Name, cmd.Path, cmd.Env, st.Code, st.Signal, st.Duration.Milliseconds(), errString(err)})
	}
	if err != nil {
		return err
	}
	switch {
	case st.Signal != "":
		// As a shell reports a signalled child.
		n := remote.SignalNumber(st.Signal)
		if n == 0 {
			n = 1 // unknown: still a failure
		}
		return &exitStatusError{code: 128 + n, signal: st.Signal}
	case st.Code == 127:
		return fmt.Errorf("%s: not found on the device (deploy it first: armbench deploy --target %s --profile %s)", cmd.Path, plan.Target.Name, plan.Profile.Name)
	case st.Code != 0:
		return &exitStatusError{code: st.Code}
	}
	return nil
}
