// Command workload is armbench's sample program: a short, deterministic mix
// of work whose speed depends on the knobs armbench's profiles turn — GOGC
// and GOMEMLIMIT (allocation), GOMAXPROCS (parallel hashing), the GOARM64
// feature level (sha256, AES-GCM) and the scheduler (channels).
//
//	workload [-duration 2s] [-mode all|alloc|parallel|hash|chan]
//
// It prints one summary line per part and exits 0. The same kernels are
// measured more precisely by the package's Go benchmarks (go test -bench .).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"
)

// part is one section of the workload: a name, a unit for the summary line,
// and one step of work that reports how many units it did.
type part struct {
	name string
	unit string
	step func() int
}

func parts() []part {
	hashBuf := make([]byte, 4096)
	gcm := newGCM(4096)
	return []part{
		{"alloc", "trees", func() int { allocTrees(8, 10); allocMaps(2, 256); return 8 }},
		{"parallel", "chunks", func() int { parallelHash(64, 128, parallelWorkers()); return 64 }},
		{"hash", "MB", func() int {
			for i := 0; i < 16; i++ {
				sha256Blocks(hashBuf)
				gcm.seal(hashBuf)
			}
			return 16 * len(hashBuf) // bytes; converted in the summary
		}},
		{"chan", "messages", func() int { pingPong(500); fanOut(500, 4); return 500 + 500 }},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("workload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	duration := fs.Duration("duration", 2*time.Second, "total time to spend, split evenly between the parts run")
	mode := fs.String("mode", "all", "which part to run: all, alloc, parallel, hash or chan")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "workload: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *duration <= 0 {
		fmt.Fprintf(stderr, "workload: -duration must be positive, got %v\n", *duration)
		return 2
	}
	var todo []part
	for _, p := range parts() {
		if *mode == "all" || *mode == p.name {
			todo = append(todo, p)
		}
	}
	if len(todo) == 0 {
		fmt.Fprintf(stderr, "workload: unknown -mode %q (want all, alloc, parallel, hash or chan)\n", *mode)
		return 2
	}
	fmt.Fprintf(stdout, "workload %s/%s GOMAXPROCS=%d NumCPU=%d\n", runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.NumCPU())
	each := *duration / time.Duration(len(todo))
	for _, p := range todo {
		fmt.Fprintln(stdout, runPart(p, each))
	}
	return 0
}

// runPart repeats p's step until d has passed (at least once) and returns
// its summary line: rate, GC cycles and allocation during the part.
func runPart(p part, d time.Duration) string {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	units, steps := 0, 0
	for steps == 0 || time.Since(start) < d {
		units += p.step()
		steps++
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	amount, unit := float64(units), p.unit
	if unit == "MB" {
		amount /= 1 << 20
	}
	return fmt.Sprintf("%-8s %6d steps %10.1f %s/s  %4d GCs  %8.1f MB allocated  in %v",
		p.name, steps, amount/elapsed.Seconds(), unit,
		after.NumGC-before.NumGC, float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), elapsed.Round(time.Millisecond))
}
