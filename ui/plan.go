package ui

import (
	"charm.land/bubbles/v2/help"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"armbench/profiles"
)

// planEntry is one (target, profile) pair resolved into a Plan, or the
// reason it could not be.
type planEntry struct {
	Profile string
	Plan    profiles.Plan
	Err     error
	Members []string // the group's devices that share this plan's binary
}

// PlanPane shows the exact commands a build runs, so that what armbench
// does can be pasted into a shell and checked by hand.
type PlanPane struct {
	common  *Common
	keys    ScrollKeys
	width   int
	height  int
	focused bool

	entries []planEntry
	preview bool // nothing ticked: showing the profile under the cursor
	lines   []string
	offset  int
}

func NewPlanPane(c *Common) *PlanPane {
	return &PlanPane{common: c, keys: newScrollKeys()}
}

func (p *PlanPane) SetSize(w, h int) {
	if w != p.width {
		p.width = w
		p.layout()
	}
	p.height = h
	p.clamp()
}

func (p *PlanPane) Focus()              { p.focused = true }
func (p *PlanPane) Blur()               { p.focused = false }
func (p *PlanPane) KeyMap() help.KeyMap { return p.keys }

func (p *PlanPane) Title() string {
	if p.preview {
		return "Plan (preview: space ticks the profile)"
	}
	return "Plan"
}

// SetPlans replaces what the pane shows.
func (p *PlanPane) SetPlans(entries []planEntry, preview bool) {
	p.entries, p.preview = entries, preview
	p.layout()
	p.clamp()
}

// Entries returns what the pane shows.
func (p *PlanPane) Entries() []planEntry { return p.entries }

func (p *PlanPane) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	switch {
	case key.Matches(km, p.keys.Up):
		p.offset--
	case key.Matches(km, p.keys.Down):
		p.offset++
	}
	p.clamp()
	return nil
}

func (p *PlanPane) clamp() {
	body := max(p.height-2, 0)
	p.offset = max(min(p.offset, len(p.lines)-body), 0)
}

// ContentHeight is how many rows the pane needs to show everything.
func (p *PlanPane) ContentHeight() int { return len(p.lines) + 2 }

// layout renders every entry into lines of the current width; it runs on
// change, not per frame.
func (p *PlanPane) layout() {
	st := p.common.Styles
	inner := p.width - 2
	p.lines = p.lines[:0]
	if inner < 8 {
		return
	}
	add := func(s string) { p.lines = append(p.lines, fit(s, inner)) }
	if len(p.entries) == 0 {
		add(st.Dim.Render("Choose a target and tick profiles to see the build commands."))
	} else if note := profiles.ShellNote(); note != "" {
		for _, l := range wrapComment(note, inner) {
			add(st.Comment.Render(l))
		}
	}
	for i, e := range p.entries {
		if i > 0 {
			add("")
		}
		if e.Err != nil {
			for _, l := range wrapComment(fmt.Sprintf("%s: %v", e.Profile, e.Err), inner) {
				add(st.Error.Render(l))
			}
			continue
		}
		on := e.Plan.Target.Name
		if len(e.Members) > 0 {
			on = strings.Join(e.Members, " ")
		}
		add(st.Comment.Render(fmt.Sprintf("# %s on %s (%s)", e.Profile, on, e.Plan.Target.Arch())))
		for _, l := range wrapCommand(e.Plan.Shell(), inner) {
			add(st.Command.Render(l))
		}
		for _, n := range e.Plan.Notes {
			for _, l := range wrapComment("note: "+n, inner) {
				add(st.Comment.Render(l))
			}
		}
		if run := runShellOf(e.Plan); run != "" {
			add(st.Comment.Render("# run it with the profile's runtime settings:"))
			for _, l := range wrapCommand(run, inner) {
				add(st.Command.Render(l))
			}
		}
	}
}

// wrapCommand breaks a shell command between words, ending each broken
// line with " \" so the wrapped text still pastes as one command. A word
// longer than the line is split hard (it would not fit any other way).
func wrapCommand(cmd string, width int) []string {
	const indent = "  "
	limit := width - len(" \\") // every line but the last ends in " \\"
	var out []string
	line := ""
	words := shellWords(cmd)
	for i, w := range words {
		room := limit
		if i == len(words)-1 {
			room = width // the last line needs no continuation
		}
		switch {
		case line == "":
			line = w
		case ansi.StringWidth(line)+1+ansi.StringWidth(w) <= room:
			line += " " + w
		default:
			out = append(out, line+" \\")
			line = indent + w
		}
		for ansi.StringWidth(line) > room {
			out = append(out, ansi.Cut(line, 0, room))
			line = indent + ansi.Cut(line, room, ansi.StringWidth(line))
		}
	}
	if line != "" {
		out = append(out, line)
	}
	return out
}

// wrapWords wraps prose at spaces only: flags such as -ldflags=-s stay
// whole, where ansi.Wordwrap would break them at the hyphen. Words longer
// than the line are cut.
func wrapWords(text string, width int) []string {
	var out []string
	line := ""
	for _, w := range strings.Fields(text) {
		switch {
		case line == "":
			line = w
		case ansi.StringWidth(line)+1+ansi.StringWidth(w) <= width:
			line += " " + w
		default:
			out = append(out, line)
			line = w
		}
		for ansi.StringWidth(line) > width {
			out = append(out, ansi.Cut(line, 0, width))
			line = ansi.Cut(line, width, ansi.StringWidth(line))
		}
	}
	if line != "" {
		out = append(out, line)
	}
	return out
}

// wrapComment wraps text as a shell comment that is one on every line it
// takes: each line starts with "# ", so the pane pasted into a shell never
// runs the tail of a long note (Windows' POSIX-sh note at 80 columns was
// such a line) as a command.
func wrapComment(text string, width int) []string {
	lines := wrapWords(text, max(width-2, 1))
	for i, l := range lines {
		lines[i] = "# " + l
	}
	return lines
}

// shellWords splits a printed command at spaces outside quotes, so a
// quoted value such as -ldflags='-s -w' is never broken across lines.
func shellWords(s string) []string {
	var words []string
	var quote byte
	start := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
			if start < 0 {
				start = i
			}
		case c == ' ':
			if start >= 0 {
				words = append(words, s[start:i])
				start = -1
			}
			continue
		default:
			if start < 0 {
				start = i
			}
		}
	}
	if start >= 0 {
		words = append(words, s[start:])
	}
	return words
}

func (p *PlanPane) View() string {
	var b strings.Builder
	body := max(p.height-2, 0)
	end := min(p.offset+body, len(p.lines))
	footer := ""
	if len(p.lines) > body {
		footer = fmt.Sprintf("%d-%d/%d", p.offset+1, end, len(p.lines))
	}
	p.common.Styles.box(&b, p.Title(), footer, p.lines[p.offset:end], p.width, p.height, p.focused)
	return b.String()
}

// runShellOf is the command that runs the built artifact with the
// profile's runtime settings, or "" when the profile sets none (then
// running it is just the binary).
func runShellOf(p profiles.Plan) string {
	if len(p.RunEnv) == 0 {
		return ""
	}
	return p.RunShell(p.OutputPath())
}
