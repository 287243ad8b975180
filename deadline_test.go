package tierflow

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStartTierFor(t *testing.T) {
	tier := func(t Tier) *Tier { return &t }
	req := func(tr Trigger, pr Priority, dept string) OpenCaseRequest {
		return OpenCaseRequest{Trigger: tr, Priority: pr, Department: dept}
	}
	std := testPolicy("UTC")
	noRules := testPolicy("UTC")
	noRules.StartTier = nil
	custom := testPolicy("UTC")
	custom.StartTier = []StartTierRule{{Priority: PriorityHigh, Trigger: TriggerUnresolved, Tier: TierSpecialist}}
	tests := []struct {
		name string
		p    Policy
		r    OpenCaseRequest
		want Tier
	}{
		{"explicit start tier wins", std, OpenCaseRequest{Trigger: TriggerExternalComplaint, StartTier: tier(2)}, TierSpecialist},
		{"invalid explicit tier is ignored", std, OpenCaseRequest{Trigger: TriggerUnresolved, StartTier: tier(9)}, TierFrontline},
		{"external complaint", std, req(TriggerExternalComplaint, PriorityLow, ""), TierExecutive},
		{"external complaint beats urgent", std, req(TriggerExternalComplaint, PriorityUrgent, ""), TierExecutive},
		{"urgent", std, req(TriggerUnresolved, PriorityUrgent, ""), TierSupervisor},
		{"emergency", std, req(TriggerEmergency, PriorityLow, ""), TierSupervisor},
		{"customer asked for a supervisor", std, req(TriggerCustomerRequest, PriorityNormal, ""), TierSupervisor},
		{"complexity with department", std, req(TriggerComplexity, PriorityNormal, "billing"), TierSpecialist},
		{"complexity without department", std, req(TriggerComplexity, PriorityNormal, " "), TierFrontline},
		{"unresolved", std, req(TriggerUnresolved, PriorityHigh, "billing"), TierFrontline},
		{"no rules means the defaults", noRules, req(TriggerEmergency, PriorityLow, ""), TierSupervisor},
		{"custom rule matches all conditions", custom, req(TriggerUnresolved, PriorityHigh, ""), TierSpecialist},
		{"custom rule replaces the defaults", custom, req(TriggerExternalComplaint, PriorityHigh, ""), TierFrontline},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.p.StartTierFor(tt.r))
		})
	}
}

func TestTierDeadline(t *testing.T) {
	paris := testPolicy("Europe/Paris")
	tests := []struct {
		name       string
		p          Policy
		clock      Clock
		pr         Priority
		tier       Tier
		start      string
		want, warn string
		explain    []string
	}{
		{"high acknowledge from Friday 15:00", paris, ClockAcknowledge, PriorityHigh, TierSpecialist,
			"2026-11-20 15:00", "2026-11-23 11:00", "2026-11-23 10:00",
			[]string{"Tier 2 (specialist) acknowledge deadline: 4h of business hours Mon-Fri 09:00-17:00 Europe/Paris",
				"from Fri 2026-11-20 15:00 CET", "due Mon 2026-11-23 11:00 CET", "policy standard version 2026-11-01"}},
		{"high resolve with a tier override", paris, ClockResolve, PriorityHigh, TierExecutive,
			"2026-11-23 09:00", "2026-11-24 17:00", "2026-11-24 13:00", []string{"16h of business hours", "Tier 4 (executive) resolve"}},
		{"normal resolve spans three days", paris, ClockResolve, PriorityNormal, TierFrontline,
			"2026-11-23 09:00", "2026-11-25 17:00", "2026-11-25 11:00", []string{"1d of business hours"}},
		{"urgent runs 24x7", paris, ClockAcknowledge, PriorityUrgent, TierSupervisor,
			"2026-11-21 23:30", "2026-11-22 00:30", "2026-11-22 00:15", []string{"1h of 24x7 wall-clock time", "Tier 3 (supervisor)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.p.TierDeadline(tt.clock, tt.pr, tt.tier, at(t, "Europe/Paris", tt.start))
			assert.True(t, at(t, "Europe/Paris", tt.want).Equal(d.At), "at: got %s", d.At)
			require.NotNil(t, d.WarnAt)
			assert.True(t, at(t, "Europe/Paris", tt.warn).Equal(*d.WarnAt), "warn: got %s", d.WarnAt)
			assert.Equal(t, tt.clock, d.Clock)
			assert.Equal(t, tt.tier, d.Tier)
			assert.Equal(t, "2026-11-01", d.PolicyVersion)
			assert.Equal(t, tt.p.CalendarFor(tt.pr).Name, d.Calendar)
			for _, s := range tt.explain {
				assert.Contains(t, d.Explanation, s)
			}
		})
	}
}

