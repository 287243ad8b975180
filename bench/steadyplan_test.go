package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var steadyT0 = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)

// A case picks, when its POST is sent, the clock that puts its deadline nearest
// its target; a case too late for the shortest clock takes it (and is late), one
// too early takes the longest.
func TestSteadyClockChoice(t *testing.T) {
	p := steadyPlan{Rate: 2, Cases: 120, Start: steadyT0, Window: time.Minute, Step: 5 * time.Second}
	for a := 30; a <= 60; a += 5 {
		p.Clocks = append(p.Clocks, time.Duration(a)*time.Second)
	}
	for _, c := range []struct {
		i          int
		sentBefore time.Duration // before the window's start
		clock      time.Duration
		late       time.Duration
	}{
		{0, 30 * time.Second, 30 * time.Second, 0},
		{0, 32 * time.Second, 30 * time.Second, 0},
		{0, 33 * time.Second, 35 * time.Second, 0},
		{10, 40 * time.Second, 45 * time.Second, 0}, // target 5s into the window
		{119, 0, 60 * time.Second, 0},               // target 59.5s in: deadline at 60s
		{0, 10 * time.Second, 30 * time.Second, 20 * time.Second},
		{0, 5 * time.Minute, 60 * time.Second, 0},
	} {
		sent := steadyT0.Add(-c.sentBefore)
		assert.Equal(t, c.clock, p.Clocks[p.clockFor(sent, c.i)], "case %d sent %s before", c.i, c.sentBefore)
		assert.Equal(t, c.late, p.lateBy(sent, c.i), "case %d sent %s before", c.i, c.sentBefore)
	}
}

// The targets fall 1/rate apart from the window's start, every one inside it.
func TestSteadyTargetsAreSpacedByTheRate(t *testing.T) {
	now := steadyT0
	p := planSteady(now, 21.6, 10*time.Minute, 30*time.Second, 6*time.Minute)
	require.Equal(t, 12960, p.Cases)
	assert.Equal(t, now.Add(6*time.Minute+30*time.Second), p.Start, "the window opens a margin after the estimated pre-open")
	assert.Equal(t, p.Start, p.target(0))
	interval := float64(time.Second) / 21.6
	for i := 1; i < p.Cases; i++ {
		gap := p.target(i).Sub(p.target(i - 1))
		require.InDelta(t, interval, float64(gap), 1, "target %d", i)
	}
	assert.True(t, p.target(p.Cases-1).Before(p.Start.Add(p.Window)))
}

// The clocks cover every case of the window: whatever the instant its POST is sent
// between the pre-open's start and its target minus the margin, one clock puts its
// deadline within half a step of its target; and cases opened at any steady pace
// within the estimate put the planned rate of deadlines in the window.
func TestSteadyPolicySetCoversTheWindow(t *testing.T) {
	for _, c := range []struct {
		name           string
		rate           float64
		window, margin time.Duration
		intake         float64
	}{
		{"default, half of 43/s", 21.6, 10 * time.Minute, 30 * time.Second, 43},
		{"quick, 5/s", 5, 30 * time.Second, 10 * time.Second, 20},
		{"faster than the intake", 40, 10 * time.Minute, 30 * time.Second, 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			now := steadyT0
			estimate := herdOpenEstimate(steadyCases(c.rate, c.window), c.intake)
			p := planSteady(now, c.rate, c.window, c.margin, estimate)
			require.NotEmpty(t, p.Clocks)
			assert.Equal(t, c.margin, p.Clocks[0], "the shortest clock is the margin")
			assert.LessOrEqual(t, len(p.Clocks), maxSteadyClocks)
			assert.GreaterOrEqual(t, p.Step, time.Second)
			for j, a := range p.Clocks {
				assert.Zero(t, a%time.Second, "whole seconds: %s", a)
				if j > 0 {
					assert.Equal(t, p.Step, a-p.Clocks[j-1])
				}
			}
			assert.GreaterOrEqual(t, p.Clocks[len(p.Clocks)-1], p.target(p.Cases-1).Sub(now), "a case opened first may aim at the end")

			for _, i := range []int{0, 1, p.Cases / 3, p.Cases / 2, p.Cases - 2, p.Cases - 1} {
				latest := p.target(i).Add(-c.margin)
				for k := range 11 {
					sent := now.Add(time.Duration(float64(latest.Sub(now)) * float64(k) / 10))
					deadline := sent.Add(p.Clocks[p.clockFor(sent, i)])
					assert.LessOrEqual(t, deadline.Sub(p.target(i)).Abs(), p.Step/2, "case %d sent %s after the start", i, sent.Sub(now))
				}
			}

			// Opens at a steady pace that ends within the estimate, or much faster.
			for _, pace := range []float64{c.intake / 1.2, c.intake, c.intake * 3} {
				var deadlines []time.Time
				for i := range p.Cases {
					sent := now.Add(time.Duration(float64(i) / pace * float64(time.Second)))
					deadlines = append(deadlines, sent.Add(p.Clocks[p.clockFor(sent, i)]))
				}
				got := perSecond(p.inWindow(deadlines), p.Window)
				edges := c.rate * p.Step.Seconds() / p.Window.Seconds() // at most half a step lost at each end
				assert.InDelta(t, c.rate, got, edges, "opened at %.1f/s", pace)
			}
		})
	}
}

