package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

func TestKPIs(t *testing.T) {
	env := newTestEnv(t)
	for _, token := range []string{"dev-supervisor", "dev-executive", "dev-viewer"} {
		rec := env.do(request{method: "GET", token: token,
			path: "/v1/reports/kpis?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z&group_by=category"})
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var report tierflow.KPIReport
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &report))
		assert.Equal(t, 10, report.Total.CasesOpened)
		assert.Len(t, report.Groups, 1)
	}
	q := env.records.lastKPI
	require.NotNil(t, q)
	assert.Equal(t, tierflow.KPIQuery{From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		To: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), GroupBy: "category"}, *q)

	rec := env.do(request{method: "GET", token: "dev-viewer", path: "/v1/reports/kpis?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z"})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
}

func TestKPIsRejectBadInput(t *testing.T) {
	tests := []struct {
		name, token, query string
		status             int
		fields             []string
	}{
		{"agent", "dev-agent", "from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z", http.StatusForbidden, nil},
		{"integration", "dev-integration", "from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z", http.StatusForbidden, nil},
		{"no token", "", "from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z", http.StatusUnauthorized, nil},
		{"missing from", "dev-viewer", "to=2026-12-01T00:00:00Z", http.StatusUnprocessableEntity, []string{"from"}},
		{"bad time", "dev-viewer", "from=yesterday&to=2026-12-01T00:00:00Z", http.StatusUnprocessableEntity, []string{"from"}},
		{"to before from", "dev-viewer", "from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z", http.StatusUnprocessableEntity, []string{"to"}},
		{"bad group", "dev-viewer", "from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z&group_by=colour", http.StatusUnprocessableEntity, []string{"group_by"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			p := problemOf(t, env.do(request{method: "GET", token: tc.token, path: "/v1/reports/kpis?" + tc.query}), tc.status)
			assert.Subset(t, fieldsOf(p), tc.fields)
			assert.Nil(t, env.records.lastKPI)
		})
	}
}

