package main

import (
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/podlife/podlife/internal/procstat"
	"github.com/podlife/podlife/lifecycle/kubenode"
)

// proc is what the process has used so far.
type proc struct {
	cpu time.Duration
	rss uint64
}

func sample() proc { return proc{cpu: procstat.CPUTime(), rss: procstat.RSS()} }

// statsCollector exposes a Group's counts to Prometheus, read at each scrape.
type statsCollector struct{ g *kubenode.Group }

var (
	descPods     = prometheus.NewDesc("podlife_node_pods", "Pods the nodes hold, by their last phase.", []string{"phase"}, nil)
	descSteps    = prometheus.NewDesc("podlife_node_steps_total", "What the pods' machines handed out: about one per event handled.", nil, nil)
	descStatuses = prometheus.NewDesc("podlife_node_status_changes_total", "Status changes the machines reported.", nil, nil)
	descPushes   = prometheus.NewDesc("podlife_node_status_pushes_total", "Statuses given to the pod controllers to write.", nil, nil)
	descEvents   = prometheus.NewDesc("podlife_node_events_total", "Kubernetes events recorded on pods.", nil, nil)
	descAPI      = prometheus.NewDesc("podlife_node_api_requests_total", "Requests sent to the API server.", []string{"verb", "resource"}, nil)
)

func (c statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPods, descSteps, descStatuses, descPushes, descEvents, descAPI} {
		ch <- d
	}
}

func (c statsCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.g.Stats()
	for ph, n := range st.Phases {
		if ph == "" {
			ph = "Unreported"
		}
		ch <- prometheus.MustNewConstMetric(descPods, prometheus.GaugeValue, float64(n), ph)
	}
	ch <- prometheus.MustNewConstMetric(descSteps, prometheus.CounterValue, float64(st.Steps))
	ch <- prometheus.MustNewConstMetric(descStatuses, prometheus.CounterValue, float64(st.StatusChanges))
	ch <- prometheus.MustNewConstMetric(descPushes, prometheus.CounterValue, float64(st.StatusPushes))
	ch <- prometheus.MustNewConstMetric(descEvents, prometheus.CounterValue, float64(st.Events))
	for k, n := range st.API {
		verb, resource, _ := strings.Cut(k, " ")
		ch <- prometheus.MustNewConstMetric(descAPI, prometheus.CounterValue, float64(n), verb, resource)
	}
}

// serveMetrics serves /metrics on addr: the group's counts, and the process's CPU seconds,
// resident memory and Go runtime (Prometheus' own collectors); the process's profiles under
// /debug/pprof/; and /healthz.
func serveMetrics(addr string, g *kubenode.Group) (*http.Server, net.Addr, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(statsCollector{g}, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	// Served once the nodes are registered and Ready (serve starts it after kubenode.Start), so
	// that a harness can wait for the process with one request.
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("/debug/pprof/", pprof.Index) // profiles of the node process, for go tool pprof
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }() // it ends when Close closes the listener
	return srv, l.Addr(), nil
}
