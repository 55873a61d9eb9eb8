package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"github.com/charmbracelet/x/ansi"

	"armbench/detect"
	"armbench/remote"
	"armbench/targets"
)

// AddTarget is the "add target" form: it asks for a host and a user,
// detects the device (a spinner meanwhile; Update never blocks), shows the
// target with the reason for every value, and on confirmation appends it
// to targets.toml and emits TargetAddedMsg so the root reloads its list.
//
// The root opens it as a dialog; it closes once the target was added or
// the user gave up.
type AddTarget struct {
	opts AddTargetOptions
	keys addTargetKeys

	width, height int

	state addState
	form  *huh.Form
	spin  spinner.Model

	// Bound to the form fields.
	host, user, name string
	confirm          bool

	job     int // id of the detection in flight; late results of others are dropped
	cancel  context.CancelFunc
	spec    targets.Target
	result  detect.Result
	unknown *remote.UnknownHostError
	err     error
	added   targets.Target
}

// AddTargetOptions are the add-target form's dependencies.
type AddTargetOptions struct {
	// ConfigPath is the targets.toml to append to (created if missing);
	// never the embedded default.
	ConfigPath string
	// Existing is the loaded configuration, to refuse a taken name while
	// the user types it (AppendTarget checks again on disk).
	Existing *targets.Config
	// Remote configures the SSH connection (known_hosts, timeouts).
	Remote remote.Options
	// Detect probes a device; nil means detect.Probe over SSH.
	Detect func(ctx context.Context, t targets.Target, o remote.Options) (detect.Result, error)
	// TrustKey records the exact key a user was shown for an unknown
	// host (never a key fetched again later); nil means remote.TrustKey.
	TrustKey func(t targets.Target, o remote.Options, e *remote.UnknownHostError) (remote.HostKey, error)
	// Append writes the confirmed target; nil means detect.AppendTarget.
	Append func(path string, t targets.Target, reasons ...detect.Reason) error
	// Styles draw the form; nil means DefaultStyles.
	Styles *Styles
	// Added is what follows a target appended to path (the root reloads
	// its configuration); nil means nothing.
	Added func(t targets.Target, path string) tea.Cmd
}

type addState int

const (
	addAsk       addState = iota // host and user form
	addDetecting                 // probe running
	addTrust                     // unknown host key: trust it?
	addReview                    // result shown, name + confirm form
	addFailed                    // detection failed or not an ARM device
	addDone                      // appended
)

// detectedMsg carries a finished probe back into Update.
type detectedMsg struct {
	job    int
	result detect.Result
	err    error
}

type addTargetKeys struct {
	Close key.Binding
	Retry key.Binding
}

func (k addTargetKeys) ShortHelp() []key.Binding  { return []key.Binding{k.Close, k.Retry} }
func (k addTargetKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// NewAddTarget returns the form, ready for Init.
func NewAddTarget(o AddTargetOptions) *AddTarget {
	if o.Detect == nil {
		o.Detect = detect.Probe
	}
	if o.TrustKey == nil {
		o.TrustKey = remote.TrustKey
	}
	if o.Append == nil {
		o.Append = detect.AppendTarget
	}
	if o.ConfigPath == "" {
		o.ConfigPath = "targets.toml"
	}
	if o.Styles == nil {
		o.Styles = DefaultStyles()
	}
	a := &AddTarget{
		opts: o,
		keys: addTargetKeys{
			Close: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close")),
			Retry: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "try again"), key.WithDisabled()),
		},
		spin:  spinner.New(spinner.WithSpinner(spinner.Line)),
		width: 80, height: 24,
	}
	a.askForm()
	return a
}

func (a *AddTarget) Title() string       { return "Add target" }
func (a *AddTarget) KeyMap() help.KeyMap { return a.keys }

func (a *AddTarget) SetSize(w, h int) {
	a.width, a.height = w, h
	if a.form != nil {
		a.form.WithWidth(max(w, 20))
	}
}

// Init starts the current form (cursor blink, focus).
func (a *AddTarget) Init() tea.Cmd {
	if a.form == nil {
		return nil
	}
	return a.form.Init()
}

func (a *AddTarget) newForm(groups ...*huh.Group) {
	a.form = huh.NewForm(groups...).
		WithShowHelp(true).
		WithWidth(max(a.width, 20)).
		WithTheme(huh.ThemeFunc(huh.ThemeBase))
}

