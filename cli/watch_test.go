package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"armbench/internal/testenv"
)

// lockedBuffer is a bytes.Buffer the test can read while armbench writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitLine waits until a JSON line of type typ whose text contains text
// has been printed, and returns every line so far.
func waitLine(t *testing.T, out, errOut *lockedBuffer, typ, text string) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		lines := jsonLines(t, completeLines(out.String()))
		for _, l := range lines {
			if l["type"] == typ && strings.Contains(l["text"].(string), text) {
				return lines
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s line with %q\nstdout:\n%s\nstderr:\n%s", typ, text, out, errOut)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// completeLines drops a line still being written.
func completeLines(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[:i+1]
	}
	return ""
}

// TestCLIWatchEditsTheWorkload is what a user does: watch the sample
// workload on the local target, edit it, and see the new version's output
// in the same --json stream as build, deploy and run print.
func TestCLIWatchEditsTheWorkload(t *testing.T) {
	testenv.Slow(t, "cross-compiles the sample workload")
	testenv.Qemu(t, "arm64")
	dir := chdirRepoCopy(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut lockedBuffer
	code := make(chan int, 1)
	go func() {
		code <- Run(ctx, []string{"watch", "--target", "local-arm64", "--profile", "release", "--debounce", "100ms", "--json",
			"--", "-duration", "50ms", "-mode", "chan"}, Options{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, DefaultTargets: shippedTargets})
	}()
	waitLine(t, &out, &errOut, "output", "workload linux/arm64")

	main := filepath.Join(dir, "examples", "workload", "main.go")
	src, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(src), `"workload %s/%s GOMAXPROCS`, `"workload-edited %s/%s GOMAXPROCS`, 1)
	if edited == string(src) {
		t.Fatal("the workload's header line moved; update the test")
	}
	if err := os.WriteFile(main, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	lines := waitLine(t, &out, &errOut, "output", "workload-edited linux/arm64")
	cancel()
	select {
	case c := <-code:
		if c != exitOK {
			t.Errorf("exit %d after Ctrl-C, want 0; stderr:\n%s", c, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("watch did not return after cancel")
	}

	types := map[string]bool{}
	for _, l := range lines {
		types[l["type"].(string)] = true
		if l["type"] != "watching" && l["cycle"] == nil {
			t.Errorf("a line without its cycle: %v", l)
		}
	}
	for _, want := range []string{"watching", "changed", "build", "step", "deployed", "started", "output", "exited"} {
		if !types[want] {
			t.Errorf("no %q line in\n%s", want, out.String())
		}
	}
	all := jsonLines(t, out.String())
	if last := all[len(all)-1]; last["type"] != "result" || last["cycles"] != float64(2) {
		t.Errorf("last line %v, want the result of 2 cycles", last)
	}
}

func TestCLIWatchUsage(t *testing.T) {
	for _, args := range [][]string{
		{"watch", "--debounce", "0s"},
		{"watch", "--kill-delay", "-1s"},
		{"watch", "--target", "nosuch"},
		{"watch", "--profile", "a,b"},
	} {
		if code, _, stderr := runCLI(t, args...); code != exitUsage {
			t.Errorf("%q: exit %d, want %d (%s)", args, code, exitUsage, stderr)
		}
	}
}
