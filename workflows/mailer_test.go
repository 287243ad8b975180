package workflows

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow/activities"
)

// mailerFixture is the replay fixture of a Mailer run (two deliveries, then
// continue-as-new).
const mailerFixture = "mailer"

// The Mailer runs DeliverOutbox for its shard again and again, then continues as
// new with the same input.
func TestMailerDeliversThenContinuesAsNew(t *testing.T) {
	env, _ := testEnv(t, t0)
	env.RegisterWorkflowWithOptions(MailerWorkflow, workflow.RegisterOptions{Name: MailerWorkflowName})
	var inputs []activities.DeliverOutboxInput
	env.OnActivity("DeliverOutbox", mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.DeliverOutboxInput) (activities.DeliverOutboxResult, error) {
			inputs = append(inputs, in)
			return activities.DeliverOutboxResult{Delivered: 3}, nil
		})
	env.ExecuteWorkflow(MailerWorkflowName, MailerInput{Shard: 1, Shards: 2, Iterations: 3})
	require.True(t, env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, env.GetWorkflowError(), &can)
	assert.Equal(t, MailerWorkflowName, can.WorkflowType.Name)
	require.Len(t, inputs, 3)
	for _, in := range inputs {
		assert.Equal(t, activities.DeliverOutboxInput{Shard: 1, Shards: 2, For: activities.DefaultOutboxDeliveryTime}, in)
	}
}

// TestCaptureMailer records testdata/mailer.json from a real dev server:
//
//	TIERFLOW_CAPTURE=1 go test -count=1 -run TestCaptureMailer ./workflows/
func TestCaptureMailer(t *testing.T) {
	if os.Getenv("TIERFLOW_CAPTURE") != "1" {
		t.Skip("generator of testdata/" + mailerFixture + ".json: set TIERFLOW_CAPTURE=1 to record it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, stop := startCaptureServer(t, ctx)
	defer stop()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: MailerWorkflowID(0), TaskQueue: TaskQueue},
		MailerWorkflowName, MailerInput{Shard: 0, Shards: 2, Iterations: 2})
	require.NoError(t, err)
	err = run.GetWithOptions(ctx, nil, client.WorkflowRunGetOptions{DisableFollowingRuns: true})
	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, err, &can)
	hist := fetchHistory(t, ctx, c, run.GetID(), run.GetRunID())
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, hist.Events[len(hist.Events)-1].GetEventType())
	require.NoError(t, c.TerminateWorkflow(ctx, run.GetID(), "", "capture over"))
	writeHistoryFixture(t, filepath.Join("testdata", mailerFixture+".json"), hist)
}
