package updateauth

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/internal/temporaldev"
)

const (
	ledgerQueue    = "updateauth-test"
	ledgerWorkflow = "Ledger"
)

// ledger stands in for the case workflow: a decide Update that records the
// decision's actor, a ping Signal, a query of what was applied, and a done Signal.
func ledger(ctx workflow.Context) ([]string, error) {
	var applied []string
	pings := 0
	if err := workflow.SetUpdateHandler(ctx, "decide", func(ctx workflow.Context, d tierflow.Decision) (int, error) {
		applied = append(applied, string(d.Action)+" by "+d.Actor.ID)
		return len(applied), nil
	}); err != nil {
		return nil, err
	}
	if err := workflow.SetQueryHandler(ctx, "applied", func() ([]string, error) { return applied, nil }); err != nil {
		return nil, err
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		for workflow.GetSignalChannel(ctx, "ping").Receive(ctx, nil) {
			pings++
		}
	})
	workflow.GetSignalChannel(ctx, "done").Receive(ctx, nil)
	err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	return append(applied, "pings "+strconv.Itoa(pings)), err
}

// headerInterceptor puts whatever header(m) returns on every Update (nothing when
// it returns nil): the attacker's client.
type headerInterceptor struct {
	interceptor.ClientInterceptorBase
	header func(m Message) *commonpb.Payload
}

func (h *headerInterceptor) InterceptClient(next interceptor.ClientOutboundInterceptor) interceptor.ClientOutboundInterceptor {
	return &headerOutbound{ClientOutboundInterceptorBase: interceptor.ClientOutboundInterceptorBase{Next: next}, header: h.header}
}

type headerOutbound struct {
	interceptor.ClientOutboundInterceptorBase
	header func(m Message) *commonpb.Payload
}

func (h *headerOutbound) UpdateWorkflow(ctx context.Context, in *interceptor.ClientUpdateWorkflowInput) (client.WorkflowUpdateHandle, error) {
	if p := h.header(Message{UpdateName: in.UpdateName, UpdateID: in.UpdateID, WorkflowID: in.WorkflowID, Args: in.Args}); p != nil {
		interceptor.Header(ctx)[HeaderKey] = p
	}
	return h.Next.UpdateWorkflow(ctx, in)
}

func dial(t *testing.T, srv *temporaldev.Server, interceptors ...interceptor.ClientInterceptor) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: srv.HostPort(), Namespace: srv.Namespace(), Interceptors: interceptors,
		Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func decide(ctx context.Context, c client.Client, workflowID, updateID string, d tierflow.Decision) (int, error) {
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflowID, UpdateID: updateID,
		UpdateName: "decide", Args: []any{d}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		return 0, err
	}
	var n int
	return n, h.Get(ctx, &n)
}

