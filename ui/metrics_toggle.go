package ui

import (
	"context"

	tea "charm.land/bubbletea/v2"

	"armbench/metrics"
)

// DefaultMetricsAddr is where M serves metrics unless Options say
// otherwise: every interface, so a Grafana on another machine can scrape.
const DefaultMetricsAddr = ":9101"

// M serves the device's samples (from bench sessions, and from g, which
// then runs the program under the probe) in Prometheus format until M is
// pressed again, as `armbench run --metrics` does.
func metricsAction() action {
	return action{key: newKey("M", "metrics on/off"), start: (*Model).toggleMetrics}
}

// metricsServer is the running exporter and how to stop it.
type metricsServer struct {
	exp  *metrics.Exporter
	url  string
	stop context.CancelFunc
}

func (m *Model) toggleMetrics() tea.Cmd {
	if s := m.env.metrics; s != nil {
		s.stop()
		m.env.metrics = nil
		m.notice = "metrics off"
		return nil
	}
	target := ""
	if t, ok := m.targets.Chosen(); ok {
		target = t.Name
	}
	exp := metrics.New(target)
	ctx, stop := context.WithCancel(m.env.ctx)
	at, _, err := exp.Serve(ctx, m.env.metricsAddr)
	if err != nil {
		stop()
		m.notice = firstLine(err.Error())
		return nil
	}
	m.env.metrics = &metricsServer{exp: exp, url: "http://" + at.String() + "/metrics", stop: stop}
	m.notice = "metrics on " + m.env.metrics.url + " (bench sessions and g feed it; M stops)"
	m.logf("metrics on %s", m.env.metrics.url)
	return nil
}

// observer is where a task's probe samples go: the exporter when M is
// on, nil otherwise.
func (m *Model) observer(target string) *metrics.Exporter {
	if m.env.metrics == nil {
		return nil
	}
	m.env.metrics.exp.SetTarget(target)
	return m.env.metrics.exp
}
