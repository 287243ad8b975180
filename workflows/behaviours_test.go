package workflows

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/sdk/testsuite"

	"github.com/tierflow/tierflow"
)

// Tests of the behaviours issue 7 found wrong, one per item; each failed on the
// code before its fix.

// proposeAbove asks for 300.00 EUR: above tiers 1 and 2, so tier 3 must approve.
func proposeAbove(actor tierflow.Principal, id string) tierflow.Decision {
	return tierflow.Decision{Action: tierflow.ActionProposeCompensation, DecisionID: id, Actor: actor,
		AmountCents: 30000, Currency: "EUR", Description: "refund of both charges"}
}

// 1. Ending a case settles its pending approval, however it ends: the approval is
// withdrawn, the compensation says so, the audit log records it.
func TestEndingACaseSettlesItsPendingApproval(t *testing.T) {
	ack := tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent}
	cases := []struct {
		name  string
		drive func(t *testing.T, env *envT) // after the proposal at 20m
	}{
		{"close by a supervisor", func(t *testing.T, e *envT) { e.decide(time.Hour, closeBy(supervisor, "dup")) }},
		{"withdrawn by the customer", func(t *testing.T, e *envT) {
			e.signalAt(time.Hour, SignalCustomerEvent, tierflow.CustomerEvent{Kind: tierflow.CustomerWithdrawn, EventID: "w1"})
		}},
		{"escalated during the approval, then auto-resolved", func(t *testing.T, e *envT) {
			escalated := e.decide(30*time.Minute, tierflow.Decision{Action: tierflow.ActionEscalate, Actor: agent,
				Mode: tierflow.EscalationHierarchical, Reason: "needs a specialist", Summary: "refund pending approval"})
			e.decide(40*time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: specialist})
			e.decide(50*time.Minute, tierflow.Decision{Action: tierflow.ActionRequestInfo, Actor: specialist, Message: "which card?"})
			e.after(func() {
				require.NoError(t, escalated.rejected)
				require.NotNil(t, escalated.view.PendingApproval, "the escalation keeps the approval pending")
				var ev tierflow.CaseEvent
				for _, x := range e.f.eventsOf(tierflow.EventEscalated) {
					ev = x
				}
				assert.Equal(t, escalated.view.PendingApproval.ID, ev.Details["approval_id"], "the escalation says what becomes of the approval")
				assert.Contains(t, ev.Details["approval"], "still pending")
			})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, f := testEnv(t, t0)
			e := &envT{t: t, env: env, f: f}
			e.decide(10*time.Minute, ack)
			proposed := e.decide(20*time.Minute, proposeAbove(agent, "p1"))
			tc.drive(t, e)
			env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
			final := result(t, env)
			e.runAfter()

			require.NoError(t, proposed.rejected)
			require.NotNil(t, proposed.view.PendingApproval)
			assert.Equal(t, tierflow.StatusClosed, final.Status)
			assert.Nil(t, final.PendingApproval, "a closed case keeps no pending approval")
			assert.Nil(t, final.Deadlines.ApprovalBy)
			require.Len(t, final.Compensation, 1)
			assert.EqualValues(t, tierflow.CompensationWithdrawn, final.Compensation[0].Status)
			assert.NotNil(t, final.Compensation[0].DecidedAt)
			withdrawn := f.eventsOf(tierflow.EventApprovalWithdrawn)
			require.Len(t, withdrawn, 1)
			assert.Equal(t, proposed.view.PendingApproval.ID, withdrawn[0].Details["approval_id"])
			assert.Contains(t, withdrawn[0].Reason, "closed")
			f.checkRecord(t)
		})
	}
}

