package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"armbench/build"
	"armbench/fleet"
)

// FleetPane shows a rolling deploy to a group: one row per device with
// its wave, its phase (build → upload → staged → install → health, then
// done, rolled back, failed or not attempted), upload progress while it
// uploads and the outcome after; above them, the shared builds; below,
// how the rollout ended. Rows are drawn from the last event (no
// animation), so the pane schedules no frames of its own.
type FleetPane struct {
	scrollFrame
	group, profile string
	maxUnavailable int
	wave, waves    int
	builds         []*fleetBuild
	rows           []*fleetRow
	ended          bool
	summary        string // how it ended; red when it failed
	failed         bool
}

type fleetBuild struct {
	targets []string
	state   buildState
	took    time.Duration
}

type fleetRow struct {
	target string
	wave   int
	phase  fleet.Phase
	detail string
	err    error
	prog   *fleetProgress
}

// fleetProgress is the last upload progress of a device, as a fraction.
type fleetProgress struct {
	sent, total, wire int64
}

// NewFleetPane returns an empty pane.
func NewFleetPane(st *Styles) *FleetPane { return &FleetPane{scrollFrame: newScrollFrame(st)} }

// Start begins a rollout of profile to the group's devices, in waves of
// maxUnavailable.
func (p *FleetPane) Start(group, profile string, devices []string, maxUnavailable int) {
	maxUnavailable = max(maxUnavailable, 1)
	frame := p.scrollFrame
	frame.scroll = 0
	*p = FleetPane{scrollFrame: frame, group: group, profile: profile, maxUnavailable: maxUnavailable,
		waves: (len(devices) + maxUnavailable - 1) / maxUnavailable}
	for i, d := range devices {
		p.rows = append(p.rows, &fleetRow{target: d, wave: i/maxUnavailable + 1, phase: fleet.PhaseBuild})
	}
}

func (p *FleetPane) row(target string) *fleetRow {
	for _, r := range p.rows {
		if r.target == target {
			return r
		}
	}
	r := &fleetRow{target: target}
	p.rows = append(p.rows, r)
	return r
}

// Push records one event of the rollout.
func (p *FleetPane) Push(ev fleet.Event) {
	switch ev := ev.(type) {
	case fleet.DeviceEvent:
		r := p.row(ev.Target)
		r.wave = ev.Wave
		if ev.Progress != nil {
			r.prog = &fleetProgress{sent: ev.Progress.Sent, total: ev.Progress.Total, wire: ev.Progress.WireBytes}
			return
		}
		if ev.Phase != r.phase {
			r.detail, r.err = "", nil
		}
		r.phase = ev.Phase
		if ev.Detail != "" {
			r.detail = ev.Detail
		}
		if ev.Err != nil {
			r.err = ev.Err
		}
	case fleet.WaveEvent:
		if !ev.Done {
			p.wave = ev.Wave
		}
	case fleet.BuildEvent:
		p.pushBuild(ev)
	}
}

func (p *FleetPane) pushBuild(ev fleet.BuildEvent) {
	var b *fleetBuild
	for _, x := range p.builds {
		if strings.Join(x.targets, " ") == strings.Join(ev.Targets, " ") {
			b = x
		}
	}
	if b == nil {
		b = &fleetBuild{targets: ev.Targets, state: stateRunning}
		p.builds = append(p.builds, b)
	}
	if fin, ok := ev.Event.(build.Finished); ok {
		b.took = fin.Result.Duration
		b.state = stateOK
		if fin.Result.Err != nil {
			b.state = stateFailed
		}
	}
}

// Done ends the rollout with its result; err is why it could not run or
// was cancelled.
func (p *FleetPane) Done(res fleet.Result, err error) {
	p.ended = true
	for _, d := range res.Devices {
		r := p.row(d.Target)
		switch d.State {
		case fleet.StateDeployed:
			r.phase, r.detail = fleet.PhaseDone, "sha256 "+shortSum(d.SHA256)
			if d.HealthAttempts > 0 {
				r.detail += ", healthy after " + plural(d.HealthAttempts, "check")
			}
			if d.Delta {
				r.detail += ", sent as a delta"
			}
		case fleet.StateUnchanged:
			r.phase, r.detail = fleet.PhaseDone, "unchanged: sha256 "+shortSum(d.SHA256)+" already there"
		case fleet.StateRolledBack:
			r.phase, r.detail = fleet.PhaseRollback, "rolled back to the previous binary"
		case fleet.StateFailed:
			r.phase = fleet.PhaseFailed
			if d.Err != nil {
				r.err = d.Err
			}
		case fleet.StateNotAttempted:
			r.phase = fleet.PhaseSkipped
		}
	}
	switch {
	case err != nil:
		p.failed, p.summary = true, DeployErrorText(err)
	case res.Err() != nil:
		p.failed, p.summary = true, res.Err().Error()
	default:
		p.summary = fmt.Sprintf("%s on all %d devices in %s", p.profile, len(res.Devices), seconds(res.Duration))
	}
}

