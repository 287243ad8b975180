package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
	"github.com/tierflow/tierflow/workflows"
)

// fakeFinder is a CaseFinder that matches the same cases whatever the query.
type fakeFinder []string

func (f fakeFinder) FindCases(context.Context, string, int) ([]string, error) { return f, nil }

// fakeMigrations is the PolicyMigrations: it keeps the migrations started,
// answers each one's target from targets (else its progress's policy, else
// the request's own) and its progress from progress (by migration id), or
// progressErr when set (a workflow that does not answer its query).
type fakeMigrations struct {
	mu          sync.Mutex
	started     []workflows.PolicyMigrationInput
	targets     map[string]string
	progress    map[string]workflows.MigrationProgress
	progressErr error
}

func (f *fakeMigrations) StartMigration(_ context.Context, in workflows.PolicyMigrationInput) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = append(f.started, in)
	if target, ok := f.targets[in.MigrationID]; ok {
		return target, nil
	}
	if p, ok := f.progress[in.MigrationID]; ok {
		return p.Policy, nil
	}
	return in.Policy.Ref(), nil
}

func (f *fakeMigrations) MigrationProgress(_ context.Context, id string) (workflows.MigrationProgress, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.progressErr != nil {
		return workflows.MigrationProgress{}, f.progressErr
	}
	if p, ok := f.progress[id]; ok {
		return p, nil
	}
	return workflows.MigrationProgress{}, tierflow.Errorf(tierflow.CodeNotFound, "no migration %s", id)
}

// migrationEnv is a test server with three matched cases, zendesk-3 already
// under the target fast@2026-11-01.
func migrationEnv(t *testing.T) (*testEnv, *fakeMigrations) {
	env := newTestEnv(t)
	for id, policy := range map[string]string{"zendesk-1": "standard", "zendesk-2": "standard", "zendesk-3": "fast"} {
		env.records.cases[id] = tierflow.CaseView{ID: id, Policy: tierflow.PolicyRef{Name: policy, Version: "2026-11-01"}}
	}
	migrations := &fakeMigrations{targets: map[string]string{}, progress: map[string]workflows.MigrationProgress{}}
	env.srv.CaseFinder, env.srv.Migrations = fakeFinder{"zendesk-1", "zendesk-2", "zendesk-3"}, migrations
	return env, migrations
}

// The real run starts the migration workflow with the matched cases, each
// decision authorized, and answers 202 with its progress and where to follow it.
func TestMigratePoliciesStartsTheMigrationWorkflow(t *testing.T) {
	env, migrations := migrationEnv(t)
	rec := env.do(request{method: "POST", path: "/v1/policies/migrate", token: "dev-supervisor",
		body: `{"to": "fast", "query": "CaseTier >= 1", "reason": "faster", "migration_id": "m-1"}`})
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	var answer map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &answer))
	assert.Equal(t, "m-1", answer["migration_id"])
	assert.Equal(t, "running", answer["status"])
	assert.Equal(t, "/v1/policies/migrations/m-1", answer["progress_url"])
	assert.Equal(t, 3.0, answer["total"])
	assert.Equal(t, 1.0, answer["done"])
	assert.Equal(t, 2.0, answer["pending"])
	assert.Equal(t, []any{"zendesk-3"}, answer["unchanged"])
	assert.Len(t, answer["matched"], 3)

	require.Len(t, migrations.started, 1)
	in := migrations.started[0]
	assert.Equal(t, "m-1", in.MigrationID)
	assert.Equal(t, tierflow.Policy{Name: "fast", Version: "2026-11-01"}, in.Policy)
	assert.Equal(t, "faster", in.Reason)
	assert.Equal(t, tierflow.Principal{ID: DevPrincipalID("dev-supervisor"), Name: "Dev supervisor",
		Role: tierflow.RoleSupervisor, Tier: tierflow.TierSupervisor}, in.Actor)
	assert.Equal(t, env.srv.Now().UTC().Add(activities.MigrationAuthorizationTTL), in.AuthorizedUntil)
	require.Len(t, in.Cases, 3)
	for _, c := range in.Cases {
		want, err := activities.AuthorizeMigration([][]byte{testSurveyKey}, activities.MigrationGrant{CaseID: c.CaseID,
			WorkflowID: "policy-migration-m-1", Until: in.AuthorizedUntil}, in.Decision())
		require.NoError(t, err)
		assert.Equal(t, want, c.Authorization, "%s: its decision is authorized", c.CaseID)
	}
	assert.Equal(t, "fast@2026-11-01", in.Cases[2].Policy)
}