// 2. While the tier clocks stand still the customer is never given the instant
// frozen at the pause: progress emails and human updates carry no ETA, and say
// how long the answer will take once the wait is over.
func TestPausedCaseTellsNoFrozenETA(t *testing.T) {
	env, f := testEnv(t, t0)
	decideAt(t, env, 10*time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
	decideAt(t, env, 20*time.Minute, proposeAbove(agent, "p1"))
	// Nobody decides: the cadence email comes at 20m + 2 days, long after the
	// resolve deadline frozen at the pause (0:10 + 24h).
	decideAt(t, env, 3*day, tierflow.Decision{Action: tierflow.ActionUpdateCustomer, Actor: agent, Message: "still checking"})
	decideAt(t, env, 4*day, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	result(t, env)

	updates := f.customerOf(tierflow.MsgProgressUpdate)
	require.Len(t, updates, 2, "the cadence email and the human update")
	for _, m := range updates {
		assert.Nil(t, m.Data.ETA, "no ETA while paused (%s)", m.Key)
		// Tier 1 promised an answer 32h after the opening; paused at 0:20, 31h40m remain.
		assert.Equal(t, "32 hours", m.Data.AnswerWithin, m.Key)
		assert.Equal(t, "approval", m.Data.WaitingFor, m.Key)
	}
}

// 3. The customer's "expect an answer by" is the tier's resolution promise (its
// acknowledge and resolve times), explained like every deadline; not the
// acknowledge deadline.
func TestCustomerETAIsTheTierResolutionPromise(t *testing.T) {
	env, f := testEnv(t, t0)
	opened := queryAt(t, env, time.Minute)
	decideAt(t, env, 2*time.Hour, tierflow.Decision{Action: tierflow.ActionEscalate, Actor: agent,
		Mode: tierflow.EscalationFunctional, Department: "billing", Reason: "double charge", Summary: "refund"})
	decideAt(t, env, 3*time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	result(t, env)

	esc := f.customerOf(tierflow.MsgEscalated)
	require.Len(t, esc, 2)
	// normal priority: 8h to acknowledge + 24h to resolve, from the hand-over.
	require.NotNil(t, esc[0].Data.ETA)
	assert.Equal(t, t0.Add(32*time.Hour), *esc[0].Data.ETA, "opening: tier 1's promise")
	require.NotNil(t, esc[1].Data.ETA)
	assert.Equal(t, t0.Add(2*time.Hour+32*time.Hour), *esc[1].Data.ETA, "tier 2's promise from the escalation")
	require.NotNil(t, opened.Deadlines.AnswerBy)
	assert.Equal(t, t0.Add(32*time.Hour), *opened.Deadlines.AnswerBy)
	ex := explanationOf(opened.Deadlines, tierflow.ClockAnswer)
	require.NotNil(t, ex)
	assert.Contains(t, ex.Explanation, "answer")
	assert.Contains(t, ex.Explanation, "8h to acknowledge")
}

// 4. An urgent case at tier 4 that nobody touches for 30 days: the clock starts
// again with a growing period and its warning, the executives hear a bounded
// number of times, the customer gets new ETAs, and the state stays small.
func TestUnattendedTopTierCaseStaysBounded(t *testing.T) {
	env, f := testEnv(t, t0)
	r := testRequest()
	r.Priority, r.Trigger = tierflow.PriorityUrgent, tierflow.TriggerExternalComplaint
	late := queryAt(t, env, 29*day)
	decideAt(t, env, 31*day, closeBy(executive, "end"))
	env.SetTestTimeout(2 * time.Minute)
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), r))
	final := result(t, env)

	require.Equal(t, tierflow.TierExecutive, final.Tier)
	breaches := f.eventsOf(tierflow.EventBreach)
	// 1h, 2h, 4h, 8h, 16h, then daily: about 35 in 31 days, not 744.
	assert.GreaterOrEqual(t, len(breaches), 30)
	assert.LessOrEqual(t, len(breaches), 40)
	require.Len(t, late.Breaches, 1, "one entry for the tier-4 acknowledge clock")
	assert.GreaterOrEqual(t, late.Breaches[0].Repeats, 25)
	require.NotNil(t, late.Breaches[0].LastAt)
	warnings := f.eventsOf(tierflow.EventWarning)
	assert.Equal(t, len(breaches), len(warnings), "every period warns at 75%")
	assert.LessOrEqual(t, len(f.staffOf(tierflow.MsgStaffBreach))+len(f.staffOf(tierflow.MsgStaffWarning)), 80)
	etas := f.customerOf(tierflow.MsgETAChanged)
	require.NotEmpty(t, etas, "the customer hears a new ETA once theirs passed")
	assert.LessOrEqual(t, len(etas), len(breaches))
	for _, m := range etas {
		require.NotNil(t, m.Data.ETA)
	}
	raw, err := json.Marshal(late)
	require.NoError(t, err)
	assert.Less(t, len(raw), 12_000, "the case view stays small")
	f.checkRecord(t)
}

