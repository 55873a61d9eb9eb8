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
	// ColumnConfig is, per column, the configuration lines that tell the
	// columns apart ("goarch: arm cpu: …" for boards side by side);
	// nil when every column has the same configuration. Such lines do
	// not split the table: each is one value per column, so it names the
	// column rather than a set of results.
	ColumnConfig []string `json:"column_config,omitempty"`
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
	colKeys, colConfig := columnKeys(inputs)
	proj, err := newProjections(colKeys)
	if err != nil {
		return nil, err
	}
	groups, units, syntaxErrs, err := proj.read(inputs)
	if err != nil {
		return nil, err
	}
	out := &Table{ColumnConfig: colConfig}
	for _, in := range inputs {
		out.Columns = append(out.Columns, in.Label)
	}
	out.Notes = append(out.Notes, syntaxErrs...)

	var tkeys []benchproc.Key
	for k := range groups {
		tkeys = append(tkeys, k)
	}
	benchproc.SortKeys(tkeys)
	configs := map[string]bool{}
	for _, tk := range tkeys {
		configs[configString(tk, proj.unit)] = true
	}
	thresholds := benchmath.DefaultThresholds
	thresholds.CompareAlpha = Alpha
	fewest := math.MaxInt
	for _, tk := range tkeys {
		unit := tk.Get(proj.unit)
		uc := newUnitComparison(inputs, groups[tk], units.GetAssumption(unit), &thresholds)
		ut := uc.table(unit, units.GetBetter(unit))
		if len(configs) > 1 {
			ut.Config = configString(tk, proj.unit)
		}
		out.Units = append(out.Units, ut)
		fewest = min(fewest, uc.fewest)
	}
	if fewest < DefaultCount {
		out.Notes = append(out.Notes, fmt.Sprintf("only %d rounds for some benchmarks: benchmath needs ≥ %d for a 95%% confidence interval (shown as ±∞) and the U test ≥ 4 per side to reach p < %.2f; run with --count %d or more", fewest, DefaultCount, Alpha, DefaultCount))
	}
	return out, nil
}

// projections are benchstat's groupings: a table per configuration and
// unit, a row per full name, a column per input file; residue is what
// is left, whose variation within a cell is warned about.
type projections struct {
	filter                   *benchproc.Filter
	table, row, col, residue *benchproc.Projection
	unit                     *benchproc.Field
}

// newProjections groups as benchstat does, except that the columnKeys
// (configuration keys whose value is one per input and differs between
// inputs) are left out of .config: a projection of them of its own
// keeps them from splitting the tables, as they would give every column
// a table of its own.
func newProjections(columnKeys []string) (*projections, error) {
	var parser benchproc.ProjectionParser
	var p projections
	var err error
	if p.filter, err = benchproc.NewFilter("*"); err != nil {
		return nil, err
	}
	if p.table, p.unit, err = parser.ParseWithUnit(".config", p.filter); err != nil {
		return nil, err
	}
	for _, k := range columnKeys {
		// .config is expanded as results are read, so a key named in
		// any projection of the parser is left out of it.
		if _, err := parser.Parse(k, p.filter); err != nil {
			return nil, fmt.Errorf("stats: configuration key %q: %w", k, err)
		}
	}
	if p.row, err = parser.Parse(".fullname", p.filter); err != nil {
		return nil, err
	}
	if p.col, err = parser.Parse(".file", p.filter); err != nil {
		return nil, err
	}
	if _, err := parser.Parse("/gomaxprocs", p.filter); err != nil {
		return nil, err
	}
	p.residue = parser.Residue()
	return &p, nil
}

