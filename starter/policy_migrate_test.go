package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow/client"
	"github.com/tierflow/tierflow/simulate"
)

func TestPolicyMigrateDryRunShowsTheMatchAndTheVerdict(t *testing.T) {
	api := newFakeAPI(t)
	api.migration = client.MigrationResult{MigrationID: "mig-1", Policy: "fast@1", DryRun: true,
		Matched: []client.MigrationMatch{{CaseID: "zendesk-7001", Policy: "standard@2026-11-01"}},
		Verdict: &simulate.Report{Policy: "fast@1", Actual: simulate.Counters{Cases: 1, BreachesTotal: 1},
			Simulated: simulate.Counters{Cases: 1}}}
	res := api.as("dev-supervisor", "policy", "migrate", "--to", "fast", "--query", "CaseTier >= 2",
		"--reason", "faster tier 2", "--dry-run")
	require.Equal(t, 0, res.code, res.stderr)
	require.Len(t, api.migrations, 1)
	assert.Equal(t, map[string]any{"to": "fast", "query": "CaseTier >= 2", "dry_run": true, "reason": "faster tier 2"},
		api.migrations[0])
	assert.Contains(t, res.stdout, "dry run mig-1 to fast@1: 1 case(s) matched")
	assert.Contains(t, res.stdout, "zendesk-7001")
	assert.Contains(t, res.stdout, "What the new policy would have done")
}

func TestPolicyMigrateReportsRefusals(t *testing.T) {
	api := newFakeAPI(t)
	api.migration = client.MigrationResult{MigrationID: "mig-2", Policy: "fast@1",
		Matched: []client.MigrationMatch{{CaseID: "a"}, {CaseID: "b"}},
		Summary: &client.MigrationSummary{Migrated: []string{"a"},
			Refused: []client.MigrationRefusal{{CaseID: "b", Status: 409, Detail: "case b is closed"}}}}
	res := api.as("dev-supervisor", "policy", "migrate", "--to", "fast", "--query", "CaseTier >= 2", "--reason", "r")
	assert.Equal(t, 1, res.code, "a refused case is a failure the caller sees")
	assert.Contains(t, res.stdout, "migrated 1, already on fast@1 0, refused 1")
	assert.Contains(t, res.stdout, "refused b (409): case b is closed")
}

func TestPolicyMigrateNeedsItsFlagsAndASupervisor(t *testing.T) {
	api := newFakeAPI(t)
	res := api.as("dev-supervisor", "policy", "migrate", "--to", "fast")
	assert.Equal(t, 2, res.code)
	assert.Contains(t, res.stderr, "--to, --query and --reason are required")
	assert.Empty(t, api.migrations)

	res = api.as("dev-agent", "policy", "migrate", "--to", "fast", "--query", "q", "--reason", "r")
	assert.NotEqual(t, 0, res.code)
	assert.Contains(t, res.stderr, "supervisor or executive")
}
