package build

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// BenchmarkOverhead compares build.Run with the same go build typed by
// hand, warm cache and an up-to-date output, the everyday rebuild; the
// ratio metric is armbench's overhead (goal ≤ 1.03×).
//
//	go test -run '^$' -bench Overhead -benchtime 20x ./build
func BenchmarkOverhead(b *testing.B) {
	plan := handPlan(b, spec{name: "overhead", goarch: "arm64", goarm64: "v8.0", release: true})
	if res := Run(context.Background(), plan, nil); res.Err != nil { // warm the cache
		b.Fatal(res.Err)
	}
	handOut := filepath.Join(b.TempDir(), "workload")
	args := withOutput(plan.Args, handOut)
	env := append(os.Environ(), plan.BuildEnvStrings()...)
	goBuild := func() {
		cmd := exec.Command("go", args...)
		cmd.Dir, cmd.Env = plan.Dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("go %v: %v\n%s", args, err, out)
		}
	}
	goBuild()
	run := func() {
		if res := Run(context.Background(), plan, nil); res.Err != nil {
			b.Fatal(res.Err)
		}
	}
	timed := func(f func()) time.Duration {
		t := time.Now()
		f()
		return time.Since(t)
	}
	// Each iteration runs both, back to back, so load from elsewhere on
	// the machine hits them alike, and in turns first: whichever of two
	// builds runs second is measurably slower on a busy machine, so a
	// fixed order would bias the ratio. The ratio reported is the median
	// of the per-iteration ratios, which a stray spike of load does not
	// move.
	var hand, ours time.Duration
	var ratios []float64
	first := true
	for b.Loop() {
		var h, o time.Duration
		if first {
			h, o = timed(goBuild), timed(run)
		} else {
			o, h = timed(run), timed(goBuild)
		}
		first = !first
		hand += h
		ours += o
		ratios = append(ratios, float64(o)/float64(h))
	}
	slices.Sort(ratios)
	b.ReportMetric(float64(hand.Nanoseconds())/float64(b.N), "go-build-ns/op")
	b.ReportMetric(float64(ours.Nanoseconds())/float64(b.N), "build.Run-ns/op")
	b.ReportMetric(ratios[len(ratios)/2], "median-ratio")
}
