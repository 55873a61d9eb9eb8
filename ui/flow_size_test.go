package ui

import (
	"strings"
	"testing"

	"armbench/internal/testenv"
)

// TestSizeFlowShowsPackagesSideBySide: z builds the ticked profiles for
// real (release through its unstripped twin) and shows where the bytes
// go in the compare pane, one column per profile.
func TestSizeFlowShowsPackagesSideBySide(t *testing.T) {
	testenv.Tool(t, "go", "golang-go") // builds for real
	m := newFlowModel(t, 120, 40)
	m.common.Dir, m.env.outRoot = "..", t.TempDir()
	tickProfiles(t, m, "default", "release")
	keys(m, "z")
	tk := actTask(m)
	if tk == nil || tk.kind != "size" || !tk.running() {
		t.Fatalf("z did not start a size task; notice %q", m.notice)
	}
	for {
		msg := tk.waitCmd()().(taskMsg)
		send(m, msg)
		if msg.closed {
			break
		}
	}
	if tk.err != nil {
		t.Fatalf("size failed: %v (%s)", tk.err, tk.summary)
	}
	out := plain(screen(m))
	for _, want := range []string{"default (base)", "release", "runtime", "DWARF debug info", "file", "size by package"} {
		if !strings.Contains(out, want) {
			t.Errorf("screen lacks %q:\n%s", want, out)
		}
	}
	tab := m.main.compare.table
	last := tab.Extras[len(tab.Extras)-1]
	if last.Name != "file" || last.Raw[1] >= last.Raw[0] || !strings.HasPrefix(last.Delta[1], "-") {
		t.Errorf("file row %+v: release should be smaller than default", last)
	}
}
