// A tiny program whose default build (DWARF compressed by the linker) the
// codec tests expand and contract.
package main

import "os"

func main() {
	println("tiny", len(os.Args))
}
