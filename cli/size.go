package cli

import (
	"context"
	"fmt"
	"path/filepath"

	"armbench/profiles"
	"armbench/size"
)

// sizeResultJSON is the one line of `armbench size --json` per binary.
type sizeResultJSON struct {
	Type    string          `json:"type"` // size
	Target  string          `json:"target"`
	Profile string          `json:"profile"`
	Size    *size.Breakdown `json:"size"`
}

// cmdSize builds each profile's binary (the build cache answers when it
// is current) and breaks it down by package; a stripped binary is
// measured with an unstripped twin built beside it.
func cmdSize(ctx context.Context, c *cli, args []string) error {
	var pf planFlags
	fs := c.flags("size")
	fs.StringVar(&pf.target, "target", "", "target name from targets.toml, or comma-separated targets")
	fs.StringVar(&pf.profile, "profile", "default", "profile or comma-separated profiles, side by side")
	top := fs.Int("top", 15, "packages listed before the rest is summed up")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("size: unexpected argument %q", fs.Arg(0))
	}
	if *top < 1 {
		return usagef("size: --top %d: want 1 or more", *top)
	}
	w, err := c.load()
	if err != nil {
		return err
	}
	plans, err := c.matrixPlans(w, pf.target, pf.profile, profiles.ModeBinary)
	if err != nil {
		return err
	}
	var all []*size.Breakdown
	for _, plan := range plans {
		b, err := c.breakdown(ctx, w, plan)
		if err != nil {
			return err
		}
		if c.json {
			c.printJSON(sizeResultJSON{Type: "size", Target: plan.Target.Name, Profile: plan.Profile.Name, Size: b})
		}
		all = append(all, b)
	}
	if c.json {
		return nil
	}
	return printSizes(c, plans, all, *top)
}

// breakdown builds plan (and its unstripped twin when plan strips) and
// measures the binary.
func (c *cli) breakdown(ctx context.Context, w *workspace, plan profiles.Plan) (*size.Breakdown, error) {
	art, err := c.artifact(ctx, plan)
	if err != nil {
		return nil, err
	}
	if !art.Stripped {
		return size.Analyze(art.Path)
	}
	twin, ok := size.TwinProfile(plan.Profile)
	if !ok {
		return size.Analyze(art.Path) // stripped some other way: sections only
	}
	outRoot := filepath.Join(c.dir, profiles.DefaultOutRoot, "unstripped")
	twinPlan, err := profiles.Resolve(plan.Target, twin, profiles.Options{Pkg: w.pkg, Dir: c.dir, OutRoot: outRoot, Mode: profiles.ModeBinary})
	if err != nil {
		return nil, fmt.Errorf("size %s/%s: unstripped twin: %w", plan.Target.Name, plan.Profile.Name, err)
	}
	twinArt, err := c.artifact(ctx, twinPlan)
	if err != nil {
		return nil, err
	}
	return size.AnalyzeTwin(art.Path, twinArt.Path)
}

// printSizes prints one column per binary, as the TUI's z shows them.
func printSizes(c *cli, plans []profiles.Plan, all []*size.Breakdown, top int) error {
	names := make([]string, len(plans))
	for i, p := range plans {
		names[i] = p.Target.Name + "/" + p.Profile.Name
	}
	return size.Table(names, all, top).WriteText(c.stdout)
}
