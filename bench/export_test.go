package bench

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite the export golden files")

// exportTable is the comparison of the recorded default and single-core
// runs, with an extra row and a flagged round, as stored runs give.
func exportTable(t *testing.T) *Table {
	t.Helper()
	var inputs []Input
	for _, p := range []string{"default", "single-core"} {
		data, err := os.ReadFile(filepath.Join("testdata", "bench-"+p+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, Input{Label: p, Data: data})
	}
	tab, err := Stats(inputs)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Units) == 0 || len(tab.Units[0].Rows) == 0 {
		t.Fatalf("recorded runs gave an empty table: %+v", tab)
	}
	tab.Extras = []ExtraRow{{Name: "binary size", Values: []string{"2.7 MB", "2.7 MB"}, Raw: []float64{2712784, 2712790}, Has: []bool{true, true}, Delta: []string{"", "+0.00%"}}}
	tab.Flagged = map[string][]string{"single-core": {"round 3: cpufreq 1500→600 MHz"}}
	return tab
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "export", name)
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s: %v (run with -update to create it)", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestExportMarkdownGolden(t *testing.T) {
	tab := exportTable(t)
	var b bytes.Buffer
	if err := tab.Write(&b, "md", "local-arm64 · default vs single-core"); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "compare.md", b.Bytes())
	// Every table row has the same number of cells as its header.
	var cols int
	for _, line := range strings.Split(b.String(), "\n") {
		if !strings.HasPrefix(line, "|") {
			cols = 0
			continue
		}
		n := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|")
		if cols == 0 {
			cols = n
		} else if n != cols {
			t.Errorf("row has %d cells, header %d: %s", n-1, cols-1, line)
		}
	}
}

func TestExportCSVGolden(t *testing.T) {
	tab := exportTable(t)
	var b bytes.Buffer
	if err := tab.Write(&b, "csv", ""); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "compare.csv", b.Bytes())
	recs, err := csv.NewReader(bytes.NewReader(b.Bytes())).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse back: %v", err)
	}
	var rows, extras int
	for _, r := range recs[1:] {
		if r[0] == "extra" {
			extras++
		} else {
			rows++
		}
	}
	want := 0
	for _, ut := range tab.Units {
		want += len(ut.Rows) * 2
	}
	if rows != want || extras != 2 {
		t.Errorf("CSV has %d benchmark rows and %d extras, want %d and 2", rows, extras, want)
	}
}

func TestExportSVGHasOneBarPerProfile(t *testing.T) {
	tab := exportTable(t)
	var b bytes.Buffer
	if err := tab.Write(&b, "svg", `a "title" & <more>`); err != nil {
		t.Fatal(err)
	}
	bars := map[string]int{}
	dec := xml.NewDecoder(&b)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "rect" {
			continue
		}
		var class, profile, bench string
		for _, a := range se.Attr {
			switch a.Name.Local {
			case "class":
				class = a.Value
			case "data-profile":
				profile = a.Value
			case "data-benchmark":
				bench = a.Value
			}
		}
		if class == "bar" {
			bars[profile+"\x00"+bench]++
		}
	}
	for _, ut := range tab.Units[:1] {
		for _, r := range ut.Rows {
			for _, p := range tab.Columns {
				if bars[p+"\x00"+r.Name] == 0 {
					t.Errorf("no bar for %s × %s", p, r.Name)
				}
			}
		}
	}
}

func TestExportJSONRoundTripsAndUnknownFormatFails(t *testing.T) {
	tab := exportTable(t)
	var b bytes.Buffer
	if err := tab.Write(&b, "json", ""); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"columns"`) || !strings.Contains(b.String(), "single-core") {
		t.Errorf("JSON lacks the columns: %.200s", b.String())
	}
	err := tab.Write(io.Discard, "pdf", "")
	if err == nil || !strings.Contains(err.Error(), `"pdf"`) || !strings.Contains(err.Error(), "md") {
		t.Fatalf("unknown format: got %v", err)
	}
}
