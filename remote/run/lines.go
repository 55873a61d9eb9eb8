package run

import (
	"bufio"
	"io"
	"strings"
	"time"

	"armbench/remote/event"
)

// MaxLine caps one Output event; longer lines arrive in pieces rather than
// growing a buffer without bound.
const MaxLine = 64 << 10

// StreamLines emits each line of r as an Output event.
func StreamLines(r io.Reader, stderr bool, emit func(event.Event)) {
	br := bufio.NewReaderSize(r, MaxLine)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			text := strings.TrimRight(string(line), "\r\n")
			emit(event.Output{Time: time.Now(), Stderr: stderr, Text: text})
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return
		}
	}
}