func (a *AddTarget) askForm() {
	a.state = addAsk
	a.newForm(huh.NewGroup(
		huh.NewInput().Title("Host").
			Description("name or address of the device; HOST:PORT and [IPv6]:PORT work").
			Placeholder("raspberrypi.local").
			Value(&a.host).
			Validate(func(s string) error {
				if strings.TrimSpace(s) == "" {
					return errors.New("enter the device's host name or address")
				}
				_, err := detect.TargetFor(s)
				return err
			}),
		huh.NewInput().Title("User").
			Description("login on the device; empty = from ~/.ssh/config or your user name").
			Placeholder("pi").
			Value(&a.user).
			Validate(func(s string) error {
				if strings.ContainsAny(s, " \t@:/") || strings.HasPrefix(s, "-") {
					return fmt.Errorf("%q is not a login name", s)
				}
				return nil
			}),
	))
}

func (a *AddTarget) reviewForm() {
	a.state = addReview
	a.name = a.result.Target.Name
	a.confirm = true
	a.newForm(huh.NewGroup(
		huh.NewInput().Title("Name").
			Description("how the target is called in targets.toml").
			Value(&a.name).
			Validate(a.validName),
		huh.NewConfirm().Title("Add it to "+a.opts.ConfigPath+"?").
			Affirmative("Add").Negative("Cancel").
			Value(&a.confirm),
	))
}

func (a *AddTarget) trustForm() {
	a.state = addTrust
	a.confirm = false
	a.newForm(huh.NewGroup(
		huh.NewConfirm().
			Title("Trust this host key?").
			Description(fmt.Sprintf("%s is not in %s.\n%s key fingerprint is %s.\nCompare it with the device's own (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) before trusting.",
				a.unknown.Host, a.unknown.File, a.unknown.KeyType, a.unknown.Fingerprint)).
			Affirmative("Trust").Negative("No").
			Value(&a.confirm),
	))
}

func (a *AddTarget) validName(s string) error {
	t := a.result.Target
	t.Name = s
	if _, err := targets.Parse("name", []byte(detect.TOML(t, nil))); err != nil {
		var el targets.ErrorList
		if errors.As(err, &el) && len(el) > 0 {
			return errors.New(el[0].Msg)
		}
		return err
	}
	if a.opts.Existing != nil {
		if _, ok := a.opts.Existing.Lookup(s); ok {
			return fmt.Errorf("%s already has a target named %q", a.opts.ConfigPath, s)
		}
	}
	return nil
}

// startDetect runs the probe as a command; its result comes back as a
// detectedMsg tagged with the job id.
func (a *AddTarget) startDetect() tea.Cmd {
	spec := strings.TrimSpace(a.host)
	if u := strings.TrimSpace(a.user); u != "" {
		spec = u + "@" + spec
	}
	t, err := detect.TargetFor(spec)
	if err != nil {
		a.state, a.err = addFailed, err
		return nil
	}
	a.spec = t
	a.stopDetect()
	a.job++
	job := a.job
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	a.state, a.err, a.unknown = addDetecting, nil, nil
	probe, o := a.opts.Detect, a.opts.Remote
	run := func() tea.Msg {
		defer cancel()
		r, err := probe(ctx, t, o)
		return detectedMsg{job: job, result: r, err: err}
	}
	return tea.Batch(run, a.spin.Tick)
}

func (a *AddTarget) stopDetect() {
	if a.cancel != nil {
		a.cancel()
		a.cancel = nil
	}
}

// Update handles keys and the probe's result; done reports that the form
// added a target or was closed.
func (a *AddTarget) Update(msg tea.Msg) (cmd tea.Cmd, done bool) {
	cmd = a.update(msg)
	return cmd, a.state == addDone
}

func (a *AddTarget) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case detectedMsg:
		if msg.job != a.job || a.state != addDetecting {
			return nil // a cancelled probe's late answer
		}
		a.cancel = nil
		return a.detected(msg)
	case spinner.TickMsg:
		if a.state != addDetecting {
			return nil
		}
		var cmd tea.Cmd
		a.spin, cmd = a.spin.Update(msg)
		return cmd
	case tea.KeyPressMsg:
		if key.Matches(msg, a.keys.Close) {
			a.stopDetect()
			a.state = addDone
			return nil
		}
		if a.state == addFailed && key.Matches(msg, a.keys.Retry) {
			a.keys.Retry.SetEnabled(false)
			a.askForm()
			return a.form.Init()
		}
	}
	if a.form == nil || (a.state != addAsk && a.state != addReview && a.state != addTrust) {
		return nil
	}
	m, cmd := a.form.Update(msg)
	if f, ok := m.(*huh.Form); ok {
		a.form = f
	}
	switch a.form.State {
	case huh.StateCompleted:
		return tea.Batch(cmd, a.submitted())
	case huh.StateAborted:
		a.state = addDone
		return nil
	}
	return cmd
}