// 4b. At tier 4 the customer's ETA is never left behind the clock: a progress
// email and the case view always promise a time still ahead.
func TestTopTierETANeverInThePast(t *testing.T) {
	env, f := testEnv(t, t0)
	r := testRequest()
	r.Priority, r.Trigger = tierflow.PriorityUrgent, tierflow.TriggerExternalComplaint
	decideAt(t, env, 10*time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: executive})
	// The 4h resolve clock breaches at 4h10m and repeats for 8h; the tier's
	// promise (5h from the hand-over) would pass at 5h.
	upd := decideAt(t, env, 6*time.Hour, tierflow.Decision{Action: tierflow.ActionUpdateCustomer, Actor: executive, Message: "on it"})
	view := queryAt(t, env, 6*time.Hour+time.Minute)
	decideAt(t, env, 7*time.Hour, closeBy(executive, "c"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), r))
	result(t, env)

	require.NoError(t, upd.rejected)
	now := t0.Add(6 * time.Hour)
	require.NotNil(t, view.Deadlines.AnswerBy)
	assert.True(t, view.Deadlines.AnswerBy.After(now), "answer_by %s", view.Deadlines.AnswerBy)
	m := f.customerOf(tierflow.MsgProgressUpdate)
	require.NotEmpty(t, m)
	require.NotNil(t, m[len(m)-1].Data.ETA)
	assert.True(t, m[len(m)-1].Data.ETA.After(now), "the email's ETA %s", m[len(m)-1].Data.ETA)
	etas := f.customerOf(tierflow.MsgETAChanged)
	require.Len(t, etas, 1, "told once, at the breach, that the answer will be later")
}

// 5. A run continued as new still reads as the case in the Temporal UI: its
// current details carry the summary and details the first run started with.
func TestContinuedRunShowsTheCase(t *testing.T) {
	env, _ := testEnv(t, t0)
	r := testRequest()
	r.CRMURL = "https://crm.example.com/tickets/48213"
	st := CaseState{CaseID: testCaseID, Seq: 7, Status: tierflow.StatusInProgress, Tier: tierflow.TierSpecialist,
		Department: "billing", Assignee: "spec-1", Acknowledged: true, StartTier: 1, EscalatedAt: t0,
		Clocks: Clocks{CloseTarget: testPolicy().CloseTargetDeadline(t0)}}
	in := input(testPolicy(), r)
	in.Resume = &st
	var details string
	at(env, time.Minute, func() {
		res, err := env.QueryWorkflow("__temporal_workflow_metadata")
		require.NoError(t, err)
		var md sdkpb.WorkflowMetadata
		require.NoError(t, res.Get(&md))
		details = md.GetCurrentDetails()
	})
	decideAt(t, env, time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, in)
	result(t, env)

	assert.Contains(t, details, StaticSummary(r))
	assert.Contains(t, details, "Customer reference: C-991")
	assert.Contains(t, details, r.CRMURL)
	assert.Contains(t, details, "**Tier 2 specialist**")
	assert.NotContains(t, details, "Ada")
}