// The same id, once completed, answers 200 with the summary; an id already used
// for another target is a conflict; without migrations wired, 503.
func TestMigratePoliciesAttachesToTheMigrationOfItsID(t *testing.T) {
	env, migrations := migrationEnv(t)
	migrations.progress["m-1"] = workflows.MigrationProgress{MigrationID: "m-1", Policy: "fast@2026-11-01",
		Status: workflows.MigrationCompleted, Total: 3, Done: 3, Migrated: []string{"zendesk-1", "zendesk-2"},
		Unchanged: []string{"zendesk-3"}}
	migrations.progress["m-2"] = workflows.MigrationProgress{MigrationID: "m-2", Policy: "standard@2026-11-01",
		Status: workflows.MigrationRunning}
	post := func(id string) int {
		return env.do(request{method: "POST", path: "/v1/policies/migrate", token: "dev-executive",
			body: `{"to": "fast", "query": "CaseTier >= 1", "reason": "faster", "migration_id": "` + id + `"}`}).Code
	}
	assert.Equal(t, http.StatusOK, post("m-1"))
	assert.Equal(t, http.StatusConflict, post("m-2"))
	env.srv.Migrations = nil
	assert.Equal(t, http.StatusServiceUnavailable, post("m-3"))
	rec := env.do(request{method: "POST", path: "/v1/policies/migrate", token: "dev-executive",
		body: `{"to": "fast", "query": "CaseTier >= 1", "reason": "faster", "dry_run": true}`})
	assert.Equal(t, http.StatusOK, rec.Code, "a dry run needs no migration workflow")
}

// The conflict is decided on the target the migration's workflow recorded at
// its start, not on its progress: a workflow that does not answer its query
// yet (no worker has run it, or it was terminated) under an id taken by
// another target is still a conflict; under the same target it stands at its
// start (202).
func TestMigratePoliciesConflictDoesNotDependOnTheProgressQuery(t *testing.T) {
	env, migrations := migrationEnv(t)
	migrations.progressErr = tierflow.Errorf(tierflow.CodeUnavailable, "the query timed out")
	migrations.targets["m-b"] = "standard@2026-11-01"
	migrations.targets["m-old"] = "" // started before the target went into the memo
	post := func(id string) *httptest.ResponseRecorder {
		return env.do(request{method: "POST", path: "/v1/policies/migrate", token: "dev-supervisor",
			body: `{"to": "fast", "query": "CaseTier >= 1", "reason": "faster", "migration_id": "` + id + `"}`})
	}
	rec := post("m-b")
	assert.Equal(t, http.StatusConflict, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), "standard@2026-11-01")
	assert.Equal(t, http.StatusConflict, post("m-old").Code)

	rec = post("m-fast")
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	var answer migrationStarted
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &answer))
	assert.Equal(t, "fast@2026-11-01", answer.Policy)
	assert.Equal(t, workflows.MigrationRunning, answer.Status)
	assert.Equal(t, 2, answer.Pending, "it stands at its start")
}

// GET /v1/policies/migrations/{id} answers the progress, each refusal as the
// problem the decide endpoint would have answered (internal text never shown);
// an unknown id is 404; agents may not read it.
func TestMigrationProgressRoute(t *testing.T) {
	env, migrations := migrationEnv(t)
	migrations.progress["m-1"] = workflows.MigrationProgress{MigrationID: "m-1", Policy: "fast@2026-11-01",
		Status: workflows.MigrationRunning, Total: 5, Done: 4, Pending: 1, Migrated: []string{"zendesk-1"},
		Refused: []workflows.MigrationRefusal{
			{CaseID: "zendesk-2", Code: tierflow.CodeConflict, Message: "cannot migrate_policy a case that is resolved"},
			{CaseID: "zendesk-4", Code: tierflow.CodeUnavailable, Message: "not reached"},
			{CaseID: "zendesk-5", Code: tierflow.CodeInternal, Message: "pq: secret internals"},
		}}
	rec := env.do(request{method: "GET", path: "/v1/policies/migrations/m-1", token: "dev-supervisor"})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var got migrationProgress
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	assert.Equal(t, migrationProgress{MigrationID: "m-1", Policy: "fast@2026-11-01", Status: "running",
		ProgressURL: "/v1/policies/migrations/m-1", Total: 5, Done: 4, Pending: 1, Migrated: []string{"zendesk-1"},
		Unchanged: []string{}, Refused: []migrationRefusal{
			{CaseID: "zendesk-2", Status: http.StatusConflict, Detail: "cannot migrate_policy a case that is resolved"},
			{CaseID: "zendesk-4", Status: http.StatusServiceUnavailable, Detail: "not reached"},
			{CaseID: "zendesk-5", Status: http.StatusInternalServerError,
				Detail: "an internal error occurred; quote the request id when reporting it"},
		}}, got)

	for _, path := range []string{"/v1/policies/migrations/m-9", "/v1/policies/migrations/a%20b"} {
		rec = env.do(request{method: "GET", path: path, token: "dev-executive"})
		assert.Equal(t, http.StatusNotFound, rec.Code, path)
		assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"), path)
	}
	rec = env.do(request{method: "GET", path: "/v1/policies/migrations/m-1", token: "dev-agent"})
	assert.Equal(t, http.StatusForbidden, rec.Code)
	rec = env.do(request{method: "GET", path: "/v1/policies/migrations/m-1"})
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
}
