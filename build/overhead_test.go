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
	// Each iteration runs both, back to back, so load from elsewhere on
	// the machine hits them alike; the ratio reported is the median of the
	// per-iteration ratios, which a stray spike of load does not move.
	var hand, ours time.Duration
	var ratios []float64
	for b.Loop() {
		t0 := time.Now()
		goBuild()
		t1 := time.Now()
		if res := Run(context.Background(), plan, nil); res.Err != nil {
			b.Fatal(res.Err)
		}
		h, o := t1.Sub(t0), time.Since(t1)
		hand += h
		ours += o
		ratios = append(ratios, float64(o)/float64(h))
	}
	slices.Sort(ratios)
	b.ReportMetric(float64(hand.Nanoseconds())/float64(b.N), "go-build-ns/op")
	b.ReportMetric(float64(ours.Nanoseconds())/float64(b.N), "build.Run-ns/op")
	b.ReportMetric(ratios[len(ratios)/2], "median-ratio")
}
