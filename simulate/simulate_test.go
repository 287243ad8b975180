package simulate

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

func dur(d time.Duration) tierflow.Duration { return tierflow.Duration{Duration: d} }

func cents(v int64) *int64 { return &v }

// recordedPolicy is the policy the fixture's cases ran: escalation.md's clocks
// for normal priority (acknowledge 8h, resolve 24h, an update every 2 days) on
// the 24x7 calendar, so every deadline is a plain addition.
func recordedPolicy() tierflow.Policy {
	pp := tierflow.PriorityPolicy{Calendar: tierflow.CalendarAlwaysOpenName,
		Acknowledge: tierflow.TierDurations{Default: dur(8 * time.Hour)},
		Resolve:     tierflow.TierDurations{Default: dur(24 * time.Hour)}, CustomerUpdateEvery: dur(2 * tierflow.Day)}
	return tierflow.Policy{
		Name: "test", Version: "v1",
		Tiers: []tierflow.TierPolicy{
			{Tier: 1, Name: "frontline", AuthorityCents: cents(5000), Queue: "t1@example.com", Team: "our service team"},
			{Tier: 2, Name: "specialist", AuthorityCents: cents(25000), Queue: "t2@example.com", Team: "our specialists"},
			{Tier: 3, Name: "supervisor", AuthorityCents: cents(100000), Queue: "t3@example.com", Team: "a supervisor"},
			{Tier: 4, Name: "executive", Queue: "t4@example.com", Team: "our executive office"},
		},
		Priorities: map[tierflow.Priority]tierflow.PriorityPolicy{
			tierflow.PriorityUrgent: pp, tierflow.PriorityHigh: pp, tierflow.PriorityNormal: pp, tierflow.PriorityLow: pp,
		},
		WarningRatio:    0.75,
		ApprovalTimeout: dur(4 * time.Hour),
		CloseTarget:     tierflow.CloseTargetPolicy{After: dur(30 * tierflow.Day), WarnAfter: dur(25 * tierflow.Day)},
		AwaitingCustomer: tierflow.AwaitingCustomerPolicy{Reminders: []tierflow.Duration{dur(tierflow.Day), dur(5 * tierflow.Day)},
			AutoResolveAfter: dur(14 * tierflow.Day)},
		Survey: tierflow.SurveyPolicy{Delay: dur(tierflow.Day), Reminder: dur(72 * time.Hour), Expiry: dur(14 * tierflow.Day), ReopenAtOrBelow: 2},
	}
}

// slowPolicy is the candidate: 12h to acknowledge at every tier, and 12h (not
// 24h) to resolve at tier 2.
func slowPolicy() tierflow.Policy {
	p := recordedPolicy()
	p.Name, p.Version = "slow", "2"
	n := p.Priorities[tierflow.PriorityNormal]
	n.Acknowledge = tierflow.TierDurations{Default: dur(12 * time.Hour)}
	n.Resolve = tierflow.TierDurations{Default: dur(24 * time.Hour), Tiers: map[tierflow.Tier]tierflow.Duration{2: dur(12 * time.Hour)}}
	p.Priorities[tierflow.PriorityNormal] = n
	return p
}

func loadCases(t *testing.T) []CaseLog {
	t.Helper()
	data, err := os.ReadFile("testdata/cases.json")
	require.NoError(t, err)
	var cases []CaseLog
	require.NoError(t, json.Unmarshal(data, &cases))
	require.Len(t, cases, 3)
	return cases
}

// fixtureWindow ends before any survey of case C and any customer-update cadence.
var fixtureWindow = Window{From: time.Date(2026, 11, 18, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC),
	AsOf: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)}

