// Package metrics serves what the probe samples on a device (CPU, RSS,
// threads, context switches, per-CPU load and frequency, temperature,
// Raspberry Pi throttling) and what schedtrace says of the Go scheduler,
// in the Prometheus exposition formats, so a Grafana a user already has
// can plot a device while armbench runs a program on it.
//
// It is fed the bench engine's events and keeps only the latest sample of
// each profile; a scrape reads those. The text is written by the
// Prometheus client library, not by hand.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"armbench/bench"
)

// Exporter holds the latest samples of one target's profiles.
type Exporter struct {
	target string
	reg    *prometheus.Registry

	mu     sync.Mutex
	latest map[string]*latest // by profile
}

type latest struct {
	proc     *bench.ProcSample
	sched    *bench.SchedSample
	samples  uint64
	lastSeen time.Time
}

// New returns an exporter for target with its own registry (no process or
// Go collectors of armbench itself: the device is what is plotted).
func New(target string) *Exporter {
	e := &Exporter{target: target, reg: prometheus.NewRegistry(), latest: map[string]*latest{}}
	e.reg.MustRegister(collector{e})
	return e
}

// SetTarget names the device the next samples come from (the target
// label); samples already held keep being served under the new name.
func (e *Exporter) SetTarget(name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.target = name
}

// Observe takes a bench event; Proc and Sched update the profile's
// latest sample, other events are ignored. Safe for concurrent use.
func (e *Exporter) Observe(ev bench.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch ev := ev.(type) {
	case bench.Proc:
		s := ev.Sample
		l := e.profile(ev.Profile)
		l.proc, l.lastSeen = &s, time.Now()
		l.samples++
	case bench.Sched:
		s := ev.Sample
		l := e.profile(ev.Profile)
		l.sched, l.lastSeen = &s, time.Now()
	}
}

func (e *Exporter) profile(name string) *latest {
	l := e.latest[name]
	if l == nil {
		l = &latest{}
		e.latest[name] = l
	}
	return l
}

// Handler serves the metrics, in OpenMetrics when the scraper asks for
// it and in the Prometheus text format otherwise.
func (e *Exporter) Handler() http.Handler {
	return promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// Serve listens on addr (":9101", "127.0.0.1:0") and serves /metrics
// until ctx is done. It returns the address it listens on (the port
// chosen for ":0") once listening, so callers can print it.
func (e *Exporter) Serve(ctx context.Context, addr string) (net.Addr, <-chan error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", e.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		done <- err
	}()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	return ln.Addr(), done, nil
}

// collector turns the latest samples into metrics at scrape time.
type collector struct{ e *Exporter }

var (
	labels = []string{"target", "profile"}

	descCPU       = desc("process_cpu_percent", "CPU use of the program since the previous sample, percent of one core.")
	descRSS       = desc("process_resident_memory_bytes", "Resident memory of the program.")
	descHWM       = desc("process_resident_memory_peak_bytes", "Peak resident memory of the program so far.")
	descThreads   = desc("process_threads", "OS threads of the program.")
	descCtx       = desc("process_context_switches_total", "Context switches of the program's threads.", "kind")
	descLoad      = desc("device_load1", "One-minute load average of the device.")
	descBusy      = desc("device_cpu_busy_percent", "Busy time of one CPU since the previous sample.", "cpu")
	descFreq      = desc("device_cpu_frequency_hertz", "Current frequency of one CPU (cpufreq).", "cpu")
	descTemp      = desc("device_temperature_celsius", "Temperature of one thermal zone.", "zone")
	descThrottled = desc("device_throttled", "1 when the device reports under-voltage, capping or throttling now (Raspberry Pi get_throttled low bits), else 0.")
	descSamples   = desc("probe_samples_total", "Samples the probe has sent.")
	descProcs     = desc("go_sched_gomaxprocs", "GOMAXPROCS of the program (schedtrace).")
	descIdleProcs = desc("go_sched_idle_procs", "Idle Ps (schedtrace).")
	descMThreads  = desc("go_sched_threads", "Ms, OS threads the Go runtime knows (schedtrace).")
	descSpinning  = desc("go_sched_spinning_threads", "Spinning Ms looking for work (schedtrace).")
	descGlobalRQ  = desc("go_sched_global_run_queue", "Goroutines in the global run queue (schedtrace).")
	descLocalRQ   = desc("go_sched_local_run_queue", "Goroutines in the per-P run queues, summed (schedtrace).")
	descGs        = desc("go_goroutines", "Goroutines of the program (schedtrace with scheddetail=1 only).")
)

