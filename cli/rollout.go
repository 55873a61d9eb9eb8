package cli

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"

	"armbench/build"
	"armbench/fleet"
	"armbench/profiles"
	"armbench/remote"
	"armbench/state"
	"armbench/targets"
)

// history is where installs are recorded for status.
func (c *cli) history() state.History {
	return state.History{Dir: state.Dir(c.dir)}
}

// fleetFlags are deploy's rolling-deploy flags.
type fleetFlags struct {
	maxUnavailable, parallel int
	continueOnError, noBuild bool
}

// deployFleet is `deploy` on a group, several targets, or a target with a
// health check: a rolling deploy (package fleet).
func (c *cli) deployFleet(ctx context.Context, w *workspace, ts []targets.Target, profile string, ff fleetFlags) error {
	if strings.Contains(profile, ",") {
		return usagef("deploy: a rolling deploy takes one profile, not %q", profile)
	}
	var plans []profiles.Plan
	for _, t := range ts {
		ps, err := c.plans(w, t.Name, profile, profiles.ModeBinary)
		if err != nil {
			return err
		}
		plans = append(plans, ps[0])
	}
	pool := remote.NewPool(c.remoteOptions())
	defer pool.Close()
	o := fleet.Options{MaxUnavailable: ff.maxUnavailable, Parallel: ff.parallel, ContinueOnError: ff.continueOnError,
		NoBuild: ff.noBuild, Pool: pool, History: c.history()}
	emit := c.fleetText()
	if c.json {
		emit = c.fleetJSON()
	}
	res, err := fleet.Rollout(ctx, plans, o, emit)
	if err == nil {
		err = res.Err()
	}
	if c.json {
		c.printJSON(newRolloutJSON(res, plans[0].Profile.Name, o.MaxUnavailable, err))
	} else {
		c.printRollout(res)
	}
	return err
}

// fleetText prints a rollout's progress on stderr: build output, waves,
// and each device's phases (upload progress is left out: eight devices'
// bars do not fit in a log).
func (c *cli) fleetText() func(fleet.Event) {
	return func(ev fleet.Event) {
		switch ev := ev.(type) {
		case fleet.BuildEvent:
			switch b := ev.Event.(type) {
			case build.Started:
				fmt.Fprintf(c.stderr, "$ %s   # for %s\n", b.Command, strings.Join(ev.Targets, ", "))
			case build.Line:
				fmt.Fprintln(c.stderr, b.Text)
			}
		case fleet.WaveEvent:
			if !ev.Done {
				fmt.Fprintf(c.stderr, "wave %d: %s\n", ev.Wave, strings.Join(ev.Targets, ", "))
			}
		case fleet.DeviceEvent:
			if ev.Progress != nil || ev.Phase == fleet.PhaseBuild {
				return
			}
			line := fmt.Sprintf("%-12s %-8s %s", ev.Target, ev.Phase, ev.Detail)
			if ev.Err != nil {
				line += ": " + ev.Err.Error()
			}
			fmt.Fprintln(c.stderr, strings.TrimRight(line, " "))
		}
	}
}

