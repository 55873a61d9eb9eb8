// Package elfz carries the source of armbench-elfz, the device-side
// helper of deltas against Go binaries whose DWARF the linker compressed
// (see package codec), so that armbench can cross-compile it for any
// target from any project (package deploy builds it).
package elfz

import "embed"

// Source is the helper's module source: codec and the main package.
//
//go:embed codec/codec.go helper/main.go
var Source embed.FS
