package main

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// latencyBuckets are the upper bounds (seconds) of the request duration histogram.
var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type requestKey struct {
	method, route string
	status        int
}

type routeKey struct{ method, route string }

type histogram struct {
	counts []uint64 // per bucket, not cumulative
	count  uint64
	sum    float64
}

// Metrics counts HTTP requests and their latency and exposes them in the Prometheus
// text format. Labels are route patterns, never raw paths, so cardinality is bounded.
type Metrics struct {
	mu        sync.Mutex
	requests  map[requestKey]uint64
	durations map[routeKey]*histogram
}

// NewMetrics returns empty metrics.
func NewMetrics() *Metrics {
	return &Metrics{requests: map[requestKey]uint64{}, durations: map[routeKey]*histogram{}}
}

// Observe records one finished request.
func (m *Metrics) Observe(method, route string, status int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[requestKey{method, route, status}]++
	k := routeKey{method, route}
	h := m.durations[k]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(latencyBuckets))}
		m.durations[k] = h
	}
	secs := d.Seconds()
	for i, le := range latencyBuckets {
		if secs <= le {
			h.counts[i]++
			break
		}
	}
	h.count++
	h.sum += secs
}

// ServeHTTP writes the metrics in the Prometheus text exposition format (0.0.4).
func (m *Metrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = w.Write([]byte(m.render()))
}

func (m *Metrics) render() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	b.WriteString("# HELP tierflow_api_requests_total HTTP requests served, by method, route and status.\n")
	b.WriteString("# TYPE tierflow_api_requests_total counter\n")
	reqs := make([]requestKey, 0, len(m.requests))
	for k := range m.requests {
		reqs = append(reqs, k)
	}
	sort.Slice(reqs, func(i, j int) bool {
		a, c := reqs[i], reqs[j]
		if a.route != c.route {
			return a.route < c.route
		}
		if a.method != c.method {
			return a.method < c.method
		}
		return a.status < c.status
	})
	for _, k := range reqs {
		fmt.Fprintf(&b, "tierflow_api_requests_total{method=%q,route=%q,status=\"%d\"} %d\n", k.method, k.route, k.status, m.requests[k])
	}
	b.WriteString("# HELP tierflow_api_request_duration_seconds HTTP request latency, by method and route.\n")
	b.WriteString("# TYPE tierflow_api_request_duration_seconds histogram\n")
	routes := make([]routeKey, 0, len(m.durations))
	for k := range m.durations {
		routes = append(routes, k)
	}
	sort.Slice(routes, func(i, j int) bool {
		if routes[i].route != routes[j].route {
			return routes[i].route < routes[j].route
		}
		return routes[i].method < routes[j].method
	})
	for _, k := range routes {
		h := m.durations[k]
		var cum uint64
		for i, le := range latencyBuckets {
			cum += h.counts[i]
			fmt.Fprintf(&b, "tierflow_api_request_duration_seconds_bucket{method=%q,route=%q,le=%q} %d\n",
				k.method, k.route, strconv.FormatFloat(le, 'g', -1, 64), cum)
		}
		fmt.Fprintf(&b, "tierflow_api_request_duration_seconds_bucket{method=%q,route=%q,le=\"+Inf\"} %d\n", k.method, k.route, h.count)
		fmt.Fprintf(&b, "tierflow_api_request_duration_seconds_sum{method=%q,route=%q} %s\n", k.method, k.route,
			strconv.FormatFloat(h.sum, 'g', -1, 64))
		fmt.Fprintf(&b, "tierflow_api_request_duration_seconds_count{method=%q,route=%q} %d\n", k.method, k.route, h.count)
	}
	return b.String()
}
