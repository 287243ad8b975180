package simulate

import (
	"strings"

	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPlanListsEveryChangedClock(t *testing.T) {
	changes := Plan(recordedPolicy(), slowPolicy())
	// normal: acknowledge 8h -> 12h at each of the 4 tiers, resolve 24h -> 12h at tier 2.
	assert.Equal(t, []PlanChange{
		{Setting: "priorities.normal.acknowledge.tier_1", Current: "8h", Candidate: "12h"},
		{Setting: "priorities.normal.acknowledge.tier_2", Current: "8h", Candidate: "12h"},
		{Setting: "priorities.normal.resolve.tier_2", Current: "1d", Candidate: "12h"},
		{Setting: "priorities.normal.acknowledge.tier_3", Current: "8h", Candidate: "12h"},
		{Setting: "priorities.normal.acknowledge.tier_4", Current: "8h", Candidate: "12h"},
	}, changes)
	assert.Empty(t, Plan(recordedPolicy(), recordedPolicy()))

	var b bytes.Buffer
	require.NoError(t, WritePlan(&b, changes))
	assert.Contains(t, b.String(), "~ priorities.normal.resolve.tier_2: 1d -> 12h\n")
	assert.Contains(t, b.String(), "Plan: 5 setting(s) change.")
}

func TestWriteTablePutsBothSidesNextToEachOther(t *testing.T) {
	rep := Simulate(loadCases(t), slowPolicy(), fixtureWindow)
	var b bytes.Buffer
	require.NoError(t, WriteTable(&b, rep))
	out := b.String()
	assert.Contains(t, out, "Simulation of policy slow@2 on cases opened 2026-11-18 00:00 to 2026-11-19 00:00\n")
	assert.Regexp(t, `breaches tier_1\.acknowledge\s+1\s+0\s+-1`, out)
	assert.Regexp(t, `breaches tier_2\.resolve\s+0\s+1\s+\+1`, out)
	assert.Regexp(t, `staff emails\s+6\s+7\s+\+1`, out)
	assert.Contains(t, out, "2 case(s) would change:\n- zendesk-a (A-1): breaches.tier_1.acknowledge 1 -> 0, automatic_escalations 1 -> 0, highest_tier 2 -> 1\n")
	assert.Contains(t, out, "    Missed: Tier 2 (specialist) resolve deadline")
}

// A migration's dry run simulates chosen cases, not a window: the title says so
// instead of printing the zero instants.
func TestWriteTableWithoutAWindowNamesTheMatchedCases(t *testing.T) {
	var b strings.Builder
	require.NoError(t, WriteTable(&b, Report{Policy: "standard@1"}))
	assert.True(t, strings.HasPrefix(b.String(), "Simulation of policy standard@1 on the matched cases\n"), b.String())
	assert.NotContains(t, b.String(), "0001-01-01")
}
