package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"armbench/internal/testenv"
	"armbench/profiles"
)

// split feeds data to a lineWriter in chunks of the given sizes (cycled)
// and returns the lines it produced.
func split(data []byte, chunks []int) []string {
	var got []string
	s := newSink(func(ev Event) { got = append(got, ev.(Line).Text) }, nil)
	w := &lineWriter{sink: s}
	for i := 0; len(data) > 0; i++ {
		n := len(data)
		if len(chunks) > 0 {
			n = min(n, max(1, chunks[i%len(chunks)]))
		}
		w.Write(data[:n])
		data = data[n:]
	}
	w.flush()
	return got
}

// wantLines is the reference split: by \n, a trailing \r dropped, no empty
// line after a final newline.
func wantLines(data []byte) []string {
	if len(data) == 0 {
		return nil
	}
	parts := strings.Split(string(data), "\n")
	if strings.HasSuffix(string(data), "\n") {
		parts = parts[:len(parts)-1]
	}
	for i, p := range parts {
		parts[i] = strings.TrimSuffix(p, "\r")
	}
	return parts
}

func TestLineWriter(t *testing.T) {
	long := strings.Repeat("x", 3<<20)
	cases := []struct {
		name string
		in   string
	}{
		{"plain", "a\nb\nc\n"},
		{"no final newline", "a\nb"},
		{"empty lines kept", "\n\na\n\n"},
		{"crlf", "a\r\nb\r\n"},
		{"lone cr inside", "a\rb\n"},
		{"very long line", "start\n" + long + "\nend\n"},
		{"very long last line", long},
	}
	for _, c := range cases {
		for _, chunks := range [][]int{nil, {1}, {7, 3}, {4096}, {65536, 1}} {
			t.Run(fmt.Sprintf("%s/%v", c.name, chunks), func(t *testing.T) {
				got := split([]byte(c.in), chunks)
				if want := wantLines([]byte(c.in)); !slices.Equal(got, want) {
					t.Errorf("got %d lines, want %d (first differing shown)\n%.200q\n%.200q", len(got), len(want), got, want)
				}
			})
		}
	}
}

// TestUnwritableLog: a log that cannot be created fails the build with an
// error that names it, and nothing is installed.
func TestUnwritableLog(t *testing.T) {
	testenv.Tool(t, "go", "golang-go")
	plan := handPlan(t, spec{name: "nolog", goarch: "arm64"})
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	plan.LogPath = filepath.Join(blocker, "build.log") // a file where a directory should be
	res := Run(context.Background(), plan, nil)
	if res.Err == nil || !strings.Contains(res.Err.Error(), "log") || !strings.Contains(res.Err.Error(), blocker) {
		t.Errorf("Err = %v, want a log error naming %s", res.Err, blocker)
	}
	if res.Artifact != nil {
		t.Errorf("failed build has an artifact: %+v", res.Artifact)
	}
	if _, err := os.Stat(plan.Output); !os.IsNotExist(err) {
		t.Errorf("file at output: %v", err)
	}
}

func TestLineWriterReleasesLongLineMemory(t *testing.T) {
	w := &lineWriter{sink: newSink(func(Event) {}, nil)}
	w.Write(bytes.Repeat([]byte("y"), 1<<20))
	w.Write([]byte("\nshort"))
	if cap(w.partial) > maxKeep {
		t.Errorf("writer keeps %d bytes after a long line, want ≤ %d", cap(w.partial), maxKeep)
	}
}

// FuzzLineWriter: however the output is cut into writes, the lines are the
// same, and none is lost or merged.
func FuzzLineWriter(f *testing.F) {
	f.Add([]byte("a\nb\r\n\nc"), uint8(1), uint8(3))
	f.Add([]byte("main.go:6:2: undefined: x\n"), uint8(5), uint8(0))
	f.Add([]byte("\r\n\r\n\n"), uint8(2), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, a, b uint8) {
		want := wantLines(data)
		whole := split(data, nil)
		cut := split(data, []int{int(a), int(b)})
		if !slices.Equal(whole, want) {
			t.Fatalf("whole write: %q, want %q", whole, want)
		}
		if !slices.Equal(cut, want) {
			t.Fatalf("chunks %d,%d: %q, want %q", a, b, cut, want)
		}
	})
}