// View draws the pane in its frame at exactly the size SetSize gave.
func (p *FleetPane) View() string {
	return p.st.frame("Rollout", "", p.body(), p.fw, p.fh, p.focused)
}

func (p *FleetPane) body() string {
	if p.w == 0 || p.h == 0 {
		return ""
	}
	var lines []string
	add := func(s string) { lines = append(lines, fit(s, p.w)) }
	if p.group == "" {
		add(p.st.Faint.Render("no rollout yet: choose a group in Targets, then d"))
		return scrollView(lines, &p.scroll, p.w, p.h)
	}
	head := fmt.Sprintf("%s to %s: %s, %d at a time", p.profile, p.group, plural(len(p.rows), "device"), p.maxUnavailable)
	if p.wave > 0 && !p.ended {
		head += fmt.Sprintf(", wave %d of %d", p.wave, p.waves)
	}
	add(p.st.Strong.Render(head))
	for _, b := range p.builds {
		add(p.buildLine(b))
	}
	add("")
	nameW := 6
	for _, r := range p.rows {
		nameW = max(nameW, ansi.StringWidth(r.target))
	}
	nameW = min(nameW, max(8, p.w/4))
	for _, r := range p.rows {
		add(p.rowLine(r, nameW))
	}
	if p.summary != "" {
		add("")
		style := p.st.OK
		if p.failed {
			style = p.st.Fail
		}
		for _, l := range strings.Split(ansi.Wordwrap(p.summary, p.w, " /,"), "\n") {
			add(style.Render(l))
		}
	}
	return scrollView(lines, &p.scroll, p.w, p.h)
}

func (p *FleetPane) buildLine(b *fleetBuild) string {
	who := strings.Join(b.targets, " ")
	switch b.state {
	case stateOK:
		return p.st.OK.Render("✓") + " build for " + who + p.st.Faint.Render("  "+seconds(b.took))
	case stateFailed:
		return p.st.Fail.Render("✗ build for "+who) + p.st.Faint.Render("  1 shows the log")
	}
	return p.st.Running.Render("›") + " build for " + who
}

// phaseMark is a phase's mark and word in a device row.
func (p *FleetPane) phaseMark(ph fleet.Phase) string {
	switch ph {
	case fleet.PhaseDone:
		return p.st.OK.Render("✓ done    ")
	case fleet.PhaseFailed:
		return p.st.Fail.Render("✗ failed  ")
	case fleet.PhaseRollback:
		return p.st.Warn.Render("↺ rollback")
	case fleet.PhaseSkipped:
		return p.st.Faint.Render("- skipped ")
	case fleet.PhaseStaged, fleet.PhaseBuild:
		return p.st.Faint.Render(fmt.Sprintf("· %-8s", ph))
	}
	return p.st.Running.Render(fmt.Sprintf("› %-8s", ph))
}

func (p *FleetPane) rowLine(r *fleetRow, nameW int) string {
	left := fmt.Sprintf("%-*s  w%-2d ", nameW, ansi.Truncate(r.target, nameW, "…"), r.wave)
	line := left + p.phaseMark(r.phase) + "  "
	rest := max(p.w-ansi.StringWidth(line), 0)
	switch {
	case r.err != nil:
		return line + p.st.Fail.Render(ansi.Truncate(DeployErrorText(r.err), rest, "…"))
	case r.phase == fleet.PhaseUpload && r.prog != nil && r.prog.total > 0:
		frac := float64(r.prog.sent) / float64(r.prog.total)
		barW := min(20, max(rest-24, 4))
		filled := int(frac * float64(barW))
		bar := strings.Repeat("█", filled) + p.st.Faint.Render(strings.Repeat("░", barW-filled))
		return line + bar + fmt.Sprintf(" %3.0f%% of %s", 100*frac, size(r.prog.total))
	}
	return line + p.st.Faint.Render(ansi.Truncate(r.detail, rest, "…"))
}
