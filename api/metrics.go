package main

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// latencyBuckets are the upper bounds (seconds) of the request duration histogram.
var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Metrics counts HTTP requests and their latency, and serves everything its registry
// gathers in the Prometheus exposition format. Every label value comes from a closed
// set the server chooses, never from the client: the method is one of the standard
// ones or "other", the route is the route table's pattern (or "unmatched"), the
// status is the one the server wrote. A client cannot create series.
type Metrics struct {
	requests    *prometheus.CounterVec
	durations   *prometheus.HistogramVec
	rateLimited *prometheus.CounterVec
	handler     http.Handler
}

// knownMethods are the request methods a metric label keeps (RFC 9110 and PATCH).
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
	http.MethodConnect: true, http.MethodTrace: true,
}

// methodLabel is the method's label: itself when standard, else "other".
func methodLabel(method string) string {
	if knownMethods[method] {
		return method
	}
	return "other"
}

// NewMetrics registers the API's request metrics on reg and serves reg. Each Metrics
// needs a registry of its own (tests run several servers in one process), never
// prometheus.DefaultRegisterer.
func NewMetrics(reg *prometheus.Registry) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tierflow_api_requests_total",
			Help: "HTTP requests served, by method, route and status.",
		}, []string{"method", "route", "status"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tierflow_api_request_duration_seconds",
			Help:    "HTTP request latency, by method and route.",
			Buckets: latencyBuckets,
		}, []string{"method", "route"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tierflow_api_rate_limited_total",
			Help: "Requests answered 429, by limit (principal, survey, auth_failures).",
		}, []string{"limit"}),
	}
	reg.MustRegister(m.requests, m.durations, m.rateLimited)
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	return m
}

// newProcessRegistry is the API process's registry: the Go runtime and process
// collectors, to which NewMetrics adds the request metrics.
func newProcessRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Observe records one finished request; method is the client's, normalised here.
func (m *Metrics) Observe(method, route string, status int, d time.Duration) {
	method = methodLabel(method)
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.durations.WithLabelValues(method, route).Observe(d.Seconds())
}

// RateLimited counts one 429 of the named limit (a constant of the server's).
func (m *Metrics) RateLimited(limit string) {
	m.rateLimited.WithLabelValues(limit).Inc()
}

// ServeHTTP writes the metrics (Prometheus text format, or OpenMetrics when asked).
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.handler.ServeHTTP(w, r)
}
