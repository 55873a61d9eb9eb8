// Package build cross-compiles a profiles.Plan with the go command, streams
// its output as events, and verifies the artifact from the file itself.
package build

import "time"

// Event is one thing that happened during a build. The TUI turns events into
// messages; the CLI prints them.
type Event interface{ buildEvent() }

// Started is sent once, before the go command starts.
type Started struct {
	Time    time.Time
	Command string // the exact shell command (Plan's printable form)
}

// Line is one line of the go command's stdout or stderr.
type Line struct {
	Time   time.Time
	Stderr bool
	Text   string
}

// Finished is sent last, with the result.
type Finished struct {
	Result Result
}

func (Started) buildEvent()  {}
func (Line) buildEvent()     {}
func (Finished) buildEvent() {}

// Check is one verification of the artifact against the plan.
type Check struct {
	Name string // "ELF machine", "GOARM", "static", …
	Want string
	Got  string
	OK   bool
}

// Artifact describes the built file, as read back from disk.
type Artifact struct {
	Path      string
	Size      int64
	SHA256    string            // hex
	Machine   string            // "ARM", "AARCH64" (debug/elf)
	Class     string            // "ELF32" | "ELF64"
	Static    bool              // no PT_INTERP
	Stripped  bool              // no .symtab
	Settings  map[string]string // debug/buildinfo settings
	GoVersion string
	Checks    []Check
}

// Result is the outcome of one build.
type Result struct {
	Target, Profile string
	Output          string
	LogPath         string
	Start           time.Time
	Duration        time.Duration
	ExitCode        int
	Artifact        *Artifact // nil when the build failed
	// UpToDate: no input changed since the artifact was built (see
	// fingerprint.go), so the go command was not run.
	UpToDate bool
	Err      error
}
