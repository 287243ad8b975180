package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// grafanaQueries returns every PromQL expression of the Grafana dashboard.
func grafanaQueries(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("grafana", "tierflow-dashboard.json"))
	require.NoError(t, err)
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(raw, &dash))
	var exprs []string
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			require.NotEmpty(t, target.Expr, "panel %q has an empty query", p.Title)
			exprs = append(exprs, target.Expr)
		}
	}
	return exprs
}

// metricName finds the metric names of an expression (ours and the SDK's).
var metricName = regexp.MustCompile(`\b(?:tierflow|temporal)_[a-z0-9_]+\b`)

// productMetrics are the tierflow_* series the API and the worker export, read
// from their sources: a Prometheus client name is the series' name (histograms
// add _bucket, _sum and _count); a tally counter of the worker's activities is
// exported with _total (the SDK's Prometheus naming scope).
func productMetrics(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	// A metric's name is a prometheus Opts Name or a Metric* constant (the
	// activities' tally names); other tierflow_ strings (a cookie) are not metrics.
	literal := regexp.MustCompile(`(?:Name:\s*|(Metric\w*)\s*=\s*)"(tierflow_[a-z0-9_]+)"`)
	for _, dir := range []string{"../api", "../worker", "../activities"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		require.NoError(t, err)
		var all string
		for _, f := range files {
			if !strings.HasSuffix(f, "_test.go") {
				src, err := os.ReadFile(f)
				require.NoError(t, err)
				all += string(src)
			}
		}
		for _, m := range literal.FindAllStringSubmatch(all, -1) {
			ident, name := m[1], m[2]
			switch {
			case dir == "../activities":
				// The activities' metrics go through the SDK's handler and the
				// worker's Prometheus naming scope: counters end in _total, timers
				// in _seconds (a summary), gauges keep their name.
				for kind, names := range map[string][]string{
					"Counter": {name + "_total"},
					"Timer":   {name + "_seconds", name + "_seconds_sum", name + "_seconds_count"},
					"Gauge":   {name},
				} {
					if strings.Contains(all, kind+"("+ident+")") {
						for _, n := range names {
							out[n] = true
						}
					}
				}
			case strings.HasSuffix(name, "_seconds"):
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					out[name+suffix] = true
				}
			default:
				out[name] = true
			}
		}
	}
	return out
}

// sdkMetrics are the temporal_* series the worker's SDK exports, read from the
// SDK's own list of names: counters as <name>_total and latencies (timers) as
// <name>_seconds histograms, as the SDK's Prometheus naming scope names them.
func sdkMetrics(t *testing.T) map[string]bool {
	t.Helper()
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "go.temporal.io/sdk").Output()
	require.NoError(t, err, "go list -m go.temporal.io/sdk")
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(dir)), "internal", "common", "metrics", "constants.go"))
	require.NoError(t, err)
	out := map[string]bool{}
	decl := regexp.MustCompile(`(?m)^\s*(\w+)\s*=\s*TemporalMetricsPrefix \+ "([a-z0-9_]+)"`)
	for _, m := range decl.FindAllStringSubmatch(string(src), -1) {
		name := "temporal_" + m[2]
		switch {
		case strings.HasSuffix(m[1], "Counter"):
			out[name+"_total"] = true
		case strings.HasSuffix(m[1], "Latency"):
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				out[name+"_seconds"+suffix] = true
			}
		}
	}
	require.Contains(t, out, "temporal_activity_execution_failed_total", "the SDK's list was read")
	return out
}

// Every metric the Grafana dashboard queries is one the code exports, so the
// dashboard cannot silently go blank when a metric is renamed; and every product
// metric has a panel.
func TestGrafanaDashboardQueriesExportedMetrics(t *testing.T) {
	exported := productMetrics(t)
	require.Contains(t, exported, "tierflow_api_requests_total", "the API's metrics were read")
	for name := range sdkMetrics(t) {
		exported[name] = true
	}
	queried := map[string]bool{}
	for _, expr := range grafanaQueries(t) {
		names := metricName.FindAllString(expr, -1)
		assert.NotEmpty(t, names, "query %q names no tierflow_ or temporal_ metric", expr)
		for _, n := range names {
			queried[n] = true
			assert.True(t, exported[n], "the dashboard queries %s, which the code does not export (query %q)", n, expr)
		}
	}
	for n := range exported {
		if strings.HasPrefix(n, "tierflow_") && !strings.HasSuffix(n, "_sum") && !strings.HasSuffix(n, "_count") {
			base := strings.TrimSuffix(n, "_bucket")
			assert.True(t, queried[n] || slices.ContainsFunc(mapKeys(queried), func(q string) bool { return strings.HasPrefix(q, base) }),
				"the product metric %s has no panel", n)
		}
	}
}

func mapKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
