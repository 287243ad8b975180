package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/client"
	"github.com/tierflow/tierflow/simulate"
)

// seedSimulation gives the fake a simulation of a slower variant of the standard
// policy: the recorded run breached twice at tier 1, the slower policy would not
// have, so one case stays at tier 1; the file changes one clock.
func seedSimulation(api *fakeAPI) {
	api.simulation = client.Simulation{
		Report: simulate.Report{
			Policy: "standard@2026-12-01-slower",
			Window: simulate.Window{From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
				Source: "zendesk", AsOf: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)},
			Actual: simulate.Counters{Cases: 3, Breaches: map[string]int{"tier_1.acknowledge": 2}, BreachesTotal: 2,
				AutomaticEscalations: 2, Warnings: 3, StaffEmails: 7, CustomerEmails: 9},
			Simulated: simulate.Counters{Cases: 3, Breaches: map[string]int{}, Warnings: 1, StaffEmails: 3, CustomerEmails: 7},
			ChangedCases: []simulate.ChangedCase{{CaseID: "zendesk-7001", ExternalID: "7001",
				Changes:      []simulate.Change{{What: "breaches.tier_1.acknowledge", Actual: 1, Simulated: 0}, {What: "highest_tier", Actual: 2, Simulated: 1}},
				Explanations: []string{"acknowledge by 2026-11-03T13:00Z: 8h of business hours from 2026-11-02T09:00Z, policy standard 2026-12-01-slower"}}},
		},
		Plan: []simulate.PlanChange{{Setting: "priorities.normal.acknowledge.tier_1", Current: "4h", Candidate: "8h"}},
	}
}

func writePolicyFile(t *testing.T, text string) string {
	path := filepath.Join(t.TempDir(), "slower.yaml")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	return path
}

const slowerPolicy = "name: standard\nversion: 2026-12-01-slower\n"

func TestPolicySimulatePrintsTheTableAndThePlan(t *testing.T) {
	api := newFakeAPI(t)
	seedSimulation(api)
	path := writePolicyFile(t, slowerPolicy)

	res := api.as("dev-supervisor", "policy", "simulate", "--policy", path, "--from", "2026-11-01", "--to", "2026-12-01", "--source", "zendesk")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Empty(t, res.stderr)
	require.Len(t, api.simulations, 1)
	assert.Equal(t, map[string]any{"policy_yaml": slowerPolicy, "from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z",
		"source": "zendesk"}, api.simulations[0], "the file's text is sent as is, for the API's loader to check")

	out := res.stdout
	t.Log("\n" + out)
	assert.True(t, strings.HasPrefix(out,
		"Simulation of policy standard@2026-12-01-slower on cases opened 2026-11-01 00:00 to 2026-12-01 00:00 (source zendesk)\n"), out)
	for _, row := range []string{
		`counter\s+actual\s+simulated\s+change`,
		`breaches tier_1\.acknowledge\s+2\s+0\s+-2`,
		`breaches total\s+2\s+0\s+-2`,
		`automatic escalations\s+2\s+0\s+-2`,
		`warnings\s+3\s+1\s+-2`,
		`staff emails\s+7\s+3\s+-4`,
		`customer emails\s+9\s+7\s+-2`,
		`past close target\s+0\s+0\s+\+0`,
	} {
		assert.Regexp(t, `\n *`+row+`\s*\n`, out)
	}
	assert.Contains(t, out, "1 case(s) would change:\n"+
		"- zendesk-7001 (7001): breaches.tier_1.acknowledge 1 -> 0, highest_tier 2 -> 1\n"+
		"    acknowledge by 2026-11-03T13:00Z: 8h of business hours from 2026-11-02T09:00Z, policy standard 2026-12-01-slower\n")
	plan := "Plan against the loaded policy standard:\n~ priorities.normal.acknowledge.tier_1: 4h -> 8h\nPlan: 1 setting(s) change.\n"
	assert.True(t, strings.HasSuffix(out, plan), "the plan follows the table")
}