func TestCustomerUpdateDeadline(t *testing.T) {
	p := testPolicy("UTC")
	tests := []struct {
		pr          Priority
		last, want  string
		explanation string
	}{
		// Two wall-clock days after Friday 15:00 is Sunday: the email waits for Monday's opening.
		{PriorityHigh, "2026-11-20 15:00", "2026-11-23 09:00", "2d of wall-clock time from Fri 2026-11-20 15:00 UTC, moved into business hours"},
		{PriorityNormal, "2026-11-23 10:00", "2026-11-25 10:00", "due Wed 2026-11-25 10:00 UTC"},
		{PriorityUrgent, "2026-11-21 10:00", "2026-11-22 10:00", "1d of 24x7 wall-clock time"},
	}
	for _, tt := range tests {
		d := p.CustomerUpdateDeadline(tt.pr, at(t, "UTC", tt.last))
		assert.True(t, at(t, "UTC", tt.want).Equal(d.At), "%s: got %s", tt.pr, d.At)
		assert.Contains(t, d.Explanation, tt.explanation)
		assert.Equal(t, ClockCustomerUpdate, d.Clock)
	}
}

func TestApprovalAndCloseTargetDeadlines(t *testing.T) {
	p := testPolicy("UTC")
	start := at(t, "UTC", "2026-11-21 10:00")

	a := p.ApprovalDeadline(start)
	assert.Equal(t, start.Add(4*time.Hour), a.At)
	assert.Equal(t, "24x7", a.Calendar)
	assert.Equal(t, "Approval deadline: 4h of 24x7 wall-clock time from Sat 2026-11-21 10:00 UTC, "+
		"due Sat 2026-11-21 14:00 UTC (policy standard version 2026-11-01).", a.Explanation)

	c := p.CloseTargetDeadline(start)
	assert.Equal(t, start.Add(30*Day), c.At)
	require.NotNil(t, c.WarnAt)
	assert.Equal(t, start.Add(25*Day), *c.WarnAt)
	assert.Contains(t, c.Explanation, "Close target: 30d of 24x7 wall-clock time")
	assert.Contains(t, c.Explanation, "warning at Wed 2026-12-16 10:00 UTC")
}

func TestResume(t *testing.T) {
	p := testPolicy("UTC")
	ts := func(s string) time.Time { return at(t, "UTC", s) }
	tests := []struct {
		name               string
		pr                 Priority
		start              string
		pausedAt, resumeAt string
		want, warn         string
		paused             time.Duration
	}{
		{"24x7 pause of 2h moves everything 2h", PriorityUrgent, "2026-11-21 10:00",
			"2026-11-21 10:10", "2026-11-21 12:10", "2026-11-21 13:00", "2026-11-21 12:45", 2 * time.Hour},
		{"business hours: remaining time runs from the resume", PriorityHigh, "2026-11-23 10:00",
			"2026-11-23 11:00", "2026-11-23 16:00", "2026-11-24 11:00", "2026-11-24 10:00", 5 * time.Hour},
		{"pause over the weekend", PriorityHigh, "2026-11-20 15:00",
			"2026-11-20 16:00", "2026-11-23 09:30", "2026-11-23 12:30", "2026-11-23 11:30", 65*time.Hour + 30*time.Minute},
		{"pause outside hours costs nothing", PriorityHigh, "2026-11-20 15:00",
			"2026-11-21 10:00", "2026-11-22 10:00", "2026-11-23 11:00", "2026-11-23 10:00", Day},
		{"warning already due stays put", PriorityHigh, "2026-11-23 10:00",
			"2026-11-23 13:30", "2026-11-23 15:30", "2026-11-23 16:00", "2026-11-23 13:00", 2 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := p.TierDeadline(ClockAcknowledge, tt.pr, TierFrontline, ts(tt.start))
			r := p.Resume(d, ts(tt.pausedAt), ts(tt.resumeAt))
			assert.True(t, ts(tt.want).Equal(r.At), "at: got %s", r.At)
			require.NotNil(t, r.WarnAt)
			assert.True(t, ts(tt.warn).Equal(*r.WarnAt), "warn: got %s", r.WarnAt)
			assert.Equal(t, tt.paused, r.Paused.Duration)
			assert.Contains(t, r.Explanation, "paused "+FormatDuration(tt.paused)+" so far")
			assert.Equal(t, d.Start, r.Start)
			assert.Equal(t, d.Duration, r.Duration)
			// The original is untouched (WarnAt is a pointer).
			assert.True(t, ts(tt.start).Equal(d.Start))
			assert.NotContains(t, d.Explanation, "paused")
		})
	}
}

