package ui

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"

	tea "charm.land/bubbletea/v2"

	"armbench/bench"
	"armbench/internal/atomicfile"
)

// exportFormats are what E writes next to the run: Markdown for a README
// or an issue, CSV for a spreadsheet, SVG for a slide.
var exportFormats = []string{"md", "csv", "svg"}

// tableExported reports E's files, or why they could not be written.
type tableExported struct {
	dir   string
	files []string
	err   error
}

func (e tableExported) text() string {
	if e.err != nil {
		return "export failed: " + firstLine(e.err.Error())
	}
	return fmt.Sprintf("exported %s to %s", strings.Join(e.files, ", "), relPath(e.dir))
}

// exportTable writes tab in every export format into dir, off the Update
// goroutine; each file is written whole or not at all.
func exportTable(tab *bench.Table, dir, title string) tea.Cmd {
	if tab == nil || dir == "" {
		return nil
	}
	return func() tea.Msg {
		done := tableExported{dir: dir}
		for _, f := range exportFormats {
			var b bytes.Buffer
			if err := tab.Write(&b, f, title); err != nil {
				done.err = err
				return done
			}
			name := "compare" + bench.FormatExt(f)
			if err := atomicfile.Write(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
				done.err = err
				return done
			}
			done.files = append(done.files, name)
		}
		return done
	}
}
