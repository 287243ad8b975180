package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
	"github.com/tierflow/tierflow/internal/temporaldev"
	"github.com/tierflow/tierflow/policyfile"
	"github.com/tierflow/tierflow/postgres"
	"github.com/tierflow/tierflow/workflows"
)

// discardMailer is the worker's mailer: with the email outbox, a case's emails
// go to Postgres with its record, and no mailer workflow runs here.
type discardMailer struct{}

func (discardMailer) Send(context.Context, tierflow.Email) (string, error) { return "discarded", nil }

// TestMigratePoliciesOverTemporalAndPostgres runs the bulk migration against the
// real case and migration workflows on their own Temporal dev server, recording
// into a real PostgreSQL: three standard cases in flight, one of them resolved.
// The dry run lists them with the simulator's verdict and changes nothing; the
// real run starts the migration (202), whose progress, polled to completion,
// reports the two active ones migrated (each records policy_migrated with the
// migration's decision_id) and the resolved one refused; the same request again
// attaches to the completed migration and migrates nothing twice.
func TestMigratePoliciesOverTemporalAndPostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	store := migratedTestStore(t, ctx)

	// A server of its own: the shared one runs the echo workers' cases on the
	// same task queue.
	srv, err := temporaldev.Start(ctx, temporaldev.Options{UIPort: temporaldev.UIDisabled})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, srv.Stop()) })
	raw, err := srv.Dial(ctx, nil)
	require.NoError(t, err)
	defer raw.Close()
	tc, side := productionClient(t, ctx, raw, srv.Namespace())
	defer tc.Close()
	w := worker.New(tc, workflows.TaskQueue, worker.Options{Interceptors: side.interceptors})
	w.RegisterWorkflowWithOptions(workflows.CaseWorkflow, workflow.RegisterOptions{Name: workflows.WorkflowName})
	w.RegisterActivity(&activities.Activities{Store: store, Mailer: discardMailer{}, SurveyKeys: [][]byte{testSurveyKey},
		SurveyBaseURL: "http://localhost"})
	// As the worker registers the migration (worker/migrate.go): tc signs its Updates.
	w.RegisterWorkflowWithOptions(workflows.PolicyMigrationWorkflow, workflow.RegisterOptions{Name: workflows.PolicyMigrationWorkflowName})
	w.RegisterActivity(&activities.MigrationActivities{Cases: workflows.CaseDecider{Client: tc}, SurveyKeys: [][]byte{testSurveyKey}})
	require.NoError(t, w.Start())
	stopWorker := sync.OnceFunc(w.Stop)
	defer stopWorker()

	cases := newTemporalCases(tc, side.dataConverter, store, slog.New(slog.DiscardHandler))
	standard, fast := policyfile.Default(), policyfile.Fast()
	var ids []string
	for _, ext := range []string{"1", "2", "3"} {
		req := tierflow.OpenCaseRequest{Source: "mig", ExternalID: ext, Subject: "Refund", Priority: tierflow.PriorityNormal,
			Trigger: tierflow.TriggerUnresolved, OpenedAt: time.Now().UTC(), Customer: tierflow.Customer{ID: "C-" + ext, Email: "c" + ext + "@example.com"}}
		id := tierflow.CaseID(req.Source, req.ExternalID)
		_, _, err := cases.Open(ctx, OpenCommand{CaseID: id, Request: req, Policy: standard,
			OpenedBy: tierflow.Principal{ID: "crm", Role: tierflow.RoleIntegration}, Fingerprint: requestFingerprint(req)})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	agent := tierflow.Principal{ID: "agent-1", Role: tierflow.RoleAgent, Tier: tierflow.TierFrontline}
	for _, d := range []tierflow.Decision{{Action: tierflow.ActionAcknowledge, Actor: agent},
		{Action: tierflow.ActionResolve, Actor: agent, Resolution: "refunded"}} {
		_, err := cases.Decide(ctx, ids[2], d)
		require.NoError(t, err)
	}
	query := "CaseSource = 'mig'"
	require.Eventually(t, func() bool {
		found, err := cases.FindCases(ctx, query, 10)
		return err == nil && len(found) == 3
	}, 30*time.Second, 200*time.Millisecond, "visibility lists the three cases")

	env := newTestEnv(t)
	env.srv.Cases, env.srv.Records, env.srv.CaseFinder, env.srv.Migrations = cases, store, cases, cases
	registry := policyfile.NewRegistry()
	env.srv.Policies = PolicyFunc(registry.Get)
	env.srv.UpdateTimeout = 30 * time.Second
	env.srv.Now = time.Now // the verdict replays the records up to now
	post := func(token string, body map[string]any) (int, migrateAnswer) {
		b, _ := json.Marshal(body)
		rec := env.do(request{method: "POST", path: "/v1/policies/migrate", token: token, body: string(b)})
		var answer migrateAnswer
		if rec.Code == http.StatusOK {
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &answer))
		}
		return rec.Code, answer
	}
	start := func(body map[string]any) (int, migrationStarted) {
		b, _ := json.Marshal(body)
		rec := env.do(request{method: "POST", path: "/v1/policies/migrate", token: "dev-supervisor", body: string(b)})
		var answer migrationStarted
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &answer), rec.Body.String())
		return rec.Code, answer
	}
	progressOf := func(url string) migrationProgress {
		rec := env.do(request{method: "GET", path: url, token: "dev-executive"})
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var p migrationProgress
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
		return p
	}
	ask := map[string]any{"to": "fast", "query": query, "reason": "demo cases run on the fast clocks", "dry_run": true}

	code, _ := post("dev-agent", ask)
	assert.Equal(t, http.StatusForbidden, code, "an agent cannot migrate")

	code, dry := post("dev-supervisor", ask)
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, fast.Ref(), dry.Policy)
	require.Len(t, dry.Matched, 3)
	for _, m := range dry.Matched {
		assert.Equal(t, standard.Ref(), m.Policy)
	}
	require.NotNil(t, dry.Verdict)
	assert.Equal(t, fast.Ref(), dry.Verdict.Policy)
	assert.Equal(t, 3, dry.Verdict.Actual.Cases, "the verdict covers the matched cases' records")
	for _, id := range ids {
		v, err := store.GetCase(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, standard.Name, v.Policy.Name, "a dry run migrates nothing")
	}

	ask["dry_run"] = false
	code, started := start(ask)
	require.Contains(t, []int{http.StatusAccepted, http.StatusOK}, code, "started (200: already completed)")
	assert.Equal(t, dry.MigrationID, started.MigrationID, "the dry run names the migration it previews")
	assert.Equal(t, "/v1/policies/migrations/"+started.MigrationID, started.ProgressURL)
	assert.Equal(t, 3, started.Total)
	assert.Len(t, started.Matched, 3)
	var run migrationProgress
	require.Eventually(t, func() bool {
		run = progressOf(started.ProgressURL)
		assert.Equal(t, run.Total, run.Done+run.Pending, "progress adds up")
		return run.Status == workflows.MigrationCompleted
	}, time.Minute, 200*time.Millisecond, "the migration completes")
	assert.Equal(t, 3, run.Done)
	assert.ElementsMatch(t, ids[:2], run.Migrated)
	require.Len(t, run.Refused, 1)
	assert.Equal(t, ids[2], run.Refused[0].CaseID)
	assert.Equal(t, http.StatusConflict, run.Refused[0].Status)
	assert.Contains(t, run.Refused[0].Detail, "resolved")
	migrationDesc, err := tc.DescribeWorkflow(ctx, workflows.PolicyMigrationID(run.MigrationID), "")
	require.NoError(t, err)
	summary, err := migrationDesc.GetStaticSummary()
	require.NoError(t, err)
	assert.Equal(t, "migrate 3 cases to "+fast.Ref()+": demo cases run on the fast clocks", summary,
		"the Temporal UI says what the migration does")
	for _, id := range ids[:2] {
		v, err := store.GetCase(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, tierflow.PolicyRef{Name: fast.Name, Version: fast.Version}, v.Policy)
		events, err := store.CaseEvents(ctx, id)
		require.NoError(t, err)
		var migrated []tierflow.CaseEvent
		for _, ev := range events {
			if ev.Type == tierflow.EventPolicyMigrated {
				migrated = append(migrated, ev)
			}
		}
		require.Len(t, migrated, 1, id)
		assert.Equal(t, workflows.MigrationDecisionID(run.MigrationID, fast.Ref()), migrated[0].Details[tierflow.DetailDecisionID])
		assert.Equal(t, standard.Ref(), migrated[0].Details[tierflow.DetailFromPolicy])
		assert.Equal(t, "demo cases run on the fast clocks", migrated[0].Reason)
		assert.Contains(t, migrated[0].Summary, "under "+fast.Ref())

		desc, err := tc.DescribeWorkflow(ctx, workflows.WorkflowID(id), "")
		require.NoError(t, err)
		var memoPolicy string
		require.NoError(t, desc.GetMemoValue("policy", &memoPolicy))
		assert.Equal(t, fast.Ref(), memoPolicy, "the memo names the new policy")
	}

	// The customer's new ETA went into the outbox with the migration's record.
	rows := drainOutbox(t, ctx, store)
	for _, id := range ids[:2] {
		events, err := store.CaseEvents(ctx, id)
		require.NoError(t, err)
		var told int
		for _, ev := range events {
			if ev.Type != tierflow.EventPolicyMigrated {
				continue
			}
			for _, row := range rows {
				if row.CaseID == id && row.Seq == ev.Seq && strings.Contains(string(row.Batch), string(tierflow.MsgETAChanged)) {
					told++
				}
			}
		}
		assert.Equal(t, 1, told, "%s: one eta_changed email in the migration's batch", id)
	}

	code, again := start(ask)
	require.Equal(t, http.StatusOK, code, "the same request is the same, completed, migration")
	assert.Equal(t, run, again.migrationProgress)
	for _, id := range ids[:2] {
		events, err := store.CaseEvents(ctx, id)
		require.NoError(t, err)
		var migrations int
		for _, ev := range events {
			if ev.Type == tierflow.EventPolicyMigrated {
				migrations++
			}
		}
		assert.Equal(t, 1, migrations, "%s is migrated once", id)
	}
	rec := env.do(request{method: "GET", path: "/v1/policies/migrations/no-such-migration", token: "dev-supervisor"})
	assert.Equal(t, http.StatusNotFound, rec.Code)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))

	code, _ = post("dev-supervisor", map[string]any{"to": "fast@no-such-version", "query": query, "reason": "x"})
	assert.Equal(t, http.StatusUnprocessableEntity, code)
	code, _ = post("dev-supervisor", map[string]any{"to": "fast", "query": "CaseTier >>> 2", "reason": "x", "dry_run": true})
	assert.Equal(t, http.StatusUnprocessableEntity, code, "Temporal refuses the query")

	// A migration id names one target, whatever became of its workflow. With
	// no worker, m-x to standard starts and answers no query (202 at its
	// start); terminated, m-x to fast is a conflict and starts nothing (its
	// cases would otherwise get m-x's decide Update again); m-x to standard
	// may start again.
	stopWorker()
	toStandard := map[string]any{"to": "standard", "query": query, "reason": "back", "migration_id": "m-x"}
	code, first := start(toStandard)
	require.Equal(t, http.StatusAccepted, code)
	assert.Equal(t, standard.Ref(), first.Policy)
	require.NoError(t, tc.TerminateWorkflow(ctx, workflows.PolicyMigrationID("m-x"), "", "test: an operator stops it"))
	xDesc, err := tc.DescribeWorkflow(ctx, workflows.PolicyMigrationID("m-x"), "")
	require.NoError(t, err)
	xRun := xDesc.WorkflowExecution.RunID
	toFast := map[string]any{"to": "fast", "query": query, "reason": "forward", "migration_id": "m-x"}
	b, _ := json.Marshal(toFast)
	rec = env.do(request{method: "POST", path: "/v1/policies/migrate", token: "dev-supervisor", body: string(b)})
	assert.Equal(t, http.StatusConflict, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), standard.Ref())
	xDesc, err = tc.DescribeWorkflow(ctx, workflows.PolicyMigrationID("m-x"), "")
	require.NoError(t, err)
	assert.Equal(t, xRun, xDesc.WorkflowExecution.RunID, "no new run was started under m-x")
	code, again = start(toStandard)
	assert.Equal(t, http.StatusAccepted, code, "the same target may start a terminated migration again")
	assert.Equal(t, standard.Ref(), again.Policy)
}

