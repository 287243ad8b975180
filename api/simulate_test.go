package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/internal/pgcluster"
	"github.com/tierflow/tierflow/policyfile"
	"github.com/tierflow/tierflow/postgres"
	"github.com/tierflow/tierflow/simulate"
)

// TestSimulatePolicyOverPostgres records simulate/testdata's cases in a real
// PostgreSQL and simulates them through the API: the figures are the fixture's
// hand-computed ones (simulate_test.go), the plan is the file's clock changes.
func TestSimulatePolicyOverPostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	store := migratedTestStore(t, ctx)
	recordFixtureCases(t, store)

	current := loadPolicyFile(t, "test.yaml")
	env := newTestEnv(t)
	env.srv.Simulation = store
	env.srv.Policies = PolicyFunc(func(name string) (tierflow.Policy, bool) { return current, name == current.Name })
	env.srv.Now = func() time.Time { return time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC) }
	slowYAML, err := os.ReadFile("../simulate/testdata/slow.yaml")
	require.NoError(t, err)
	body := func(m map[string]any) string {
		m["from"], m["to"] = "2026-11-18T00:00:00Z", "2026-11-19T00:00:00Z"
		b, _ := json.Marshal(m)
		return string(b)
	}

	rec := env.do(request{method: "POST", path: "/v1/policies/simulate", token: "dev-supervisor",
		body: body(map[string]any{"policy_yaml": string(slowYAML)})})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var answer simulateAnswer
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &answer))
	assert.Equal(t, "test@v2-slow", answer.Policy)
	assert.Equal(t, map[string]int{"tier_1.acknowledge": 1}, answer.Actual.Breaches)
	assert.Equal(t, map[string]int{"tier_2.resolve": 1}, answer.Simulated.Breaches)
	assert.Equal(t, []int{6, 7}, []int{answer.Actual.StaffEmails, answer.Simulated.StaffEmails})
	assert.Equal(t, []int{1, 2}, []int{answer.Actual.Warnings, answer.Simulated.Warnings})
	require.Len(t, answer.ChangedCases, 2)
	assert.Equal(t, "A-1", answer.ChangedCases[0].ExternalID)
	assert.Contains(t, answer.ChangedCases[1].Explanations[0], "(policy test version v2-slow).")
	assert.Len(t, answer.Plan, 5, "4 acknowledge clocks and tier 2's resolve clock of normal priority")

	// The loaded policy by name: it is what the cases ran, so nothing changes.
	rec = env.do(request{method: "POST", path: "/v1/policies/simulate", token: "dev-executive",
		body: body(map[string]any{"policy": "test", "source": "zendesk"})})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	answer = simulateAnswer{}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &answer))
	assert.Equal(t, answer.Actual, answer.Simulated)
	assert.Equal(t, 3, answer.Actual.Cases)
	assert.Empty(t, answer.ChangedCases)
	assert.Empty(t, answer.Plan)
}

func TestSimulatePolicyRejectsBadInput(t *testing.T) {
	env := newTestEnv(t)
	post := func(token, body string) *httptest.ResponseRecorder {
		return env.do(request{method: "POST", path: "/v1/policies/simulate", token: token, body: body})
	}
	window := `"from": "2026-11-18T00:00:00Z", "to": "2026-11-19T00:00:00Z"`

	problemOf(t, post("dev-agent", `{"policy": "standard", `+window+`}`), http.StatusForbidden)
	problemOf(t, post("dev-viewer", `{"policy": "standard", `+window+`}`), http.StatusForbidden)

	p := problemOf(t, post("dev-supervisor", `{"policy_yaml": "name: Bad Name\nversion: \"1\"\n", `+window+`}`),
		http.StatusUnprocessableEntity)
	assert.Contains(t, fieldsOf(p), "name", "the policy loader's own field errors")
	assert.Contains(t, fieldsOf(p), "tiers")

	p = problemOf(t, post("dev-supervisor", `{"policy": "nope", `+window+`}`), http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"policy"}, fieldsOf(p))
	p = problemOf(t, post("dev-supervisor", `{`+window+`}`), http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"policy"}, fieldsOf(p))
	p = problemOf(t, post("dev-supervisor", `{"policy": "standard", "from": "2026-11-19T00:00:00Z", "to": "2026-11-18T00:00:00Z"}`),
		http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"to"}, fieldsOf(p))
	problemOf(t, post("dev-supervisor", `{"policy": "standard", "window": 1}`), http.StatusBadRequest)
}

// migratedTestStore is a store over a fresh database of a PostgreSQL cluster
// started by the harness for this test, migrated; both stop when the test ends.
func migratedTestStore(t *testing.T, ctx context.Context) *postgres.Store {
	t.Helper()
	cluster, err := pgcluster.Start(ctx, pgcluster.Options{})
	require.NoError(t, err, "PostgreSQL server binaries are needed: "+pgcluster.InstallHint)
	t.Cleanup(func() { assert.NoError(t, cluster.Stop()) })
	store, err := postgres.Open(ctx, pgcluster.NewTestDatabase(t, cluster), nil)
	require.NoError(t, err)
	t.Cleanup(store.Close)
	require.NoError(t, store.Migrate(ctx))
	return store
}

// recordFixtureCases writes simulate/testdata/cases.json into the store, each
// case with its projection and its whole log in one transition.
func recordFixtureCases(t *testing.T, store *postgres.Store) {
	t.Helper()
	data, err := os.ReadFile("../simulate/testdata/cases.json")
	require.NoError(t, err)
	var cases []simulate.CaseLog
	require.NoError(t, json.Unmarshal(data, &cases))
	for _, c := range cases {
		last := c.Events[len(c.Events)-1]
		view := tierflow.CaseView{ID: c.CaseID, Source: c.Source, ExternalID: c.ExternalID, Seq: last.Seq,
			Status: last.Status, Tier: last.Tier, StartTier: c.Events[0].Tier, Priority: c.Priority,
			Subject: "fixture", Trigger: tierflow.TriggerUnresolved, OpenedAt: c.OpenedAt, EscalatedAt: c.OpenedAt}
		require.NoError(t, store.RecordTransition(context.Background(),
			tierflow.Transition{CaseID: c.CaseID, Events: c.Events, View: view}))
	}
}

func loadPolicyFile(t *testing.T, name string) tierflow.Policy {
	t.Helper()
	p, err := policyfile.Load("../simulate/testdata/" + name)
	require.NoError(t, err)
	return p
}