// The recorded data set, hand-checked (all times UTC, 2026-11-18 is a Wednesday):
//
// Case A, tier 1 from Wed 10:00: acknowledge due 10:00+8h = 18:00, warning at
// 10:00+6h = 16:00; nobody acknowledged by 18:00: breach, automatic escalation to
// tier 2; acknowledged at 20:00, resolved Thu 06:00, survey sent Fri 06:00
// (+24h). Staff: 2 assignments + warning + breach = 4; customer: opening,
// escalation, resolution, survey = 4.
//
// Case B, tier 1 from Wed 11:00: acknowledged 11:30 (due 19:00), resolved 16:00
// (resolve due Thu 11:30, warning Thu 05:30), survey Thu 16:00. Staff 1,
// customer 3 (opening, resolution, survey).
//
// Case C, tier 2 from Wed 10:00: acknowledged 12:00 (resolve due Thu 12:00),
// info requested 13:00 (1h of the clock used, 23h left), reminder 1 Thu 13:00
// (+24h), reply Thu 19:00: the clock resumes, due Thu 19:00+23h = Fri 18:00,
// warning Thu 19:00+17h = Fri 12:00; resolved Fri 10:00: no warning, no breach.
// Staff 1; customer 5 (opening, info request, reminder, new ETA on the reply,
// resolution).
//
// Actual totals: 1 breach (tier_1.acknowledge), 1 automatic escalation, 1
// warning, staff 4+1+1 = 6, customer 4+3+5 = 12.
//
// Under "slow": A's acknowledge is due 10:00+12h = 22:00, warning 10:00+9h =
// 19:00: the 20:00 acknowledgement beats it (1 warning, no breach, stays at tier
// 1). Staff: assignment + warning = 2; customer: opening, resolution, survey = 3.
// B: acknowledge due 23:00, beaten at 11:30: unchanged (staff 1, customer 3).
// C: resolve at tier 2 is 12h from Wed 12:00; paused at 13:00 with 11h left;
// resumed Thu 19:00: due Thu 19:00+11h = Fri 06:00, warning (9h in, 8h left)
// Thu 19:00+8h = Fri 03:00. Fri 03:00 warning, Fri 06:00 breach
// (tier_2.resolve) and automatic escalation to tier 3 (acknowledge due 18:00),
// resolved Fri 10:00 at tier 3. Staff: 2 assignments + warning + breach = 4;
// customer: 5 as recorded + the escalation = 6.
//
// Simulated totals: 1 breach (tier_2.resolve), 1 automatic escalation, warnings
// 1 (A) + 1 (C) = 2, staff 2+1+4 = 7, customer 3+3+6 = 12.
func TestSimulateFixtureMatchesHandComputedAnswers(t *testing.T) {
	rep := Simulate(loadCases(t), slowPolicy(), fixtureWindow)

	assert.Equal(t, "slow@2", rep.Policy)
	assert.Equal(t, Counters{Cases: 3, Breaches: map[string]int{"tier_1.acknowledge": 1}, BreachesTotal: 1,
		AutomaticEscalations: 1, Warnings: 1, StaffEmails: 6, CustomerEmails: 12}, rep.Actual)
	assert.Equal(t, Counters{Cases: 3, Breaches: map[string]int{"tier_2.resolve": 1}, BreachesTotal: 1,
		AutomaticEscalations: 1, Warnings: 2, StaffEmails: 7, CustomerEmails: 12}, rep.Simulated)

	require.Len(t, rep.ChangedCases, 2, "B's fate does not change")
	a, c := rep.ChangedCases[0], rep.ChangedCases[1]
	assert.Equal(t, "A-1", a.ExternalID)
	assert.Equal(t, []Change{
		{What: "breaches.tier_1.acknowledge", Actual: 1, Simulated: 0},
		{What: "automatic_escalations", Actual: 1, Simulated: 0},
		{What: "highest_tier", Actual: 2, Simulated: 1},
	}, a.Changes)
	assert.Equal(t, []string{"Met: Tier 1 (frontline) acknowledge deadline: 12h of 24x7 wall-clock time from " +
		"Wed 2026-11-18 10:00 UTC, warning at Wed 2026-11-18 19:00 UTC, due Wed 2026-11-18 22:00 UTC (policy slow version 2)."},
		a.Explanations)
	assert.Equal(t, "C-3", c.ExternalID)
	assert.Equal(t, []Change{
		{What: "breaches.tier_2.resolve", Actual: 0, Simulated: 1},
		{What: "automatic_escalations", Actual: 0, Simulated: 1},
		{What: "highest_tier", Actual: 2, Simulated: 3},
	}, c.Changes)
	assert.Equal(t, []string{"Missed: Tier 2 (specialist) resolve deadline: 12h of 24x7 wall-clock time from " +
		"Wed 2026-11-18 12:00 UTC, paused 1d6h so far, warning at Fri 2026-11-20 03:00 UTC, due Fri 2026-11-20 06:00 UTC " +
		"(policy slow version 2)."}, c.Explanations)
}

// Replaying the fixture under the policy it ran changes nothing: the engine
// re-derives exactly the recorded automatic events.
func TestSimulateFixtureUnderItsOwnPolicyChangesNothing(t *testing.T) {
	cases := loadCases(t)
	rep := Simulate(cases, recordedPolicy(), fixtureWindow)
	assert.Equal(t, rep.Actual, rep.Simulated)
	assert.Empty(t, rep.ChangedCases)
	for _, c := range cases {
		sim := replay(recordedPolicy(), c, fixtureWindow.AsOf)
		assert.Equal(t, typesAndTiers(c.Events), typesAndTiers(sim.events), c.CaseID)
	}
}

func typesAndTiers(evs []tierflow.CaseEvent) []string {
	var out []string
	for _, ev := range evs {
		if ev.Type == tierflow.EventNote {
			continue // a note changes nothing and is not replayed
		}
		out = append(out, ev.At.UTC().Format("Mon 15:04 ")+string(ev.Type)+" t"+itoa(int(ev.Tier))+" "+string(ev.Status))
	}
	return out
}

