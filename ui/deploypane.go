package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/progress"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/dustin/go-humanize"

	"armbench/remote"
	"armbench/targets"
)

// DeployPane shows deploys to one target, one block per binary (profile):
// the four steps (connect → upload → verify → install), a progress bar
// with rate, ETA and bytes on the wire while uploading, and the outcome —
// the installed path and checksum, "unchanged" for a skipped upload, or
// the error with what it means for the device.
//
// Start a deploy, feed it remote events (Push, Done), draw it with View.
// The progress bar is drawn from the last Progress event (no animation),
// so the pane never schedules frames of its own.
type DeployPane struct {
	scrollFrame
	target string
	addr   string
	items  []*deployBlock
	notice string // a failure before any binary started (connect, trust)
	bar    progress.Model
}

// deploySteps are the steps in the order a deploy goes through them.
var deploySteps = []string{"connect", "upload", "verify", "install"}

type stepState int

const (
	stepPending stepState = iota
	stepRunning
	stepDone
	stepFailed
	stepSkipped
)

type deployBlock struct {
	name     string
	steps    [4]stepState
	prog     remote.Progress
	uploaded bool // a Progress event arrived
	done     bool
	inst     remote.Installed
	err      error
	warning  string // went through, with something the user should know
}

// NewDeployPane returns an empty pane.
func NewDeployPane(st *Styles) *DeployPane {
	return &DeployPane{
		scrollFrame: newScrollFrame(st),
		bar:         progress.New(progress.WithColors(st.Bar), progress.WithoutPercentage(), progress.WithFillCharacters('█', '░')),
	}
}

// Start begins a deploy of names (deployed binary names, or profiles) to t.
func (p *DeployPane) Start(t targets.Target, names []string) {
	p.target, p.addr, p.notice, p.scroll = t.Name, targetAddr(t), "", 0
	p.items = p.items[:0]
	for _, n := range names {
		p.items = append(p.items, &deployBlock{name: n})
	}
}

// targetAddr is how the header names the device.
func targetAddr(t targets.Target) string {
	if t.IsLocal() {
		return "this machine, " + t.DeployDir
	}
	s := t.Host
	if t.User != "" {
		s = t.User + "@" + s
	}
	if t.Port != 0 && t.Port != 22 {
		s += ":" + strconv.Itoa(t.Port)
	}
	if t.DeployDir != "" {
		s += ", " + t.DeployDir
	}
	return s
}

func (p *DeployPane) item(i int) *deployBlock {
	if i < 0 {
		return nil
	}
	for len(p.items) <= i {
		p.items = append(p.items, &deployBlock{name: fmt.Sprintf("#%d", len(p.items)+1)})
	}
	return p.items[i]
}

func stepIndex(name string) int {
	for i, s := range deploySteps {
		if s == name {
			return i
		}
	}
	return -1
}

// Push records one remote event of binary i.
func (p *DeployPane) Push(i int, ev remote.Event) {
	b := p.item(i)
	if b == nil || b.done {
		return
	}
	switch ev := ev.(type) {
	case remote.Step:
		k := stepIndex(ev.Name)
		if k < 0 {
			return
		}
		switch {
		case ev.Err != nil:
			b.steps[k] = stepFailed
		case ev.Done:
			b.steps[k] = stepDone
		default:
			b.steps[k] = stepRunning
			for j := 0; j < k; j++ {
				if b.steps[j] == stepPending || b.steps[j] == stepRunning {
					b.steps[j] = stepDone
				}
			}
		}
	case remote.Progress:
		b.prog, b.uploaded = ev, true
	}
}

// Done ends binary i with its result.
func (p *DeployPane) Done(i int, inst remote.Installed, err error) {
	b := p.item(i)
	if b == nil {
		return
	}
	b.done, b.inst, b.err = true, inst, err
	for k := range b.steps {
		switch {
		case err == nil && inst.Skipped && k > 0:
			b.steps[k] = stepSkipped
		case err == nil:
			b.steps[k] = stepDone
		case b.steps[k] == stepRunning:
			b.steps[k] = stepFailed
		}
	}
	if err != nil && !failedAny(b.steps) {
		b.steps[0] = stepFailed // failed before any step began: connecting
	}
}

// Warn adds a warning under binary i's outcome, such as an install that
// could not be recorded for status.
func (p *DeployPane) Warn(i int, text string) {
	if b := p.item(i); b != nil {
		b.warning = text
	}
}

func failedAny(s [4]stepState) bool {
	for _, x := range s {
		if x == stepFailed {
			return true
		}
	}
	return false
}

// ConnectFailed ends every unfinished binary with err (the connection, or
// the host key, failed before any deploy could start).
func (p *DeployPane) ConnectFailed(err error) {
	p.notice = DeployErrorText(err)
	for i, b := range p.items {
		if !b.done {
			p.Done(i, remote.Installed{}, err)
		}
	}
}

// View draws the pane in its frame at exactly the size SetSize gave.
func (p *DeployPane) View() string {
	return p.st.frame("Deploy", "", p.body(), p.fw, p.fh, p.focused)
}

// body is the pane inside its frame.
func (p *DeployPane) body() string {
	if p.w == 0 || p.h == 0 {
		return ""
	}
	var lines []string
	add := func(s string) { lines = append(lines, fit(s, p.w)) }
	if p.target == "" {
		add(p.st.Faint.Render("nothing deployed yet: d builds and deploys the ticked profiles"))
	} else {
		add(p.st.Strong.Render("deploy to "+p.target) + p.st.Faint.Render("  ("+p.addr+")"))
	}
	if p.notice != "" {
		add(p.st.Fail.Render(p.notice))
	}
	nameW := 0
	for _, b := range p.items {
		nameW = max(nameW, lipgloss.Width(b.name))
	}
	nameW = min(nameW, max(8, p.w/3))
	indent := strings.Repeat(" ", nameW+2)
	for _, b := range p.items {
		add("")
		add(p.st.Strong.Render(fit(b.name, nameW)) + "  " + p.stepsLine(b, p.w-nameW-2))
		for _, l := range p.detail(b, p.w-nameW-2) {
			add(indent + l)
		}
	}
	return scrollView(lines, &p.scroll, p.w, p.h)
}

