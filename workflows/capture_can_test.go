package workflows

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/tierflow/tierflow"
)

// continuedAsNew is the fixture pair of a case that continued as new: the first
// run (ending in ContinuedAsNew) and the run that resumed it.
const continuedAsNew = "continued_as_new"

// TestCaptureContinuedAsNew records a real continue-as-new on a dev server told to
// suggest it early (after 40 history events), like TestCaptureHistories:
//
//	TIERFLOW_CAPTURE=1 go test -count=1 -run TestCaptureContinuedAsNew ./workflows/
//
// It writes testdata/continued_as_new.first.json and continued_as_new.json (the
// resumed run), which TestReplayHistories replays.
func TestCaptureContinuedAsNew(t *testing.T) {
	if os.Getenv("TIERFLOW_CAPTURE") != "1" {
		t.Skip("generator of testdata/continued_as_new*.json: set TIERFLOW_CAPTURE=1 to record it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, stop := startCaptureServer(t, ctx, "--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=40")
	defer stop()

	r := testRequest()
	r.ExternalID = "capture-" + continuedAsNew
	r.OpenedAt = time.Now().UTC()
	r.CRMURL = "https://crm.example.com/tickets/" + r.ExternalID
	caseID := tierflow.CaseID(r.Source, r.ExternalID)
	p := capturePolicy()
	// Long tier clocks: only the messages below make history.
	for _, pr := range tierflow.Priorities {
		pp := p.Priorities[pr]
		pp.Acknowledge.Default, pp.Resolve.Default = dur(time.Hour), dur(time.Hour)
		p.Priorities[pr] = pp
	}
	first, err := c.ExecuteWorkflow(ctx, StartOptions(caseID, r, p), WorkflowName, currentInput(p, r))
	require.NoError(t, err)
	d := &driver{t: t, ctx: ctx, c: c, id: first.GetID()}
	d.decide(tierflow.Decision{Action: tierflow.ActionAcknowledge, DecisionID: "n0", Actor: agent})
	var resumedRunID string
	for i := 1; i < 40 && resumedRunID == ""; i++ {
		d.decide(tierflow.Decision{Action: tierflow.ActionNote, DecisionID: "n" + itoa(i), Actor: agent, Text: "still looking"})
		desc, err := c.DescribeWorkflowExecution(ctx, first.GetID(), "")
		require.NoError(t, err)
		if id := desc.GetWorkflowExecutionInfo().GetExecution().GetRunId(); id != first.GetRunID() {
			resumedRunID = id
		}
	}
	require.NotEmpty(t, resumedRunID, "the server never suggested continue-as-new")
	d.decide(tierflow.Decision{Action: tierflow.ActionResolve, DecisionID: "r1", Actor: agent, Resolution: "refunded"})
	d.waitFor("the survey", surveySent)
	d.update(UpdateSurvey, tierflow.SurveyResponse{Score: 5, Resolved: true, Comment: "thanks", Round: 1})
	resumed := c.GetWorkflow(ctx, first.GetID(), resumedRunID)
	var final tierflow.Receipt
	require.NoError(t, resumed.Get(ctx, &final))
	require.Equal(t, tierflow.StatusClosed, final.Status)

	for name, runID := range map[string]string{continuedAsNew + ".first": first.GetRunID(), continuedAsNew: resumedRunID} {
		writeHistoryFixture(t, filepath.Join("testdata", name+".json"), fetchHistory(t, ctx, c, first.GetID(), runID))
	}
	hist := fetchHistory(t, ctx, c, first.GetID(), first.GetRunID())
	last := hist.Events[len(hist.Events)-1]
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, last.GetEventType())
}
