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
	api.migration = client.MigrationResult{MigrationProgress: client.MigrationProgress{MigrationID: "mig-1", Policy: "fast@1"}, DryRun: true,
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

// progressOf is a migration's progress with the given cases.
func progressOf(id, status string, migrated, unchanged []string, refused ...client.MigrationRefusal) client.MigrationProgress {
	p := client.MigrationProgress{MigrationID: id, Policy: "fast@1", Status: status, Total: 4,
		ProgressURL: "/v1/policies/migrations/" + id, Migrated: migrated, Unchanged: unchanged, Refused: refused}
	p.Done = len(migrated) + len(unchanged) + len(refused)
	p.Pending = p.Total - p.Done
	return p
}

// The real run follows the migration the API started: a progress line each
// time it moved, then the summary; a refused case fails the command.
func TestPolicyMigrateFollowsTheProgressToTheSummary(t *testing.T) {
	api := newFakeAPI(t)
	refusal := client.MigrationRefusal{CaseID: "d", Status: 409, Detail: "case d is closed"}
	api.migration = client.MigrationResult{MigrationProgress: progressOf("mig-2", client.MigrationRunning, nil, []string{"c"}),
		Matched: []client.MigrationMatch{{CaseID: "a"}, {CaseID: "b"}, {CaseID: "c"}, {CaseID: "d"}}}
	api.progress = []client.MigrationProgress{
		progressOf("mig-2", client.MigrationRunning, []string{"a"}, []string{"c"}),
		progressOf("mig-2", client.MigrationRunning, []string{"a"}, []string{"c"}),
		progressOf("mig-2", client.MigrationCompleted, []string{"a", "b"}, []string{"c"}, refusal),
	}
	res := api.as("dev-supervisor", "policy", "migrate", "--to", "fast", "--query", "CaseTier >= 2", "--reason", "r",
		"--poll-interval", "10ms")
	assert.Equal(t, 1, res.code, "a refused case is a failure the caller sees: %s", res.stderr)
	assert.Equal(t, []string{"mig-2", "mig-2", "mig-2"}, api.progressReads, "polled until completed")
	assert.Contains(t, res.stdout, "migration mig-2 to fast@1: 4 case(s) matched\n")
	assert.Contains(t, res.stdout, "migrating: 1/4 done (0 migrated, 1 unchanged, 0 refused)\n"+
		"migrating: 2/4 done (1 migrated, 1 unchanged, 0 refused)\nmigrated 2, already on fast@1 1, refused 1\n",
		"one line per change, then the summary")
	assert.Contains(t, res.stdout, "  migrated: a, b\n")
	assert.Contains(t, res.stdout, "refused d (409): case d is closed")
	assert.Contains(t, res.stderr, "1 case(s) refused the migration")
}

// --no-wait prints the started migration's id and progress URL and returns;
// --status reads one migration.
func TestPolicyMigrateNoWaitAndStatus(t *testing.T) {
	api := newFakeAPI(t)
	api.migration = client.MigrationResult{MigrationProgress: progressOf("mig-3", client.MigrationRunning, nil, nil),
		Matched: []client.MigrationMatch{{CaseID: "a"}}}
	res := api.as("dev-supervisor", "policy", "migrate", "--to", "fast", "--query", "q", "--reason", "r", "--no-wait")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "migration mig-3 is running: 0/4 done (0 migrated, 0 unchanged, 0 refused)\n"+
		"follow it: tierflow policy migrate --status mig-3 (GET /v1/policies/migrations/mig-3)\n")
	assert.Empty(t, api.progressReads, "not followed")

	api.progress = []client.MigrationProgress{progressOf("mig-3", client.MigrationRunning, []string{"a"}, nil)}
	res = api.as("dev-supervisor", "policy", "migrate", "--status", "mig-3")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, "migration mig-3 to fast@1 is running: 1/4 done (1 migrated, 0 unchanged, 0 refused)\n", res.stdout)

	api.progress = []client.MigrationProgress{progressOf("mig-3", client.MigrationCompleted, []string{"a", "b", "c", "d"}, nil)}
	res = api.as("dev-supervisor", "policy", "migrate", "--status", "mig-3")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, "migrated 4, already on fast@1 0, refused 0\n  migrated: a, b, c, d\n", res.stdout)

	res = api.as("dev-supervisor", "policy", "migrate", "--status", "nope")
	assert.Equal(t, 1, res.code)
	assert.Contains(t, res.stderr, "no migration nope")

	res = api.as("dev-supervisor", "policy", "migrate", "--status", "mig-3", "--to", "fast")
	assert.Equal(t, 2, res.code)
	assert.Contains(t, res.stderr, "--status reads a migration")
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
