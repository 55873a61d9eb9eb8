package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"armbench/fleet"
	"armbench/profiles"
	"armbench/remote"
)

type statusBinaryJSON struct {
	Name     string     `json:"name"`
	SHA256   string     `json:"sha256"`
	Size     int64      `json:"size"`
	Modified time.Time  `json:"modified"`          // the file's time on the device
	Known    bool       `json:"known"`             // armbench has a record of installing it
	Profile  string     `json:"profile,omitempty"` // from that record
	Deployed *time.Time `json:"deployed,omitempty"`
}

type statusDeviceJSON struct {
	Target   string             `json:"target"`
	Addr     string             `json:"addr,omitempty"`
	Dir      string             `json:"deploy_dir,omitempty"`
	Binaries []statusBinaryJSON `json:"binaries"`
	Error    string             `json:"error,omitempty"`
}

// cmdStatus asks each device of a target or group which binaries it has
// (sha256 computed on the device, all devices at once), and names the
// profile and time from the install records armbench keeps locally.
func cmdStatus(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("status")
	target := fs.String("target", "", "target or group (or a comma-separated list)")
	profileList := fs.String("profile", "", "only these profiles' binaries (default every profile)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("status: unexpected argument %q", fs.Arg(0))
	}
	w, err := c.load()
	if err != nil {
		return err
	}
	ts, _, err := w.resolveTargets(*target, true)
	if err != nil {
		return err
	}
	if *profileList == "" {
		*profileList = strings.Join(profiles.Names(w.profiles), ",")
	}
	plans, err := c.plans(w, ts[0].Name, *profileList, profiles.ModeBinary)
	if err != nil {
		return err
	}
	var names []string
	for _, p := range plans {
		names = append(names, p.DeployName(), p.DeployName()+".prev")
	}
	pool := remote.NewPool(c.remoteOptions())
	defer pool.Close()
	sts := fleet.Status(ctx, pool, ts, names, c.history())
	if c.json {
		c.printJSON(statusJSON(sts))
	} else {
		c.printStatus(sts)
	}
	var failed []string
	for _, st := range sts {
		if st.Err != nil {
			failed = append(failed, st.Target)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("status: %d of %d devices did not answer: %s", len(failed), len(sts), strings.Join(failed, ", "))
	}
	return nil
}

func statusJSON(sts []fleet.DeviceStatus) any {
	out := struct {
		Type    string             `json:"type"`
		Devices []statusDeviceJSON `json:"devices"`
	}{Type: "result", Devices: []statusDeviceJSON{}}
	for _, st := range sts {
		d := statusDeviceJSON{Target: st.Target, Addr: st.Addr, Dir: st.Dir, Binaries: []statusBinaryJSON{}, Error: errString(st.Err)}
		for _, b := range st.Binaries {
			j := statusBinaryJSON{Name: b.Name, SHA256: b.SHA256, Size: b.Size, Modified: b.Modified}
			if r := b.Record; r != nil {
				j.Known, j.Profile, j.Deployed = true, r.Profile, &r.Time
			}
			d.Binaries = append(d.Binaries, j)
		}
		out.Devices = append(out.Devices, d)
	}
	return out
}

func (c *cli) printStatus(sts []fleet.DeviceStatus) {
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tBINARY\tSHA256\tPROFILE\tDEPLOYED")
	for _, st := range sts {
		switch {
		case st.Err != nil:
			fmt.Fprintf(tw, "%s\terror: %v\t\t\t\n", st.Target, st.Err)
		case len(st.Binaries) == 0:
			fmt.Fprintf(tw, "%s\t(none in %s)\t\t\t\n", st.Target, st.Dir)
		}
		for _, b := range st.Binaries {
			// Without a record the device's file time is all there is:
			// when the file was written, not who built it or how.
			profile, when := "unknown", "unknown (file from "+b.Modified.Local().Format(time.DateTime)+")"
			if r := b.Record; r != nil {
				profile, when = r.Profile, r.Time.Local().Format(time.DateTime)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", st.Target, b.Name, short(b.SHA256), profile, when)
		}
	}
	tw.Flush()
}
