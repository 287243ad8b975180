package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// A case climbs 1 -> 2 (functional, billing) -> 3 (hierarchical), is resolved with an
// apology, the survey goes out a day later, a 5 closes it.
func TestFullLifecycle(t *testing.T) {
	env, f := testEnv(t, t0)
	ack1 := decideAt(t, env, 10*time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, DecisionID: "d1", Actor: agent})
	decideAt(t, env, 20*time.Minute, tierflow.Decision{Action: tierflow.ActionEscalate, DecisionID: "d2", Actor: agent,
		Mode: tierflow.EscalationFunctional, Department: "billing", Reason: "double charge", Summary: "refund needs billing"})
	atTier2 := queryAt(t, env, 25*time.Minute)
	decideAt(t, env, 30*time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, DecisionID: "d3", Actor: specialist})
	decideAt(t, env, 40*time.Minute, tierflow.Decision{Action: tierflow.ActionEscalate, DecisionID: "d4", Actor: specialist,
		Mode: tierflow.EscalationHierarchical, Reason: "refund above policy", Summary: "two charges confirmed"})
	decideAt(t, env, 50*time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, DecisionID: "d5", Actor: supervisor})
	resolved := decideAt(t, env, time.Hour, tierflow.Decision{Action: tierflow.ActionResolve, DecisionID: "d6", Actor: supervisor,
		Resolution: "refunded the second charge", Explanation: "a payment retry charged you twice"})
	beforeSurvey := queryAt(t, env, 24*time.Hour+59*time.Minute)
	survey := &outcome{}
	at(env, 26*time.Hour, func() {
		sendUpdateTo(t, env, UpdateSurvey, tierflow.SurveyResponse{Score: 5, Resolved: true, Comment: "thanks", Round: 1}, survey)
	})

	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	final := result(t, env)

	require.True(t, ack1.done)
	require.NoError(t, ack1.rejected)
	assert.Equal(t, tierflow.StatusInProgress, ack1.view.Status, "the update returns the case after its transition")
	assert.Equal(t, "agent-1", *ack1.view.Assignee)

	assert.Equal(t, tierflow.TierSpecialist, atTier2.Tier)
	assert.Equal(t, "billing", atTier2.Department)
	assert.Equal(t, tierflow.StatusOpen, atTier2.Status)
	require.NotNil(t, atTier2.Assignee)
	assert.Equal(t, "owner-t2-billing", *atTier2.Assignee, "proposed owner from AssignOwner")
	require.NotNil(t, atTier2.Deadlines.AcknowledgeBy)
	assert.Equal(t, t0.Add(20*time.Minute+8*time.Hour), *atTier2.Deadlines.AcknowledgeBy)
	assert.NotEmpty(t, atTier2.Deadlines.Explanations)

	require.NoError(t, resolved.rejected)
	assert.Equal(t, tierflow.StatusResolved, resolved.view.Status)
	require.NotNil(t, beforeSurvey.Survey)
	assert.Equal(t, tierflow.SurveyScheduled, beforeSurvey.Survey.Status)
	require.NoError(t, survey.rejected)
	require.NoError(t, survey.err)

	assert.Equal(t, tierflow.StatusClosed, final.Status)
	assert.Equal(t, tierflow.TierSupervisor, final.Tier)
	assert.Equal(t, 2, final.Escalations)
	assert.Equal(t, tierflow.TierFrontline, final.StartTier)
	require.NotNil(t, final.Survey)
	assert.Equal(t, tierflow.SurveyAnswered, final.Survey.Status)
	assert.Equal(t, 5, final.Survey.Score)
	assert.Empty(t, final.Breaches)
	assert.Equal(t, t0.Add(26*time.Hour), *final.ClosedAt)

	assert.Equal(t, []tierflow.EventType{
		tierflow.EventOpened, tierflow.EventAssigned,
		tierflow.EventAcknowledged,
		tierflow.EventEscalated, tierflow.EventAssigned,
		tierflow.EventAcknowledged,
		tierflow.EventEscalated, tierflow.EventAssigned,
		tierflow.EventAcknowledged,
		tierflow.EventResolved,
		tierflow.EventSurveySent,
		tierflow.EventSurveyAnswered, tierflow.EventClosed,
	}, f.eventTypes())
	esc := f.eventsOf(tierflow.EventEscalated)
	assert.Equal(t, "functional", esc[0].Details["mode"])
	assert.Equal(t, "refund needs billing", esc[0].Summary)
	assert.Equal(t, "hierarchical", esc[1].Details["mode"])
	assert.Equal(t, tierflow.TierSpecialist, esc[1].FromTier)

	assert.Equal(t, []tierflow.MessageKind{tierflow.MsgEscalated, tierflow.MsgEscalated, tierflow.MsgEscalated,
		tierflow.MsgResolution, tierflow.MsgSurvey}, f.customerKinds())
	res := f.customerOf(tierflow.MsgResolution)[0]
	assert.True(t, res.Data.Apology, "tier 3 apologises")
	assert.Equal(t, "a payment retry charged you twice", res.Data.Explanation)
	esc2 := f.customerOf(tierflow.MsgEscalated)[1]
	assert.Equal(t, "our specialists", esc2.Data.Team)
	require.NotNil(t, esc2.Data.ETA)
	assert.Equal(t, t0.Add(20*time.Minute+8*time.Hour+24*time.Hour), *esc2.Data.ETA, "tier 2's promise: 8h + 24h")
	sv := f.customerOf(tierflow.MsgSurvey)[0]
	require.NotNil(t, sv.Data.ExpiresAt)
	assert.Equal(t, t0.Add(time.Hour+day+14*day), *sv.Data.ExpiresAt)
	assert.Len(t, f.staffOf(tierflow.MsgStaffAssignment), 3)
	assert.Equal(t, []string{activities.StaffOwner}, f.staffOf(tierflow.MsgStaffAssignment)[1].Groups)
	f.checkRecord(t)
}

