//go:build linux

// Command armbench-elfz is the device side of a delta against a Go
// binary with compressed DWARF: `expand FILE` writes the file's expanded
// form (its zlib sections inflated) to stdout, the base the delta was made
// against; `contract` turns the expanded new binary on stdin back into the
// binary on stdout. armbench cross-compiles it with the Go that built the
// binaries it deploys, which is what makes the recompression exact; the
// install still checks the sha256 of what comes out.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime/debug"

	"armbench/internal/elfz/codec"
)

func main() {
	// The helper lives for one file, in the middle of a deploy: a
	// collection would only walk buffers that are all still needed (a
	// third of contract's time under qemu-user). The limit still
	// collects should a file outgrow a small board's memory.
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(256 << 20)
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "armbench-elfz:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	switch {
	case len(args) == 2 && args[0] == "expand":
		file, err := os.ReadFile(args[1])
		if err != nil {
			return err
		}
		x, err := codec.Expand(file)
		if err != nil {
			return fmt.Errorf("%s: %w", args[1], err)
		}
		_, err = os.Stdout.Write(x)
		return err
	case len(args) == 1 && args[0] == "contract":
		w := bufio.NewWriterSize(os.Stdout, 1<<16)
		if err := codec.Contract(os.Stdin, w); err != nil {
			return err
		}
		return w.Flush()
	}
	return fmt.Errorf("usage: armbench-elfz expand FILE | armbench-elfz contract")
}
