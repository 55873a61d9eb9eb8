package build

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// logFile is the build log on disk, buffered: go build -x can print tens of
// thousands of lines and a write syscall per line would dominate.
type logFile struct {
	c io.Closer
	w *bufio.Writer
}

// openLog opens the log at path without waiting for the filesystem: the
// directory and file are created in the background while the go command
// starts, and the first write (at a flush, the buffer is 64 KiB) waits for
// them. An error surfaces from the first write or from close.
func openLog(path string) *logFile {
	a := &asyncFile{ready: make(chan struct{})}
	go func() {
		defer close(a.ready)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			a.err = fmt.Errorf("log directory: %w", err)
			return
		}
		if a.f, a.err = os.Create(path); a.err != nil {
			a.err = fmt.Errorf("build log: %w", a.err)
		}
	}()
	return &logFile{c: a, w: bufio.NewWriterSize(a, 64<<10)}
}

// asyncFile is a file that is being created.
type asyncFile struct {
	ready chan struct{}
	f     *os.File
	err   error
}

func (a *asyncFile) Write(p []byte) (int, error) {
	<-a.ready
	if a.err != nil {
		return 0, a.err
	}
	return a.f.Write(p)
}

func (a *asyncFile) Close() error {
	<-a.ready
	if a.err != nil {
		return a.err
	}
	return a.f.Close()
}

// sink serializes lines from stdout and stderr: each reaches the log and
// emit whole and in one order, and emit is never called concurrently.
type sink struct {
	mu   sync.Mutex
	emit func(Event)
	log  *logFile
	err  error // first log write error
}

func newSink(emit func(Event), log *logFile) *sink {
	return &sink{emit: emit, log: log}
}

// line records one line (without its newline).
func (s *sink) line(b []byte, stderr bool) {
	ev := Line{Time: time.Now(), Stderr: stderr, Text: string(b)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.log != nil && s.err == nil {
		if _, err := s.log.w.Write(b); err != nil {
			s.err = err
		} else if err := s.log.w.WriteByte('\n'); err != nil {
			s.err = err
		}
	}
	s.emit(ev)
}

// logText writes armbench's own notes (the command, the outcome) to the
// log only; they are not output of the go command.
func (s *sink) logText(text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.log != nil && s.err == nil {
		_, s.err = s.log.w.WriteString(text)
	}
}

func (s *sink) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.log == nil {
		return s.err
	}
	if err := s.log.w.Flush(); err != nil && s.err == nil {
		s.err = err
	}
	if err := s.log.c.Close(); err != nil && s.err == nil {
		s.err = err
	}
	s.log = nil
	return s.err
}

// lineWriter is the go command's stdout or stderr: it cuts what is
// written into lines and hands each to the sink. exec.Cmd copies each pipe
// from its own goroutine, so the two writers run concurrently; each keeps
// only its own unfinished line.
type lineWriter struct {
	sink    *sink
	stderr  bool
	partial []byte // an unfinished line, carried over to the next Write
}

// maxKeep bounds the memory a writer keeps after a very long line.
const maxKeep = 64 << 10

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.partial = append(w.partial, p...)
			break
		}
		if len(w.partial) > 0 {
			w.partial = append(w.partial, p[:i]...)
			w.sink.line(trimCR(w.partial), w.stderr)
			w.reset()
		} else {
			w.sink.line(trimCR(p[:i]), w.stderr)
		}
		p = p[i+1:]
	}
	return n, nil
}

// flush delivers a last line that had no newline.
func (w *lineWriter) flush() {
	if len(w.partial) > 0 {
		w.sink.line(trimCR(w.partial), w.stderr)
		w.reset()
	}
}

func (w *lineWriter) reset() {
	if cap(w.partial) > maxKeep {
		w.partial = nil
	} else {
		w.partial = w.partial[:0]
	}
}

// trimCR drops the \r of CRLF output.
func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}