// submitted moves on from a completed form.
func (a *AddTarget) submitted() tea.Cmd {
	switch a.state {
	case addAsk:
		return a.startDetect()
	case addTrust:
		if !a.confirm {
			a.fail(fmt.Errorf("host key of %s not trusted; nothing was added", a.unknown.Host))
			return nil
		}
		if _, err := a.opts.TrustKey(a.spec, a.opts.Remote, a.unknown); err != nil {
			a.fail(fmt.Errorf("trust %s: %w", a.unknown.Host, err))
			return nil
		}
		return a.startDetect()
	case addReview:
		if !a.confirm {
			a.state = addDone
			return nil
		}
		t := a.result.Target
		t.Name = strings.TrimSpace(a.name)
		if err := a.opts.Append(a.opts.ConfigPath, t, a.result.Reasons...); err != nil {
			a.fail(err)
			return nil
		}
		a.state, a.added = addDone, t
		if a.opts.Added == nil {
			return nil
		}
		return a.opts.Added(t, a.opts.ConfigPath)
	}
	return nil
}

func (a *AddTarget) detected(msg detectedMsg) tea.Cmd {
	var unknown *remote.UnknownHostError
	switch {
	case errors.As(msg.err, &unknown):
		a.unknown = unknown
		a.trustForm()
		return a.form.Init()
	case msg.err != nil:
		a.fail(msg.err)
	case !msg.result.OK():
		a.result = msg.result
		a.fail(msg.result.Err)
	default:
		a.result = msg.result
		a.reviewForm()
		return a.form.Init()
	}
	return nil
}

func (a *AddTarget) fail(err error) {
	a.state, a.err = addFailed, err
	a.keys.Retry.SetEnabled(true)
}

// View draws the current step in width×height cells.
func (a *AddTarget) View() string {
	st := a.opts.Styles
	var lines []string
	add := func(s string) { lines = append(lines, strings.Split(s, "\n")...) }
	add(st.Strong.Render("Add a target") + st.Faint.Render("  — detects the device over SSH"))
	add("")
	switch a.state {
	case addAsk, addTrust:
		add(a.form.View())
	case addDetecting:
		add(a.spin.View() + " detecting " + addAddr(a.spec) + " …")
		add(st.Faint.Render("reading uname, dpkg, /proc/cpuinfo, the device tree and getconf"))
	case addReview:
		add(fmt.Sprintf("%s is a %s: %s", addAddr(a.spec), a.result.Board, a.result.Target.Arch()))
		add("")
		for _, r := range a.result.Reasons {
			add("  " + r.String())
		}
		add("")
		add(a.form.View())
	case addFailed:
		add(st.Error.Render("✗ " + firstLine(a.err.Error())))
		for _, l := range strings.Split(a.err.Error(), "\n")[1:] {
			add("  " + l)
		}
		for _, r := range a.result.Reasons {
			add("  " + r.String())
		}
		add("")
		add(st.Faint.Render("r try again · esc close"))
	case addDone:
		if a.added.Name != "" {
			add(st.OK.Render("✓") + fmt.Sprintf(" added %s (%s) to %s", a.added.Name, a.added.Arch(), a.opts.ConfigPath))
		}
	}
	return addFitBlock(lines, a.width, a.height)
}

func addAddr(t targets.Target) string {
	s := t.Host
	if t.Port != 0 {
		s = fmt.Sprintf("%s:%d", s, t.Port)
		if strings.Contains(t.Host, ":") {
			s = fmt.Sprintf("[%s]:%d", t.Host, t.Port)
		}
	}
	if t.User != "" {
		s = t.User + "@" + s
	}
	return s
}

// addFitBlock cuts lines to w cells and h rows, so the form never draws
// outside the space the root gave it.
func addFitBlock(lines []string, w, h int) string {
	if h > 0 && len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		if w > 0 && ansi.StringWidth(l) > w {
			lines[i] = ansi.Truncate(l, w, "…")
		}
	}
	return strings.Join(lines, "\n")
}