// fakeGo puts a `go` shell script first on PATH for this test, so Run's
// process handling can be driven with exact output.
func fakeGo(t *testing.T, script string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake go command is a sh script, and Windows runs no script by its #! line")
	}
	testenv.Tool(t, "sh", "dash")
	dir := t.TempDir()
	body := "#!/bin/sh\n" +
		"# find the -o value as the go command would\n" +
		"out=\n" +
		"for a in \"$@\"; do if [ \"$prev\" = -o ]; then out=$a; fi; prev=$a; done\n" +
		script
	if err := os.WriteFile(filepath.Join(dir, "go"), []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

func fakePlan(t *testing.T) profiles.Plan {
	out := filepath.Join(t.TempDir(), "out", "fake", "p", "app")
	return profiles.Plan{
		Dir:     t.TempDir(),
		Output:  out,
		LogPath: filepath.Join(filepath.Dir(out), "build.log"),
		Args:    []string{"build", "-o", out, "./x"},
	}
}

// TestRunStreamsEveryLine: thousands of lines on both streams, a 1 MiB
// line and CRLF all arrive whole, in order per stream, in events and log.
func TestRunStreamsEveryLine(t *testing.T) {
	fakeGo(t, `seq 1 20000 &
seq 1 20000 | sed 's/^/e/' >&2 &
wait
head -c 1048576 /dev/zero | tr '\0' x
echo
printf 'crlf\r\n'
printf 'last' >&2
exit 3
`)
	plan := fakePlan(t)
	var rec recorder
	res := Run(context.Background(), plan, rec.emit)
	rec.checkShape(t)
	if res.ExitCode != 3 || res.Err == nil || res.Artifact != nil {
		t.Fatalf("Result{ExitCode: %d, Err: %v, Artifact: %v}, want exit 3 and a failure", res.ExitCode, res.Err, res.Artifact)
	}
	var out, errs []string
	for _, l := range rec.lines() {
		if l.Stderr {
			errs = append(errs, l.Text)
		} else {
			out = append(out, l.Text)
		}
	}
	var wantOut, wantErr []string
	for i := 1; i <= 20000; i++ {
		wantOut = append(wantOut, strconv.Itoa(i))
		wantErr = append(wantErr, "e"+strconv.Itoa(i))
	}
	wantOut = append(wantOut, strings.Repeat("x", 1<<20), "crlf")
	wantErr = append(wantErr, "last")
	if !slices.Equal(out, wantOut) {
		t.Errorf("stdout: %d lines, want %d", len(out), len(wantOut))
	}
	if !slices.Equal(errs, wantErr) {
		t.Errorf("stderr: %d lines, want %d", len(errs), len(wantErr))
	}
	log, err := os.ReadFile(plan.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	logLines := strings.Split(string(log), "\n")
	for _, want := range []string{"20000", "e20000", "last", "crlf", strings.Repeat("x", 1<<20)} {
		if !slices.Contains(logLines, want) {
			t.Errorf("log lacks the line %.40q…", want)
		}
	}
	if n := len(logLines); n < 40003 {
		t.Errorf("log has %d lines, want every output line", n)
	}
}

// TestRunRejectsUnverifiedOutput: a go command that "succeeds" but writes
// something that is not the planned artifact must not install it, and the
// earlier artifact must stay.
func TestRunRejectsUnverifiedOutput(t *testing.T) {
	// Like the go command, replace the output rather than write into it.
	fakeGo(t, `rm -f "$out"; echo 'not an ELF file' > "$out"; exit 0`)
	plan := fakePlan(t)
	plan.Target.GOARCH = "arm64"
	if err := os.MkdirAll(filepath.Dir(plan.Output), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plan.Output, []byte("previous"), 0o755); err != nil {
		t.Fatal(err)
	}
	res := Run(context.Background(), plan, nil)
	if res.ExitCode != 0 || res.Err == nil || !strings.Contains(res.Err.Error(), "not an ELF file") {
		t.Fatalf("Result{ExitCode: %d, Err: %v}, want exit 0 and a verification error", res.ExitCode, res.Err)
	}
	if b, _ := os.ReadFile(plan.Output); string(b) != "previous" {
		t.Errorf("output now holds %q, want the previous file", b)
	}
	if names := entries(t, filepath.Dir(plan.Output)); !slices.Equal(names, []string{"app", "build.log"}) {
		t.Errorf("output directory holds %q", names)
	}
}

// TestRunUsesPlanEnvAndDir: the go command sees the inherited environment
// with the plan's variables on top, runs in plan.Dir, and writes to a
// temporary name beside the output.
func TestRunUsesPlanEnvAndDir(t *testing.T) {
	fakeGo(t, `echo "dir=$(pwd)"; echo "goarch=$GOARCH"; echo "keep=$ARMBENCH_TEST_KEEP"; echo "out=$out"; echo "tmp=$GOTMPDIR"; exit 1`)
	t.Setenv("ARMBENCH_TEST_KEEP", "inherited")
	t.Setenv("GOARCH", "amd64")
	plan := fakePlan(t)
	plan.BuildEnv = []profiles.EnvVar{{Key: "GOARCH", Value: "arm"}}
	var rec recorder
	Run(context.Background(), plan, rec.emit)
	got := map[string]string{}
	for _, l := range rec.lines() {
		k, v, _ := strings.Cut(l.Text, "=")
		got[k] = v
	}
	if got["dir"] != plan.Dir || got["goarch"] != "arm" || got["keep"] != "inherited" {
		t.Errorf("go command saw %v; want dir %s, GOARCH arm, inherited variables", got, plan.Dir)
	}
	if filepath.Dir(got["out"]) != filepath.Dir(plan.Output) || got["out"] == plan.Output || !strings.Contains(got["out"], ".tmp-") {
		t.Errorf("go wrote to %q, want a temporary name beside %s", got["out"], plan.Output)
	}
	if got["tmp"] == "" {
		t.Error("GOTMPDIR not set to a private directory")
	} else if _, err := os.Stat(got["tmp"]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("private temporary directory %s still exists: %v", got["tmp"], err)
	}
}

func TestMissingCrossCompiler(t *testing.T) {
	// Only the go command on PATH: no C compiler can be found.
	goDir := t.TempDir()
	if err := os.Symlink("/bin/true", filepath.Join(goDir, "go")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", goDir)
	for cc, pkg := range map[string]string{
		"aarch64-linux-gnu-gcc":   "gcc-aarch64-linux-gnu",
		"arm-linux-gnueabihf-gcc": "gcc-arm-linux-gnueabihf",
		"arm-linux-gnueabi-gcc":   "gcc-arm-linux-gnueabi",
	} {
		plan := fakePlan(t)
		plan.Target.GOARCH = "arm"
		plan.BuildEnv = []profiles.EnvVar{{Key: "CGO_ENABLED", Value: "1"}, {Key: "CC", Value: cc}}
		var rec recorder
		res := Run(context.Background(), plan, rec.emit)
		rec.checkShape(t)
		if res.Err == nil || !strings.Contains(res.Err.Error(), cc) || !strings.Contains(res.Err.Error(), pkg) {
			t.Errorf("CC=%s: error %v, want it to name %s and package %s", cc, res.Err, cc, pkg)
		}
		if n := len(rec.lines()); n != 0 {
			t.Errorf("CC=%s: %d lines: the go command ran", cc, n)
		}
	}
	plan := fakePlan(t)
	plan.Target.GOARCH = "arm64"
	plan.BuildEnv = []profiles.EnvVar{{Key: "CGO_ENABLED", Value: "1"}}
	if res := Run(context.Background(), plan, nil); res.Err == nil || !strings.Contains(res.Err.Error(), "C cross compiler") {
		t.Errorf("cgo for arm64 without CC: %v, want an error asking for one", res.Err)
	}
	plan.BuildEnv = []profiles.EnvVar{{Key: "CGO_ENABLED", Value: "0"}, {Key: "CC", Value: "aarch64-linux-gnu-gcc"}}
	if res := Run(context.Background(), plan, nil); res.Err != nil && strings.Contains(res.Err.Error(), "C compiler") {
		t.Errorf("CGO_ENABLED=0 checked the C compiler: %v", res.Err)
	}
}

func TestWithOutput(t *testing.T) {
	cases := []struct{ in, want []string }{
		{[]string{"build", "-trimpath", "-o", "out/app", "./x"}, []string{"build", "-trimpath", "-o", "TMP", "./x"}},
		{[]string{"build", "-o=out/app", "./x"}, []string{"build", "-o=TMP", "./x"}},
		{[]string{"test", "-c", "./x"}, []string{"test", "-o", "TMP", "-c", "./x"}},
	}
	for _, c := range cases {
		if got := withOutput(c.in, "TMP"); !slices.Equal(got, c.want) {
			t.Errorf("withOutput(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestStartedCommand: Started and the log's first line are the plan's own
// pasteable command, not armbench's temporary output name.
func TestStartedCommand(t *testing.T) {
	fakeGo(t, "exit 1")
	plan := fakePlan(t)
	plan.BuildEnv = []profiles.EnvVar{{Key: "GOARCH", Value: "arm"}, {Key: "GOFLAGS", Value: "-a -v"}}
	var rec recorder
	Run(context.Background(), plan, rec.emit)
	rec.checkShape(t)
	started := rec.events[0].(Started)
	if started.Command != plan.Shell() || !strings.Contains(started.Command, "GOFLAGS='-a -v'") || started.Time.IsZero() {
		t.Errorf("Started = %+v, want the plan's command %s", started, plan.Shell())
	}
	log, _ := os.ReadFile(plan.LogPath)
	if first, _, _ := strings.Cut(string(log), "\n"); first != "$ "+plan.Shell() {
		t.Errorf("log starts %q", first)
	}
}

// BenchmarkLineStream measures the path every output line takes: cut into
// lines, timestamped, written to the log, handed to emit. Input is typical
// `go build -x` output, written in 32 KiB chunks as exec.Cmd copies it.
func BenchmarkLineStream(b *testing.B) {
	var buf bytes.Buffer
	for i := 0; buf.Len() < 4<<20; i++ {
		fmt.Fprintf(&buf, "mkdir -p $WORK/b%03d/ && cd /src/pkg%d && /usr/lib/go/pkg/tool/linux_amd64/compile -o $WORK/b%03d/_pkg_.a -trimpath \"$WORK/b%03d=>\" -p pkg%d\n", i, i, i, i, i)
	}
	data := buf.Bytes()
	lines := bytes.Count(data, []byte{'\n'})
	log := openLog(filepath.Join(b.TempDir(), "build.log"))
	n := 0
	s := newSink(func(Event) { n++ }, log)
	w := &lineWriter{sink: s}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		for p := data; len(p) > 0; {
			k := min(len(p), 32<<10)
			w.Write(p[:k])
			p = p[k:]
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*lines), "ns/line")
	if err := s.close(); err != nil {
		b.Fatal(err)
	}
	if n != b.N*lines {
		b.Fatalf("emitted %d lines, want %d", n, b.N*lines)
	}
}