// The acknowledge deadline of a business-hours case opened Friday 15:00 runs 2h on
// Friday and 6h on Monday: the automatic escalation happens at Monday 15:00 sharp,
// with the 75% warning at Monday 13:00.
func TestAcknowledgeBreachEscalatesAtTheExactBusinessInstant(t *testing.T) {
	friday := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	monday15 := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	monday13 := time.Date(2026, 11, 23, 13, 0, 0, 0, time.UTC)
	env, f := testEnv(t, friday)
	r := testRequest()
	r.OpenedAt = friday
	at(env, monday15.Sub(friday)+time.Hour, func() {
		env.SignalWorkflow(SignalCustomerEvent, tierflow.CustomerEvent{Kind: tierflow.CustomerWithdrawn, EventID: "w1"})
	})
	env.ExecuteWorkflow(WorkflowName, input(businessPolicy(), r))
	final := result(t, env)

	breaches := f.eventsOf(tierflow.EventBreach)
	require.Len(t, breaches, 1)
	assert.Equal(t, monday15, breaches[0].At)
	assert.Equal(t, "acknowledge", breaches[0].Details["clock"])
	require.Len(t, final.Breaches, 1)
	assert.Equal(t, tierflow.Breach{Clock: tierflow.ClockAcknowledge, Tier: 1, At: monday15}, final.Breaches[0])
	esc := f.eventsOf(tierflow.EventEscalated)
	require.Len(t, esc, 1)
	assert.Equal(t, monday15, esc[0].At)
	assert.Equal(t, "automatic", esc[0].Details["mode"])
	assert.Equal(t, tierflow.TierSpecialist, esc[0].Tier)

	f.mu.Lock()
	var breachRecordedAt time.Time
	for i, tr := range f.transitions {
		if tr.Events[0].Type == tierflow.EventBreach {
			breachRecordedAt = f.recordedAt[i]
		}
	}
	f.mu.Unlock()
	assert.Equal(t, monday15, breachRecordedAt.UTC(), "env.Now() when the escalation is recorded")

	warnings := f.eventsOf(tierflow.EventWarning)
	require.Len(t, warnings, 1)
	assert.Equal(t, monday13, warnings[0].At)
	assert.Equal(t, []string{activities.StaffQueue, activities.StaffSupervisor}, f.staffOf(tierflow.MsgStaffWarning)[0].Groups)
	breachMail := f.staffOf(tierflow.MsgStaffBreach)
	require.Len(t, breachMail, 1)
	assert.Equal(t, tierflow.Tier(1), breachMail[0].Tier)
	// The customer hears who handles the case now and a new ETA, tier 2's promise:
	// 8 + 24 business hours from Monday 15:00 is Friday 15:00.
	esc2 := f.customerOf(tierflow.MsgEscalated)
	require.Len(t, esc2, 2)
	require.NotNil(t, esc2[1].Data.ETA)
	assert.Equal(t, time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC), esc2[1].Data.ETA.UTC())
	f.checkRecord(t)
}

