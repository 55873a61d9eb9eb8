package ui

import (
	"context"
	"io"
	"log"
	"path/filepath"
	"time"

	"armbench/build"
	"armbench/deploy"
	"armbench/profiles"
	"armbench/remote"
	"armbench/state"
	"armbench/targets"
)

// env is everything outside the TUI that it works with: the engines, the
// device connections, the clock and the debug log. It is a value so that
// a Model's wiring is visible in one place and carries no global state;
// tests replace parts of it.
type env struct {
	ctx    context.Context // cancelled when armbench stops
	now    func() time.Time
	logger *log.Logger
	logOut io.Closer // the debug log file, nil when there is none

	resolve func(targets.Target, profiles.Profile, profiles.Options) (profiles.Plan, error)
	runAll  func(ctx context.Context, plans []profiles.Plan, parallel int, emit func(int, build.Event)) []build.Result
	device  func(context.Context, targets.Target) (remote.Device, error) // pool.Get
	// prewarm is pool.Prewarm: a deploy's connection and first question,
	// started while its build runs.
	prewarm func(ctx context.Context, t targets.Target, names ...string) error
	pool    *remote.Pool
	remote  remote.Options  // with the passphrase asked through asker
	helpers *deploy.Helpers // the delta helper's builder, nil when Options.Remote brought its own
	asker   *passphraseAsker

	bench BenchOptions
	// metrics is the exporter M started, nil while off; metricsAddr is
	// where M serves.
	metrics     *metricsServer
	metricsAddr string
	reload      func() (*targets.Config, []profiles.Profile, error)
	embedded    []byte
	outRoot     string // "" = profiles.DefaultOutRoot; tests build into a temp dir
}

func newEnv(opts Options) env {
	e := env{
		ctx:         context.Background(),
		now:         time.Now,
		logger:      log.New(io.Discard, "", 0),
		resolve:     profiles.Resolve,
		runAll:      build.RunAll,
		asker:       newPassphraseAsker(),
		remote:      opts.Remote,
		bench:       opts.Bench,
		metricsAddr: opts.MetricsAddr,
		reload:      opts.Reload,
		embedded:    opts.Embedded,
	}
	if e.remote.Passphrase == nil {
		e.remote.Passphrase = e.asker.ask
	}
	if e.remote.SSHWarn == nil {
		// Never on the terminal the TUI draws on: in the debug log, read
		// at the time of the warning (the log opens after this).
		e.remote.SSHWarn = func(w remote.SSHWarning) { e.logger.Printf("ssh_config: %s", w) }
	}
	if e.remote.ELFZHelper == nil {
		// Deltas of default-profile binaries go through the device-side
		// helper, built once per toolchain and architecture by the same
		// go command as the binaries.
		e.helpers = deploy.NewHelpers(deploy.HelperCacheDir(filepath.Join(opts.Dir, profiles.DefaultOutRoot)))
		e.remote.ELFZHelper, e.remote.ELFZWarm = e.helpers.Helper, e.helpers.Warm
	}
	if e.metricsAddr == "" {
		e.metricsAddr = DefaultMetricsAddr
	}
	e.pool = remote.NewPool(e.remote)
	e.device = e.pool.Get
	e.prewarm = e.pool.Prewarm
	return e
}

// history is where every install the TUI makes is recorded, for status.
func (e *env) history() state.History { return state.History{Dir: e.remote.StateDir} }

// pipeline is the deploy pipeline of the TUI's deploys: over the pool's
// connection, every install recorded for status.
func (e *env) pipeline() deploy.Pipeline {
	device := e.device
	return deploy.Pipeline{
		Remote:  e.remote,
		History: e.history(),
		Now:     e.now,
		Connect: func(ctx context.Context, t targets.Target, _ []string) (remote.Device, error) {
			return device(ctx, t)
		},
	}
}

func (m *Model) logf(format string, args ...any) { m.env.logger.Printf(format, args...) }
