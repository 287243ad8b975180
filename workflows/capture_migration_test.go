package workflows

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// policyMigrationRun is the replay fixture of a PolicyMigration run on a real
// dev server: 6 cases, one already under the target, one refusing, one failing
// once before it takes the decision, one not authorized for this migration.
const policyMigrationRun = "policy_migration_run"

// TestCapturePolicyMigration records testdata/policy_migration_run.json
// (TIERFLOW_CAPTURE=1; TIERFLOW_CAPTURE_ONLY=policy_migration_run for it alone).
func TestCapturePolicyMigration(t *testing.T) {
	if os.Getenv("TIERFLOW_CAPTURE") != "1" {
		t.Skip("generator of testdata/policy_migration_run.json: set TIERFLOW_CAPTURE=1 to record it")
	}
	if only := os.Getenv("TIERFLOW_CAPTURE_ONLY"); only != "" && only != policyMigrationRun {
		t.Skip("TIERFLOW_CAPTURE_ONLY names another fixture")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cases := &fakeDecider{calls: map[string][]tierflow.Decision{}, answers: map[string][]error{
		"case-02": {tierflow.Errorf(tierflow.CodeConflict, "cannot migrate_policy a case that is resolved")},
		"case-03": {errors.New("no worker answered"), nil},
	}}
	c, stop := startCaptureServerWith(t, ctx, func(w worker.Worker) {
		w.RegisterWorkflowWithOptions(PolicyMigrationWorkflow, workflow.RegisterOptions{Name: PolicyMigrationWorkflowName})
		w.RegisterActivity(&activities.MigrationActivities{Cases: cases, SurveyKeys: [][]byte{migrationKey}})
	})
	defer stop()

	in := migrationInput(t, 6)
	in.Cases[1].Policy = in.Policy.Ref()                  // already under the target
	in.Cases[4].Authorization = in.Cases[5].Authorization // not this case's
	run, err := c.ExecuteWorkflow(ctx, PolicyMigrationStartOptions(in), PolicyMigrationWorkflowName, in)
	require.NoError(t, err)
	var got MigrationProgress
	require.NoError(t, run.Get(ctx, &got))
	require.Equal(t, MigrationCompleted, got.Status)
	require.Len(t, got.Migrated, 3)
	require.Len(t, got.Refused, 2)
	writeHistoryFixture(t, filepath.Join("testdata", policyMigrationRun+".json"),
		fetchHistory(t, ctx, c, run.GetID(), run.GetRunID()))
}