func TestPolicySimulateByNameAndAsJSON(t *testing.T) {
	api := newFakeAPI(t)
	seedSimulation(api)
	api.simulation.Plan = nil // a loaded policy has no plan

	res := api.as("dev-supervisor", "policy", "simulate", "--name", "fast", "--from", "2026-11-01T00:00:00Z", "--to", "2026-11-08", "--json")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, map[string]any{"policy": "fast", "from": "2026-11-01T00:00:00Z", "to": "2026-11-08T00:00:00Z"}, api.simulations[0])
	var got client.Simulation
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &got), res.stdout)
	assert.Equal(t, api.simulation.Actual, got.Actual)
	assert.Equal(t, api.simulation.ChangedCases, got.ChangedCases)
	assert.Contains(t, res.stdout, `"changed_cases": [`)
	assert.NotContains(t, res.stdout, `"plan"`)

	res = api.as("dev-supervisor", "policy", "simulate", "--name", "fast", "--from", "2026-11-01", "--to", "2026-11-08")
	require.Equal(t, 0, res.code, res.stderr)
	assert.NotContains(t, res.stdout, "Plan:", "no plan, no plan section")
}

func TestPolicySimulateErrors(t *testing.T) {
	api := newFakeAPI(t)
	seedSimulation(api)
	path := writePolicyFile(t, "name: standard\npriorities: {normal: {acknowledge: {tier_1: soon}}}\n")

	api.simulateErrors = []tierflow.FieldError{{Field: "priorities.normal.acknowledge.tier_1", Message: "must be a duration like 4h"}}
	res := api.as("dev-supervisor", "policy", "simulate", "--policy", path, "--from", "2026-11-01", "--to", "2026-12-01")
	assert.Equal(t, 1, res.code)
	assert.Empty(t, res.stdout)
	assert.Equal(t, "tierflow: invalid policy (422)\n  priorities.normal.acknowledge.tier_1: must be a duration like 4h\n", res.stderr)

	api.simulateErrors = nil
	res = api.as("dev-agent", "policy", "simulate", "--name", "fast", "--from", "2026-11-01", "--to", "2026-12-01")
	assert.Equal(t, 1, res.code)
	assert.Equal(t, "tierflow: not allowed: requires role supervisor or executive (403)\n", res.stderr)

	res = api.as("dev-supervisor", "policy", "simulate", "--policy", filepath.Join(t.TempDir(), "missing.yaml"),
		"--from", "2026-11-01", "--to", "2026-12-01")
	assert.Equal(t, 1, res.code)
	assert.Contains(t, res.stderr, "tierflow: read policy file: open ")
	assert.Contains(t, res.stderr, "missing.yaml: no such file or directory\n")
	calls := len(api.simulations)

	usage := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"both candidates", []string{"--policy", path, "--name", "fast", "--from", "2026-11-01", "--to", "2026-12-01"}, "use --policy or --name, not both"},
		{"no candidate", []string{"--from", "2026-11-01", "--to", "2026-12-01"}, "name the candidate: --policy FILE or --name POLICY"},
		{"no window", []string{"--name", "fast", "--from", "2026-11-01"}, "--from and --to are required"},
		{"reversed window", []string{"--name", "fast", "--from", "2026-12-01", "--to", "2026-11-01"}, "--from must be before --to"},
		{"bad day", []string{"--name", "fast", "--from", "November", "--to", "2026-11-01"}, `--from: "November" is neither a date`},
		{"argument", []string{"fast", "--from", "2026-11-01", "--to", "2026-12-01"}, `unexpected argument "fast"`},
	}
	for _, tt := range usage {
		t.Run(tt.name, func(t *testing.T) {
			res := api.as("dev-supervisor", append([]string{"policy", "simulate"}, tt.args...)...)
			assert.Equal(t, 2, res.code, res.stderr)
			assert.Contains(t, res.stderr, "tierflow policy simulate: "+tt.stderr)
		})
	}
	assert.Len(t, api.simulations, calls, "nothing is sent after a usage error")
}
