package metrics

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"armbench/bench"
)

// recordedSched is a real schedtrace report (scheddetail=1) from an arm64
// device, so the goroutine count comes from what Go prints.
func recordedSched(t *testing.T) bench.SchedSample {
	t.Helper()
	f, err := os.Open("../bench/testdata/scheddetail-go126-arm64.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	samples, err := bench.ParseSchedtrace(f)
	if err != nil || len(samples) == 0 {
		t.Fatalf("recorded schedtrace: %d samples, %v", len(samples), err)
	}
	return samples[len(samples)-1]
}

func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); expfmt.ResponseFormat(resp.Header).FormatType() != expfmt.TypeTextPlain {
		t.Fatalf("content type %q, want the Prometheus text format", ct)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("exposition text does not parse: %v\n%s", err, body)
	}
	return fams
}

func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Fatalf("no %s in the scrape", name)
	}
metric:
	for _, m := range f.Metric {
		got := map[string]string{}
		for _, l := range m.Label {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue metric
			}
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Counter != nil:
			return m.Counter.GetValue()
		}
	}
	t.Fatalf("no %s with labels %v", name, want)
	return 0
}

func TestServeAnswersAGETWithParsableText(t *testing.T) {
	e := New("pi4")
	sched := recordedSched(t)
	e.Observe(bench.Proc{Profile: "release", Sample: bench.ProcSample{
		CPU: 187.5, RSS: 12 << 20, HWM: 14 << 20, Threads: 7, VCtx: 420, NVCtx: 17,
		CPUBusy: []float64{90, 97.5}, Load: [3]float64{1.5, 1, 0.5}, FreqKHz: []int64{1500000, 600000},
		TempMilli: []int64{61234}, Throttled: "0x50005",
	}})
	e.Observe(bench.Proc{Profile: "release", Sample: bench.ProcSample{CPU: 150, RSS: 13 << 20, Threads: 8, Throttled: "0x50005"}})
	e.Observe(bench.Sched{Profile: "release", Sample: sched})
	e.Observe(bench.Proc{Profile: "single-core", Sample: bench.ProcSample{CPU: 99, RSS: 9 << 20, Throttled: "0x50000"}})
	e.Observe(bench.Line{Profile: "release", Text: "ignored"})

	ctx, cancel := context.WithCancel(context.Background())
	addr, done, err := e.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fams := scrape(t, "http://"+addr.String()+"/metrics")
	rel := map[string]string{"target": "pi4", "profile": "release"}
	if v := value(t, fams, "armbench_process_resident_memory_bytes", rel); v != 13<<20 {
		t.Errorf("RSS %v, want the latest sample's %d", v, 13<<20)
	}
	if v := value(t, fams, "armbench_probe_samples_total", rel); v != 2 {
		t.Errorf("samples %v, want 2", v)
	}
	if v := value(t, fams, "armbench_device_throttled", rel); v != 1 {
		t.Errorf("throttled %v for 0x50005, want 1", v)
	}
	if v := value(t, fams, "armbench_device_throttled", map[string]string{"profile": "single-core"}); v != 0 {
		t.Errorf("throttled %v for 0x50000 (only since boot), want 0", v)
	}
	if v := value(t, fams, "armbench_go_sched_gomaxprocs", rel); v != float64(sched.GOMAXPROCS) || v == 0 {
		t.Errorf("gomaxprocs %v, want %d", v, sched.GOMAXPROCS)
	}
	if v := value(t, fams, "armbench_go_goroutines", rel); v != float64(len(sched.Detail.Gs)) || v == 0 {
		t.Errorf("goroutines %v, want %d", v, len(sched.Detail.Gs))
	}
	if fams["armbench_process_cpu_percent"].GetType() != dto.MetricType_GAUGE || fams["armbench_process_context_switches_total"].GetType() != dto.MetricType_COUNTER {
		t.Errorf("types: cpu %v, context switches %v", fams["armbench_process_cpu_percent"].GetType(), fams["armbench_process_context_switches_total"].GetType())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("server ended with %v", err)
	}
	if _, err := http.Get("http://" + addr.String() + "/metrics"); err == nil {
		t.Error("server still answers after its context ended")
	}
}

func TestServeOnABusyPortSaysWhere(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, _, err := New("a").Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = New("b").Serve(ctx, addr.String())
	if err == nil {
		t.Fatal("second listener on the same port succeeded")
	}
	if want := addr.String(); !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not name %s", err, want)
	}
}
