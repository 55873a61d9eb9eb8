package size

import (
	"fmt"

	"armbench/bench"
)

// Table lays breakdowns out side by side as a comparison's extra rows,
// one column per binary (named by names): the first binary's top
// largest packages, the rest summed, the parts that belong to no
// package, then the file, each with its change from the first column.
// `armbench size` prints it and the TUI's compare pane draws it.
func Table(names []string, sizes []*Breakdown, top int) *bench.Table {
	tab := &bench.Table{Columns: names}
	row := func(name string, of func(*Breakdown) int64) {
		e := bench.ExtraRow{Name: name}
		for _, b := range sizes {
			v := float64(of(b))
			e.Values = append(e.Values, bench.FormatBytes(v))
			e.Raw, e.Has = append(e.Raw, v), append(e.Has, true)
			d := ""
			if len(e.Raw) > 1 && e.Raw[0] > 0 {
				d = fmt.Sprintf("%+.1f%%", (v/e.Raw[0]-1)*100)
			}
			e.Delta = append(e.Delta, d)
		}
		tab.Extras = append(tab.Extras, e)
	}
	largest, _ := sizes[0].Top(top)
	listed := map[string]bool{}
	for _, p := range largest {
		listed[p.Name] = true
		row(p.Name, func(b *Breakdown) int64 { return b.Part(p.Name) })
	}
	row("other packages", func(b *Breakdown) int64 { return b.PackagesExcept(listed) })
	seen := map[string]bool{}
	for _, b := range sizes {
		for _, o := range b.Other {
			if !seen[o.Name] {
				seen[o.Name] = true
				row(o.Name, func(b *Breakdown) int64 { return b.Part(o.Name) })
			}
		}
	}
	row("file", func(b *Breakdown) int64 { return b.FileSize })
	for i, b := range sizes {
		if b.Twin != "" {
			tab.Notes = append(tab.Notes, fmt.Sprintf("%s is stripped: its packages are measured with the symbols of %s", names[i], b.Twin))
		}
	}
	tab.Notes = append(tab.Notes, "a package's size is its code and data plus its share of .gopclntab (function metadata, spread by code size)")
	return tab
}
