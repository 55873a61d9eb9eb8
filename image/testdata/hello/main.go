// Command hello is the program the image tests put into images: tiny, so
// that building it for three platforms costs little beyond the standard
// library, and it prints what the runtime made of the image's environment.
package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
)

func main() {
	os.Stdout.WriteString("arch=" + runtime.GOARCH +
		" gomaxprocs=" + strconv.Itoa(runtime.GOMAXPROCS(0)) +
		" gogc=" + os.Getenv("GOGC") +
		" memlimit=" + strconv.FormatInt(debug.SetMemoryLimit(-1), 10) +
		" mode=" + os.Getenv("APP_MODE") + "\n")
}
