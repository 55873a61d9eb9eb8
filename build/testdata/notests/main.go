// Package main has no tests: go test -c writes no binary for it.
package main

func main() {}