// columnKeys are the file configuration keys that tell the inputs
// apart: each input has one value for the key (an input without the
// line has ""), and not all inputs have the same. Runs of one profile on
// two boards differ in goarch and cpu; runs on one board differ in none.
// config is, per input, those keys with their values, in the order the
// keys first appear; nil without such keys.
func columnKeys(inputs []Input) (keys []string, config []string) {
	values := make([]map[string]map[string]bool, len(inputs))
	var order []string
	seen := map[string]bool{}
	var r benchfmt.Reader
	for i, in := range inputs {
		values[i] = map[string]map[string]bool{}
		r.Reset(bytes.NewReader(in.Data), in.Label)
		for r.Scan() {
			rec, ok := r.Result().(*benchfmt.Result)
			if !ok {
				continue
			}
			for _, c := range rec.Config {
				if !c.File {
					continue
				}
				k := c.Key
				if !seen[k] {
					seen[k] = true
					order = append(order, k)
				}
				if values[i][k] == nil {
					values[i][k] = map[string]bool{}
				}
				values[i][k][string(c.Value)] = true
			}
		}
	}
	one := func(i int, k string) (string, bool) {
		switch len(values[i][k]) {
		case 0:
			return "", true
		case 1:
			for v := range values[i][k] {
				return v, true
			}
		}
		return "", false
	}
	for _, k := range order {
		distinct := map[string]bool{}
		single := true
		for i := range inputs {
			v, ok := one(i, k)
			single = single && ok
			distinct[v] = true
		}
		if single && len(distinct) > 1 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	for i := range inputs {
		var parts []string
		for _, k := range keys {
			if v, _ := one(i, k); v != "" {
				parts = append(parts, k+": "+v)
			}
		}
		config = append(config, strings.Join(parts, " "))
	}
	return keys, config
}

// cellKey is one benchmark (row) of one input (column).
type cellKey struct{ row, col benchproc.Key }

// cellValues are the measurements of one cell.
type cellValues struct {
	values  []float64
	residue map[benchproc.Key]struct{}
}

// unitGroup is the results of one configuration and unit.
type unitGroup struct {
	rows, cols map[benchproc.Key]struct{}
	cells      map[cellKey]*cellValues
}

// read parses every input and groups its results; syntax errors are
// kept as notes, as benchstat prints them.
func (p *projections) read(inputs []Input) (map[benchproc.Key]*unitGroup, benchfmt.UnitMetadataMap, []string, error) {
	groups := map[benchproc.Key]*unitGroup{}
	var r benchfmt.Reader
	var syntaxErrs []string
	seenLabel := map[string]bool{}
	for _, in := range inputs {
		if seenLabel[in.Label] {
			return nil, nil, nil, fmt.Errorf("stats: column %q twice", in.Label)
		}
		seenLabel[in.Label] = true
		r.Reset(bytes.NewReader(in.Data), in.Label, ".file", in.Label)
		for r.Scan() {
			switch rec := r.Result().(type) {
			case *benchfmt.SyntaxError:
				syntaxErrs = append(syntaxErrs, rec.Error())
			case *benchfmt.Result:
				p.add(groups, rec)
			}
		}
		if err := r.Err(); err != nil {
			return nil, nil, nil, fmt.Errorf("stats: read %s: %w", in.Label, err)
		}
	}
	return groups, r.Units(), syntaxErrs, nil
}

// add files each value of rec (one per unit) into its group and cell.
func (p *projections) add(groups map[benchproc.Key]*unitGroup, rec *benchfmt.Result) {
	if ok, _ := p.filter.Apply(rec); !ok {
		return
	}
	// benchfmt leaves a value's unit untidied when tidying does not change
	// the value, which a 0 never does: "0 sys-ns/op" stays in sys-ns/op
	// while the other rounds' values go to sys-sec/op. A round whose
	// system time rounded to zero is a sample of sys-sec/op like the rest.
	for i := range rec.Values {
		if v := &rec.Values[i]; v.Value == 0 && v.OrigUnit == "" {
			_, v.Unit = benchunit.Tidy(1, v.Unit)
		}
	}
	key := cellKey{p.row.Project(rec), p.col.Project(rec)}
	resKey := p.residue.Project(rec)
	for i, tk := range p.table.ProjectValues(rec) {
		g := groups[tk]
		if g == nil {
			g = &unitGroup{rows: map[benchproc.Key]struct{}{}, cols: map[benchproc.Key]struct{}{}, cells: map[cellKey]*cellValues{}}
			groups[tk] = g
		}
		c := g.cells[key]
		if c == nil {
			c = &cellValues{residue: map[benchproc.Key]struct{}{}}
			g.cells[key] = c
			g.rows[key.row] = struct{}{}
			g.cols[key.col] = struct{}{}
		}
		c.values = append(c.values, rec.Values[i].Value)
		c.residue[resKey] = struct{}{}
	}
}

// unitComparison turns one unitGroup into a UnitTable: the summary of
// every cell and its comparison with the baseline column.
type unitComparison struct {
	inputs     []Input
	group      *unitGroup
	assumption benchmath.Assumption
	// colOf is the column of each input, by label: a profile with no
	// result for this unit still keeps its column.
	colOf     map[string]benchproc.Key
	samples   map[cellKey]*benchmath.Sample
	summaries map[cellKey]benchmath.Summary
	fewest    int // fewest values in a cell (math.MaxInt: no cell)
}

func newUnitComparison(inputs []Input, g *unitGroup, assumption benchmath.Assumption, thresholds *benchmath.Thresholds) *unitComparison {
	u := &unitComparison{
		inputs: inputs, group: g, assumption: assumption,
		colOf:     map[string]benchproc.Key{},
		samples:   map[cellKey]*benchmath.Sample{},
		summaries: map[cellKey]benchmath.Summary{},
		fewest:    math.MaxInt,
	}
	for _, c := range sortedKeys(g.cols) {
		u.colOf[c.StringValues()] = c
	}
	for k, c := range g.cells {
		u.samples[k] = benchmath.NewSample(append([]float64(nil), c.values...), thresholds)
		u.summaries[k] = assumption.Summary(u.samples[k], Confidence)
	}
	return u
}

func (u *unitComparison) table(unit string, better int) UnitTable {
	ut := UnitTable{Unit: unit, Better: better}
	cls := benchunit.ClassOf(unit)
	rows := sortedKeys(u.group.rows)
	for _, rk := range rows {
		ut.Rows = append(ut.Rows, u.row(rk, cls, better))
	}
	if len(rows) > 1 {
		ut.Geomean = geomeans(ut.Rows, len(u.inputs), cls)
	}
	return ut
}

// row is one benchmark across the inputs, scaled alike.
func (u *unitComparison) row(rk benchproc.Key, cls benchunit.Class, better int) Row {
	var centers []float64
	for _, in := range u.inputs {
		ck, hasCol := u.colOf[in.Label]
		if s, ok := u.summaries[cellKey{rk, ck}]; hasCol && ok {
			centers = append(centers, s.Center)
		}
	}
	scaler := benchunit.CommonScale(centers, cls)
	row := Row{Name: rk.StringValues()}
	for i, in := range u.inputs {
		row.Cells = append(row.Cells, u.cell(rk, in.Label, i > 0, scaler, better))
	}
	return row
}

// cell is one benchmark of one input, compared with the baseline's when
// compare is set and the baseline has it.
func (u *unitComparison) cell(rk benchproc.Key, label string, compare bool, scaler benchunit.Scaler, better int) Cell {
	ck, ok := u.colOf[label]
	if !ok {
		return Cell{}
	}
	key := cellKey{rk, ck}
	sample, ok := u.samples[key]
	if !ok {
		return Cell{}
	}
	sum := u.summaries[key]
	c := Cell{
		Present: true,
		N:       len(sample.Values),
		Center:  sum.Center,
		Lo:      finite(sum.Lo),
		Hi:      finite(sum.Hi),
		Text:    scaler.Format(sum.Center),
		CI:      sum.PctRangeString(),
	}
	u.fewest = min(u.fewest, c.N)
	c.Warnings = append(c.Warnings, errStrings(sample.Warnings)...)
	c.Warnings = append(c.Warnings, errStrings(sum.Warnings)...)
	if nsk := benchproc.NonSingularFields(sortedKeys(u.group.cells[key].residue)); len(nsk) > 0 {
		var names []string
		for _, f := range nsk {
			names = append(names, f.Name)
		}
		c.Warnings = append(c.Warnings, "benchmarks vary in "+strings.Join(names, ", "))
	}
	if base, ok := u.colOf[u.inputs[0].Label]; ok && compare {
		u.compare(&c, cellKey{rk, base}, sample, better)
	}
	return c
}

// compare fills c's comparison with the baseline cell bkey, when the
// baseline has a sample there.
func (u *unitComparison) compare(c *Cell, bkey cellKey, sample *benchmath.Sample, better int) {
	bs, ok := u.samples[bkey]
	if !ok {
		return
	}
	base := u.summaries[bkey].Center
	cmp := u.assumption.Compare(bs, sample)
	c.Compared = true
	c.P = cmp.P
	c.PText = cmp.String()
	c.Delta = cmp.FormatDelta(base, c.Center)
	c.Significant = !(cmp.P > cmp.Alpha)
	if base != 0 {
		c.DeltaPct = (c.Center/base - 1) * 100
	}
	if c.Significant && better != 0 && c.Center != base {
		c.Better = -1
		if (c.Center > base) == (better > 0) {
			c.Better = 1
		}
	}
	c.Warnings = append(c.Warnings, errStrings(cmp.Warnings)...)
}

// geomeans is benchstat's summary row: the geometric mean of each
// column's medians, and the geometric mean of the per-row ratios to the
// baseline (not the ratio of the geomeans, so missing rows don't skew it).
func geomeans(rows []Row, ncol int, cls benchunit.Class) []Geo {
	out := make([]Geo, ncol)
	for col := range out {
		out[col] = columnGeomean(rows, col, cls)
	}
	return out
}

func columnGeomean(rows []Row, col int, cls benchunit.Class) Geo {
	var centers, ratios []float64
	for _, r := range rows {
		c := r.Cells[col]
		if !c.Present {
			continue
		}
		centers = append(centers, c.Center)
		if col > 0 && c.Compared {
			ratios = append(ratios, ratio(c.Center, r.Cells[0].Center))
		}
	}
	g := Geo{}
	if gm := geoMean(centers); !math.IsNaN(gm) {
		g.Present = true
		g.Text = benchunit.Scale(gm, cls)
	}
	if col == 0 {
		return g
	}
	g.Delta = "?"
	if gm := geoMean(ratios); !math.IsNaN(gm) {
		g.Ratio = gm
		g.Delta = fmt.Sprintf("%+.2f%%", (gm-1)*100)
	}
	return g
}

// ratio is a/base as benchstat takes it: 1 when equal (0/0 included),
// and 0 against a zero base, which leaves the geomean undefined ("?").
func ratio(a, base float64) float64 {
	switch {
	case a == base:
		return 1
	case base == 0:
		return 0
	}
	return a / base
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
	if len(t.ColumnConfig) == len(t.Columns) {
		w := 0
		for _, c := range t.Columns {
			w = max(w, len([]rune(c)))
		}
		for i, c := range t.Columns {
			fmt.Fprintf(&b, "%s%s  %s\n", c, strings.Repeat(" ", w-len([]rune(c))), t.ColumnConfig[i])
		}
		b.WriteString("\n")
	}
	for i, ut := range t.Units {
		if i > 0 {
			b.WriteString("\n")
		}
		if ut.Config != "" {
			b.WriteString(ut.Config + "\n")
		}
		writeGrid(&b, t.unitGrid(ut))
	}
	if len(t.Extras) > 0 {
		if len(t.Units) > 0 {
			b.WriteString("\n")
		}
		writeGrid(&b, t.extrasGrid())
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

// unitGrid is one unit's table: two header lines (columns, units), a
// line per benchmark and the geomean. Every column but the baseline has
// two more cells, the delta and the p-value.
func (t *Table) unitGrid(ut UnitTable) [][]string {
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
	grid := [][]string{head, unitRow}
	for _, r := range ut.Rows {
		line := []string{r.Name}
		for j, c := range r.Cells {
			line = append(line, cellText(c, j > 0)...)
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
	return grid
}

// cellText is a cell's grid entries: median and CI, then with compared
// set its delta and p-value.
func cellText(c Cell, compared bool) []string {
	out := []string{"-", ""}
	if c.Present {
		out = []string{c.Text, "± " + c.CI}
	}
	switch {
	case !compared:
		return out
	case c.Compared:
		return append(out, c.Delta, "("+c.PText+")")
	}
	return append(out, "", "")
}

// extrasGrid is the per-profile facts, with the change against the
// baseline beside each value.
func (t *Table) extrasGrid() [][]string {
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
	return grid
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
