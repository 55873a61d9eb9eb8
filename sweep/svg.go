package sweep

import (
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strings"

	"armbench/bench"
)

// SVG layout, in pixels: one 16:10 panel per benchmark, two per row, so
// a single benchmark is a slide on its own.
const (
	svgPanelW = 800
	svgPanelH = 500
	svgPad    = 24
	svgTitleH = 56
	plotL     = 90  // left margin of a panel's plot (time axis labels)
	plotR     = 90  // right margin (RSS axis labels)
	plotT     = 70  // top margin (panel title, legend)
	plotB     = 110 // bottom margin (value labels, deltas, knob name)
)

// svgPalette is bench's export palette: distinct under the common colour
// blindnesses.
var svgPalette = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"}

const rssColour = "#555555"

// WriteSVG draws, for each benchmark, its time (median with the 95% CI)
// and the variants' peak RSS against the knob's values: the first knob
// along the x axis, one line per value of the second knob in a grid.
// Text is in the viewer's sans-serif font; nothing is fetched.
func (r *Result) WriteSVG(w io.Writer) error {
	n := len(r.Benchmarks)
	cols := min(2, max(n, 1))
	rows := (max(n, 1) + cols - 1) / cols
	width := svgPad*2 + cols*svgPanelW
	height := svgTitleH + rows*svgPanelH + svgPad
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="15">`+"\n", width, height, width, height)
	b.WriteString(`<style>.title{font-size:22px;font-weight:bold}.panel{font-size:18px;font-weight:bold}.axis{font-size:13px;fill:#444}.note{font-size:13px;fill:#444}.delta{font-size:13px}.better{fill:#007a3d}.worse{fill:#b00020}.same{fill:#666}</style>` + "\n")
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	title := fmt.Sprintf("%s sweep · %s / %s", strings.Join(knobNames(r.Knobs), " × "), r.Target, r.Profile)
	if r.RunID != "" {
		title += " · run " + r.RunID
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="title">%s</text>`+"\n", svgPad, svgPad+14, html.EscapeString(title))
	sub := fmt.Sprintf("median time per op with its 95%% confidence interval, and the peak RSS of a round; Δ and p against the base (%s), n=%d", r.Variants[r.Base].Label, r.Count)
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="note">%s</text>`+"\n", svgPad, svgPad+34, html.EscapeString(sub))
	if n == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d">no %s results to chart</text>`+"\n", svgPad, svgTitleH+40, TimeUnit)
	}
	for i, s := range r.Benchmarks {
		x0 := svgPad + (i%cols)*svgPanelW
		y0 := svgTitleH + (i/cols)*svgPanelH
		r.svgPanel(&b, s, x0, y0)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// series is one line of a panel: the variants sharing the second knob's
// value (all of them with one knob), in the first knob's order.
type series struct {
	label    string
	variants []int
}

// lines groups the variants for a panel. An added base (not on the
// grid) is its own point on the x axis, first.
func (r *Result) lines() (xs []string, ss []series) {
	xIndex := map[string]int{}
	sIndex := map[string]int{}
	for i, v := range r.Variants {
		x := v.Values[0]
		if _, ok := xIndex[x]; !ok {
			xIndex[x] = len(xs)
			xs = append(xs, x)
		}
		key := ""
		if len(r.Knobs) > 1 {
			key = r.Knobs[1].Name + "=" + v.Values[1]
		}
		j, ok := sIndex[key]
		if !ok {
			j = len(ss)
			sIndex[key] = j
			ss = append(ss, series{label: key})
		}
		ss[j].variants = append(ss[j].variants, i)
	}
	return xs, ss
}

func (r *Result) svgPanel(b *strings.Builder, s Series, x0, y0 int) {
	xs, ss := r.lines()
	left, right := x0+plotL, x0+svgPanelW-plotR
	top, bottom := y0+plotT, y0+svgPanelH-plotB
	fmt.Fprintf(b, `<g class="chart" data-benchmark="%s">`+"\n", html.EscapeString(s.Name))
	fmt.Fprintf(b, `<text x="%d" y="%d" class="panel">%s</text>`+"\n", x0+10, y0+28, html.EscapeString(s.Name))

	// Scales: time from 0 to a little above the highest finite CI end
	// (an unbounded CI is drawn to the top with an arrow), RSS from 0.
	tMax, rMax := 0.0, 0.0
	for i, c := range s.Cells {
		if c.Present {
			tMax = math.Max(tMax, c.Center)
			if hi := c.Hi; !math.IsInf(hi, 0) && hi < math.MaxFloat64/2 {
				tMax = math.Max(tMax, math.Min(hi, 2*c.Center))
			}
		}
		if rss := r.Variants[i].RSS; rss.Present {
			rMax = math.Max(rMax, rss.Center)
		}
	}
	tTop := niceCeil(tMax * 1.1)
	if tTop == 0 {
		tTop = 1 // nothing measured: an empty axis, not a division by zero
	}
	rTop := niceCeil(rMax*1.1/(1<<20)) * (1 << 20) // round MiB on the RSS axis
	ty := func(v float64) float64 { return float64(bottom) - v/tTop*float64(bottom-top) }
	ry := func(v float64) float64 { return float64(bottom) - v/rTop*float64(bottom-top) }
	step := float64(right-left) / float64(len(xs))
	xAt := func(i int) float64 {
		return float64(left) + step*(float64(slices.Index(xs, r.Variants[i].Values[0]))+0.5)
	}

	// Axes, grid lines and ticks.
	for k := 0; k <= 4; k++ {
		v := tTop * float64(k) / 4
		y := ty(v)
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e4e4e4"/>`+"\n", left, y, right, y)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end" class="axis">%s</text>`+"\n", left-6, y+4, FormatSeconds(v))
		if rTop > 0 {
			fmt.Fprintf(b, `<text x="%d" y="%.1f" class="axis">%s</text>`+"\n", right+6, ry(rTop*float64(k)/4)+4, html.EscapeString(bench.FormatBytes(rTop*float64(k)/4)))
		}
	}
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>`+"\n", left, bottom, right, bottom)
	fmt.Fprintf(b, `<text x="%d" y="%d" class="axis" transform="rotate(-90 %d %d)" text-anchor="middle">time per op (median, 95%% CI)</text>`+"\n", x0+16, (top+bottom)/2, x0+16, (top+bottom)/2)
	if rTop > 0 {
		fmt.Fprintf(b, `<text x="%d" y="%d" class="axis" transform="rotate(90 %d %d)" text-anchor="middle">peak RSS of a round</text>`+"\n", x0+svgPanelW-14, (top+bottom)/2, x0+svgPanelW-14, (top+bottom)/2)
	}
	for i, x := range xs {
		cx := float64(left) + step*(float64(i)+0.5)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle" class="xlabel">%s</text>`+"\n", cx, bottom+20, html.EscapeString(shorten(x, 16)))
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle" class="axis">%s</text>`+"\n", (left+right)/2, bottom+plotB-12, html.EscapeString(r.Knobs[0].Name))

	// Legend.
	lx := left
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333" stroke-width="2"/><circle cx="%d" cy="%d" r="4" fill="#333"/><text x="%d" y="%d" class="axis">time</text>`+"\n", lx, y0+50, lx+24, y0+50, lx+12, y0+50, lx+30, y0+54)
	lx += 80
	if rTop > 0 {
		fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2" stroke-dasharray="6 4"/><rect x="%d" y="%d" width="8" height="8" fill="%s"/><text x="%d" y="%d" class="axis">peak RSS</text>`+"\n", lx, y0+50, lx+24, y0+50, rssColour, lx+8, y0+46, rssColour, lx+30, y0+54)
		lx += 110
	}
	for j, l := range ss {
		if l.label == "" {
			continue
		}
		col := svgPalette[j%len(svgPalette)]
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d" class="axis">%s</text>`+"\n", lx, y0+44, col, lx+16, y0+54, html.EscapeString(shorten(l.label, 24)))
		lx += 36 + 8*len(shorten(l.label, 24))
	}

	// Lines and points, per series; in a grid each series is offset a
	// little along x so the whiskers do not overlap.
	for j, l := range ss {
		col := svgPalette[j%len(svgPalette)]
		if len(ss) == 1 {
			col = svgPalette[0]
		}
		dx := 0.0
		if len(ss) > 1 {
			dx = (float64(j) - float64(len(ss)-1)/2) * math.Min(14, step/float64(len(ss)+1))
		}
		var tPts, rPts []string
		for _, i := range l.variants {
			x := xAt(i) + dx
			if c := s.Cells[i]; c.Present {
				tPts = append(tPts, fmt.Sprintf("%.1f,%.1f", x, ty(c.Center)))
			}
			if rss := r.Variants[i].RSS; rss.Present && rTop > 0 {
				rPts = append(rPts, fmt.Sprintf("%.1f,%.1f", x, ry(rss.Center)))
			}
		}
		if len(rPts) > 1 {
			rc := rssColour
			if len(ss) > 1 {
				rc = col
			}
			fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2" stroke-dasharray="6 4" class="rss"/>`+"\n", strings.Join(rPts, " "), rc)
		}
		if len(tPts) > 1 {
			fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2.5" class="time"/>`+"\n", strings.Join(tPts, " "), col)
		}
		for _, i := range l.variants {
			r.svgPoint(b, s.Cells[i], r.Variants[i], x0, xAt(i)+dx, col, ty, ry, rTop > 0, top, bottom, len(ss) == 1)
		}
	}
	b.WriteString("</g>\n")
}

// svgPoint draws one variant's time point with its CI whisker, its RSS
// marker, and (with one series) its delta and p under the axis.
func (r *Result) svgPoint(b *strings.Builder, c bench.Cell, v VariantResult, x0 int, x float64, col string, ty, ry func(float64) float64, rss bool, top, bottom int, deltas bool) {
	label := html.EscapeString(v.Label)
	if rss && v.RSS.Present {
		y := ry(v.RSS.Center)
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="9" height="9" fill="%s" class="rss-point" data-variant="%s"><title>%s: peak RSS %s</title></rect>`+"\n",
			x-4.5, y-4.5, rssColour, label, label, html.EscapeString(bench.FormatBytes(v.RSS.Center)+" "+deltaText(v.RSS)))
	}
	if !c.Present {
		return
	}
	y := ty(c.Center)
	lo, hi := c.Lo, c.Hi
	unbounded := math.IsInf(hi, 0) || hi >= math.MaxFloat64/2
	yLo := ty(math.Max(0, lo))
	if math.IsInf(lo, 0) || lo <= -math.MaxFloat64/2 {
		yLo = float64(bottom)
	}
	yHi := float64(top)
	if !unbounded {
		yHi = math.Max(float64(top), ty(hi))
	}
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5" class="ci"/>`+"\n", x, yLo, x, yHi, col)
	if !unbounded {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5"/><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5"/>`+"\n",
			x-6, yLo, x+6, yLo, col, x-6, yHi, x+6, yHi, col)
	} else {
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" class="axis">CI ∞</text>`+"\n", x, float64(top)-4)
	}
	r0 := 6
	if v.Base {
		r0 = 8
	}
	fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="%d" fill="%s" stroke="white" stroke-width="1.5" class="point" data-variant="%s"><title>%s: %s ± %s %s</title></circle>`+"\n",
		x, y, r0, col, label, label, html.EscapeString(c.Text), html.EscapeString(c.CI), html.EscapeString(deltaText(c)))
	if !deltas {
		return
	}
	text, class := "base", "same"
	if c.Compared {
		text = c.Delta
		switch {
		case c.Better > 0:
			class = "better"
		case c.Better < 0:
			class = "worse"
		}
		if text == "~" {
			text = fmt.Sprintf("~%+.1f%%", c.DeltaPct)
		}
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle" class="delta %s">%s</text>`+"\n", x, bottom+40, class, html.EscapeString(text))
	if c.Compared {
		p := c.PText
		if i := strings.IndexByte(p, ' '); i > 0 {
			p = p[:i] // "p=0.002", n is in the subtitle
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle" class="axis">%s</text>`+"\n", x, bottom+58, html.EscapeString(p))
	}
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (0 stays 0).
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
