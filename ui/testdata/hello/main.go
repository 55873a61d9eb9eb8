// Command hello is the smallest program the TUI's program tests build for
// real: quick to cross-compile, so the test measures the TUI, not the compiler.
package main

import "fmt"

func main() { fmt.Println("hello from", "arm") }
