package client_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/client"
	"github.com/tierflow/tierflow/simulate"
)

func TestSimulatePolicy(t *testing.T) {
	var attempts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "POST /v1/policies/simulate", r.Method+" "+r.URL.Path)
		assert.Equal(t, "Bearer dev-supervisor", r.Header.Get("Authorization"))
		body, _ := io.ReadAll(r.Body)
		if string(body) == `{"policy":"unknown","from":"2026-11-01T00:00:00Z","to":"2026-12-01T00:00:00Z"}` {
			writeProblem(w, http.StatusUnprocessableEntity, "unknown policy",
				[]tierflow.FieldError{{Field: "policy", Message: "no loaded policy has this name"}})
			return
		}
		assert.JSONEq(t, `{"policy_yaml":"name: standard\n","from":"2026-11-01T00:00:00Z","to":"2026-12-01T00:00:00Z","source":"zendesk"}`,
			string(body))
		if attempts.Add(1) == 1 {
			writeProblem(w, http.StatusServiceUnavailable, "the case store is unavailable", nil)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"policy":        "standard@2",
			"window":        map[string]any{"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z", "as_of": "2026-12-02T00:00:00Z"},
			"actual":        map[string]any{"cases": 2, "breaches": map[string]int{"tier_1.acknowledge": 1}, "breaches_total": 1},
			"simulated":     map[string]any{"cases": 2, "breaches": map[string]int{}},
			"changed_cases": []any{map[string]any{"case_id": "zendesk-1", "external_id": "1", "changes": []any{}, "explanations": []string{"why"}}},
			"plan":          []any{map[string]any{"setting": "warning_ratio", "current": "0.8", "candidate": "0.5"}},
		})
	}))
	defer srv.Close()
	c := client.New(srv.URL, "dev-supervisor", client.WithBackoff(time.Millisecond, time.Millisecond, time.Millisecond))
	ctx := context.Background()
	from, to := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

	got, err := c.SimulatePolicy(ctx, client.SimulationRequest{PolicyYAML: "name: standard\n", From: from, To: to, Source: "zendesk"})
	require.NoError(t, err)
	assert.EqualValues(t, 2, attempts.Load(), "a simulation reads only: a 503 is retried")
	assert.Equal(t, "standard@2", got.Policy)
	assert.Equal(t, map[string]int{"tier_1.acknowledge": 1}, got.Actual.Breaches)
	assert.Equal(t, 2, got.Simulated.Cases)
	require.Len(t, got.ChangedCases, 1)
	assert.Equal(t, []string{"why"}, got.ChangedCases[0].Explanations)
	assert.Equal(t, []simulate.PlanChange{{Setting: "warning_ratio", Current: "0.8", Candidate: "0.5"}}, got.Plan)

	_, err = c.SimulatePolicy(ctx, client.SimulationRequest{Policy: "unknown", From: from, To: to})
	assert.True(t, client.IsInvalid(err), "got %v", err)
	assert.Equal(t, []tierflow.FieldError{{Field: "policy", Message: "no loaded policy has this name"}}, client.FieldErrors(err))

	_, err = c.SimulatePolicy(ctx, client.SimulationRequest{Policy: "fast", PolicyYAML: "name: fast\n", From: from, To: to})
	assert.ErrorContains(t, err, "give exactly one of Policy or PolicyYAML")
	_, err = c.SimulatePolicy(ctx, client.SimulationRequest{From: from, To: to})
	assert.ErrorContains(t, err, "give exactly one of Policy or PolicyYAML")
}
