package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
	"github.com/tierflow/tierflow/workflows"
)

// The worker runs policy migrations: it sends a case a decision the API
// authorized (here the case does not exist: refused as not found) and refuses
// one it did not (a migration started straight in Temporal, naming a
// supervisor of its choosing).
func TestRunMigratesOnlyWhatTheAPIAuthorized(t *testing.T) {
	cfg := testConfig(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, testLogger(t)) }()
	defer func() {
		cancel()
		assert.NoError(t, <-done)
	}()
	c, err := devServer.Dial(context.Background(), nil)
	require.NoError(t, err)
	defer c.Close()

	in := workflows.PolicyMigrationInput{MigrationID: "worker-test", Policy: tierflow.Policy{Name: "fast", Version: "v2"},
		Reason: "test", Actor: tierflow.Principal{ID: "sup-1", Role: tierflow.RoleSupervisor, Tier: tierflow.TierSupervisor}}
	auth, err := activities.AuthorizeMigration(cfg.SurveyKeys, "zendesk-404", in.Decision())
	require.NoError(t, err)
	forged, err := activities.AuthorizeMigration([][]byte{[]byte("not-the-survey-key-0123456789")}, "zendesk-405", in.Decision())
	require.NoError(t, err)
	in.Cases = []workflows.MigrationCase{{CaseID: "zendesk-404", Policy: "standard@v1", Authorization: auth},
		{CaseID: "zendesk-405", Policy: "standard@v1", Authorization: forged}}

	runCtx, runCancel := context.WithTimeout(context.Background(), time.Minute)
	defer runCancel()
	wr, err := c.ExecuteWorkflow(runCtx, client.StartWorkflowOptions{ID: workflows.PolicyMigrationID(in.MigrationID),
		TaskQueue: workflows.TaskQueue}, workflows.PolicyMigrationWorkflowName, in)
	require.NoError(t, err)
	var got workflows.MigrationProgress
	require.NoError(t, wr.Get(runCtx, &got))
	assert.Equal(t, workflows.MigrationCompleted, got.Status)
	assert.Empty(t, got.Migrated)
	require.Len(t, got.Refused, 2)
	byCase := map[string]tierflow.Code{}
	for _, r := range got.Refused {
		byCase[r.CaseID] = r.Code
	}
	assert.Equal(t, map[string]tierflow.Code{"zendesk-404": tierflow.CodeNotFound, "zendesk-405": tierflow.CodeForbidden}, byCase)
}
