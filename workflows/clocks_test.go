package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// Waiting on the customer from 2h to 12h stops the resolve clock: its deadline
// moves from 25h to 35h, and the explanation counts the 10h pause.
func TestAwaitingCustomerPausesTierClocks(t *testing.T) {
	env, f := testEnv(t, t0)
	decideAt(t, env, time.Hour, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
	asked := decideAt(t, env, 2*time.Hour, tierflow.Decision{Action: tierflow.ActionRequestInfo, Actor: agent,
		Message: "which card did you pay with?"})
	paused := queryAt(t, env, 3*time.Hour)
	at(env, 12*time.Hour, func() {
		env.SignalWorkflow(SignalCustomerEvent, tierflow.CustomerEvent{Kind: tierflow.CustomerReply, EventID: "r1",
			Message: "the blue one", Source: integration})
	})
	resumed := queryAt(t, env, 12*time.Hour+time.Minute)
	decideAt(t, env, 13*time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	result(t, env)

	require.NoError(t, asked.rejected)
	assert.Equal(t, tierflow.StatusAwaitingCustomer, asked.view.Status)
	assert.Equal(t, tierflow.StatusAwaitingCustomer, paused.Status)
	assert.Equal(t, t0.Add(25*time.Hour), *paused.Deadlines.ResolveBy, "shown as it stood when paused")
	assert.Nil(t, paused.Deadlines.NextCustomerUpdateBy, "no progress emails while we wait on the customer")

	assert.Equal(t, tierflow.StatusInProgress, resumed.Status)
	require.NotNil(t, resumed.Deadlines.ResolveBy)
	assert.Equal(t, t0.Add(35*time.Hour), *resumed.Deadlines.ResolveBy)
	var resolve tierflow.Deadline
	for _, d := range resumed.Deadlines.Explanations {
		if d.Clock == tierflow.ClockResolve {
			resolve = d
		}
	}
	assert.Equal(t, 10*time.Hour, resolve.Paused.Duration)
	assert.Contains(t, resolve.Explanation, "paused")
	assert.Equal(t, t0.Add(12*time.Hour+2*day), *resumed.Deadlines.NextCustomerUpdateBy)

	assert.Equal(t, []tierflow.MessageKind{tierflow.MsgEscalated, tierflow.MsgInfoRequest, tierflow.MsgETAChanged},
		f.customerKinds())
	// The customer's ETA is the tier's promise from the opening (8h + 24h), moved
	// by the 10h pause.
	eta := f.customerOf(tierflow.MsgETAChanged)[0]
	assert.Equal(t, t0.Add(42*time.Hour), *eta.Data.ETA)
	assert.Empty(t, f.eventsOf(tierflow.EventReminderSent))
	f.checkRecord(t)
}

// Without a reply the customer gets reminders at 24h and 5 days, and the case
// closes itself after 14 days without a survey.
func TestAwaitingCustomerRemindsThenAutoResolves(t *testing.T) {
	env, f := testEnv(t, t0)
	decideAt(t, env, time.Hour, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
	decideAt(t, env, 2*time.Hour, tierflow.Decision{Action: tierflow.ActionRequestInfo, Actor: agent, Message: "receipt?"})
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	final := result(t, env)

	assert.Equal(t, tierflow.StatusClosed, final.Status)
	assert.Equal(t, t0.Add(2*time.Hour+14*day), *final.ClosedAt)
	assert.Nil(t, final.Survey)
	reminders := f.eventsOf(tierflow.EventReminderSent)
	require.Len(t, reminders, 2)
	assert.Equal(t, t0.Add(2*time.Hour+day), reminders[0].At)
	assert.Equal(t, t0.Add(2*time.Hour+5*day), reminders[1].At)
	assert.Equal(t, []tierflow.MessageKind{tierflow.MsgEscalated, tierflow.MsgInfoRequest, tierflow.MsgWaitingReminder,
		tierflow.MsgWaitingReminder, tierflow.MsgAutoResolved}, f.customerKinds())
	assert.Len(t, f.eventsOf(tierflow.EventAutoResolved), 1)
	assert.Empty(t, f.eventsOf(tierflow.EventBreach), "the resolve clock stood still while waiting")
	f.checkRecord(t)
}

// A frontline agent proposes 300.00: above tier 1 and 2, so tier 3 is asked; after
// 4h without answer the request climbs to tier 4, whose executive approves it. The
// tier clocks stood still meanwhile.
func TestCompensationApprovalClimbsThenApproved(t *testing.T) {
	env, f := testEnv(t, t0)
	decideAt(t, env, 10*time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
	small := decideAt(t, env, 15*time.Minute, tierflow.Decision{Action: tierflow.ActionProposeCompensation, Actor: agent,
		AmountCents: 2000, Currency: "EUR", Description: "voucher"})
	proposed := decideAt(t, env, 20*time.Minute, tierflow.Decision{Action: tierflow.ActionProposeCompensation, Actor: agent,
		AmountCents: 30000, Currency: "EUR", Description: "refund of the double charge"})
	climbed := queryAt(t, env, 4*time.Hour+30*time.Minute)
	approved := &outcome{}
	at(env, 5*time.Hour, func() {
		v, err := env.QueryWorkflow(QueryCase)
		require.NoError(t, err)
		var cv tierflow.CaseView
		require.NoError(t, v.Get(&cv))
		require.NotNil(t, cv.PendingApproval)
		sendUpdateTo(t, env, UpdateDecide, tierflow.Decision{Action: tierflow.ActionApprove, Actor: executive,
			ApprovalID: cv.PendingApproval.ID, Note: "ok"}, approved)
	})
	decideAt(t, env, 6*time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	result(t, env)

	require.NoError(t, small.rejected)
	assert.Equal(t, tierflow.StatusInProgress, small.view.Status, "within authority: recorded at once")
	require.NoError(t, proposed.rejected)
	assert.Equal(t, tierflow.StatusAwaitingApproval, proposed.view.Status)
	require.NotNil(t, proposed.view.PendingApproval)
	assert.Equal(t, tierflow.TierSupervisor, proposed.view.PendingApproval.RequiredTier)
	assert.Equal(t, t0.Add(20*time.Minute+4*time.Hour), proposed.view.PendingApproval.ExpiresAt)

	require.NotNil(t, climbed.PendingApproval)
	assert.Equal(t, tierflow.TierExecutive, climbed.PendingApproval.RequiredTier)
	assert.Equal(t, tierflow.StatusAwaitingApproval, climbed.Status)

	require.NoError(t, approved.rejected)
	require.NoError(t, approved.err)
	assert.Equal(t, tierflow.StatusInProgress, approved.view.Status)
	assert.Nil(t, approved.view.PendingApproval)
	require.Len(t, approved.view.Compensation, 2)
	assert.Equal(t, tierflow.CompensationApproved, approved.view.Compensation[1].Status)
	assert.Equal(t, "exec-1", approved.view.Compensation[1].ApprovedBy)
	// Resolve clock: started at 0:10 for 24h, paused from 0:20 to 5:00.
	assert.Equal(t, t0.Add(10*time.Minute+24*time.Hour+4*time.Hour+40*time.Minute), *approved.view.Deadlines.ResolveBy)

	requests := f.staffOf(tierflow.MsgStaffApproval)
	require.Len(t, requests, 2)
	assert.Equal(t, tierflow.TierSupervisor, requests[0].Tier)
	assert.Equal(t, []string{activities.StaffTier}, requests[0].Groups)
	assert.Equal(t, tierflow.TierExecutive, requests[1].Tier)
	require.NotNil(t, requests[1].Data.Approval)
	climbs := f.eventsOf(tierflow.EventApprovalClimbed)
	require.Len(t, climbs, 1)
	assert.Equal(t, t0.Add(20*time.Minute+4*time.Hour), climbs[0].At)
	assert.Len(t, f.eventsOf(tierflow.EventCompensationOK), 1)
	assert.Len(t, f.eventsOf(tierflow.EventApproved), 1)
	f.checkRecord(t)
}

// The 30-day promise counts from the CRM's opened_at and never pauses: a case that
// waits on the customer is still flagged and handed to tier 4 on day 30.
func TestCloseTargetBreachEscalatesToTier4EvenWhenPaused(t *testing.T) {
	env, f := testEnv(t, t0)
	r := testRequest()
	r.OpenedAt = t0.Add(-20 * day) // day 25 is t0+5d, day 30 is t0+10d
	decideAt(t, env, time.Hour, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
	decideAt(t, env, 2*time.Hour, tierflow.Decision{Action: tierflow.ActionRequestInfo, Actor: agent, Message: "receipt?"})
	beforeBreach := queryAt(t, env, 10*day-time.Minute)
	afterBreach := queryAt(t, env, 10*day+time.Minute)
	decideAt(t, env, 10*day+time.Hour, closeBy(executive, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), r))
	final := result(t, env)

	assert.Equal(t, tierflow.StatusAwaitingCustomer, beforeBreach.Status)
	assert.False(t, beforeBreach.CloseTargetBreached)
	assert.True(t, afterBreach.CloseTargetBreached)
	assert.Equal(t, tierflow.TierExecutive, afterBreach.Tier)
	assert.Equal(t, tierflow.StatusOpen, afterBreach.Status, "tier 4 must take the case")
	assert.True(t, final.CloseTargetBreached)

	warn := f.eventsOf(tierflow.EventCloseTargetWarning)
	require.Len(t, warn, 1)
	assert.Equal(t, t0.Add(5*day), warn[0].At)
	breach := f.eventsOf(tierflow.EventCloseTargetBreach)
	require.Len(t, breach, 1)
	assert.Equal(t, t0.Add(10*day), breach[0].At)
	assert.Equal(t, tierflow.StatusAwaitingCustomer, breach[0].Status, "breached while paused")

	mails := f.staffOf(tierflow.MsgStaffCloseTarget)
	require.Len(t, mails, 2)
	assert.Equal(t, []string{activities.StaffSupervisor, activities.StaffExecutive}, mails[0].Groups)
	assert.Equal(t, []string{activities.StaffExecutive}, mails[1].Groups)
	esc := f.eventsOf(tierflow.EventEscalated)
	require.Len(t, esc, 1)
	assert.Equal(t, tierflow.TierFrontline, esc[0].FromTier)
	assert.Equal(t, tierflow.TierExecutive, esc[0].Tier)
	assert.Len(t, f.eventsOf(tierflow.EventReminderSent), 2, "24h and 5d reminders before day 30")
	f.checkRecord(t)
}

// A survey score of 1 reopens the case at tier 3 (open: tier 3 must acknowledge),
// and the survey is then answered; a second answer is refused.
func TestLowSurveyScoreReopensAtTier3(t *testing.T) {
	env, f := testEnv(t, t0)
	decideAt(t, env, time.Hour, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
	decideAt(t, env, 2*time.Hour, tierflow.Decision{Action: tierflow.ActionResolve, Actor: agent, Resolution: "refunded"})
	answered := &outcome{}
	at(env, 2*time.Hour+day+time.Hour, func() {
		sendUpdateTo(t, env, UpdateSurvey, tierflow.SurveyResponse{Score: 1, Resolved: true, Comment: "still charged", Round: 1}, answered)
	})
	again := &outcome{}
	at(env, 2*time.Hour+day+2*time.Hour, func() {
		sendUpdateTo(t, env, UpdateSurvey, tierflow.SurveyResponse{Score: 5, Resolved: true, Round: 1}, again)
	})
	acked := decideAt(t, env, 2*time.Hour+day+3*time.Hour, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: supervisor})
	closed := decideAt(t, env, 2*day, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	result(t, env)

	require.NoError(t, answered.rejected)
	require.NoError(t, acked.rejected)
	require.NoError(t, closed.rejected)
	v := answered.view
	assert.Equal(t, tierflow.StatusOpen, v.Status)
	assert.Equal(t, tierflow.TierSupervisor, v.Tier)
	assert.Equal(t, 1, v.Reopens)
	assert.Equal(t, 1, v.Escalations)
	assert.Nil(t, v.ResolvedAt)
	require.NotNil(t, v.Assignee)
	assert.Equal(t, "owner-t3", *v.Assignee)
	assert.Equal(t, tierflow.SurveyAnswered, v.Survey.Status)
	assert.Equal(t, 1, v.Survey.Score)
	require.NotNil(t, v.Deadlines.AcknowledgeBy)
	assert.Equal(t, t0.Add(2*time.Hour+day+time.Hour+8*time.Hour), *v.Deadlines.AcknowledgeBy)
	assert.Nil(t, v.Deadlines.ResolveBy, "the resolve clock starts when tier 3 acknowledges")
	assert.Equal(t, t0.Add(2*time.Hour+day+3*time.Hour+24*time.Hour), *acked.view.Deadlines.ResolveBy)

	require.Error(t, again.rejected)
	assert.Contains(t, again.rejected.Error(), "already answered")

	assert.Equal(t, []tierflow.MessageKind{tierflow.MsgEscalated, tierflow.MsgResolution, tierflow.MsgSurvey,
		tierflow.MsgReopened}, f.customerKinds())
	reopened := f.eventsOf(tierflow.EventReopened)
	require.Len(t, reopened, 1)
	assert.Contains(t, reopened[0].Reason, "survey score 1 of 5")
	assert.False(t, f.customerOf(tierflow.MsgResolution)[0].Data.Apology, "tier 1 does not apologise formally")
	f.checkRecord(t)
}

// "Not resolved" reopens at tier 3 whatever the score; a customer reply before the
// survey goes out cancels it and reopens at the same tier.
func TestReopenPaths(t *testing.T) {
	t.Run("survey says not resolved", func(t *testing.T) {
		env, _ := testEnv(t, t0)
		decideAt(t, env, time.Hour, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
		decideAt(t, env, 2*time.Hour, tierflow.Decision{Action: tierflow.ActionResolve, Actor: agent, Resolution: "done"})
		answered := &outcome{}
		at(env, 2*time.Hour+day+time.Hour, func() {
			sendUpdateTo(t, env, UpdateSurvey, tierflow.SurveyResponse{Score: 4, Resolved: false, Round: 1}, answered)
		})
		decideAt(t, env, 3*day, closeBy(executive, "end"))
		env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
		result(t, env)
		require.NoError(t, answered.rejected)
		assert.Equal(t, tierflow.TierSupervisor, answered.view.Tier)
		assert.Equal(t, tierflow.StatusOpen, answered.view.Status, "tier 3 must acknowledge")
	})
	t.Run("customer reply before the survey", func(t *testing.T) {
		env, f := testEnv(t, t0)
		decideAt(t, env, time.Hour, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
		decideAt(t, env, 2*time.Hour, tierflow.Decision{Action: tierflow.ActionResolve, Actor: agent, Resolution: "done"})
		at(env, 5*time.Hour, func() {
			env.SignalWorkflow(SignalCustomerEvent, tierflow.CustomerEvent{Kind: tierflow.CustomerReply, EventID: "r1"})
		})
		reopened := queryAt(t, env, 6*time.Hour)
		decideAt(t, env, 3*day, closeBy(executive, "end"))
		env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
		result(t, env)
		assert.Equal(t, tierflow.StatusInProgress, reopened.Status)
		assert.Equal(t, tierflow.TierFrontline, reopened.Tier)
		assert.Equal(t, tierflow.SurveyCancelled, reopened.Survey.Status)
		assert.Empty(t, f.eventsOf(tierflow.EventSurveySent), "the cancelled survey never goes out")
	})
}

// The resolve clock's 75% warning goes to the owner and the supervisor; the
// breach escalates one tier up, up to tier 4, where the clock starts again.
func TestResolveWarningBreachAndProgressCadence(t *testing.T) {
	env, f := testEnv(t, t0)
	r := testRequest()
	r.Priority = tierflow.PriorityHigh // ack 4h, resolve 8h, updates every 2 days
	decideAt(t, env, time.Hour, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
	decideAt(t, env, 3*day, closeBy(executive, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), r))
	result(t, env)

	warnings := f.staffOf(tierflow.MsgStaffWarning)
	require.NotEmpty(t, warnings)
	assert.Equal(t, []string{activities.StaffOwner, activities.StaffSupervisor}, warnings[0].Groups)
	assert.Equal(t, "agent-1", warnings[0].AssigneeID)
	breaches := f.eventsOf(tierflow.EventBreach)
	require.NotEmpty(t, breaches)
	assert.Equal(t, t0.Add(9*time.Hour), breaches[0].At)
	assert.Equal(t, "resolve", breaches[0].Details["clock"])
	// Tier 2 never acknowledges: 4h later it breaches too, then tier 3, then tier 4
	// records its breach without a fifth tier, and its clock starts again with a
	// doubled period (8h, 16h, then a day), so the executives hear of it until
	// someone acts, a bounded number of times.
	tiers := []tierflow.Tier{}
	for _, b := range breaches {
		tiers = append(tiers, b.Tier)
	}
	require.Greater(t, len(tiers), 4, "the tier-4 clock starts again after its breach")
	assert.Equal(t, []tierflow.Tier{1, 2, 3, 4}, tiers[:4])
	periods := []time.Duration{}
	for i := 4; i < len(breaches); i++ {
		assert.Equal(t, tierflow.TierExecutive, breaches[i].Tier)
		periods = append(periods, breaches[i].At.Sub(breaches[i-1].At))
	}
	assert.Equal(t, []time.Duration{8 * time.Hour, 16 * time.Hour, 24 * time.Hour}, periods[:3], "tier 4's 4h acknowledge clock, doubled")
	last := f.staffOf(tierflow.MsgStaffBreach)
	assert.Contains(t, last[len(last)-1].Groups, activities.StaffExecutive)
	// At tier 4 the customer hears a new ETA whenever theirs has passed; each of
	// those emails restarts the update cadence, so no "still working on it" email
	// repeats them.
	etas := f.customerOf(tierflow.MsgETAChanged)
	require.NotEmpty(t, etas)
	for _, m := range etas {
		require.NotNil(t, m.Data.ETA)
	}
	assert.Empty(t, f.customerOf(tierflow.MsgProgressUpdate))
	f.checkRecord(t)
}

// A survey nobody answers gets one reminder after 72h and closes the case when it
// expires, 14 days after it was sent.
func TestUnansweredSurveyRemindsThenExpires(t *testing.T) {
	env, f := testEnv(t, t0)
	decideAt(t, env, time.Hour, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
	decideAt(t, env, 2*time.Hour, tierflow.Decision{Action: tierflow.ActionResolve, Actor: agent, Resolution: "refunded"})
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	final := result(t, env)

	sent := t0.Add(2*time.Hour + day)
	assert.Equal(t, tierflow.StatusClosed, final.Status)
	assert.Equal(t, tierflow.SurveyExpired, final.Survey.Status)
	assert.Equal(t, sent.Add(14*day), *final.ClosedAt)
	assert.Equal(t, []tierflow.MessageKind{tierflow.MsgEscalated, tierflow.MsgResolution, tierflow.MsgSurvey,
		tierflow.MsgSurveyReminder}, f.customerKinds())
	reminders := f.eventsOf(tierflow.EventReminderSent)
	require.Len(t, reminders, 1)
	assert.Equal(t, sent.Add(72*time.Hour), reminders[0].At)
	assert.Len(t, f.eventsOf(tierflow.EventSurveyExpired), 1)
	assert.False(t, final.CloseTargetBreached, "the close target stops counting once resolved")
	f.checkRecord(t)
}
