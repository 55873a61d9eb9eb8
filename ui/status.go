package ui

import (
	"fmt"
	"strings"
	"time"

	"armbench/build"
)

// buildState is where one profile's build is.
type buildState int

const (
	stateRunning buildState = iota
	stateOK
	stateFailed
	stateCancelled
)

func (s buildState) String() string {
	switch s {
	case stateRunning:
		return "building"
	case stateOK:
		return "ok"
	case stateFailed:
		return "FAILED"
	case stateCancelled:
		return "cancelled"
	}
	return "?"
}

// StatusBar is the line (or few lines) under the panes: what the current
// build is doing, then each profile's outcome with its artifact summary.
type StatusBar struct {
	common *Common
	width  int
}

func NewStatusBar(c *Common) *StatusBar { return &StatusBar{common: c} }

func (s *StatusBar) SetSize(w int) { s.width = w }

// maxStatusProfiles caps the per-profile lines; the log tabs show the rest.
const maxStatusProfiles = 3

// Lines renders the status for job j (nil before the first build) at time
// now; spin is the spinner frame shown while building, notice a one-shot
// message that replaces the idle hint.
func (s *StatusBar) Lines(j *job, now time.Time, spin, notice, idle string) []string {
	st := s.common.Styles
	var out []string
	add := func(l string) { out = append(out, fit(l, s.width)) }
	if j == nil {
		if notice != "" {
			add(st.Error.Render(notice))
		} else {
			add(st.Dim.Render(idle))
		}
		return out
	}
	what := fmt.Sprintf("%s × %s", j.target, strings.Join(j.profiles, ","))
	switch {
	case j.running():
		add(st.Running.Render(spin+" building "+what) + st.Dim.Render(" · "+seconds(now.Sub(j.start))+" · x cancels"))
	case j.cancelled:
		add(st.Cancelled.Render("cancelled ") + what + st.Dim.Render(" after "+seconds(j.end.Sub(j.start))))
	default:
		ok := 0
		for _, state := range j.states {
			if state == stateOK {
				ok++
			}
		}
		label := st.OK.Render("built ")
		if ok < len(j.states) {
			label = st.Fail.Render(fmt.Sprintf("%d of %d failed ", len(j.states)-ok, len(j.states)))
		}
		add(label + what + st.Dim.Render(" in "+seconds(j.end.Sub(j.start))))
	}
	if notice != "" {
		out[0] = fit(out[0]+st.Error.Render("  "+notice), s.width)
	}
	nameW := 0
	for _, p := range j.profiles {
		nameW = max(nameW, len(p))
	}
	for i := range j.profiles {
		if i == maxStatusProfiles && len(j.profiles) > maxStatusProfiles+1 {
			add(st.Dim.Render(fmt.Sprintf("  … %d more: [ and ] switch log tabs", len(j.profiles)-i)))
			break
		}
		add("  " + pad(j.profiles[i], nameW) + "  " + s.profileLine(j, i, now))
	}
	return out
}

func (s *StatusBar) profileLine(j *job, i int, now time.Time) string {
	st := s.common.Styles
	r := j.results[i]
	switch j.states[i] {
	case stateRunning:
		return st.Running.Render("building") + " " + seconds(now.Sub(j.start))
	case stateCancelled:
		return st.Cancelled.Render("cancelled")
	case stateFailed:
		msg := st.Fail.Render("FAILED")
		if r == nil {
			return msg
		}
		msg += " " + seconds(r.Duration)
		if r.ExitCode > 0 {
			msg += fmt.Sprintf(" exit %d", r.ExitCode)
		}
		if r.Artifact != nil {
			if bad := failedChecks(r.Artifact); bad != "" {
				return msg + " checks: " + bad
			}
		}
		switch {
		case j.firstErr[i] != "":
			// The compiler's words beat "exit status 1"; e finds the line.
			msg += " " + j.firstErr[i] + st.Dim.Render(" (e)")
		case r.Err != nil:
			msg += " " + st.Dim.Render(firstLine(r.Err.Error()))
		}
		return msg
	}
	// stateOK
	msg := st.OK.Render("ok") + " "
	if r == nil {
		return msg
	}
	msg += seconds(r.Duration)
	a := r.Artifact
	if a == nil {
		return msg
	}
	link := "dynamic"
	if a.Static {
		link = "static"
	}
	strip := "not stripped"
	if a.Stripped {
		strip = "stripped"
	}
	sum := a.SHA256
	if len(sum) > 12 {
		sum = sum[:12]
	}
	passed := 0
	for _, c := range a.Checks {
		if c.OK {
			passed++
		}
	}
	return fmt.Sprintf("%s  %s  sha256 %s  %s %s  checks %d/%d", msg, size(a.Size), sum, link, strip, passed, len(a.Checks))
}

func failedChecks(a *build.Artifact) string {
	var bad []string
	for _, c := range a.Checks {
		if !c.OK {
			bad = append(bad, fmt.Sprintf("%s want %s got %s", c.Name, c.Want, c.Got))
		}
	}
	return strings.Join(bad, "; ")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func seconds(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
