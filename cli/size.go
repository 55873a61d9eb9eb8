package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"armbench/bench"
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
	if !c.json {
		printSizes(c, plans, all, *top)
	}
	return nil
}

// breakdown builds plan (and its unstripped twin when plan strips) and
// measures the binary.
func (c *cli) breakdown(ctx context.Context, w *workspace, plan profiles.Plan) (*size.Breakdown, error) {
	art, err := c.artifact(ctx, plan, false)
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
	twinArt, err := c.artifact(ctx, twinPlan, false)
	if err != nil {
		return nil, err
	}
	return size.AnalyzeTwin(art.Path, twinArt.Path)
}

// printSizes prints one column per binary: the largest packages (by the
// first binary's order), the rest summed, then the non-package parts and
// the file size.
func printSizes(c *cli, plans []profiles.Plan, all []*size.Breakdown, top int) {
	head := []string{"package"}
	for _, p := range plans {
		head = append(head, p.Target.Name+"/"+p.Profile.Name)
	}
	rows := [][]string{head}
	names, _ := all[0].Top(top)
	listed := map[string]bool{}
	for _, p := range names {
		listed[p.Name] = true
		rows = append(rows, sizeRow(p.Name, all, func(b *size.Breakdown) int64 { return b.Part(p.Name) }))
	}
	rows = append(rows, sizeRow("other packages", all, func(b *size.Breakdown) int64 { return b.PackagesExcept(listed) }))
	seen := map[string]bool{}
	for _, b := range all {
		for _, o := range b.Other {
			if !seen[o.Name] {
				seen[o.Name] = true
				rows = append(rows, sizeRow(o.Name, all, func(b *size.Breakdown) int64 { return b.Part(o.Name) }))
			}
		}
	}
	rows = append(rows, sizeRow("file", all, func(b *size.Breakdown) int64 { return b.FileSize }))
	var sb strings.Builder
	writeColumns(&sb, rows)
	fmt.Fprint(c.stdout, sb.String())
	for i, b := range all {
		if b.Twin != "" {
			fmt.Fprintf(c.stdout, "%s/%s is stripped: packages measured with the symbols of %s\n", plans[i].Target.Name, plans[i].Profile.Name, b.Twin)
		}
	}
	fmt.Fprintln(c.stdout, "a package's size is its code and data plus its share of .gopclntab (function metadata, spread by code size)")
}

func sizeRow(name string, all []*size.Breakdown, of func(*size.Breakdown) int64) []string {
	row := []string{name}
	for _, b := range all {
		row = append(row, bench.FormatBytes(float64(of(b))))
	}
	return row
}

// writeColumns left-aligns the first column and right-aligns the rest.
func writeColumns(sb *strings.Builder, rows [][]string) {
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, cell := range r {
			widths[i] = max(widths[i], len([]rune(cell)))
		}
	}
	for _, r := range rows {
		for i, cell := range r {
			pad := strings.Repeat(" ", widths[i]-len([]rune(cell)))
			if i == 0 {
				sb.WriteString(cell + pad)
			} else {
				sb.WriteString("  " + pad + cell)
			}
		}
		sb.WriteString("\n")
	}
}
