package main

import (
	"context"

	"armbench/ui"
)

// runTUI opens the workbench on the loaded workspace.
func runTUI(ctx context.Context, c *cli) error {
	w, err := c.load()
	if err != nil {
		return err
	}
	return ui.Run(ctx, ui.Options{Config: w.cfg, Profiles: w.profiles, Pkg: w.pkg, Dir: c.dir, LogFile: ".armbench/armbench.log"})
}
