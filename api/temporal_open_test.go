package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/codec"
	"github.com/tierflow/tierflow/internal/updateauth"
	"github.com/tierflow/tierflow/workflows"
)

// workerSide is what a test worker needs to read the production client's payloads
// and check its signatures.
type workerSide struct {
	dataConverter converter.DataConverter
	interceptors  []interceptor.WorkerInterceptor
}

// productionClient is a client configured as run configures the API's: payloads
// and failures encrypted by the codec, every Update signed (updateauth). The
// worker side holds the same codec and the matching verifier.
func productionClient(t *testing.T, ctx context.Context, raw client.Client, namespace string) (client.Client, workerSide) {
	t.Helper()
	opts := client.Options{Namespace: namespace}
	codec.ConfigureClient(&opts, codecTestKeys(t))
	signer, err := updateauth.NewSigner([][]byte{testSurveyKey})
	require.NoError(t, err)
	verifier, err := updateauth.NewVerifier([][]byte{testSurveyKey})
	require.NoError(t, err)
	opts.Interceptors = append(opts.Interceptors, updateauth.ClientInterceptor(signer))
	c, err := client.NewClientFromExistingWithContext(ctx, raw, opts)
	require.NoError(t, err)
	return c, workerSide{dataConverter: opts.DataConverter,
		interceptors: []interceptor.WorkerInterceptor{updateauth.WorkerInterceptor(verifier)}}
}

// eventCounts is a workflow's history, counted by event type.
type eventCounts struct {
	runID  string
	counts map[enumspb.EventType]int
}

func (h eventCounts) count(t enumspb.EventType) int { return h.counts[t] }

func historyOf(t *testing.T, ctx context.Context, c client.Client, workflowID string) eventCounts {
	t.Helper()
	h := eventCounts{counts: map[enumspb.EventType]int{}}
	it := c.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		if a := ev.GetWorkflowExecutionStartedEventAttributes(); a != nil {
			h.runID = a.GetOriginalExecutionRunId()
		}
		h.counts[ev.GetEventType()]++
	}
	return h
}

// A case opened before the open Update existed, whose workflow still runs on a
// worker from then, rejects the Update as unknown; a repeated open still answers
// the case from its query (200), and a different request is still a conflict,
// told by the fingerprint in the memo.
func TestOpenACaseStartedBeforeTheOpenUpdate(t *testing.T) {
	srv := sharedDevServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	raw, err := srv.Dial(ctx, nil)
	require.NoError(t, err)
	defer raw.Close()
	tc, side := productionClient(t, ctx, raw, srv.Namespace())
	defer tc.Close()

	const oldQueue = "tierflow-cases-before-open-update"
	w := worker.New(tc, oldQueue, worker.Options{Interceptors: side.interceptors})
	echoWorker{}.register(w) // before the open Update, and before receipts
	require.NoError(t, w.Start())
	defer w.Stop()

	req := tierflow.OpenCaseRequest{Source: "it-crm", ExternalID: "before-1", Subject: "Refund", Priority: tierflow.PriorityHigh,
		Trigger: tierflow.TriggerUnresolved, OpenedAt: time.Date(2026, 11, 20, 9, 15, 0, 0, time.UTC),
		Customer: tierflow.Customer{ID: "C-1", Email: "ada@example.com"}}
	cmd := OpenCommand{CaseID: tierflow.CaseID(req.Source, req.ExternalID), Request: req,
		Policy: tierflow.Policy{Name: "standard", Version: "v1"}, OpenedBy: tierflow.Principal{ID: "crm", Role: tierflow.RoleIntegration},
		Fingerprint: requestFingerprint(req)}
	// Started as the API started cases before the open Update: a plain start.
	old := startOptions(cmd)
	old.TaskQueue = oldQueue
	run, err := tc.ExecuteWorkflow(ctx, old, workflows.WorkflowName, workflows.CaseInput{Request: req, Policy: cmd.Policy, OpenedBy: cmd.OpenedBy})
	require.NoError(t, err)

	cases := newTemporalCases(tc, side.dataConverter, newFakeRecords(), slog.New(slog.DiscardHandler))
	view, created, err := cases.Open(ctx, cmd)
	require.NoError(t, err, "a repeated open of a case from before the open Update answers")
	assert.False(t, created)
	assert.Equal(t, cmd.CaseID, view.ID)
	assert.Equal(t, run.GetRunID(), view.Workflow.RunID, "the running workflow, not a second one")
	queried, err := cases.Get(ctx, cmd.CaseID)
	require.NoError(t, err)
	assert.Equal(t, queried, view, "answered from the workflow's query")

	other := cmd
	other.Request.Subject = "Something else"
	other.Fingerprint = requestFingerprint(other.Request)
	_, _, err = cases.Open(ctx, other)
	assert.Equal(t, tierflow.CodeConflict, tierflow.ErrorCode(err), "%v", err)

	hist := historyOf(t, ctx, tc, workflows.WorkflowID(cmd.CaseID))
	assert.Equal(t, 1, hist.count(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED))
	assert.Zero(t, hist.count(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED), "the old worker rejected the Update")

	// Through the HTTP API: 200 with the case.
	env := newTestEnv(t)
	env.srv.Cases = cases
	env.handler = env.srv.routes()
	body := `{"source": "it-crm", "external_id": "before-1", "customer": {"id": "C-1", "email": "ada@example.com"},
		"subject": "Refund", "priority": "high", "opened_at": "2026-11-20T09:15:00Z", "trigger": "unresolved",
		"start_tier": null}`
	// The HTTP request's fingerprint is that of the body as decoded, which the
	// start above must share for this to be a repetition.
	var decoded tierflow.OpenCaseRequest
	require.NoError(t, json.Unmarshal([]byte(body), &decoded))
	require.Equal(t, cmd.Fingerprint, requestFingerprint(decoded))
	v := caseOf(t, env.do(request{method: "POST", path: "/v1/cases", token: "dev-integration", body: body}), http.StatusOK)
	assert.Equal(t, cmd.CaseID, v.ID)
}

// With Temporal unreachable, an open answers 503 with Retry-After, as
// problem+json, within the API's bound.
func TestOpenWhenTemporalIsUnreachable(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := closed.Addr().String()
	require.NoError(t, closed.Close()) // nothing listens there now
	signer, err := updateauth.NewSigner([][]byte{testSurveyKey})
	require.NoError(t, err)
	opts := client.Options{HostPort: addr, Namespace: "default",
		Interceptors: []interceptor.ClientInterceptor{updateauth.ClientInterceptor(signer)}}
	codec.ConfigureClient(&opts, codecTestKeys(t))
	tc, err := client.NewLazyClient(opts)
	require.NoError(t, err)
	defer tc.Close()

	env := newTestEnv(t)
	env.srv.Cases = newTemporalCases(tc, opts.DataConverter, env.records, slog.New(slog.DiscardHandler))
	env.srv.UpdateTimeout = time.Second
	env.handler = env.srv.routes()
	began := time.Now()
	rec := env.do(request{method: "POST", path: "/v1/cases", token: "dev-integration", body: openBody(nil)})
	problemOf(t, rec, http.StatusServiceUnavailable)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	assert.NotEmpty(t, rec.Header().Get("Retry-After"))
	assert.Less(t, time.Since(began), 5*time.Second, "bounded by the API's timeout")
}