func TestHealthAndReadiness(t *testing.T) {
	env := newTestEnv(t)
	rec := env.do(request{method: "GET", path: "/healthz"})
	assert.Equal(t, http.StatusOK, rec.Code)

	rec = env.do(request{method: "GET", path: "/readyz"})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"status": "ok", "checks": {"temporal": "ok", "postgres": "ok"}}`, rec.Body.String())

	env.ready["postgres"] = assert.AnError
	rec = env.do(request{method: "GET", path: "/readyz"})
	p := problemOf(t, rec, http.StatusServiceUnavailable)
	assert.Equal(t, map[string]string{"temporal": "ok", "postgres": "unavailable"}, p.Checks)
	assert.NotContains(t, rec.Body.String(), assert.AnError.Error(), "no internal error text")
}

func TestOpenAPIDocumentIsServed(t *testing.T) {
	env := newTestEnv(t)
	rec := env.do(request{method: "GET", path: "/openapi.yaml"})
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "application/yaml", rec.Header().Get("Content-Type"))
	assert.True(t, strings.HasPrefix(rec.Body.String(), "openapi: 3.1.0"))
	apiRouter(t) // loads and validates
}

func TestRequestIDs(t *testing.T) {
	env := newTestEnv(t)
	rec := env.do(request{method: "GET", path: "/healthz", header: map[string]string{"X-Request-Id": "crm-abc.123"}})
	assert.Equal(t, "crm-abc.123", rec.Header().Get("X-Request-Id"), "a sane incoming id is kept")

	rec = env.do(request{method: "GET", path: "/healthz", header: map[string]string{"X-Request-Id": "bad id\n<script>"}})
	got := rec.Header().Get("X-Request-Id")
	assert.NotContains(t, got, "script")
	assert.Len(t, got, 24, "a generated id replaces an insane one")
}

func TestUnknownRoutesAnswerProblems(t *testing.T) {
	env := newTestEnv(t)
	problemOf(t, env.do(request{method: "GET", path: "/v2/cases", token: "dev-agent"}), http.StatusNotFound)
	rec := env.do(request{method: "DELETE", path: "/v1/cases/zendesk-1", token: "dev-agent"})
	problemOf(t, rec, http.StatusMethodNotAllowed)
	assert.Contains(t, rec.Header().Get("Allow"), "GET")
}

func TestDevMailboxIsMounted(t *testing.T) {
	env := newTestEnv(t)
	rec := env.do(request{method: "GET", path: "/dev/mailbox/12", token: "dev-viewer"})
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "mailbox /12", rec.Body.String())
}

func TestMetricsCountRequestsByRoute(t *testing.T) {
	env := newTestEnv(t)
	env.do(request{method: "GET", path: "/healthz"})
	env.do(request{method: "GET", path: "/v1/cases/zendesk-1"}) // 401
	rec := httptest.NewRecorder()
	env.srv.metricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	body := rec.Body.String()
	assert.Contains(t, body, `tierflow_api_requests_total{method="GET",route="GET /healthz",status="200"} 1`)
	assert.Contains(t, body, `tierflow_api_requests_total{method="GET",route="GET /v1/cases/{id}",status="401"} 1`)
	assert.Contains(t, body, `tierflow_api_request_duration_seconds_count{method="GET",route="GET /healthz"} 1`)
	assert.Contains(t, body, `le="+Inf"`)
	assert.NotContains(t, body, "zendesk-1", "labels are routes, not paths")
	assert.True(t, strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain; version=0.0.4"),
		"Prometheus text format, got %q", rec.Header().Get("Content-Type"))

	// The exposition parses, and the families keep the names, types, labels and
	// buckets dashboards rely on.
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	require.NoError(t, err)
	requests := families["tierflow_api_requests_total"]
	require.NotNil(t, requests)
	assert.Equal(t, dto.MetricType_COUNTER, requests.GetType())
	assert.Len(t, requests.GetMetric(), 2)
	assert.Equal(t, []string{"method", "route", "status"}, labelNames(requests.GetMetric()[0]))
	durations := families["tierflow_api_request_duration_seconds"]
	require.NotNil(t, durations)
	assert.Equal(t, dto.MetricType_HISTOGRAM, durations.GetType())
	require.Len(t, durations.GetMetric(), 2)
	m := durations.GetMetric()[0]
	assert.Equal(t, []string{"method", "route"}, labelNames(m))
	var bounds []float64
	for _, b := range m.GetHistogram().GetBucket() {
		bounds = append(bounds, b.GetUpperBound())
	}
	assert.Equal(t, append(slices.Clone(latencyBuckets), math.Inf(1)), bounds)
	assert.EqualValues(t, 1, m.GetHistogram().GetSampleCount())
}

func labelNames(m *dto.Metric) []string {
	var names []string
	for _, l := range m.GetLabel() {
		names = append(names, l.GetName())
	}
	return names
}

// Every server has its own registry: two in one process do not share counts (nor
// panic on a duplicate registration).
func TestMetricsRegistryIsPerServer(t *testing.T) {
	first, second := newTestEnv(t), newTestEnv(t)
	first.do(request{method: "GET", path: "/healthz"})
	rec := httptest.NewRecorder()
	second.srv.metricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	assert.NotContains(t, rec.Body.String(), `tierflow_api_requests_total{method="GET",route="GET /healthz"`)
}

func TestAccessLogHoldsNoSecrets(t *testing.T) {
	env := newTestEnv(t)
	var logs bytes.Buffer
	env.srv.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	env.handler = env.srv.routes()
	_, path := surveyEnv(t)
	env.cases.put(fullCase("zendesk-1", 1, ""))
	env.do(request{method: "GET", path: "/v1/cases/zendesk-1", token: "dev-agent"})
	env.do(request{method: "GET", path: path})
	env.do(request{method: "GET", path: "/v1/cases?assignee=ada@example.com", token: "dev-agent"})
	out := logs.String()
	assert.Contains(t, out, `"principal_id":"dev:agent"`)
	assert.NotContains(t, out, "dev-agent", "the token is not the principal id")
	assert.Contains(t, out, `"request_id"`)
	assert.NotContains(t, out, "Bearer")
	assert.NotContains(t, out, "ada@example.com")
	assert.NotContains(t, out, strings.TrimPrefix(path, "/v1/surveys/"), "survey tokens are not logged")
}

// The document check must be able to fail: answers that drift from openapi.yaml are
// caught.
func TestOpenAPICheckCatchesDrift(t *testing.T) {
	view := presentCase(fullCase("zendesk-1", 1, ""), tierflow.Principal{Role: tierflow.RoleAgent}, time.Now())
	good, err := json.Marshal(view)
	require.NoError(t, err)
	var fields map[string]any
	require.NoError(t, json.Unmarshal(good, &fields))
	withExtra := map[string]any{"surprise": true}
	withoutID := map[string]any{}
	badStatus := map[string]any{"status": "pending"}
	for k, v := range fields {
		withExtra[k] = v
		if k != "id" {
			withoutID[k] = v
		}
		if k != "status" {
			badStatus[k] = v
		}
	}
	answer := func(status int, contentType string, body any) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		rec.Header().Set("Content-Type", contentType)
		rec.Header().Set("X-Request-Id", "r-1")
		rec.WriteHeader(status)
		_ = json.NewEncoder(rec).Encode(body)
		return rec
	}
	req := httptest.NewRequest("GET", "/v1/cases/zendesk-1", nil)
	assert.NoError(t, validateAgainstDocument(t, req, answer(200, "application/json", view)))
	assert.Error(t, validateAgainstDocument(t, req, answer(200, "application/json", withExtra)), "undocumented field")
	assert.Error(t, validateAgainstDocument(t, req, answer(200, "application/json", withoutID)), "missing field")
	assert.Error(t, validateAgainstDocument(t, req, answer(200, "application/json", badStatus)), "unknown enum value")
	assert.Error(t, validateAgainstDocument(t, req, answer(418, "application/json", view)), "undocumented status")
	assert.Error(t, validateAgainstDocument(t, req, answer(404, "application/problem+json", map[string]any{"oops": 1})), "not a problem")
	noID := answer(200, "application/json", view)
	noID.Header().Del("X-Request-Id")
	assert.Error(t, validateAgainstDocument(t, req, noID), "X-Request-Id is required")
}
