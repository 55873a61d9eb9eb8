// Command armbench is a terminal workbench for ARM builds of Go programs:
// pick a target and profiles, cross-compile, deploy over SSH, benchmark on
// the device and compare. With no sub-command it opens the TUI; every
// action also runs headless (`armbench build … --json`).
package main

import (
	"context"
	_ "embed"
	"os"
	"os/signal"
	"syscall"
)

// defaultTargets is the workspace used when there is no targets.toml: a
// local emulated target that works on any Linux box.
//
//go:embed targets.toml
var defaultTargets []byte

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