// drainOutbox reads every batch of the outbox as the mailer would: a case's
// batches one at a time, in order, each settled before the next is due.
func drainOutbox(t *testing.T, ctx context.Context, store *postgres.Store) []tierflow.OutboxRow {
	t.Helper()
	var all []tierflow.OutboxRow
	for range 1000 {
		rows, err := store.ClaimOutbox(ctx, 0, 1, 1000, time.Minute)
		require.NoError(t, err)
		if len(rows) == 0 {
			return all
		}
		for _, row := range rows {
			require.NoError(t, store.MarkOutboxDelivered(ctx, row.ID, row.Attempt, ""))
		}
		all = append(all, rows...)
	}
	t.Fatal("the outbox does not drain")
	return nil
}

// The bulk endpoint's input is checked before anything is listed.
func TestMigratePoliciesRejectsBadInput(t *testing.T) {
	env := newTestEnv(t)
	for name, body := range map[string]string{
		"no target":      `{"query": "CaseTier >= 1", "reason": "r"}`,
		"unknown policy": `{"to": "slow", "query": "CaseTier >= 1", "reason": "r"}`,
		"no query":       `{"to": "fast", "reason": "r"}`,
		"no reason":      `{"to": "fast", "query": "CaseTier >= 1"}`,
		"bad id":         `{"to": "fast", "query": "CaseTier >= 1", "reason": "r", "migration_id": "a b"}`,
	} {
		rec := env.do(request{method: "POST", path: "/v1/policies/migrate", token: "dev-executive", body: body})
		assert.Equal(t, http.StatusUnprocessableEntity, rec.Code, "%s: %s", name, rec.Body.String())
	}
	rec := env.do(request{method: "POST", path: "/v1/policies/migrate", token: "dev-executive",
		body: `{"to": "fast", "query": "CaseTier >= 1", "reason": "r"}`})
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "no case finder wired")
}

// A decision body cannot carry a policy's content: the server attaches the
// loaded policy the decision names.
func TestDecisionBodyCannotCarryAPolicySnapshot(t *testing.T) {
	env := newTestEnv(t)
	rec := env.do(request{method: "POST", path: "/v1/cases/zendesk-1/decisions", token: "dev-supervisor",
		body: `{"action": "migrate_policy", "policy": "fast", "reason": "r", "policy_snapshot": {"name": "fast"}}`})
	assert.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
	rec = env.do(request{method: "POST", path: "/v1/cases/zendesk-1/decisions", token: "dev-supervisor",
		body: `{"action": "migrate_policy", "policy": "slow", "reason": "r"}`})
	assert.Equal(t, http.StatusUnprocessableEntity, rec.Code, rec.Body.String())
}