func TestSteadyClocksBounded(t *testing.T) {
	clocks, step := steadyClocks(10*time.Minute, 30*time.Second, 3*time.Hour)
	assert.LessOrEqual(t, len(clocks), maxSteadyClocks)
	assert.Greater(t, step, 5*time.Second, "a wider step rather than more policies")
	assert.GreaterOrEqual(t, clocks[len(clocks)-1], 3*time.Hour+10*time.Minute+30*time.Second)
	assert.Equal(t, "bench-steady-30s", steadyPolicyName(clocks[0]))
}

// The achieved rate counts the cases' actual deadlines in the window, a case not
// escalated at its planned one.
func TestSteadySummary(t *testing.T) {
	p := steadyPlan{Rate: 1, Cases: 4, Start: steadyT0, Window: 4 * time.Second, Step: time.Second,
		Clocks: []time.Duration{10 * time.Second, 11 * time.Second}}
	opens := steadyOpens{ids: []string{"a", "b", "c", "d"}, index: []int{0, 1, 2, 3}}
	for i := range 4 {
		opens.sent = append(opens.sent, steadyT0.Add(time.Duration(i)*time.Second-10*time.Second))
		opens.clock = append(opens.clock, 10*time.Second)
	}
	rec := func(id string, deadline time.Time) escalationRecord {
		return escalationRecord{CaseID: id, Deadline: deadline, At: deadline, RecordedAt: deadline.Add(200 * time.Millisecond), Mails: 3}
	}
	records := []escalationRecord{
		rec("a", steadyT0.Add(-300*time.Millisecond)), // before the window
		rec("b", steadyT0.Add(time.Second)),
		rec("c", steadyT0.Add(2500*time.Millisecond)),
	}
	var r steadyResult
	r.BucketSeconds = 1
	end := steadyT0.Add(time.Minute)
	r.summarizeRecords(p, opens, records, end)
	assert.Equal(t, 3, r.Escalated)
	assert.Equal(t, 1, r.Missing)
	assert.Equal(t, 3, r.DeadlinesInWindow, "b, c and d (at its planned deadline)")
	assert.Equal(t, 0.75, r.DeadlinesPerSecond)
	assert.Equal(t, latency{N: 3, P50: 300, P90: 500, P99: 500, Max: 500}, r.OffTarget)
	assert.Equal(t, 4, r.RecordLateness.N)
	assert.Equal(t, ms(end.Sub(steadyT0.Add(3*time.Second))), r.RecordLateness.Max, "d counts until the wait's end")
	assert.Equal(t, 3, r.EmailsPerCase)
	assert.Equal(t, latency{N: 3}, r.Lateness, "the workflow's clock: on time")
}

func TestSlowestEscalationIsTheLatestRecordedAfterItsDeadline(t *testing.T) {
	_, ok := slowestEscalation(nil)
	assert.False(t, ok)
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	worst, ok := slowestEscalation([]escalationRecord{
		{CaseID: "a", Deadline: t0, RecordedAt: t0.Add(900 * time.Millisecond)},
		{CaseID: "b", Deadline: t0.Add(time.Second), RecordedAt: t0.Add(3 * time.Second)}, // 2 s late
		{CaseID: "c", Deadline: t0.Add(5 * time.Second), RecordedAt: t0.Add(6 * time.Second)},
	})
	assert.True(t, ok)
	assert.Equal(t, "b", worst.CaseID)
	assert.Len(t, tail(make([]timelineStep, 20), 14), 14)
	assert.Len(t, tail(make([]timelineStep, 3), 14), 3)
}
