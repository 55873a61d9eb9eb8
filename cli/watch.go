package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dustin/go-humanize"

	"armbench/build"
	"armbench/profiles"
	"armbench/remote"
	"armbench/watch"
)

// watchEventJSON is one line of watch --json: the build, deploy and run
// lines of those commands with the cycle they belong to, and watch's own
// (watching, changed, deployed, stopping, started, exited, failed,
// superseded, warning).
type watchEventJSON struct {
	remoteEventJSON
	Cycle int `json:"cycle,omitempty"`

	Dirs       []string `json:"dirs,omitempty"`
	Files      int      `json:"files,omitempty"`
	Paths      []string `json:"paths,omitempty"`
	Stage      string   `json:"stage,omitempty"`
	Path       string   `json:"path,omitempty"`
	SHA256     string   `json:"sha256,omitempty"`
	Skipped    bool     `json:"skipped,omitempty"`
	Delta      bool     `json:"delta,omitempty"`
	DeltaKind  string   `json:"delta_kind,omitempty"` // patch, or elfz (between expanded forms)
	NoDelta    string   `json:"no_delta,omitempty"`   // why a redeploy sent the whole file
	Args       []string `json:"args,omitempty"`
	Env        []string `json:"env,omitempty"`
	Signal     string   `json:"signal,omitempty"`
	KillDelay  int64    `json:"kill_delay_ms,omitempty"`
	ExitCode   *int     `json:"exit_code,omitempty"`
	Stopped    bool     `json:"stopped,omitempty"`
	Leftover   bool     `json:"leftover,omitempty"`
	Service    string   `json:"service,omitempty"`
	DurationMS int64    `json:"duration_ms,omitempty"`
}

func cmdWatch(ctx context.Context, c *cli, args []string) error {
	var rf remoteFlags
	fs := c.remoteFlagSet("watch", &rf)
	debounce := fs.Duration("debounce", watch.DefaultDebounce, "quiet time after the last save before rebuilding")
	killDelay := fs.Duration("kill-delay", watch.DefaultKillDelay, "time the old program gets after SIGINT before SIGKILL")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *debounce <= 0 || *killDelay <= 0 {
		return usagef("watch: --debounce and --kill-delay must be positive")
	}
	plan, err := c.onePlan(rf, profiles.ModeBinary)
	if err != nil {
		return err
	}
	cycles := 0
	err = watch.Run(ctx, watch.Options{
		Plan: plan,
		Connect: func(ctx context.Context) (remote.Device, error) {
			dev, err := remote.Open(ctx, plan.Target, c.remoteOptions())
			return dev, withHint(err)
		},
		Args:      fs.Args(),
		Debounce:  *debounce,
		KillDelay: *killDelay,
		History:   c.history(),
	}, c.watchEmit(&cycles))
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		// Ctrl-C is how a watch ends.
		err = nil
	}
	if c.json && err == nil {
		c.printJSON(struct {
			Type    string `json:"type"`
			Target  string `json:"target"`
			Profile string `json:"profile"`
			Cycles  int    `json:"cycles"`
		}{"result", plan.Target.Name, plan.Profile.Name, cycles})
	}
	return err
}

// watchEmit prints watch events as build, deploy and run print theirs.
func (c *cli) watchEmit(cycles *int) func(watch.Event) {
	human := c.remoteEmit() // deploy steps, progress and program output
	var mu sync.Mutex
	return func(ev watch.Event) {
		mu.Lock()
		defer mu.Unlock()
		if c.json {
			if j, ok := watchJSON(ev); ok {
				c.printJSON(j)
			}
		}
		switch ev := ev.(type) {
		case watch.Changed:
			*cycles = ev.Cycle
		}
		if c.json {
			return
		}
		switch ev := ev.(type) {
		case watch.Watching:
			fmt.Fprintf(c.stderr, "watching %d files in %d directories (Ctrl-C to stop)\n", ev.Files, len(ev.Dirs))
		case watch.Changed:
			what := "start"
			if len(ev.Paths) > 0 {
				what = changedList(ev.Paths)
			}
			fmt.Fprintf(c.stderr, "── cycle %d: %s\n", ev.Cycle, what)
		case watch.Build:
			switch b := ev.Event.(type) {
			case build.Started:
				fmt.Fprintf(c.stderr, "$ %s\n", b.Command)
			case build.Line:
				fmt.Fprintln(c.stderr, b.Text)
			}
		case watch.Deploy:
			human(ev.Event)
		case watch.Deployed:
			in := ev.Installed
			if in.Skipped {
				fmt.Fprintf(c.stderr, "unchanged: %s already has sha256 %s\n", in.Path, short(in.SHA256))
			} else {
				fmt.Fprintf(c.stderr, "installed %s: sha256 %s verified, %s on the wire in %s\n",
					in.Path, short(in.SHA256), humanize.IBytes(uint64(in.WireBytes)), in.Duration.Round(time.Millisecond))
			}
		case watch.Stopping:
			if ev.Leftover {
				fmt.Fprintf(c.stderr, "stopped a program left running on the device by an earlier run (SIG%s)\n", ev.Signal)
			} else {
				fmt.Fprintf(c.stderr, "stopping the program of cycle %d (SIG%s, SIGKILL after %s)\n", ev.Cycle, ev.Signal, ev.KillDelay)
			}
		case watch.Started:
			prog := strings.Join(append([]string{ev.Command.Path}, ev.Command.Args...), " ")
			if ev.Service != "" {
				fmt.Fprintf(c.stderr, "restarting systemd unit %s (%s); its journal follows\n", ev.Service, prog)
			} else {
				fmt.Fprintf(c.stderr, "started %s\n", prog)
			}
		case watch.Program:
			human(ev.Event)
		case watch.Exited:
			st := ev.Status
			switch {
			case ev.Err != nil:
				fmt.Fprintf(c.stderr, "the program of cycle %d: %v\n", ev.Cycle, ev.Err)
			case ev.Stopped:
			case st.Signal != "":
				fmt.Fprintf(c.stderr, "the program was killed by SIG%s after %s; waiting for changes\n", st.Signal, st.Duration.Round(time.Millisecond))
			default:
				fmt.Fprintf(c.stderr, "the program exited with status %d after %s; waiting for changes\n", st.Code, st.Duration.Round(time.Millisecond))
			}
		case watch.Failed:
			fmt.Fprintf(c.stderr, "cycle %d: %s failed: %v\nthe running program is left alone; waiting for changes\n", ev.Cycle, ev.Stage, ev.Err)
		case watch.Superseded:
			fmt.Fprintf(c.stderr, "cycle %d: %s cancelled by newer changes\n", ev.Cycle, ev.Stage)
		case watch.Warning:
			fmt.Fprintf(c.stderr, "warning: %v\n", ev.Err)
		}
	}
}