// An Update that arrives with the start (Update-with-Start, or a fast client) waits
// for the opening transition: the proposed owner never overwrites the real one.
func TestUpdateWithTheStartWaitsForTheOpening(t *testing.T) {
	env, f := testEnv(t, t0)
	ack := decideAt(t, env, 0, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
	decideAt(t, env, time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	final := result(t, env)

	require.NoError(t, ack.rejected)
	require.NoError(t, ack.err)
	assert.Equal(t, []tierflow.EventType{tierflow.EventOpened, tierflow.EventAssigned, tierflow.EventAcknowledged,
		tierflow.EventClosed}, f.eventTypes())
	require.NotNil(t, final.Assignee)
	assert.Equal(t, "agent-1", *final.Assignee)
	f.checkRecord(t)
}

// A lateral transfer keeps the tier and asks the new department to take the case;
// a human update to the customer restarts the update cadence; reassign changes the
// owner at the same tier.
func TestTransferReassignAndCustomerUpdate(t *testing.T) {
	env, f := testEnv(t, t0)
	r := testRequest()
	r.Trigger, r.Department = tierflow.TriggerComplexity, "billing" // starts at tier 2
	decideAt(t, env, 10*time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: specialist})
	updated := decideAt(t, env, time.Hour, tierflow.Decision{Action: tierflow.ActionUpdateCustomer, Actor: specialist,
		Message: "we found the second charge"})
	moved := decideAt(t, env, 2*time.Hour, tierflow.Decision{Action: tierflow.ActionTransfer, Actor: specialist,
		Department: "technical", Summary: "the charge comes from a payment bug"})
	reassigned := decideAt(t, env, 3*time.Hour, tierflow.Decision{Action: tierflow.ActionReassign, Actor: supervisor, Assignee: "tech-7"})
	decideAt(t, env, 4*time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), r))
	result(t, env)

	require.NoError(t, updated.rejected)
	assert.Equal(t, t0.Add(time.Hour+2*day), *updated.view.Deadlines.NextCustomerUpdateBy)
	require.NoError(t, moved.rejected)
	assert.Equal(t, tierflow.TierSpecialist, moved.view.Tier)
	assert.Equal(t, "technical", moved.view.Department)
	assert.Equal(t, tierflow.StatusOpen, moved.view.Status)
	assert.Equal(t, "owner-t2-technical", *moved.view.Assignee)
	assert.Equal(t, 0, moved.view.Escalations, "a transfer is not an escalation")
	require.NoError(t, reassigned.rejected)
	assert.Equal(t, "tech-7", *reassigned.view.Assignee)

	tr := f.eventsOf(tierflow.EventTransferred)
	require.Len(t, tr, 1)
	assert.Equal(t, "the charge comes from a payment bug", tr[0].Summary)
	upd := f.customerOf(tierflow.MsgProgressUpdate)
	require.Len(t, upd, 1)
	assert.Equal(t, "we found the second charge", upd[0].Data.Text)
	assign := f.staffOf(tierflow.MsgStaffAssignment)
	require.Len(t, assign, 3)
	assert.Equal(t, "tech-7", assign[2].AssigneeID)
	f.checkRecord(t)
}
