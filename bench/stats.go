package bench

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
	"golang.org/x/perf/benchproc"
	"golang.org/x/perf/benchunit"
)

// DefaultCount is how many rounds a benchmark runs by default: benchmath
// needs at least 6 samples for a 95% confidence interval of the median.
const DefaultCount = 6

// Confidence is the level of the intervals in a Table.
const Confidence = 0.95

// Alpha is the significance level of the comparisons (benchstat's default).
const Alpha = 0.05

// BenchstatFlags are the benchstat flags that give the same table as
// Stats: rows match across profiles whatever their GOMAXPROCS, since the
// single-core profile prints "BenchmarkX" where others print "BenchmarkX-4".
const BenchstatFlags = "-ignore /gomaxprocs"

// Input is one column of a comparison: a profile's raw benchmark text, in
// the format `go test -bench` prints and benchstat reads.
type Input struct {
	Label string // column name, e.g. the profile
	Data  []byte
}

// Table is a side-by-side comparison of profiles: one UnitTable per unit
// (sec/op, B/op, allocs/op, custom units), the first column the baseline.
// Its numbers are benchstat's for the same files with BenchstatFlags.
type Table struct {
	Columns []string    `json:"columns"`
	Units   []UnitTable `json:"units"`
	// Extras are the per-profile facts beside the benchmarks: binary
	// size, build and deploy time, peak RSS, mean run queue. Filled by
	// Compare from stored runs.
	Extras []ExtraRow `json:"extras,omitempty"`
	// Flagged lists, per column, rounds that ran while the device
	// throttled or changed CPU frequency.
	Flagged map[string][]string `json:"flagged,omitempty"`
	// Notes are warnings for the whole table, e.g. too few rounds.
	Notes []string `json:"notes,omitempty"`
}

// UnitTable is the comparison for one unit within one configuration.
type UnitTable struct {
	// Config is the file configuration of these results when the inputs
	// disagree ("goos: linux goarch: arm64 pkg: …"); empty otherwise.
	Config string `json:"config,omitempty"`
	Unit   string `json:"unit"`
	// Better is +1 when higher is better (e.g. B/s), -1 when lower is
	// better (sec/op, B/op), 0 when unknown.
	Better  int   `json:"better"`
	Rows    []Row `json:"rows"`
	Geomean []Geo `json:"geomean,omitempty"` // per column; only with more than one row
}

// Row is one benchmark: a Cell per column.
type Row struct {
	Name  string `json:"name"`
	Cells []Cell `json:"cells"`
}

