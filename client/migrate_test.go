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
// decodes the started migration.
func TestMigratePoliciesPostsTheRequestAndDecodesTheStartedMigration(t *testing.T) {
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
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"migration_id": "m1", "policy": "fast@v2", "dry_run": false, "status": "running",
			"progress_url": "/v1/policies/migrations/m1", "total": 2, "done": 1, "pending": 1,
			"matched": [{"case_id": "zendesk-1", "policy": "standard@v1"}, {"case_id": "zendesk-2", "policy": "standard@v1"}],
			"migrated": [], "unchanged": [],
			"refused": [{"case_id": "zendesk-2", "status": 409, "detail": "cannot migrate_policy a case that is resolved"}]}`))
	}))
	defer srv.Close()

	res, err := client.New(srv.URL, "dev-supervisor").MigratePolicies(context.Background(), client.PolicyMigration{
		To: "fast", Query: "CaseTier >= 2", Reason: "faster clocks"})
	require.NoError(t, err)
	assert.Equal(t, "Bearer dev-supervisor", auth)
	assert.Equal(t, map[string]any{"to": "fast", "query": "CaseTier >= 2", "dry_run": false, "reason": "faster clocks"}, got)
	assert.Equal(t, "m1", res.MigrationID)
	assert.Equal(t, client.MigrationRunning, res.Status)
	assert.Equal(t, "/v1/policies/migrations/m1", res.ProgressURL)
	require.Len(t, res.Matched, 2)
	require.Len(t, res.Refused, 1)
	assert.Equal(t, 409, res.Refused[0].Status)
	assert.Equal(t, "1/2 done (0 migrated, 0 unchanged, 1 refused)", res.Line())
	assert.Nil(t, res.Verdict)
}

// MigrationProgress reads GET /v1/policies/migrations/{id}; an unknown id is
// ErrNotFound.
func TestMigrationProgressReadsTheMigration(t *testing.T) {
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.Method+" "+r.URL.EscapedPath())
		if r.URL.Path != "/v1/policies/migrations/m.1" {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"type": "https://tierflow.dev/problems/not_found", "title": "Not Found", "status": 404,
				"detail": "no migration nope"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"migration_id": "m.1", "policy": "fast@v2", "status": "completed", "total": 3, "done": 3,
			"pending": 0, "migrated": ["a", "b"], "unchanged": ["c"], "refused": []}`))
	}))
	defer srv.Close()
	c := client.New(srv.URL, "dev-supervisor")

	p, err := c.MigrationProgress(context.Background(), "m.1")
	require.NoError(t, err)
	assert.Equal(t, client.MigrationCompleted, p.Status)
	assert.Equal(t, []string{"a", "b"}, p.Migrated)
	assert.Equal(t, "3/3 done (2 migrated, 1 unchanged, 0 refused)", p.Line())

	_, err = c.MigrationProgress(context.Background(), "nope")
	assert.ErrorIs(t, err, client.ErrNotFound)
	assert.Equal(t, []string{"GET /v1/policies/migrations/m.1", "GET /v1/policies/migrations/nope"}, paths)
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