func desc(name, help string, extra ...string) *prometheus.Desc {
	return prometheus.NewDesc("armbench_"+name, help, append(append([]string(nil), labels...), extra...), nil)
}

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCPU, descRSS, descHWM, descThreads, descCtx, descLoad, descBusy, descFreq,
		descTemp, descThrottled, descSamples, descProcs, descIdleProcs, descMThreads, descSpinning, descGlobalRQ, descLocalRQ, descGs} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	c.e.mu.Lock()
	defer c.e.mu.Unlock()
	for profile, l := range c.e.latest {
		m := metricSink{ch: ch, labels: []string{c.e.target, profile}}
		m.counter(descSamples, float64(l.samples))
		if l.proc != nil {
			m.proc(l.proc)
		}
		if l.sched != nil {
			m.sched(l.sched)
		}
	}
}

// metricSink writes one profile's metrics with its labels.
type metricSink struct {
	ch     chan<- prometheus.Metric
	labels []string
}

func (m metricSink) gauge(d *prometheus.Desc, v float64, extra ...string) {
	m.ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append(append([]string(nil), m.labels...), extra...)...)
}

func (m metricSink) counter(d *prometheus.Desc, v float64, extra ...string) {
	m.ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, append(append([]string(nil), m.labels...), extra...)...)
}

func (m metricSink) proc(p *bench.ProcSample) {
	m.gauge(descCPU, p.CPU)
	m.gauge(descRSS, float64(p.RSS))
	m.gauge(descHWM, float64(p.HWM))
	m.gauge(descThreads, float64(p.Threads))
	m.counter(descCtx, float64(p.VCtx), "voluntary")
	m.counter(descCtx, float64(p.NVCtx), "involuntary")
	m.gauge(descLoad, p.Load[0])
	for i, b := range p.CPUBusy {
		m.gauge(descBusy, b, strconv.Itoa(i))
	}
	for i, f := range p.FreqKHz {
		m.gauge(descFreq, float64(f)*1000, strconv.Itoa(i))
	}
	for i, t := range p.TempMilli {
		m.gauge(descTemp, float64(t)/1000, strconv.Itoa(i))
	}
	if p.Throttled != "" {
		m.gauge(descThrottled, throttledNow(p.Throttled))
	}
}

// throttledNow reads vcgencmd's get_throttled value: its low four bits
// say under-voltage, frequency capping, throttling or the soft
// temperature limit are in force now (the high bits only that they
// happened since boot).
func throttledNow(s string) float64 {
	v, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(s, "throttled="), "0x"), 16, 64)
	if err != nil || v&0xf == 0 {
		return 0
	}
	return 1
}

func (m metricSink) sched(s *bench.SchedSample) {
	m.gauge(descProcs, float64(s.GOMAXPROCS))
	m.gauge(descIdleProcs, float64(s.IdleProcs))
	m.gauge(descMThreads, float64(s.Threads))
	m.gauge(descSpinning, float64(s.SpinningThreads))
	m.gauge(descGlobalRQ, float64(s.RunQueue))
	m.gauge(descLocalRQ, float64(s.LocalRunQueueTotal()))
	if s.Detail != nil {
		m.gauge(descGs, float64(len(s.Detail.Gs)))
	}
}
