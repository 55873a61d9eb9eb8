package cli

import (
	"os/exec"
	"strings"
	"testing"

	"armbench/internal/testenv"
)

// The headless front end stands on the engines alone: it must not reach
// the TUI or Bubble Tea (engines and front ends, in the README's layout),
// so a headless build of armbench, or a tool embedding these commands,
// carries none of the TUI's libraries.
func TestHeadlessPathDoesNotImportTheTUI(t *testing.T) {
	testenv.Tool(t, "go", "golang-go")
	out, err := exec.Command("go", "list", "-deps", "armbench/cli").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "armbench/ui" || strings.HasPrefix(dep, "charm.land/") {
			t.Errorf("armbench/cli depends on %s", dep)
		}
	}
}