// 6. A low survey score reopens the case at tier 3 as an escalation: the tier
// must acknowledge, an owner is proposed and told, the customer hears who and by when.
func TestLowScoreReopenIsAnEscalation(t *testing.T) {
	env, f := testEnv(t, t0)
	decideAt(t, env, 10*time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
	decideAt(t, env, time.Hour, tierflow.Decision{Action: tierflow.ActionResolve, Actor: agent, Resolution: "refunded"})
	survey := &outcome{}
	at(env, 26*time.Hour, func() {
		sendUpdateTo(t, env, UpdateSurvey, tierflow.SurveyResponse{Score: 1, Resolved: false, Comment: "still charged", Round: 1}, survey)
	})
	decideAt(t, env, 28*time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	result(t, env)

	require.NoError(t, survey.rejected)
	require.NoError(t, survey.err)
	v := survey.view
	assert.Equal(t, tierflow.TierSupervisor, v.Tier)
	assert.Equal(t, tierflow.StatusOpen, v.Status, "tier 3 must take the case")
	require.NotNil(t, v.Deadlines.AcknowledgeBy)
	reopenedAt := t0.Add(26 * time.Hour)
	assert.Equal(t, reopenedAt.Add(8*time.Hour), *v.Deadlines.AcknowledgeBy)
	assert.Nil(t, v.Deadlines.ResolveBy)
	require.NotNil(t, v.Assignee)
	assert.Equal(t, "owner-t3", *v.Assignee, "proposed owner")
	assigned := f.eventsOf(tierflow.EventAssigned)
	require.NotEmpty(t, assigned)
	assert.Equal(t, tierflow.TierSupervisor, assigned[len(assigned)-1].Tier)
	staff := f.staffOf(tierflow.MsgStaffAssignment)
	require.NotEmpty(t, staff)
	assert.Equal(t, tierflow.TierSupervisor, staff[len(staff)-1].Tier)
	reopened := f.customerOf(tierflow.MsgReopened)
	require.Len(t, reopened, 1)
	assert.Equal(t, tierflow.TierSupervisor, reopened[0].Data.Tier, "the customer hears who handles it now")
	require.NotNil(t, reopened[0].Data.ETA)
	assert.Equal(t, reopenedAt.Add(32*time.Hour), *reopened[0].Data.ETA, "and by when")
	assert.Empty(t, f.customerOf(tierflow.MsgEscalated)[1:], "one email for the reopen, not two")
}

// 8. The approval request goes to tier 3; the case then climbs to tier 4. The
// supervisor it was sent to may still decide it, by Update and by Signal.
func TestApprovalRecipientDecidesAfterTheCaseClimbs(t *testing.T) {
	for _, viaSignal := range []bool{false, true} {
		name := "update"
		if viaSignal {
			name = "signal"
		}
		t.Run(name, func(t *testing.T) {
			env, f := testEnv(t, t0)
			decideAt(t, env, 10*time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
			proposed := decideAt(t, env, 20*time.Minute, proposeAbove(agent, "p1"))
			at(env, 30*time.Minute, func() {
				env.SignalWorkflow(SignalCustomerEvent, tierflow.CustomerEvent{Kind: tierflow.CustomerExternalComplaint, EventID: "x1"})
			})
			approved := &outcome{}
			at(env, time.Hour, func() {
				d := tierflow.Decision{Action: tierflow.ActionApprove, DecisionID: "a1", Actor: supervisor,
					ApprovalID: proposed.view.PendingApproval.ID, Note: "fair"}
				if viaSignal {
					env.SignalWorkflow(SignalDecision, d)
					return
				}
				sendUpdateTo(t, env, UpdateDecide, d, approved)
			})
			final := queryAt(t, env, 2*time.Hour)
			decideAt(t, env, 3*time.Hour, closeBy(executive, "end"))
			env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
			result(t, env)

			require.NoError(t, approved.rejected)
			assert.Equal(t, tierflow.TierExecutive, final.Tier)
			assert.Nil(t, final.PendingApproval)
			require.Len(t, final.Compensation, 1)
			assert.EqualValues(t, tierflow.CompensationApproved, final.Compensation[0].Status)
			assert.Equal(t, "sup-1", final.Compensation[0].ApprovedBy)
			assert.Empty(t, f.eventsOf(tierflow.EventDecisionRejected))
			require.Len(t, f.eventsOf(tierflow.EventApproved), 1)
		})
	}
}

// A higher tier may decide an approval too; a tier without the authority may not.
func TestApprovalNeedsAuthorityNotTheCaseTier(t *testing.T) {
	env, _ := testEnv(t, t0)
	decideAt(t, env, 10*time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
	proposed := decideAt(t, env, 20*time.Minute, proposeAbove(agent, "p1"))
	byAgent, bySpecialist, byExec := &outcome{}, &outcome{}, &outcome{}
	at(env, time.Hour, func() {
		id := proposed.view.PendingApproval.ID
		sendUpdateTo(t, env, UpdateDecide, tierflow.Decision{Action: tierflow.ActionApprove, Actor: agent, ApprovalID: id}, byAgent)
		sendUpdateTo(t, env, UpdateDecide, tierflow.Decision{Action: tierflow.ActionApprove, Actor: tierflow.Principal{
			ID: "spec-9", Role: tierflow.RoleSpecialist, Tier: 2}, ApprovalID: id}, bySpecialist)
		sendUpdateTo(t, env, UpdateDecide, tierflow.Decision{Action: tierflow.ActionReject, Actor: executive, ApprovalID: id}, byExec)
	})
	decideAt(t, env, 2*time.Hour, closeBy(executive, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	result(t, env)

	require.Error(t, byAgent.rejected)
	assert.Contains(t, byAgent.rejected.Error(), "authority")
	require.Error(t, bySpecialist.rejected)
	require.NoError(t, byExec.rejected)
	assert.Nil(t, byExec.view.PendingApproval)
}

// 9. Every instant the case waits for is in deadlines with its explanation: the
// reminders and auto-resolution while waiting on the customer, the survey's send,
// reminder and expiry.
func TestEveryDeadlineIsExplained(t *testing.T) {
	env, _ := testEnv(t, t0)
	decideAt(t, env, 10*time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
	decideAt(t, env, 20*time.Minute, tierflow.Decision{Action: tierflow.ActionRequestInfo, Actor: agent, Message: "which card?"})
	waiting := queryAt(t, env, time.Hour)
	afterFirstReminder := queryAt(t, env, 2*day)
	at(env, 3*day, func() {
		env.SignalWorkflow(SignalCustomerEvent, tierflow.CustomerEvent{Kind: tierflow.CustomerReply, EventID: "r1", Message: "visa"})
	})
	decideAt(t, env, 3*day+time.Hour, tierflow.Decision{Action: tierflow.ActionResolve, Actor: agent, Resolution: "refunded"})
	scheduled := queryAt(t, env, 3*day+2*time.Hour)
	sent := queryAt(t, env, 5*day)
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	result(t, env)

	requested := t0.Add(20 * time.Minute)
	check := func(name string, v *tierflow.CaseView, field *time.Time, clock tierflow.Clock, want time.Time) {
		t.Helper()
		require.NotNil(t, field, "%s: %s", name, clock)
		assert.Equal(t, want, *field, "%s: %s", name, clock)
		ex := explanationOf(v.Deadlines, clock)
		require.NotNil(t, ex, "%s: explanation of %s", name, clock)
		assert.Equal(t, want, ex.At)
		assert.NotEmpty(t, ex.Explanation)
	}
	check("waiting", waiting, waiting.Deadlines.CustomerReminderAt, tierflow.ClockCustomerReminder, requested.Add(day))
	check("waiting", waiting, waiting.Deadlines.AutoResolveAt, tierflow.ClockAutoResolve, requested.Add(14*day))
	check("after a reminder", afterFirstReminder, afterFirstReminder.Deadlines.CustomerReminderAt, tierflow.ClockCustomerReminder, requested.Add(5*day))
	resolved := t0.Add(3*day + time.Hour)
	check("resolved", scheduled, scheduled.Deadlines.SurveySendAt, tierflow.ClockSurveySend, resolved.Add(day))
	check("survey sent", sent, sent.Deadlines.SurveyReminderAt, tierflow.ClockSurveyReminder, resolved.Add(day+72*time.Hour))
	check("survey sent", sent, sent.Deadlines.SurveyExpiresAt, tierflow.ClockSurveyExpiry, resolved.Add(15*day))
	assert.Nil(t, scheduled.Deadlines.AutoResolveAt)
	assert.Nil(t, sent.Deadlines.SurveySendAt)
}

func explanationOf(d tierflow.Deadlines, clock tierflow.Clock) *tierflow.Deadline {
	for i := range d.Explanations {
		if d.Explanations[i].Clock == clock {
			return &d.Explanations[i]
		}
	}
	return nil
}

// envT bundles a test environment with its fakes for table tests.
type envT struct {
	t      *testing.T
	env    *testsuite.TestWorkflowEnvironment
	f      *fakes
	checks []func()
}

func (e *envT) decide(d time.Duration, dec tierflow.Decision) *outcome {
	return decideAt(e.t, e.env, d, dec)
}

func (e *envT) signalAt(d time.Duration, name string, arg any) {
	at(e.env, d, func() { e.env.SignalWorkflow(name, arg) })
}

// after queues a check to run once the workflow completed.
func (e *envT) after(fn func()) { e.checks = append(e.checks, fn) }

func (e *envT) runAfter() {
	for _, fn := range e.checks {
		fn()
	}
}

// Repeats of one clock count in its entry; a fresh clock's first breach at the
// same tier (after a transfer or a reopen) is an entry of its own.
func TestBreachesCoalesceOnlyRepeats(t *testing.T) {
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	var bs []tierflow.Breach
	bs = recordBreach(bs, tierflow.Breach{Clock: tierflow.ClockAcknowledge, Tier: 4, At: at(1)}, false)
	bs = recordBreach(bs, tierflow.Breach{Clock: tierflow.ClockAcknowledge, Tier: 4, At: at(3)}, true)
	bs = recordBreach(bs, tierflow.Breach{Clock: tierflow.ClockAcknowledge, Tier: 4, At: at(7)}, true)
	bs = recordBreach(bs, tierflow.Breach{Clock: tierflow.ClockAcknowledge, Tier: 4, At: at(9)}, false) // after a transfer
	require.Len(t, bs, 2)
	assert.Equal(t, 2, bs[0].Repeats)
	assert.Equal(t, at(7), *bs[0].LastAt)
	assert.Zero(t, bs[1].Repeats)
}
