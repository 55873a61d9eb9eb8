package ui

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"armbench/bench"
)

// TestMetricsToggle: M serves the exporter at the configured address, a
// bench session's samples appear in a real scrape, and M again stops it.
func TestMetricsToggle(t *testing.T) {
	m := newFlowModel(t, 100, 30)
	m.env.metricsAddr = "127.0.0.1:0"
	keys(m, "M")
	if m.env.metrics == nil || !strings.Contains(m.notice, m.env.metrics.url) {
		t.Fatalf("M did not start metrics; notice %q", m.notice)
	}
	url := m.env.metrics.url
	obs := m.observer("local-arm64")
	obs.Observe(bench.Proc{Profile: "release", Sample: bench.ProcSample{RSS: 12345678, Threads: 5}})
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `armbench_process_resident_memory_bytes{profile="release",target="local-arm64"} 1.2345678e+07`) {
		t.Errorf("scrape lacks the sample:\n%s", body)
	}
	keys(m, "M")
	if m.env.metrics != nil || m.observer("x") != nil {
		t.Fatal("M did not stop metrics")
	}
	for range 50 { // Shutdown runs on its own goroutine
		if _, err = http.Get(url); err != nil {
			return
		}
	}
	t.Errorf("%s still answers after M stopped it", url)
}
