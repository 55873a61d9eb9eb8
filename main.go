// Command armbench is a terminal workbench for ARM builds of Go programs:
// pick a target and profiles, cross-compile, deploy over SSH, benchmark on
// the device and compare. With no sub-command it opens the TUI; every
// action also runs headless (`armbench build … --json`, package cli).
package main

import (
	"context"
	_ "embed"
	"io"
	"os"
	"os/signal"
	"syscall"

	"armbench/cli"
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

// run picks the front end: a sub-command runs headless, flags alone (or
// nothing) open the workbench.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o := cli.Options{Stdin: stdin, Stdout: stdout, Stderr: stderr, DefaultTargets: defaultTargets}
	if cli.IsCommand(args) {
		return cli.Run(ctx, args, o)
	}
	return cli.OpenWorkbench(ctx, args, o, runTUI)
}
