package ui

import (
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func chartLines(c *Chart) []string {
	return strings.Split(strings.TrimSuffix(plain(c.View()), "\n"), "\n")
}

func TestChartDrawsExactlyItsSize(t *testing.T) {
	c := NewChart(DefaultStyles(), "CPU")
	c.Legend = true
	c.AddSeries("cpu")
	c.AddSeries("other")
	for i := range 300 {
		c.Push(0, float64(i%17))
		c.Push(1, float64(i%5)*3)
		if i%40 == 0 {
			c.Mark("GOGC=" + strconv.Itoa(i))
		}
	}
	for _, kind := range []ChartKind{Lines, Bars} {
		c.Kind = kind
		for _, sz := range [][2]int{{1, 1}, {5, 1}, {10, 2}, {20, 3}, {40, 8}, {98, 26}, {198, 56}} {
			c.SetSize(sz[0], sz[1])
			assertSize(t, c.View(), sz[0], sz[1])
		}
	}
	c.SetSize(0, 5)
	if c.View() != "" {
		t.Error("zero width must draw nothing")
	}
}

// A one-row Bars chart with a fixed range is the sparkline the bench pane
// has always drawn.
func TestChartOneRowIsTheSparkline(t *testing.T) {
	tests := []struct {
		vs     []float64
		w      int
		lo, hi float64
		want   string
	}{
		{[]float64{0, 1, 2, 3, 4, 5, 6, 7}, 8, 0, 7, "▁▂▃▄▅▆▇█"},
		{[]float64{5, 5}, 4, 5, 5, "██  "},
		{[]float64{0, 0}, 2, 0, 0, "▁▁"},
		{[]float64{1, 2, 3, 4}, 2, 0, 4, "▆█"},
		{nil, 3, 0, 0, "   "},
	}
	for _, tt := range tests {
		if got := sparkline(tt.vs, tt.w, tt.lo, tt.hi); got != tt.want {
			t.Errorf("sparkline(%v, %d) = %q, want %q", tt.vs, tt.w, got, tt.want)
		}
		c := NewChart(DefaultStyles(), "")
		c.Kind = Bars
		c.AddSeries("")
		c.SetRange(tt.lo, tt.hi)
		for _, v := range tt.vs {
			c.Push(0, v)
		}
		c.SetSize(tt.w, 1)
		if got := ansi.Strip(c.View()); got != tt.want {
			t.Errorf("one-row chart of %v = %q, want %q", tt.vs, got, tt.want)
		}
	}
}

func TestChartMarkerSitsBetweenBeforeAndAfter(t *testing.T) {
	c := NewChart(DefaultStyles(), "RSS")
	c.Kind = Bars
	c.ZeroBase = true
	c.Format = func(v float64) string { return strconv.Itoa(int(v)) + "M" }
	c.AddSeries("rss")
	for range 10 {
		c.Push(0, 100)
	}
	c.Mark("GOGC=200")
	for range 10 {
		c.Push(0, 50)
	}
	c.SetSize(40, 8)
	lines := chartLines(c)
	if len(lines) != 8 {
		t.Fatalf("%d lines:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	if !strings.HasPrefix(lines[0], "RSS") {
		t.Errorf("title row %q", lines[0])
	}
	// Axis "100M┤" is 5 columns, so the marker before point 10 is column 15.
	label := []rune(lines[1])
	if i := strings.Index(lines[1], "┃GOGC=200"); i < 0 || len([]rune(lines[1][:i])) != 15 {
		t.Errorf("marker label not at column 15: %q", string(label))
	}
	if !strings.HasPrefix(lines[2], "100M┤") || !strings.HasPrefix(lines[7], "  0M┤") {
		t.Errorf("axis labels wrong:\n%s", strings.Join(lines, "\n"))
	}
	// Top plot row: the first 10 points are full (100), the later ones half
	// (50) so above them is empty, and the marker column is dotted.
	top := []rune(lines[2])
	if string(top[5:15]) != strings.Repeat("█", 10) {
		t.Errorf("before the marker: %q", string(top[5:15]))
	}
	if top[15] != '┊' {
		t.Errorf("marker column: %q", top[15])
	}
	if strings.TrimSpace(string(top[16:])) != "" {
		t.Errorf("after the marker the top row is empty: %q", string(top[16:]))
	}
	bottom := []rune(lines[7])
	if string(bottom[15:25]) != strings.Repeat("█", 10) {
		t.Errorf("after the marker, bottom row: %q", string(bottom[15:]))
	}
	xs, labels := c.Markers()
	if len(xs) != 1 || xs[0] != 10 || labels[0] != "GOGC=200" {
		t.Errorf("markers %v %v", xs, labels)
	}
}

func TestChartHistoryKeepsAndScrolls(t *testing.T) {
	c := NewChart(DefaultStyles(), "n")
	c.Kind = Bars
	c.Keep = 50
	c.AddSeries("")
	for i := range 100 {
		if i == 10 || i == 80 {
			c.Mark("m" + strconv.Itoa(i))
		}
		c.Push(0, float64(i))
	}
	vs, first := c.Values(0)
	if len(vs) != 50 || first != 50 || vs[0] != 50 {
		t.Fatalf("kept %d from %d (%v…)", len(vs), first, vs[:1])
	}
	if xs, _ := c.Markers(); len(xs) != 1 || xs[0] != 80 {
		t.Errorf("a marker before every kept point must go: %v", xs)
	}
	c.ZeroBase = true // else every 10 points of the ramp look alike
	c.SetSize(10, 2)
	now := plain(c.View())
	c.ScrollBy(30)
	back := plain(c.View())
	if back == now {
		t.Error("scrolling back shows the same")
	}
	c.ScrollBy(1000)
	if c.View(); c.Scrolled() != 40 {
		t.Errorf("scroll clamps to the oldest screen: %d", c.Scrolled())
	}
	c.ScrollBy(-1000)
	if got := plain(c.View()); got != now {
		t.Errorf("scrolling forward again:\n%s\nwant\n%s", got, now)
	}
}

func TestChartLinesTwoSeries(t *testing.T) {
	c := NewChart(DefaultStyles(), "up and down")
	c.Legend = true
	up, down := c.AddSeries("up"), c.AddSeries("down")
	for i := range 30 {
		c.Push(up, float64(i))
		c.Push(down, float64(29-i))
	}
	c.SetSize(40, 6)
	lines := chartLines(c)
	if !strings.Contains(lines[0], "━ up 29") || !strings.Contains(lines[0], "━ down 0") {
		t.Errorf("legend: %q", lines[0])
	}
	if !strings.HasPrefix(lines[1], "29┤") || !strings.HasPrefix(lines[5], " 0┤") {
		t.Fatalf("axis:\n%s", strings.Join(lines, "\n"))
	}
	braille := func(s string, i int) bool {
		r := []rune(s)
		return i < len(r) && r[i] >= 0x2800 && r[i] <= 0x28ff
	}
	// Both lines start in a corner and end in the other: the top row has
	// dots at both ends, the bottom row too, and the middle crosses.
	for _, row := range []int{1, 5} {
		if !braille(lines[row], 3) || !braille(lines[row], 3+29) {
			t.Errorf("row %d ends: %q", row, lines[row])
		}
	}
	// Continuous: every column up to the last point has a dot in some row.
	for col := 3; col < 3+30; col++ {
		found := false
		for _, l := range lines[1:] {
			found = found || braille(l, col)
		}
		if !found {
			t.Errorf("gap at column %d:\n%s", col, strings.Join(lines, "\n"))
		}
	}
}

func TestChartStretchWithLabels(t *testing.T) {
	c := NewChart(DefaultStyles(), "time by GOGC")
	c.Stretch = true
	c.XLabels = []string{"25", "100", "400", "off"}
	c.AddSeries("time")
	c.Set(0, []float64{4, 3, 2.5, 2.4})
	c.SetSize(40, 6)
	lines := chartLines(c)
	last := lines[len(lines)-1]
	for _, l := range c.XLabels {
		if !strings.Contains(last, l) {
			t.Errorf("x label %q missing: %q", l, last)
		}
	}
	// The last point is at the right edge.
	r := []rune(lines[len(lines)-2])
	if len(r) < 40 || r[39] == ' ' {
		t.Errorf("last point not at the right edge:\n%s", strings.Join(lines, "\n"))
	}
}

// A chart too short for a title row keeps its title at the left.
func TestChartShortKeepsItsTitle(t *testing.T) {
	c := NewChart(DefaultStyles(), "GC/s")
	c.Legend = true
	c.AddSeries("GC/s")
	for i := range 20 {
		c.Push(0, float64(i))
	}
	c.SetSize(60, 2)
	assertSize(t, c.View(), 60, 2)
	lines := chartLines(c)
	if !strings.HasPrefix(lines[0], "GC/s  19") {
		t.Errorf("title not inline: %q", lines[0])
	}
}

// Fit keeps an old marker on screen by squeezing the history.
func TestChartFitKeepsTheMarker(t *testing.T) {
	c := NewChart(DefaultStyles(), "n")
	c.Kind = Bars
	c.AddSeries("")
	for i := range 200 {
		if i == 20 {
			c.Mark("GOGC=200")
		}
		c.Push(0, float64(i%7))
	}
	c.SetSize(50, 6)
	if strings.Contains(plain(c.View()), "GOGC=200") {
		t.Fatal("without Fit the marker scrolls off")
	}
	c.Fit = true
	got := plain(c.View())
	if !strings.Contains(got, "┃GOGC=200") {
		t.Errorf("with Fit the marker stays:\n%s", got)
	}
	assertSize(t, c.View(), 50, 6)
}
