package ui

import (
	"context"

	"armbench/build"
	"armbench/profiles"
	"armbench/targets"
)

// engine is the TUI's whole surface onto the engine packages that does
// work: resolving plans and running builds. It is a value so that a
// Model's wiring is visible in one place and carries no global state.
type engine struct {
	resolve func(targets.Target, profiles.Profile, profiles.Options) (profiles.Plan, error)
	runAll  func(ctx context.Context, plans []profiles.Plan, parallel int, emit func(int, build.Event)) []build.Result
}

func defaultEngine() engine {
	return engine{resolve: profiles.Resolve, runAll: build.RunAll}
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
