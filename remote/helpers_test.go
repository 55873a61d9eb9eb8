package remote

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"armbench/internal/testenv"
)

// armProgram is a tiny program cross-compiled for arm64: it prints its
// architecture, its arguments and ARMBENCH_TEST, and exits with the code
// given as ARMBENCH_EXIT.
const armProgram = `package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
)

func main() {
	fmt.Println("arch", runtime.GOARCH)
	for _, a := range os.Args[1:] {
		fmt.Printf("arg [%s]\n", a)
	}
	fmt.Println("env", os.Getenv("ARMBENCH_TEST"))
	fmt.Fprintln(os.Stderr, "to stderr")
	code, _ := strconv.Atoi(os.Getenv("ARMBENCH_EXIT"))
	os.Exit(code)
}
`

// buildARM cross-compiles armProgram with the real go command.
func buildARM(t testing.TB, variant string) string {
	t.Helper()
	dir := t.TempDir()
	src := strings.Replace(armProgram, `"arch", runtime.GOARCH`, `"arch", runtime.GOARCH, `+`"`+variant+`"`, 1)
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module armtest\n\ngo 1.21\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "armtest")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build arm64: %v\n%s", err, b)
	}
	return out
}

func sha(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func writeFile(t testing.TB, path, content string, mode os.FileMode) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// recorder collects events from concurrent emitters.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) emit(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if o, ok := e.(Output); ok {
			p := "out: "
			if o.Stderr {
				p = "err: "
			}
			out = append(out, p+o.Text)
		}
	}
	return out
}

func (r *recorder) steps() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if s, ok := e.(Step); ok {
			name := s.Name
			if s.Done {
				name += " done"
			}
			if s.Err != nil {
				name += " failed"
			}
			out = append(out, name)
		}
	}
	return out
}

func (r *recorder) lastProgress() (Progress, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var last Progress
	n := 0
	for _, e := range r.events {
		if p, ok := e.(Progress); ok {
			last = p
			n++
		}
	}
	return last, n
}

// requireTool is the path of a tool the test needs (see testenv.Missing).
func requireTool(t testing.TB, name string) string {
	t.Helper()
	return testenv.Tool(t, name, debianPackage[name])
}

// debianPackage names the package of each tool the remote tests run.
var debianPackage = map[string]string{"zstd": "zstd", "qemu-aarch64-static": "qemu-user-static"}
