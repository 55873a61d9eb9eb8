// Package main does not compile, on purpose: build tests check that the
// compiler's file:line:col errors arrive as Line events.
package main

func main() {
	undefinedThing()
}