// On a real Temporal server: the API's client (signing) gets its Updates applied,
// by either key of a rotation; an SDK client without the header, with a header
// signed by a key the worker does not hold, or with the API's header for another
// Update is refused before the handler runs, with a message that tells the
// operator what to do. Signals and queries need no header. A history with signed
// Updates replays with the check in place even when every signature has expired:
// the SDK does not validate Updates on replay.
func TestOnlySignedUpdatesReachTheWorkflow(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := temporaldev.StartForTest(t)
	rotation := [][]byte{newSurveyKey, oldSurveyKey}
	verifier, err := NewVerifier(rotation)
	require.NoError(t, err)

	w := worker.New(dial(t, srv), ledgerQueue, worker.Options{Interceptors: []interceptor.WorkerInterceptor{WorkerInterceptor(verifier)}})
	w.RegisterWorkflowWithOptions(ledger, workflow.RegisterOptions{Name: ledgerWorkflow})
	require.NoError(t, w.Start())
	defer w.Stop()

	newSigner, err := NewSigner(rotation)
	require.NoError(t, err)
	oldSigner, err := NewSigner([][]byte{oldSurveyKey})
	require.NoError(t, err)
	strangerSigner, err := NewSigner([][]byte{[]byte("a-key-the-worker-does-not-hold")})
	require.NoError(t, err)
	api := dial(t, srv, ClientInterceptor(newSigner))
	apiBeforeRotation := dial(t, srv, ClientInterceptor(oldSigner))
	unsigned := dial(t, srv)
	wrongKey := dial(t, srv, ClientInterceptor(strangerSigner))
	// The API's header of the real decision d-1, read from history, on a forged one.
	var fromHistory *commonpb.Payload
	copied := dial(t, srv, &headerInterceptor{header: func(Message) *commonpb.Payload { return fromHistory }})

	run, err := unsigned.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "ledger-1", TaskQueue: ledgerQueue}, ledgerWorkflow)
	require.NoError(t, err)
	agent := tierflow.Principal{ID: "agent-7", Role: tierflow.RoleAgent, Tier: tierflow.TierFrontline}
	impostor := tierflow.Principal{ID: "ceo", Role: tierflow.RoleExecutive, Tier: tierflow.TierExecutive}

	n, err := decide(ctx, api, "ledger-1", "decision-d-1", tierflow.Decision{Action: tierflow.ActionNote, DecisionID: "d-1", Actor: agent})
	require.NoError(t, err, "the API's update")
	assert.Equal(t, 1, n)
	n, err = decide(ctx, apiBeforeRotation, "ledger-1", "decision-d-2", tierflow.Decision{Action: tierflow.ActionNote, DecisionID: "d-2", Actor: agent})
	require.NoError(t, err, "an API still signing with the old key")
	assert.Equal(t, 2, n)

	fromHistory = acceptedHeader(ctx, t, unsigned, "ledger-1", "decision-d-1")

	forged := tierflow.Decision{Action: tierflow.ActionClose, DecisionID: "d-3", Reason: "mine now", Actor: impostor}
	for name, tc := range map[string]struct {
		c    client.Client
		want string
	}{
		"no header":              {unsigned, "no tierflow-update-auth header"},
		"a key the worker lacks": {wrongKey, "the signature does not match"},
		"a copied header":        {copied, "the signature does not match"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := decide(ctx, tc.c, "ledger-1", "decision-d-3", forged)
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(err, &appErr), "refused with an application error, got %v", err)
			assert.Equal(t, RejectionType, appErr.Type())
			assert.Contains(t, appErr.Message(), `update "decide" refused: `+tc.want)
			assert.Contains(t, appErr.Message(), "use the API")
			assert.Contains(t, appErr.Message(), "`decision` Signal")
		})
	}

	require.NoError(t, unsigned.SignalWorkflow(ctx, "ledger-1", "", "ping", nil), "signals need no header")
	v, err := unsigned.QueryWorkflow(ctx, "ledger-1", "", "applied")
	require.NoError(t, err, "queries need no header")
	var applied []string
	require.NoError(t, v.Get(&applied))
	assert.Equal(t, []string{"note by agent-7", "note by agent-7"}, applied, "no forged decision was applied")

	require.NoError(t, unsigned.SignalWorkflow(ctx, "ledger-1", "", "done", nil))
	var result []string
	require.NoError(t, run.Get(ctx, &result))
	assert.Equal(t, []string{"note by agent-7", "note by agent-7", "pings 1"}, result)

	// Replay long after: every signature is stale by now, and the replay still
	// succeeds, so the check never runs on replay.
	later, err := NewVerifier(rotation)
	require.NoError(t, err)
	later.now = func() time.Time { return time.Now().Add(24 * time.Hour) }
	replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
		Interceptors: []interceptor.WorkerInterceptor{WorkerInterceptor(later)}})
	require.NoError(t, err)
	replayer.RegisterWorkflowWithOptions(ledger, workflow.RegisterOptions{Name: ledgerWorkflow})
	require.NoError(t, replayer.ReplayWorkflowExecution(ctx, unsigned.WorkflowService(), nil, srv.Namespace(),
		workflow.Execution{ID: "ledger-1", RunID: run.GetRunID()}))
}

// acceptedHeader is the signature header of an accepted Update as its history
// holds it: what anyone who can read the workflow's history can copy.
func acceptedHeader(ctx context.Context, t *testing.T, c client.Client, workflowID, updateID string) *commonpb.Payload {
	t.Helper()
	it := c.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		if req := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetAcceptedRequest(); req.GetMeta().GetUpdateId() == updateID {
			p := req.GetInput().GetHeader().GetFields()[HeaderKey]
			require.NotNil(t, p, "the accepted update's header is in history")
			return p
		}
	}
	t.Fatalf("no accepted update %s in the history of %s", updateID, workflowID)
	return nil
}

// Update-with-Start is signed too: the API does not use it today, and a caller
// that does must name the workflow in the Update's options.
func TestUpdateWithStartIsSigned(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := temporaldev.StartForTest(t)
	verifier, err := NewVerifier([][]byte{oldSurveyKey})
	require.NoError(t, err)
	w := worker.New(dial(t, srv), ledgerQueue, worker.Options{Interceptors: []interceptor.WorkerInterceptor{WorkerInterceptor(verifier)}})
	w.RegisterWorkflowWithOptions(ledger, workflow.RegisterOptions{Name: ledgerWorkflow})
	require.NoError(t, w.Start())
	defer w.Stop()
	signer, err := NewSigner([][]byte{oldSurveyKey})
	require.NoError(t, err)
	api := dial(t, srv, ClientInterceptor(signer))

	d := tierflow.Decision{Action: tierflow.ActionNote, Actor: tierflow.Principal{ID: "agent-7", Role: tierflow.RoleAgent, Tier: 1}}
	start := func(id string) client.WithStartWorkflowOperation {
		return api.NewWithStartWorkflowOperation(client.StartWorkflowOptions{ID: id, TaskQueue: ledgerQueue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL}, ledgerWorkflow)
	}
	h, err := api.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{StartWorkflowOperation: start("ledger-uws"),
		UpdateOptions: client.UpdateWorkflowOptions{WorkflowID: "ledger-uws", UpdateName: "decide", Args: []any{d},
			WaitForStage: client.WorkflowUpdateStageCompleted}})
	require.NoError(t, err)
	var n int
	require.NoError(t, h.Get(ctx, &n))
	assert.Equal(t, 1, n)

	_, err = api.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{StartWorkflowOperation: start("ledger-uws-2"),
		UpdateOptions: client.UpdateWorkflowOptions{UpdateName: "decide", Args: []any{d}, WaitForStage: client.WorkflowUpdateStageCompleted}})
	assert.ErrorContains(t, err, "set UpdateOptions.WorkflowID")
}