func TestResumeAccumulatesAndIgnoresEmptyPauses(t *testing.T) {
	p := testPolicy("UTC")
	start := at(t, "UTC", "2026-11-21 10:00")
	d := p.TierDeadline(ClockResolve, PriorityUrgent, TierSupervisor, start)
	d = p.Resume(d, start.Add(time.Hour), start.Add(2*time.Hour))
	d = p.Resume(d, start.Add(3*time.Hour), start.Add(3*time.Hour+30*time.Minute))
	assert.Equal(t, start.Add(4*time.Hour+90*time.Minute), d.At)
	assert.Equal(t, 90*time.Minute, d.Paused.Duration)
	assert.Contains(t, d.Explanation, "paused 1h30m so far")

	same := p.Resume(d, start.Add(5*time.Hour), start.Add(5*time.Hour))
	assert.Equal(t, d, same)

	// A deadline naming a calendar the policy lacks resumes on the wall clock.
	d.Calendar = "gone"
	moved := p.Resume(d, start.Add(5*time.Hour), start.Add(6*time.Hour))
	assert.Equal(t, d.At.Add(time.Hour), moved.At)
}

// A deadline set while the case stood still (after an escalation during the
// pause) is moved only by the part of the pause after its own start.
func TestResumeAfterPauseCountsFromTheLaterOfPauseAndStart(t *testing.T) {
	p := testPolicy("UTC")
	pausedAt := at(t, "UTC", "2026-11-21 10:00")
	resumedAt := pausedAt.Add(3 * time.Hour)

	before := p.TierDeadline(ClockResolve, PriorityUrgent, TierSupervisor, pausedAt.Add(-time.Hour))
	assert.Equal(t, p.Resume(before, pausedAt, resumedAt), p.ResumeAfterPause(before, pausedAt, resumedAt))

	during := p.TierDeadline(ClockResolve, PriorityUrgent, TierSupervisor, pausedAt.Add(2*time.Hour))
	moved := p.ResumeAfterPause(during, pausedAt, resumedAt)
	assert.Equal(t, during.At.Add(time.Hour), moved.At)
	assert.Equal(t, time.Hour, moved.Paused.Duration)
}

// A repeated tier-4 clock doubles its period up to a day of its calendar, and
// never runs shorter than the policy's period, even when the breach comes at
// the close of business on a Friday; its warning always comes after the breach.
func TestRepeatDeadlineBacksOffWithinADay(t *testing.T) {
	p := Policy{Name: "p", Version: "v", WarningRatio: 0.75,
		Calendars: map[string]Calendar{"business": {Name: "business", TimeZone: "UTC",
			Days: []string{"mon", "tue", "wed", "thu", "fri"}, Open: "09:00", Close: "17:00"}},
		Priorities: map[Priority]PriorityPolicy{
			PriorityUrgent: {Calendar: "24x7", Acknowledge: TierDurations{Default: Duration{time.Hour}}},
			PriorityHigh:   {Calendar: "business", Acknowledge: TierDurations{Default: Duration{8 * time.Hour}}},
		}}
	wed := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	var periods []time.Duration
	for r := 1; r <= 6; r++ {
		periods = append(periods, p.RepeatDeadline(ClockAcknowledge, PriorityUrgent, TierExecutive, r, wed).At.Sub(wed))
	}
	assert.Equal(t, []time.Duration{2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 16 * time.Hour, 24 * time.Hour, 24 * time.Hour}, periods)

	for _, now := range []time.Time{
		time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC), // Friday at the close
		time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC), // an hour before it
		wed,
	} {
		dl := p.RepeatDeadline(ClockAcknowledge, PriorityHigh, TierExecutive, 1, now)
		assert.GreaterOrEqual(t, dl.Duration.Duration, 8*time.Hour, "%s: never shorter than the policy's 8h", now)
		require.NotNil(t, dl.WarnAt)
		assert.True(t, dl.WarnAt.After(now), "%s: the warning comes after the breach", now)
		assert.True(t, dl.At.After(*dl.WarnAt), "%s", now)
		assert.Contains(t, dl.Explanation, "repeat 1")
	}
	fri := p.RepeatDeadline(ClockAcknowledge, PriorityHigh, TierExecutive, 1, time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC))
	assert.Equal(t, time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC), fri.At, "8 business hours from Friday's close: Monday's close")
}