func (p *DeployPane) stepsLine(b *deployBlock, w int) string {
	var parts []string
	for k, name := range deploySteps {
		var s string
		switch b.steps[k] {
		case stepPending:
			s = p.st.Faint.Render("· " + name)
		case stepRunning:
			s = p.st.Running.Render("› " + name)
		case stepDone:
			s = p.st.OK.Render("✓") + " " + name
		case stepFailed:
			s = p.st.Fail.Render("✗ " + name)
		case stepSkipped:
			s = p.st.Faint.Render("- " + name)
		}
		parts = append(parts, s)
	}
	sep := " → "
	if w < 52 {
		sep = " " // the four steps still fit in 40 columns
	}
	return strings.Join(parts, p.st.Faint.Render(sep))
}

// detail is the lines under a block's steps: the bar while uploading,
// the outcome when done, and a warning, wrapped rather than cut.
func (p *DeployPane) detail(b *deployBlock, w int) []string {
	lines := p.outcome(b, w)
	if b.warning != "" && b.done && b.err == nil {
		for _, l := range strings.Split(ansi.Wordwrap(b.warning, max(w, 20), " /"), "\n") {
			lines = append(lines, p.st.Fail.Render(l))
		}
	}
	return lines
}

// outcome is the bar while uploading, the outcome when done.
func (p *DeployPane) outcome(b *deployBlock, w int) []string {
	switch {
	case b.done && b.err != nil:
		// The error says host and step, so it is worth three lines.
		text := ansi.Wordwrap("FAILED "+DeployErrorText(b.err), max(w, 20), " /")
		lines := strings.Split(text, "\n")
		if len(lines) > 3 {
			lines = append(lines[:2], lines[2]+"…")
			lines = lines[:3]
		}
		lines[0] = p.st.Fail.Render("FAILED") + strings.TrimPrefix(lines[0], "FAILED")
		return lines
	case b.done && b.inst.Skipped:
		head := p.st.OK.Render("unchanged") + " " + b.inst.Path
		sum := "sha256 " + shortSum(b.inst.SHA256) + " already on the device, nothing sent"
		if ansi.StringWidth(head)+2+len(sum) > w {
			return []string{head, p.st.Faint.Render(sum)}
		}
		return []string{head + p.st.Faint.Render("  "+sum)}
	case b.done:
		head := p.st.OK.Render("installed") + " " + b.inst.Path
		sum := fmt.Sprintf("sha256 %s  %s", shortSum(b.inst.SHA256), b.inst.Duration.Round(10*time.Millisecond))
		lines := []string{head + p.st.Faint.Render("  "+sum)}
		if ansi.StringWidth(lines[0]) > w {
			// A long path (a local deploy_dir) would cut the checksum: give it a line.
			lines = []string{head, p.st.Faint.Render(sum)}
		}
		var more []string
		if b.inst.WireBytes > 0 && b.prog.Total > 0 {
			sent := fmt.Sprintf("%s sent for %s", humanize.IBytes(uint64(b.inst.WireBytes)), humanize.IBytes(uint64(b.prog.Total)))
			if kind := deltaWords(b.inst); kind != "" {
				sent += " (" + kind + ")"
			}
			more = append(more, sent)
		}
		if b.inst.Previous != "" {
			more = append(more, "previous kept as "+lastElem(b.inst.Previous))
		}
		if joined := strings.Join(more, " · "); ansi.StringWidth(joined) <= w {
			lines = append(lines, p.st.Faint.Render(joined))
		} else {
			for _, m := range more { // one a line rather than cut
				lines = append(lines, p.st.Faint.Render(m))
			}
		}
		return lines
	case b.uploaded:
		pg := b.prog
		frac := 0.0
		if pg.Total > 0 {
			frac = float64(pg.Sent) / float64(pg.Total)
		}
		pct := fmt.Sprintf(" %3.0f%%", 100*frac)
		p.bar.SetWidth(max(10, min(60, w-len(pct))))
		lines := []string{p.bar.ViewAs(frac) + pct}
		info := fmt.Sprintf("%s / %s", humanize.IBytes(uint64(pg.Sent)), humanize.IBytes(uint64(pg.Total)))
		if pg.Rate > 0 {
			info += fmt.Sprintf(" · %s/s", humanize.IBytes(uint64(int64(pg.Rate))))
		}
		if pg.ETA > 0 && pg.Sent < pg.Total {
			info += " · ETA " + pg.ETA.Round(100*time.Millisecond).String()
		}
		if pg.WireBytes > 0 {
			info += fmt.Sprintf(" · %s on the wire", humanize.IBytes(uint64(pg.WireBytes)))
		}
		return append(lines, p.st.Faint.Render(info))
	}
	return nil
}

func lastElem(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[i+1:]
	}
	return path
}

// deltaWords names how a redeploy was sent when it was a delta: "elfz
// delta" (between the expanded forms, through the device's helper) or
// "delta"; "" for a whole binary.
func deltaWords(in remote.Installed) string {
	switch {
	case !in.Delta:
		return ""
	case in.DeltaKind == remote.DeltaELFZ:
		return "elfz delta"
	}
	return "delta"
}
