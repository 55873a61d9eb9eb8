// Command broken does not compile, on purpose: the TUI test checks that the
// compiler's error line is highlighted and that e jumps to it.
package main

import "fmt"

func main() {
	fmt.Println(notDefined)
}
