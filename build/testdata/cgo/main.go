// Package main uses cgo, so that cgo profiles (C cross compiler, static
// external linking) are built and run for real in the build tests.
package main

// static int twice(int x) { return 2 * x; }
import "C"

import "fmt"

func main() {
	fmt.Println("cgo says", C.twice(21))
}
