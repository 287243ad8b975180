package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
	"github.com/tierflow/tierflow/workflows"
)

// refusal is what became of a case the migration did not migrate.
type refusal struct {
	Code    tierflow.Code
	Expired bool // the refusal says the authorization expired
}

// The worker runs policy migrations: it sends a case a decision the API
// authorized (here the case does not exist: refused as not found) and refuses
// one it did not (a migration started straight in Temporal, naming a
// supervisor of its choosing), one whose authorization expired, and a valid
// one copied into a migration started under another workflow id.
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
		Reason: "test", Actor: tierflow.Principal{ID: "sup-1", Role: tierflow.RoleSupervisor, Tier: tierflow.TierSupervisor},
		AuthorizedUntil: time.Now().Add(activities.MigrationAuthorizationTTL)}
	auth, err := activities.AuthorizeMigration(cfg.SurveyKeys, in.MigrationGrant("zendesk-404"), in.Decision())
	require.NoError(t, err)
	forged, err := activities.AuthorizeMigration([][]byte{[]byte("not-the-survey-key-0123456789")},
		in.MigrationGrant("zendesk-405"), in.Decision())
	require.NoError(t, err)
	in.Cases = []workflows.MigrationCase{{CaseID: "zendesk-404", Policy: "standard@v1", Authorization: auth},
		{CaseID: "zendesk-405", Policy: "standard@v1", Authorization: forged}}

	migrate := func(workflowID string, in workflows.PolicyMigrationInput) map[string]refusal {
		runCtx, runCancel := context.WithTimeout(context.Background(), time.Minute)
		defer runCancel()
		wr, err := c.ExecuteWorkflow(runCtx, client.StartWorkflowOptions{ID: workflowID, TaskQueue: workflows.TaskQueue},
			workflows.PolicyMigrationWorkflowName, in)
		require.NoError(t, err)
		var got workflows.MigrationProgress
		require.NoError(t, wr.Get(runCtx, &got))
		assert.Equal(t, workflows.MigrationCompleted, got.Status)
		assert.Empty(t, got.Migrated)
		byCase := map[string]refusal{}
		for _, r := range got.Refused {
			byCase[r.CaseID] = refusal{Code: r.Code, Expired: strings.Contains(r.Message, "expired")}
		}
		return byCase
	}
	assert.Equal(t, map[string]refusal{"zendesk-404": {Code: tierflow.CodeNotFound},
		"zendesk-405": {Code: tierflow.CodeForbidden}}, migrate(workflows.PolicyMigrationID(in.MigrationID), in))

	// The same valid authorization, copied into a migration of another id.
	evil := in
	evil.MigrationID = "evil-1"
	evil.Cases = in.Cases[:1]
	assert.Equal(t, map[string]refusal{"zendesk-404": {Code: tierflow.CodeForbidden}},
		migrate("evil-1", evil), "an authorization is for its migration's workflow only")

	// An authorization that expired (signed with its expiry: one cannot extend it).
	late := in
	late.MigrationID = "worker-test-late"
	late.AuthorizedUntil = time.Now().Add(-time.Minute)
	expired, err := activities.AuthorizeMigration(cfg.SurveyKeys, late.MigrationGrant("zendesk-404"), late.Decision())
	require.NoError(t, err)
	late.Cases = []workflows.MigrationCase{{CaseID: "zendesk-404", Policy: "standard@v1", Authorization: expired}}
	assert.Equal(t, map[string]refusal{"zendesk-404": {Code: tierflow.CodeForbidden, Expired: true}},
		migrate(workflows.PolicyMigrationID(late.MigrationID), late))
}
