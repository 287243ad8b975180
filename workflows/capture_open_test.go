package workflows

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/tierflow/tierflow"
)

// openedWithStart is the fixture of a case opened as the API opens it: the open
// Update sent with the start (Update-with-Start), then repeated.
const openedWithStart = "opened_with_start"

// TestCaptureOpenedWithStart records testdata/opened_with_start.json from a real
// run, like TestCaptureHistories:
//
//	TIERFLOW_CAPTURE=1 go test -count=1 -run TestCaptureOpenedWithStart ./workflows/
//
// The open Update arrives in the run's first workflow task, before the handlers
// are registered; TestReplayHistories replays it.
func TestCaptureOpenedWithStart(t *testing.T) {
	if os.Getenv("TIERFLOW_CAPTURE") != "1" {
		t.Skip("generator of testdata/" + openedWithStart + ".json: set TIERFLOW_CAPTURE=1 to record it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, stop := startCaptureServer(t, ctx)
	defer stop()

	r := testRequest()
	r.ExternalID = "capture-" + openedWithStart
	r.OpenedAt = time.Now().UTC()
	caseID := tierflow.CaseID(r.Source, r.ExternalID)
	p := capturePolicy()
	var runID string // the run the first open started
	open := func(requestID string, req tierflow.OpenCaseRequest) (OpenAnswer, error) {
		opts := StartOptions(caseID, r, p)
		opts.WorkflowIDConflictPolicy = enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING
		opts.WorkflowIDReusePolicy = enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
		in := currentInput(p, r)
		in.OpenRequestID = requestID
		h, err := c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
			StartWorkflowOperation: c.NewWithStartWorkflowOperation(opts, WorkflowName, in),
			UpdateOptions: client.UpdateWorkflowOptions{WorkflowID: WorkflowID(caseID), UpdateID: "open-" + requestID,
				UpdateName: UpdateOpen, WaitForStage: client.WorkflowUpdateStageCompleted,
				Args: []any{OpenRequest{Fingerprint: RequestFingerprint(req), RequestID: requestID}}},
		})
		var answer OpenAnswer
		if err == nil {
			err = h.Get(ctx, &answer)
		}
		if err == nil && runID == "" {
			runID = h.RunID()
		}
		return answer, err
	}
	first, err := open("r1", r)
	require.NoError(t, err)
	require.True(t, first.Created)
	again, err := open("r2", r)
	require.NoError(t, err)
	require.False(t, again.Created)
	different := r
	different.Subject = "Another subject"
	_, err = open("r3", different)
	e, ok := AsCaseError(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, tierflow.CodeConflict, e.Code)

	d := &driver{t: t, ctx: ctx, c: c, id: WorkflowID(caseID)}
	d.decide(tierflow.Decision{Action: tierflow.ActionAcknowledge, DecisionID: "w1", Actor: agent})
	d.decide(closeBy(supervisor, "w2"))
	var final tierflow.Receipt
	require.NoError(t, c.GetWorkflow(ctx, d.id, runID).Get(ctx, &final))
	require.Equal(t, tierflow.StatusClosed, final.Status)

	writeHistoryFixture(t, filepath.Join("testdata", openedWithStart+".json"), fetchHistory(t, ctx, c, d.id, runID))
}

// The fixture is what it claims: the open Update was accepted in the run's first
// workflow task, and the repeated open was accepted later; the conflicting one
// left nothing.
func TestOpenedWithStartFixtureOpensWithTheUpdate(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", openedWithStart+".json"))
	require.NoError(t, err)
	defer f.Close()
	hist, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	require.NoError(t, err)
	var accepted []int64
	var completedTasks []int64 // WorkflowTaskCompleted event IDs: a task's commands follow its own
	for _, ev := range hist.Events {
		if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED {
			completedTasks = append(completedTasks, ev.GetEventId())
		}
		if a := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes(); a != nil && a.GetAcceptedRequest().GetInput().GetName() == UpdateOpen {
			accepted = append(accepted, ev.GetEventId())
		}
	}
	require.GreaterOrEqual(t, len(completedTasks), 2)
	require.Len(t, accepted, 2, "the open sent with the start and its repetition")
	assert.Greater(t, accepted[0], completedTasks[0], "accepted by the first workflow task")
	assert.Less(t, accepted[0], completedTasks[1], "accepted by the first workflow task")
}