// changedList names the saved files, briefly.
func changedList(paths []string) string {
	names := make([]string, 0, 3)
	for i, p := range paths {
		if i == 3 {
			return strings.Join(names, ", ") + fmt.Sprintf(" and %d more changed", len(paths)-3)
		}
		names = append(names, filepath.Base(p))
	}
	return strings.Join(names, ", ") + " changed"
}

// watchJSON is ev as a --json line.
func watchJSON(ev watch.Event) (watchEventJSON, bool) {
	j := watchEventJSON{remoteEventJSON: remoteEventJSON{Time: time.Now()}}
	switch ev := ev.(type) {
	case watch.Watching:
		j.Type, j.Time, j.Dirs, j.Files = "watching", ev.Time, ev.Dirs, ev.Files
	case watch.Changed:
		j.Type, j.Cycle, j.Time, j.Paths = "changed", ev.Cycle, ev.Time, ev.Paths
	case watch.Build:
		j.Cycle = ev.Cycle
		switch b := ev.Event.(type) {
		case build.Started:
			j.Type, j.Time, j.Text = "build", b.Time, b.Command
		case build.Line:
			j.Type, j.Time, j.Text, j.Stream = "build", b.Time, b.Text, stream(b.Stderr)
		default:
			return j, false // Finished: the cycle's next event says how it went
		}
	case watch.Deploy:
		if !remoteJSON(&j.remoteEventJSON, ev.Event) {
			return j, false
		}
		j.Cycle = ev.Cycle
	case watch.Program:
		if !remoteJSON(&j.remoteEventJSON, ev.Event) {
			return j, false
		}
		j.Cycle = ev.Cycle
	case watch.Deployed:
		in := ev.Installed
		j.Type, j.Cycle, j.Path, j.SHA256, j.Skipped = "deployed", ev.Cycle, in.Path, in.SHA256, in.Skipped
		j.WireBytes, j.DurationMS, j.Delta, j.DeltaKind, j.NoDelta = in.WireBytes, in.Duration.Milliseconds(), in.Delta, in.DeltaKind, in.NoDelta
	case watch.Stopping:
		j.Type, j.Cycle, j.Time, j.Signal, j.KillDelay, j.Leftover = "stopping", ev.Cycle, ev.Time, ev.Signal, ev.KillDelay.Milliseconds(), ev.Leftover
	case watch.Started:
		j.Type, j.Cycle, j.Time, j.Path, j.Args, j.Env, j.Service = "started", ev.Cycle, ev.Time, ev.Command.Path, ev.Command.Args, ev.Command.Env, ev.Service
	case watch.Exited:
		code := ev.Status.Code
		j.Type, j.Cycle, j.Time, j.ExitCode, j.Signal = "exited", ev.Cycle, ev.Time, &code, ev.Status.Signal
		j.Stopped, j.DurationMS, j.Error = ev.Stopped, ev.Status.Duration.Milliseconds(), errString(ev.Err)
	case watch.Failed:
		j.Type, j.Cycle, j.Stage, j.Error = "failed", ev.Cycle, ev.Stage, errString(ev.Err)
	case watch.Superseded:
		j.Type, j.Cycle, j.Stage = "superseded", ev.Cycle, ev.Stage
	case watch.Warning:
		j.Type, j.Time, j.Error = "warning", ev.Time, errString(ev.Err)
	default:
		return j, false
	}
	return j, true
}

// remoteJSON fills j from a deploy or run event as deploy and run --json
// print it.
func remoteJSON(j *remoteEventJSON, ev remote.Event) bool {
	switch ev := ev.(type) {
	case remote.Step:
		j.Type, j.Time, j.Name, j.Done, j.Error = "step", ev.Time, ev.Name, ev.Done, errString(ev.Err)
	case remote.Progress:
		j.Type, j.Sent, j.Total, j.WireBytes, j.Rate, j.ETAms = "progress", ev.Sent, ev.Total, ev.WireBytes, ev.Rate, ev.ETA.Milliseconds()
	case remote.Output:
		j.Type, j.Time, j.Text, j.Stream = "output", ev.Time, ev.Text, stream(ev.Stderr)
	case remote.Reconnected:
		j.Type, j.Time, j.Error = "reconnected", ev.Time, errString(ev.Cause)
	default:
		return false
	}
	return true
}
