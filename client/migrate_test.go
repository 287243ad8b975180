package client_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/client"
)

// MigratePolicies posts the migration as the API takes it, with the token, and
// decodes the summary.
func TestMigratePoliciesPostsTheRequestAndDecodesTheSummary(t *testing.T) {
	var got map[string]any
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/policies/migrate" {
			http.NotFound(w, r)
			return
		}
		auth = r.Header.Get("Authorization")
		require.NoError(t, json.NewDecoder(r.Body).Decode(&got))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"migration_id": "m1", "policy": "fast@v2", "dry_run": false,
			"matched": [{"case_id": "zendesk-1", "policy": "standard@v1"}, {"case_id": "zendesk-2", "policy": "standard@v1"}],
			"summary": {"migrated": ["zendesk-1"], "unchanged": [],
				"refused": [{"case_id": "zendesk-2", "status": 409, "detail": "cannot migrate_policy a case that is resolved"}]}}`))
	}))
	defer srv.Close()

	res, err := client.New(srv.URL, "dev-supervisor").MigratePolicies(context.Background(), client.PolicyMigration{
		To: "fast", Query: "CaseTier >= 2", Reason: "faster clocks"})
	require.NoError(t, err)
	assert.Equal(t, "Bearer dev-supervisor", auth)
	assert.Equal(t, map[string]any{"to": "fast", "query": "CaseTier >= 2", "dry_run": false, "reason": "faster clocks"}, got)
	assert.Equal(t, "m1", res.MigrationID)
	require.Len(t, res.Matched, 2)
	require.NotNil(t, res.Summary)
	assert.Equal(t, []string{"zendesk-1"}, res.Summary.Migrated)
	require.Len(t, res.Summary.Refused, 1)
	assert.Equal(t, 409, res.Summary.Refused[0].Status)
	assert.Nil(t, res.Verdict)
}

// A migrate_policy decision is sent by its policy's name: the server attaches
// the content, and refuses a body that carries one.
func TestDecideSendsNoPolicySnapshot(t *testing.T) {
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, json.NewDecoder(r.Body).Decode(&got))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id": "zendesk-1"}`))
	}))
	defer srv.Close()
	p := tierflow.Policy{Name: "fast", Version: "v2"}
	_, err := client.New(srv.URL, "dev-supervisor").Decide(context.Background(), "zendesk-1", tierflow.Decision{
		Action: tierflow.ActionMigratePolicy, Policy: "fast", PolicySnapshot: &p, Reason: "faster"})
	require.NoError(t, err)
	assert.Equal(t, "fast", got["policy"])
	assert.NotContains(t, got, "policy_snapshot")
}
