package bench

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"strconv"
	"strings"
)

// Formats a comparison can be written in, for `compare --format` and the
// compare pane's export.
var Formats = []string{"text", "md", "csv", "json", "svg"}

// Write writes t in format ("text", "md", "csv", "json" or "svg"); title
// heads the Markdown and SVG (e.g. the target and run).
func (t *Table) Write(w io.Writer, format, title string) error {
	switch format {
	case "", "text":
		return t.WriteText(w)
	case "md", "markdown":
		return t.WriteMarkdown(w, title)
	case "csv":
		return t.WriteCSV(w)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(t)
	case "svg":
		return t.WriteSVG(w, title)
	}
	return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// FormatExt is the file extension an export in format gets.
func FormatExt(format string) string {
	switch format {
	case "md", "markdown":
		return ".md"
	case "", "text":
		return ".txt"
	}
	return "." + format
}

// WriteMarkdown writes one GitHub table per unit (median ± CI per
// profile, and beside every profile but the baseline its delta with the
// p-value), then the extras, flagged rounds and notes: ready to paste
// into a README or an issue.
func (t *Table) WriteMarkdown(w io.Writer, title string) error {
	var b strings.Builder
	if title != "" {
		fmt.Fprintf(&b, "## %s\n\n", mdEscape(title))
	}
	for _, ut := range t.Units {
		t.markdownUnit(&b, ut)
	}
	if len(t.Extras) > 0 {
		head := append([]string{""}, t.Columns...)
		mdRow(&b, head)
		mdRule(&b, len(head))
		for _, e := range t.Extras {
			row := []string{e.Name}
			for j, v := range e.Values {
				if j > 0 && j < len(e.Delta) && e.Delta[j] != "" {
					v += " (" + e.Delta[j] + ")"
				}
				row = append(row, v)
			}
			mdRow(&b, row)
		}
		b.WriteString("\n")
	}
	for _, c := range t.Columns {
		if f := t.Flagged[c]; len(f) > 0 {
			fmt.Fprintf(&b, "- ⚠ %s: %s\n", mdEscape(c), mdEscape(strings.Join(f, "; ")))
		}
	}
	for _, n := range t.Notes {
		fmt.Fprintf(&b, "- note: %s\n", mdEscape(n))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (t *Table) markdownUnit(b *strings.Builder, ut UnitTable) {
	heading := ut.Unit
	switch ut.Better {
	case -1:
		heading += " (lower is better)"
	case 1:
		heading += " (higher is better)"
	}
	fmt.Fprintf(b, "### %s\n\n", mdEscape(heading))
	if ut.Config != "" {
		fmt.Fprintf(b, "%s\n\n", mdEscape(ut.Config))
	}
	head := []string{"benchmark"}
	for j, c := range t.Columns {
		head = append(head, c)
		if j > 0 {
			head = append(head, "vs "+t.Columns[0])
		}
	}
	mdRow(b, head)
	mdRule(b, len(head))
	for _, r := range ut.Rows {
		row := []string{r.Name}
		for j, c := range r.Cells {
			row = append(row, exportCell(c))
			if j > 0 {
				row = append(row, deltaText(c))
			}
		}
		mdRow(b, row)
	}
	if len(ut.Geomean) > 0 {
		row := []string{"geomean"}
		for j, g := range ut.Geomean {
			row = append(row, g.Text)
			if j > 0 {
				row = append(row, g.Delta)
			}
		}
		mdRow(b, row)
	}
	b.WriteString("\n")
}

func exportCell(c Cell) string {
	if !c.Present {
		return "-"
	}
	return c.Text + " ± " + c.CI
}

func deltaText(c Cell) string {
	if !c.Compared {
		return ""
	}
	return c.Delta + " (" + c.PText + ")"
}

// mdRow writes one table row; the first column is left-aligned text, the
// rest numbers (see mdRule).
func mdRow(b *strings.Builder, cells []string) {
	b.WriteString("|")
	for _, c := range cells {
		b.WriteString(" " + mdEscape(c) + " |")
	}
	b.WriteString("\n")
}

func mdRule(b *strings.Builder, n int) {
	b.WriteString("|---|")
	for i := 1; i < n; i++ {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
}

// mdEscape keeps a benchmark or profile name from breaking the table.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// CSVHeader is the header row of WriteCSV.
var CSVHeader = []string{"unit", "benchmark", "profile", "n", "median", "ci_low", "ci_high", "ci", "delta", "delta_pct", "p", "significant"}

// WriteCSV writes the comparison in long form, one line per unit ×
// benchmark × profile with raw numbers (seconds, bytes), which is what a
// spreadsheet pivots; the extras follow as unit "extra" with the raw
// value as the median.
func (t *Table) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, ut := range t.Units {
		for _, r := range ut.Rows {
			for j, c := range r.Cells {
				if !c.Present || j >= len(t.Columns) {
					continue
				}
				if err := cw.Write(csvCell(ut.Unit, r.Name, t.Columns[j], c)); err != nil {
					return err
				}
			}
		}
	}
	for _, e := range t.Extras {
		for j := range t.Columns {
			if j >= len(e.Has) || !e.Has[j] {
				continue
			}
			delta := ""
			if j < len(e.Delta) {
				delta = e.Delta[j]
			}
			if err := cw.Write([]string{"extra", e.Name, t.Columns[j], "", num(e.Raw[j]), "", "", "", delta, "", "", ""}); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvCell(unit, name, profile string, c Cell) []string {
	row := []string{unit, name, profile, strconv.Itoa(c.N), num(c.Center), num(c.Lo), num(c.Hi), c.CI, "", "", "", ""}
	if c.Compared {
		row[8], row[9], row[10], row[11] = c.Delta, num(c.DeltaPct), num(c.P), strconv.FormatBool(c.Significant)
	}
	return row
}

// num prints a float for a spreadsheet; the ±MaxFloat64 that stands for
// an unbounded interval becomes empty.
func num(x float64) string {
	if math.Abs(x) >= math.MaxFloat64 || math.IsNaN(x) || math.IsInf(x, 0) {
		return ""
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// svgPalette holds one colour per profile: distinct under the common
// colour blindnesses (Okabe–Ito), and readable on a projector.
var svgPalette = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"}

// SVG layout, in pixels.
const (
	svgWidth    = 960
	svgBarH     = 18
	svgGroupGap = 14
	svgLabelW   = 260
	svgPad      = 16
)

// WriteSVG draws one horizontal bar chart per unit: for each benchmark a
// bar per profile, its length the median relative to the baseline
// profile (the baseline is 1.0), with the 95% CI as a whisker and the
// delta written beside it, so a slide shows at a glance what each profile
// buys. Each bar is a rect of class "bar" carrying data-profile and
// data-benchmark.
func (t *Table) WriteSVG(w io.Writer, title string) error {
	var body strings.Builder
	y := svgPad
	if title != "" {
		fmt.Fprintf(&body, `<text x="%d" y="%d" class="title">%s</text>`+"\n", svgPad, y+16, html.EscapeString(title))
		y += 30
	}
	y = t.svgLegend(&body, y)
	for _, ut := range t.Units {
		y = t.svgUnit(&body, ut, y)
	}
	_, err := fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="13">
<style>.title{font-size:18px;font-weight:bold}.unit{font-size:15px;font-weight:bold}.delta{fill:#444}</style>
<rect width="100%%" height="100%%" fill="white"/>
%s</svg>
`, svgWidth, y+svgPad, svgWidth, y+svgPad, body.String())
	return err
}

func (t *Table) svgLegend(b *strings.Builder, y int) int {
	x := svgPad
	for j, c := range t.Columns {
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n",
			x, y, svgPalette[j%len(svgPalette)], x+16, y+11, html.EscapeString(c))
		x += 16 + 8*len([]rune(c)) + 24
	}
	return y + 28
}

// svgUnit draws one unit's chart from y and returns the y below it.
func (t *Table) svgUnit(b *strings.Builder, ut UnitTable, y int) int {
	heading := ut.Unit + " relative to " + t.Columns[0]
	if ut.Better == -1 {
		heading += " (shorter is better)"
	} else if ut.Better == 1 {
		heading += " (longer is better)"
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" class="unit">%s</text>`+"\n", svgPad, y+14, html.EscapeString(heading))
	y += 24
	scale := svgScale(ut)
	x0 := svgPad + svgLabelW
	for _, r := range ut.Rows {
		base := r.Cells[0]
		if !base.Present || base.Center == 0 {
			continue // nothing to be relative to (0 B/op)
		}
		groupTop := y
		for j, c := range r.Cells {
			if !c.Present || j >= len(t.Columns) {
				continue
			}
			y = t.svgBar(b, r.Name, j, c, base.Center, scale, x0, y)
		}
		fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", x0-8, (groupTop+y)/2+4, html.EscapeString(svgShorten(r.Name, 34)))
		y += svgGroupGap
	}
	return y + 10
}

// svgPlotW is the width of a bar at scale, leaving room for its label.
const svgPlotW = float64(svgWidth - svgLabelW - 2*svgPad - 120)

// svgBar draws profile j's bar of one benchmark, its CI whisker and its
// label (ratio and delta) right of both, and returns the y below it.
func (t *Table) svgBar(b *strings.Builder, bench string, j int, c Cell, base, scale float64, x0, y int) int {
	rel := c.Center / base
	wBar := rel / scale * svgPlotW
	right := float64(x0) + wBar
	fmt.Fprintf(b, `<rect class="bar" data-profile="%s" data-benchmark="%s" x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s %s: %s</title></rect>`+"\n",
		html.EscapeString(t.Columns[j]), html.EscapeString(bench), x0, y, wBar, svgBarH-4, svgPalette[j%len(svgPalette)],
		html.EscapeString(t.Columns[j]), html.EscapeString(bench), html.EscapeString(exportCell(c)))
	if lo, hi := c.Lo/base, c.Hi/base; c.N > 1 && hi < math.MaxFloat64/2 {
		xl, xh := float64(x0)+lo/scale*svgPlotW, float64(x0)+math.Min(hi/scale, 1.05)*svgPlotW
		mid := y + (svgBarH-4)/2
		fmt.Fprintf(b, `<path d="M%.1f %dH%.1fM%.1f %dV%dM%.1f %dV%d" stroke="#222" stroke-width="1.2"/>`+"\n",
			xl, mid, xh, xl, mid-4, mid+4, xh, mid-4, mid+4)
		right = math.Max(right, xh)
	}
	label := fmt.Sprintf("%.2f×", rel)
	if j > 0 && c.Compared {
		label += " " + c.Delta
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%d" class="delta">%s</text>`+"\n", right+6, y+svgBarH-7, html.EscapeString(label))
	return y + svgBarH
}

// svgScale is the largest ratio to the baseline in the unit (CI ends
// included, within reason), so every bar fits the plot.
func svgScale(ut UnitTable) float64 {
	scale := 1.0
	for _, r := range ut.Rows {
		base := r.Cells[0]
		if !base.Present || base.Center == 0 {
			continue
		}
		for _, c := range r.Cells {
			if c.Present {
				scale = math.Max(scale, c.Center/base.Center)
				if hi := c.Hi / base.Center; hi < 4*scale {
					scale = math.Max(scale, hi)
				}
			}
		}
	}
	return scale * 1.05
}

func svgShorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