// Cell is one benchmark × profile × unit.
type Cell struct {
	Present bool    `json:"present"`
	N       int     `json:"n"`
	Center  float64 `json:"center"` // median
	Lo      float64 `json:"lo"`     // 95% CI of the median; ±Inf encoded as ±MaxFloat64
	Hi      float64 `json:"hi"`
	// Text is Center scaled as benchstat prints it ("1.718µ"), with a
	// scale common to the row; CI is "1%", "∞", "?".
	Text string `json:"text"`
	CI   string `json:"ci"`

	// Compared says this cell has a baseline to compare against (every
	// column but the first, when the baseline has the benchmark).
	Compared bool `json:"compared,omitempty"`
	// Delta is benchstat's delta: "-17.20%", "~" (not significant), "?".
	Delta string `json:"delta,omitempty"`
	// DeltaPct is the change of the median in percent (0 when not
	// computable); Significant says p < Alpha.
	DeltaPct    float64 `json:"delta_pct,omitempty"`
	P           float64 `json:"p,omitempty"`
	Significant bool    `json:"significant,omitempty"`
	// PText is benchstat's "p=0.002 n=6" (or "n=6+5").
	PText string `json:"ptext,omitempty"`
	// Better is +1 if the change is an improvement, -1 a regression, 0
	// unknown or not significant.
	Better   int      `json:"better,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// Geo is a column's geometric mean over the rows.
type Geo struct {
	Present bool    `json:"present"`
	Text    string  `json:"text"`
	Delta   string  `json:"delta,omitempty"` // "+1.23%" or "?"
	Ratio   float64 `json:"ratio,omitempty"`
}

// ExtraRow is a per-profile fact shown beneath the benchmarks.
type ExtraRow struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
	// Raw values (bytes, seconds, …) for deltas; NaN-free: Has says
	// which are set.
	Raw []float64 `json:"raw"`
	Has []bool    `json:"has"`
	// Delta is the change vs the first column in percent, "" when not
	// computable.
	Delta []string `json:"delta"`
}

// Stats computes the comparison of inputs (the first is the baseline),
// exactly as benchstat does: benchfmt parsing and unit tidying, benchproc
// grouping by configuration, unit and full name (ignoring /gomaxprocs),
// benchmath's median, 95% confidence interval and Mann–Whitney U test.
func Stats(inputs []Input) (*Table, error) {
	if len(inputs) == 0 {
		return nil, errors.New("stats: no inputs")
	}
	var parser benchproc.ProjectionParser
	filter, err := benchproc.NewFilter("*")
	if err != nil {
		return nil, err
	}
	tableBy, unitField, err := parser.ParseWithUnit(".config", filter)
	if err != nil {
		return nil, err
	}
	rowBy, err := parser.Parse(".fullname", filter)
	if err != nil {
		return nil, err
	}
	colBy, err := parser.Parse(".file", filter)
	if err != nil {
		return nil, err
	}
	if _, err := parser.Parse("/gomaxprocs", filter); err != nil {
		return nil, err
	}
	residue := parser.Residue()

	type cell struct {
		values  []float64
		residue map[benchproc.Key]struct{}
	}
	type cellKey struct{ row, col benchproc.Key }
	type table struct {
		rows, cols map[benchproc.Key]struct{}
		cells      map[cellKey]*cell
	}
	tables := map[benchproc.Key]*table{}

	var r benchfmt.Reader
	var syntaxErrs []string
	seenLabel := map[string]bool{}
	for _, in := range inputs {
		if seenLabel[in.Label] {
			return nil, fmt.Errorf("stats: column %q twice", in.Label)
		}
		seenLabel[in.Label] = true
		r.Reset(bytes.NewReader(in.Data), in.Label, ".file", in.Label)
		for r.Scan() {
			switch rec := r.Result().(type) {
			case *benchfmt.SyntaxError:
				syntaxErrs = append(syntaxErrs, rec.Error())
			case *benchfmt.Result:
				if ok, _ := filter.Apply(rec); !ok {
					continue
				}
				rowKey, colKey, resKey := rowBy.Project(rec), colBy.Project(rec), residue.Project(rec)
				for i, tk := range tableBy.ProjectValues(rec) {
					t := tables[tk]
					if t == nil {
						t = &table{rows: map[benchproc.Key]struct{}{}, cols: map[benchproc.Key]struct{}{}, cells: map[cellKey]*cell{}}
						tables[tk] = t
					}
					ck := cellKey{rowKey, colKey}
					c := t.cells[ck]
					if c == nil {
						c = &cell{residue: map[benchproc.Key]struct{}{}}
						t.cells[ck] = c
						t.rows[rowKey] = struct{}{}
						t.cols[colKey] = struct{}{}
					}
					c.values = append(c.values, rec.Values[i].Value)
					c.residue[resKey] = struct{}{}
				}
			}
		}
		if err := r.Err(); err != nil {
			return nil, fmt.Errorf("stats: read %s: %w", in.Label, err)
		}
	}
	units := r.Units()

	out := &Table{}
	for _, in := range inputs {
		out.Columns = append(out.Columns, in.Label)
	}
	out.Notes = append(out.Notes, syntaxErrs...)

	var tkeys []benchproc.Key
	for k := range tables {
		tkeys = append(tkeys, k)
	}
	benchproc.SortKeys(tkeys)
	configs := map[string]bool{}
	for _, tk := range tkeys {
		configs[configString(tk, unitField)] = true
	}
	thresholds := benchmath.DefaultThresholds
	thresholds.CompareAlpha = Alpha
	fewest := math.MaxInt
	for _, tk := range tkeys {
		t := tables[tk]
		unit := tk.Get(unitField)
		assumption := units.GetAssumption(unit)
		ut := UnitTable{Unit: unit, Better: units.GetBetter(unit)}
		if len(configs) > 1 {
			ut.Config = configString(tk, unitField)
		}
		rows, cols := sortedKeys(t.rows), sortedKeys(t.cols)
		// The column of each input, by label: a profile with no result
		// for this unit still keeps its column.
		colOf := map[string]benchproc.Key{}
		for _, c := range cols {
			colOf[c.StringValues()] = c
		}
		samples := map[cellKey]*benchmath.Sample{}
		summaries := map[cellKey]benchmath.Summary{}
		for k, c := range t.cells {
			samples[k] = benchmath.NewSample(append([]float64(nil), c.values...), &thresholds)
			summaries[k] = assumption.Summary(samples[k], Confidence)
		}
		base, hasBase := colOf[inputs[0].Label]
		cls := benchunit.ClassOf(unit)
		for _, rk := range rows {
			row := Row{Name: rk.StringValues()}
			var centers []float64
			for _, in := range inputs {
				if ck, ok := colOf[in.Label]; ok {
					if s, ok := summaries[cellKey{rk, ck}]; ok {
						centers = append(centers, s.Center)
					}
				}
			}
			scaler := benchunit.CommonScale(centers, cls)
			for i, in := range inputs {
				ck, ok := colOf[in.Label]
				if !ok {
					row.Cells = append(row.Cells, Cell{})
					continue
				}
				key := cellKey{rk, ck}
				sample, ok := samples[key]
				if !ok {
					row.Cells = append(row.Cells, Cell{})
					continue
				}
				sum := summaries[key]
				c := Cell{
					Present: true,
					N:       len(sample.Values),
					Center:  sum.Center,
					Lo:      finite(sum.Lo),
					Hi:      finite(sum.Hi),
					Text:    scaler.Format(sum.Center),
					CI:      sum.PctRangeString(),
				}
				if c.N < fewest {
					fewest = c.N
				}
				c.Warnings = append(c.Warnings, errStrings(sample.Warnings)...)
				c.Warnings = append(c.Warnings, errStrings(sum.Warnings)...)
				if nsk := benchproc.NonSingularFields(sortedKeys(t.cells[key].residue)); len(nsk) > 0 {
					var names []string
					for _, f := range nsk {
						names = append(names, f.Name)
					}
					c.Warnings = append(c.Warnings, "benchmarks vary in "+strings.Join(names, ", "))
				}
				if i > 0 && hasBase {
					bkey := cellKey{rk, base}
					if bs, ok := samples[bkey]; ok {
						bsum := summaries[bkey]
						cmp := assumption.Compare(bs, sample)
						c.Compared = true
						c.P = cmp.P
						c.PText = cmp.String()
						c.Delta = cmp.FormatDelta(bsum.Center, sum.Center)
						c.Significant = !(cmp.P > cmp.Alpha)
						if bsum.Center != 0 {
							c.DeltaPct = (sum.Center/bsum.Center - 1) * 100
						}
						if c.Significant && ut.Better != 0 && sum.Center != bsum.Center {
							if (sum.Center > bsum.Center) == (ut.Better > 0) {
								c.Better = 1
							} else {
								c.Better = -1
							}
						}
						c.Warnings = append(c.Warnings, errStrings(cmp.Warnings)...)
					}
				}
				row.Cells = append(row.Cells, c)
			}
			ut.Rows = append(ut.Rows, row)
		}
		if len(rows) > 1 {
			ut.Geomean = geomeans(ut.Rows, len(inputs), cls)
		}
		out.Units = append(out.Units, ut)
	}
	if fewest < DefaultCount && fewest != math.MaxInt {
		out.Notes = append(out.Notes, fmt.Sprintf("only %d rounds for some benchmarks: benchmath needs ≥ %d for a 95%% confidence interval (shown as ±∞) and the U test ≥ 4 per side to reach p < %.2f; run with --count %d or more", fewest, DefaultCount, Alpha, DefaultCount))
	}
	return out, nil
}

// geomeans is benchstat's summary row: the geometric mean of each
// column's medians, and the geometric mean of the per-row ratios to the
// baseline (not the ratio of the geomeans, so missing rows don't skew it).
func geomeans(rows []Row, ncol int, cls benchunit.Class) []Geo {
	out := make([]Geo, ncol)
	for col := 0; col < ncol; col++ {
		var centers, ratios []float64
		badRatio := false
		for _, r := range rows {
			c := r.Cells[col]
			if !c.Present {
				continue
			}
			centers = append(centers, c.Center)
			if col > 0 && c.Compared {
				a, b := c.Center, r.Cells[0].Center
				switch {
				case a == b:
					ratios = append(ratios, 1)
				case b == 0:
					badRatio = true
					ratios = append(ratios, 0)
				default:
					ratios = append(ratios, a/b)
				}
			}
		}
		g := Geo{}
		if gm := geoMean(centers); !math.IsNaN(gm) {
			g.Present = true
			g.Text = benchunit.Scale(gm, cls)
		}
		if col > 0 {
			g.Delta = "?"
			if !badRatio {
				if gm := geoMean(ratios); !math.IsNaN(gm) {
					g.Ratio = gm
					g.Delta = fmt.Sprintf("%+.2f%%", (gm-1)*100)
				}
			}
		}
		out[col] = g
	}
	return out
}

// geoMean is go-moremath's stats.GeoMean: NaN for an empty set or any
// value ≤ 0.
func geoMean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	sum := 0.0
	for _, x := range xs {
		if x <= 0 {
			return math.NaN()
		}
		sum += math.Log(x)
	}
	return math.Exp(sum / float64(len(xs)))
}

func configString(k benchproc.Key, unitField *benchproc.Field) string {
	var parts []string
	for _, f := range k.Projection().FlattenedFields() {
		if f == unitField {
			continue
		}
		if v := k.Get(f); v != "" {
			parts = append(parts, f.Name+": "+v)
		}
	}
	return strings.Join(parts, " ")
}

func sortedKeys(m map[benchproc.Key]struct{}) []benchproc.Key {
	keys := make([]benchproc.Key, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	benchproc.SortKeys(keys)
	return keys
}

func errStrings(errs []error) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

// finite keeps ±Inf out of JSON, which cannot encode it.
func finite(x float64) float64 {
	switch {
	case math.IsInf(x, 1):
		return math.MaxFloat64
	case math.IsInf(x, -1):
		return -math.MaxFloat64
	case math.IsNaN(x):
		return 0
	}
	return x
}

// WriteText prints t as benchstat-like plain text: per unit a header, one
// row per benchmark with "median ± CI" per column and, beside each
// non-baseline column, the delta and p-value; then the extras, flagged
// rounds and notes.
func (t *Table) WriteText(w io.Writer) error {
	var b strings.Builder
	for i, ut := range t.Units {
		if i > 0 {
			b.WriteString("\n")
		}
		if ut.Config != "" {
			b.WriteString(ut.Config + "\n")
		}
		grid := [][]string{}
		head := []string{""}
		unitRow := []string{""}
		for j, c := range t.Columns {
			label := c
			if len(t.Flagged[c]) > 0 {
				label += " ⚠"
			}
			head = append(head, label, "")
			unitRow = append(unitRow, ut.Unit, "")
			if j > 0 {
				head = append(head, "", "")
				unitRow = append(unitRow, "vs base", "")
			}
		}
		grid = append(grid, head, unitRow)
		for _, r := range ut.Rows {
			line := []string{r.Name}
			for j, c := range r.Cells {
				if !c.Present {
					line = append(line, "-", "")
				} else {
					line = append(line, c.Text, "± "+c.CI)
				}
				if j > 0 {
					if c.Compared {
						line = append(line, c.Delta, "("+c.PText+")")
					} else {
						line = append(line, "", "")
					}
				}
			}
			grid = append(grid, line)
		}
		if len(ut.Geomean) > 0 {
			line := []string{"geomean"}
			for j, g := range ut.Geomean {
				line = append(line, g.Text, "")
				if j > 0 {
					line = append(line, g.Delta, "")
				}
			}
			grid = append(grid, line)
		}
		writeGrid(&b, grid)
	}
	if len(t.Extras) > 0 {
		b.WriteString("\n")
		grid := [][]string{append([]string{""}, t.Columns...)}
		for _, e := range t.Extras {
			line := []string{e.Name}
			for j, v := range e.Values {
				if j > 0 && j < len(e.Delta) && e.Delta[j] != "" {
					v += " (" + e.Delta[j] + ")"
				}
				line = append(line, v)
			}
			grid = append(grid, line)
		}
		writeGrid(&b, grid)
	}
	var cols []string
	for _, c := range t.Columns {
		if len(t.Flagged[c]) > 0 {
			cols = append(cols, c)
		}
	}
	sort.Strings(cols)
	for _, c := range cols {
		fmt.Fprintf(&b, "⚠ %s: %s\n", c, strings.Join(t.Flagged[c], "; "))
	}
	for _, n := range t.Notes {
		b.WriteString("note: " + n + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeGrid left-aligns the first column and right-aligns the others.
func writeGrid(b *strings.Builder, grid [][]string) {
	var widths []int
	for _, row := range grid {
		for i, c := range row {
			for len(widths) <= i {
				widths = append(widths, 0)
			}
			if n := len([]rune(c)); n > widths[i] {
				widths[i] = n
			}
		}
	}
	for _, row := range grid {
		var line strings.Builder
		for i, c := range row {
			pad := strings.Repeat(" ", widths[i]-len([]rune(c)))
			if i == 0 {
				line.WriteString(c + pad)
			} else {
				line.WriteString("  " + pad + c)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
}
