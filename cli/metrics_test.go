package cli

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"armbench/internal/testenv"
)

// TestRunMetricsServesTheProbe: `armbench run --metrics` on the local
// ARM target answers a real scrape, while the program runs, with
// exposition text the Prometheus parser reads, carrying the probe's
// samples and the Go scheduler's.
func TestRunMetricsServesTheProbe(t *testing.T) {
	testenv.Slow(t, "runs the workload under qemu")
	testenv.Qemu(t, "arm64")
	chdirRepoCopy(t)
	if code, _, stderr := runCLI(t, "deploy", "--target", "local-arm64", "--profile", "release"); code != 0 {
		t.Fatalf("deploy: exit %d: %s", code, stderr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut lockedBuffer
	code := make(chan int, 1)
	go func() {
		code <- Run(ctx, []string{"run", "--target", "local-arm64", "--profile", "release", "--metrics", "127.0.0.1:0", "--json",
			"--", "-duration", "4s", "-mode", "parallel"}, Options{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, DefaultTargets: shippedTargets})
	}()
	var url string
	for deadline := time.Now().Add(60 * time.Second); url == ""; time.Sleep(50 * time.Millisecond) {
		for _, l := range jsonLines(t, completeLines(out.String())) {
			if l["type"] == "metrics" {
				url, _ = l["url"].(string)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no metrics URL\nstdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
		}
	}
	var text string
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		text = string(b)
		if strings.Contains(text, "armbench_process_resident_memory_bytes") && strings.Contains(text, "armbench_go_sched_gomaxprocs") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no probe or schedtrace samples while the program ran:\n%s\nstderr:\n%s", text, errOut.String())
		}
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("exposition text does not parse: %v\n%s", err, text)
	}
	rss := fams["armbench_process_resident_memory_bytes"].GetMetric()[0]
	labels := map[string]string{}
	for _, l := range rss.GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	if labels["target"] != "local-arm64" || labels["profile"] != "release" || rss.GetGauge().GetValue() <= 0 {
		t.Errorf("RSS sample %v = %v", labels, rss.GetGauge().GetValue())
	}
	if c := <-code; c != 0 {
		t.Errorf("run exit %d\nstderr:\n%s", c, errOut.String())
	}
	if !strings.Contains(out.String(), `"type":"output"`) {
		t.Errorf("the program's output was not printed:\n%s", out.String())
	}
}
