package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/policyfile"
)

// The bench's policies must load (the API refuses to start otherwise), and the herd
// calendar must put every case opened before it opens at one deadline, whatever the
// hour of the run.
func TestPolicies(t *testing.T) {
	dir := t.TempDir()
	paths, err := writeBasePolicies(dir)
	require.NoError(t, err)
	for _, p := range paths {
		_, err := policyfile.Load(p)
		assert.NoError(t, err, p)
	}
	breach, err := policyfile.Load(paths[1])
	require.NoError(t, err)
	opened := time.Date(2026, 11, 20, 9, 15, 0, 0, time.UTC)
	assert.Equal(t, opened.Add(2*time.Second),
		breach.TierDeadline(tierflow.ClockAcknowledge, tierflow.PriorityNormal, tierflow.TierFrontline, opened).At)
	assert.Equal(t, opened.Add(24*time.Hour),
		breach.TierDeadline(tierflow.ClockAcknowledge, tierflow.PriorityNormal, tierflow.TierSpecialist, opened).At)
	clocks := []time.Duration{30 * time.Second, 35 * time.Second, 17*time.Minute + 5*time.Second}
	steadyPaths, err := writeSteadyPolicies(dir, clocks)
	require.NoError(t, err)
	require.Len(t, steadyPaths, len(clocks))
	all := append(append([]string(nil), paths...), steadyPaths...)
	_, err = policyfile.LoadRegistry(all...)
	require.NoError(t, err, "the API loads them together: no name twice")
	for i, clock := range clocks {
		steady, err := policyfile.Load(steadyPaths[i])
		require.NoError(t, err)
		assert.Equal(t, steadyPolicyName(clock), steady.Name)
		dl := steady.TierDeadline(tierflow.ClockAcknowledge, tierflow.PriorityNormal, tierflow.TierFrontline, opened)
		assert.Equal(t, opened.Add(clock), dl.At, "the steady clock runs around the clock")
		require.NotNil(t, dl.WarnAt)
		assert.Equal(t, opened.Add(clock*3/4), *dl.WarnAt, "warned at 3/4")
	}

	for _, hour := range []int{0, 5, 11, 12, 13, 23} {
		opensAt := time.Date(2026, 11, 20, hour, 37, 0, 0, time.UTC)
		h := herdCalendar{OpensAt: opensAt, Ack: 90 * time.Second}
		path, err := writeHerdPolicy(dir, h)
		require.NoError(t, err)
		p, err := policyfile.Load(path)
		require.NoError(t, err, "opening at %s", opensAt)
		for _, before := range []time.Duration{3 * time.Minute, time.Second} {
			dl := p.TierDeadline(tierflow.ClockAcknowledge, tierflow.PriorityNormal, tierflow.TierFrontline, opensAt.Add(-before))
			assert.True(t, opensAt.Add(h.Ack).Equal(dl.At), "opened %s before %s: deadline %s", before, opensAt, dl.At)
			require.NotNil(t, dl.WarnAt)
			assert.True(t, opensAt.Add(h.Ack/10).Equal(*dl.WarnAt), "warning early in the clock, got %s", dl.WarnAt)
		}
		late := opensAt.Add(10 * time.Second)
		dl := p.TierDeadline(tierflow.ClockAcknowledge, tierflow.PriorityNormal, tierflow.TierFrontline, late)
		assert.True(t, late.Add(h.Ack).Equal(dl.At), "a case opened after the calendar opened starts its clock at once")
	}
}