func (c *cli) printRollout(res fleet.Result) {
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tWAVE\tSTATE\tSHA256\tSENT\tDOWN\tHEALTH")
	for _, d := range res.Devices {
		sum, sent, down, health := "-", "-", "-", "-"
		if d.SHA256 != "" {
			sum = short(d.SHA256)
		}
		if d.WireBytes > 0 {
			sent = humanize.IBytes(uint64(d.WireBytes))
			if d.Delta {
				sent += " delta"
			}
		}
		if d.Down > 0 {
			down = d.Down.Round(10 * time.Millisecond).String()
		}
		if d.HealthAttempts > 0 {
			health = fmt.Sprintf("%d attempt(s)", d.HealthAttempts)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", d.Target, d.Wave, d.State, sum, sent, down, health)
	}
	tw.Flush()
	for _, d := range res.Devices {
		if d.Err != nil {
			fmt.Fprintf(c.stdout, "%s: %s at %s: %v\n", d.Target, d.State, d.Step, d.Err)
		}
	}
	fmt.Fprintf(c.stdout, "%d devices in %s\n", len(res.Devices), res.Duration.Round(time.Millisecond))
}

// fleetEventJSON is one line of a rolling deploy's --json before the result.
type fleetEventJSON struct {
	Type    string    `json:"type"` // build | wave | device
	Time    time.Time `json:"time"`
	Target  string    `json:"target,omitempty"`
	Targets []string  `json:"targets,omitempty"`
	Wave    int       `json:"wave,omitempty"`
	Phase   string    `json:"phase,omitempty"`
	Done    bool      `json:"done,omitempty"`
	Detail  string    `json:"detail,omitempty"`
	Error   string    `json:"error,omitempty"`
	Stream  string    `json:"stream,omitempty"`
	Text    string    `json:"text,omitempty"`
	Sent    int64     `json:"sent,omitempty"`
	Total   int64     `json:"total,omitempty"`
}

func (c *cli) fleetJSON() func(fleet.Event) {
	var mu sync.Mutex
	return func(ev fleet.Event) {
		mu.Lock()
		defer mu.Unlock()
		j := fleetEventJSON{Time: time.Now()}
		switch ev := ev.(type) {
		case fleet.BuildEvent:
			j.Type, j.Targets = "build", ev.Targets
			switch b := ev.Event.(type) {
			case build.Started:
				j.Time, j.Text = b.Time, b.Command
			case build.Line:
				j.Time, j.Text, j.Stream = b.Time, b.Text, "stdout"
				if b.Stderr {
					j.Stream = "stderr"
				}
			default:
				return
			}
		case fleet.WaveEvent:
			j.Type, j.Wave, j.Targets, j.Done = "wave", ev.Wave, ev.Targets, ev.Done
		case fleet.DeviceEvent:
			j.Type, j.Time, j.Target, j.Wave, j.Phase, j.Detail, j.Error = "device", ev.Time, ev.Target, ev.Wave, string(ev.Phase), ev.Detail, errString(ev.Err)
			if p := ev.Progress; p != nil {
				j.Sent, j.Total = p.Sent, p.Total
			}
		}
		c.printJSON(j)
	}
}

type rolloutDeviceJSON struct {
	Target         string `json:"target"`
	Addr           string `json:"addr,omitempty"`
	Wave           int    `json:"wave"`
	State          string `json:"state"`
	Name           string `json:"name"`
	Path           string `json:"path,omitempty"`
	SHA256         string `json:"sha256,omitempty"`
	Step           string `json:"step,omitempty"`
	Error          string `json:"error,omitempty"`
	HealthAttempts int    `json:"health_attempts"`
	WireBytes      int64  `json:"wire_bytes"`
	Delta          bool   `json:"delta"`
	UploadMS       int64  `json:"upload_ms"`
	DownMS         int64  `json:"down_ms"`
}

type rolloutJSON struct {
	Type           string              `json:"type"` // result
	OK             bool                `json:"ok"`
	Profile        string              `json:"profile"`
	MaxUnavailable int                 `json:"max_unavailable"`
	StoppedBy      string              `json:"stopped_by,omitempty"`
	DurationMS     int64               `json:"duration_ms"`
	Devices        []rolloutDeviceJSON `json:"devices"`
	Error          string              `json:"error,omitempty"`
}

func newRolloutJSON(res fleet.Result, profile string, maxUnavailable int, err error) rolloutJSON {
	out := rolloutJSON{Type: "result", OK: err == nil, Profile: profile, MaxUnavailable: max(maxUnavailable, 1),
		StoppedBy: res.StoppedBy, DurationMS: res.Duration.Milliseconds(), Devices: []rolloutDeviceJSON{}, Error: errString(err)}
	for _, d := range res.Devices {
		out.Devices = append(out.Devices, rolloutDeviceJSON{Target: d.Target, Addr: d.Addr, Wave: d.Wave, State: string(d.State),
			Name: d.Name, Path: d.Path, SHA256: d.SHA256, Step: d.Step, Error: errString(d.Err), HealthAttempts: d.HealthAttempts,
			WireBytes: d.WireBytes, Delta: d.Delta, UploadMS: d.Upload.Milliseconds(), DownMS: d.Down.Milliseconds()})
	}
	return out
}
