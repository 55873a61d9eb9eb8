package main

import (
	"context"

	"armbench/profiles"
	"armbench/targets"
	"armbench/ui"
)

// runTUI opens the workbench on the loaded workspace.
func runTUI(ctx context.Context, c *cli, bench ui.BenchOptions) error {
	w, err := c.load()
	if err != nil {
		return err
	}
	return ui.Run(ctx, ui.Options{
		Config:   w.cfg,
		Profiles: w.profiles,
		Pkg:      w.pkg,
		Dir:      c.dir,
		LogFile:  ".armbench/armbench.log",
		// A target added from the TUI appears after the same load the
		// headless commands do (--config, $ARMBENCH_CONFIG, ./targets.toml).
		Reload: func() (*targets.Config, []profiles.Profile, error) {
			w, err := c.load()
			if err != nil {
				return nil, nil, err
			}
			return w.cfg, w.profiles, nil
		},
		Embedded: defaultTargets,
		Bench:    bench,
	})
}