// A case recorded with the survey outbox has survey_scheduled at its resolution
// and records survey_sent only at its next step: until then the survey that went
// out at its send time counts as sent on the recorded side too, as the
// simulation sends it; one withdrawn by a reopen or close before its time does not.
func TestSimulateCountsASurveySentThroughTheOutboxBeforeItIsRecorded(t *testing.T) {
	b := loadCases(t)[1]
	require.Equal(t, tierflow.EventSurveySent, b.Events[5].Type)
	sendAt := b.Events[5].At
	scheduled := b.Events[4] // resolved
	scheduled.Seq, scheduled.Type = 6, tierflow.EventSurveyScheduled
	scheduled.Details = map[string]string{tierflow.DetailSendAt: sendAt.UTC().Format(time.RFC3339)}
	b.Events = append(b.Events[:5:5], scheduled)

	for _, asOf := range []time.Time{sendAt.Add(-time.Hour), sendAt, sendAt.Add(time.Hour)} {
		rep := Simulate([]CaseLog{b}, recordedPolicy(), Window{AsOf: asOf})
		assert.Equal(t, rep.Actual, rep.Simulated, "as of %s", asOf)
		want := 2 // opening, resolution
		if !asOf.Before(sendAt) {
			want = 3 // and the survey
		}
		assert.Equal(t, want, rep.Actual.CustomerEmails, "as of %s", asOf)
	}
	assert.Len(t, b.Events, 6, "the recorded log is not changed")

	closed := scheduled
	closed.Seq, closed.Type, closed.At, closed.Details = 7, tierflow.EventClosed, sendAt.Add(-time.Hour), nil
	withdrawn := append(b.Events[:6:6], closed)
	assert.Len(t, withSentSurveys(withdrawn, sendAt.Add(time.Hour)), 7, "closed before its time: never sent")
}

// A case recorded at code level 4 has warning_scheduled when a tier clock
// starts and records deadline_warning only at its next step: until then the
// warning that went out at its send time counts on the recorded side too, as
// the simulation warns; one whose clock changed first (here acknowledged) was
// withdrawn and does not.
func TestWithReleasedWarningsAddsTheWarningsTheOutboxSent(t *testing.T) {
	t0 := time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC)
	ev := func(seq int64, typ tierflow.EventType, at time.Duration, clock tierflow.Clock, send, deadline time.Duration) tierflow.CaseEvent {
		e := tierflow.CaseEvent{CaseID: "c", Seq: seq, Type: typ, At: t0.Add(at), Tier: 1, Status: tierflow.StatusOpen}
		if clock != "" {
			e.Details = map[string]string{tierflow.DetailClock: string(clock),
				tierflow.DetailSendAt: t0.Add(send).Format(time.RFC3339), tierflow.DetailDeadline: t0.Add(deadline).Format(time.RFC3339)}
		}
		return e
	}
	open := []tierflow.CaseEvent{ev(1, tierflow.EventOpened, 0, "", 0, 0),
		ev(2, tierflow.EventWarningScheduled, 0, tierflow.ClockAcknowledge, 6*time.Hour, 8*time.Hour)}
	assert.Len(t, withReleasedWarnings(open, t0.Add(5*time.Hour)), 2, "before its send time")
	got := withReleasedWarnings(open, t0.Add(7*time.Hour))
	require.Len(t, got, 3)
	assert.Equal(t, tierflow.EventWarning, got[2].Type)
	assert.Equal(t, t0.Add(6*time.Hour), got[2].At)
	assert.Equal(t, t0.Add(8*time.Hour).Format(time.RFC3339), got[2].Details[tierflow.DetailDeadline])
	assert.Equal(t, 1, CountEvents(got).Warnings)
	assert.Len(t, open, 2, "the recorded log is not changed")

	recorded := append(slices.Clone(open), ev(3, tierflow.EventWarning, 6*time.Hour, tierflow.ClockAcknowledge, 6*time.Hour, 8*time.Hour))
	assert.Len(t, withReleasedWarnings(recorded, t0.Add(7*time.Hour)), 3, "already recorded")

	acked := append(slices.Clone(open), ev(3, tierflow.EventAcknowledged, 5*time.Hour, "", 0, 0),
		ev(4, tierflow.EventWarningScheduled, 5*time.Hour, tierflow.ClockResolve, 23*time.Hour, 29*time.Hour))
	assert.Len(t, withReleasedWarnings(acked, t0.Add(7*time.Hour)), 4, "acknowledged first: withdrawn")
	got = withReleasedWarnings(acked, t0.Add(24*time.Hour))
	require.Len(t, got, 5, "the resolve clock's warning went out")
	assert.Equal(t, string(tierflow.ClockResolve), got[4].Details[tierflow.DetailClock])
}
