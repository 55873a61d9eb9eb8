package main

import (
	"context"

	"armbench/cli"
	"armbench/remote"
	"armbench/state"
	"armbench/ui"
)

// runTUI opens the workbench on the loaded workspace.
func runTUI(ctx context.Context, w cli.Workspace) error {
	return ui.Run(ctx, ui.Options{
		Config:   w.Config,
		Profiles: w.Profiles,
		Pkg:      w.Pkg,
		Dir:      w.Dir,
		LogFile:  ".armbench/armbench.log",
		// A target added from the TUI appears after the same load the
		// headless commands do (--config, $ARMBENCH_CONFIG, ./targets.toml).
		Reload:   w.Reload,
		Embedded: defaultTargets,
		Bench:    ui.BenchOptions{Count: w.Count, Bench: w.Bench, Benchtime: w.Benchtime},
		Present:  w.Present,
		// Installed binaries' hashes are remembered here, as the CLI does,
		// so an unchanged redeploy needs no hashing on the device.
		Remote: remote.Options{StateDir: state.Dir(w.Dir)},
	})
}
