package workflows

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// Every email that tells the customer who handles the case and by when restarts
// the update cadence (2 days for a normal case): a human escalation at 20h, then
// the automatic ones at 28h (tier 2 never acknowledges) and 36h (nor does tier
// 3). Without the restarts a "still working on it" email would follow at 48h,
// right after the customer heard of tier 4.
func TestEveryEscalationEmailRestartsTheCustomerCadence(t *testing.T) {
	env, f := testEnv(t, t0)
	decideAt(t, env, 10*time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
	escalated := decideAt(t, env, 20*time.Hour, tierflow.Decision{Action: tierflow.ActionEscalate, Actor: agent,
		Mode: tierflow.EscalationHierarchical, Reason: "needs a refund", Summary: "charge confirmed twice"})
	atTier3 := queryAt(t, env, 29*time.Hour)
	atTier4 := queryAt(t, env, 37*time.Hour)
	decideAt(t, env, 3*day, closeBy(executive, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	result(t, env)

	require.NoError(t, escalated.rejected)
	assert.Equal(t, t0.Add(20*time.Hour+2*day), *escalated.view.Deadlines.NextCustomerUpdateBy, "human escalation")
	assert.Equal(t, tierflow.TierSupervisor, atTier3.Tier)
	assert.Equal(t, t0.Add(28*time.Hour+2*day), *atTier3.Deadlines.NextCustomerUpdateBy, "automatic escalation")
	assert.Equal(t, tierflow.TierExecutive, atTier4.Tier)
	assert.Equal(t, t0.Add(36*time.Hour+2*day), *atTier4.Deadlines.NextCustomerUpdateBy)
	assert.Empty(t, f.customerOf(tierflow.MsgProgressUpdate), "no cadence email within 2 days of the last escalation email")
	assert.Len(t, f.customerOf(tierflow.MsgEscalated), 4)
	f.checkRecord(t)
}

// A compensation above authority pauses the tier clocks: the customer hears that
// an approval is needed (no ETA yet), then the new ETA once it is decided. A
// rejected amount is not offered in the resolution; an approved one is.
func TestApprovalPauseAndResumeTellTheCustomer(t *testing.T) {
	env, f := testEnv(t, t0)
	decideAt(t, env, 10*time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
	decideAt(t, env, 15*time.Minute, tierflow.Decision{Action: tierflow.ActionProposeCompensation, Actor: agent,
		AmountCents: 2000, Currency: "EUR", Description: "voucher"})
	proposed := decideAt(t, env, 20*time.Minute, tierflow.Decision{Action: tierflow.ActionProposeCompensation, Actor: agent,
		AmountCents: 30000, Currency: "EUR", Description: "full refund"})
	rejected := &outcome{}
	at(env, 80*time.Minute, func() {
		sendUpdateTo(t, env, UpdateDecide, tierflow.Decision{Action: tierflow.ActionReject, Actor: supervisor,
			ApprovalID: proposed.view.PendingApproval.ID, Note: "the voucher is enough"}, rejected)
	})
	decideAt(t, env, 2*time.Hour, tierflow.Decision{Action: tierflow.ActionResolve, Actor: agent, Resolution: "refunded the fee"})
	decideAt(t, env, 3*time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	result(t, env)

	require.NoError(t, proposed.rejected)
	require.NotNil(t, proposed.view.PendingApproval)
	assert.Equal(t, t0.Add(20*time.Minute+2*day), *proposed.view.Deadlines.NextCustomerUpdateBy)
	require.NoError(t, rejected.rejected)
	require.NoError(t, rejected.err)
	v := rejected.view
	assert.Equal(t, tierflow.StatusInProgress, v.Status)
	assert.Nil(t, v.PendingApproval)
	require.Len(t, v.Compensation, 2)
	assert.Equal(t, tierflow.CompensationRejected, v.Compensation[1].Status)
	assert.Empty(t, v.Compensation[1].ApprovedBy)
	// Resolve clock: 24h from 0:10, stood still from 0:20 to 1:20.
	resolveBy := t0.Add(10*time.Minute + 24*time.Hour + time.Hour)
	assert.Equal(t, resolveBy, *v.Deadlines.ResolveBy)
	assert.Equal(t, t0.Add(80*time.Minute+2*day), *v.Deadlines.NextCustomerUpdateBy)

	eta := f.customerOf(tierflow.MsgETAChanged)
	require.Len(t, eta, 2)
	assert.Nil(t, eta[0].Data.ETA, "no ETA while the clocks stand still")
	assert.Contains(t, eta[0].Data.Reason, "approval")
	assert.NotContains(t, eta[0].Data.Reason, "300", "the customer is not told the amount under review")
	require.NotNil(t, eta[1].Data.ETA)
	// The ETA is tier 1's promise from the opening (8h + 24h), moved by the 1h pause.
	assert.Equal(t, t0.Add(33*time.Hour), *eta[1].Data.ETA)
	assert.Len(t, f.eventsOf(tierflow.EventRejected), 1)
	assert.Equal(t, "the voucher is enough", f.eventsOf(tierflow.EventRejected)[0].Reason)

	res := f.customerOf(tierflow.MsgResolution)
	require.Len(t, res, 1)
	require.Len(t, res[0].Data.Compensation, 1, "only the approved amount is offered")
	assert.Equal(t, int64(2000), res[0].Data.Compensation[0].AmountCents)
	f.checkRecord(t)
}

// A signal whose payload is not a decision (wrong JSON types, typed by hand in the
// Temporal UI) is recorded as rejected instead of vanishing; the case carries on.
func TestUndecodableSignalRecordedAsRejected(t *testing.T) {
	env, f := testEnv(t, t0)
	at(env, time.Minute, func() {
		env.SignalWorkflow(SignalDecision, map[string]any{"action": "propose_compensation", "amount_cents": "300.00"})
	})
	at(env, 2*time.Minute, func() {
		env.SignalWorkflow(SignalCustomerEvent, []string{"reply"})
	})
	acked := decideAt(t, env, 3*time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
	decideAt(t, env, time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	result(t, env)

	rejected := f.eventsOf(tierflow.EventDecisionRejected)
	require.Len(t, rejected, 2)
	assert.Equal(t, "decision", rejected[0].Details["message"])
	assert.Contains(t, rejected[0].Reason, "amount_cents")
	assert.Equal(t, tierflow.SystemActor.ID, rejected[0].Actor.ID)
	assert.Equal(t, "customer_event", rejected[1].Details["message"])
	require.NoError(t, acked.rejected, "the case still works")
	assert.Empty(t, f.eventsOf(tierflow.EventCompensationOK))
	f.checkRecord(t)
}

// An actor below the case's tier may add a note, and nothing else.
func TestActorBelowTheTierMayOnlyNote(t *testing.T) {
	env, f := testEnv(t, t0)
	r := testRequest()
	r.Priority = tierflow.PriorityUrgent // starts at tier 3
	noted := decideAt(t, env, time.Minute, tierflow.Decision{Action: tierflow.ActionNote, Actor: agent, Text: "customer called again"})
	updated := decideAt(t, env, 2*time.Minute, tierflow.Decision{Action: tierflow.ActionUpdateCustomer, Actor: agent, Message: "hi"})
	decideAt(t, env, 10*time.Minute, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), r))
	result(t, env)

	require.NoError(t, noted.rejected)
	notes := f.eventsOf(tierflow.EventNote)
	require.Len(t, notes, 1)
	assert.Equal(t, "customer called again", notes[0].Summary)
	assert.Equal(t, tierflow.TierSupervisor, notes[0].Tier)
	require.Error(t, updated.rejected)
	ce, ok := AsCaseError(updated.rejected)
	require.True(t, ok)
	assert.Equal(t, tierflow.CodeForbidden, ce.Code)
	assert.Empty(t, f.customerOf(tierflow.MsgProgressUpdate))
}

// Once the survey is out, a staff reopen or a customer reply brings the case back
// to in_progress at its tier: the survey is cancelled (a late answer is refused,
// no reminder goes out), the customer and the owner are told.
func TestReopenAfterTheSurveyWasSent(t *testing.T) {
	sent := 2*time.Hour + day
	for _, tc := range []struct {
		name   string
		reopen func(env interface{ SignalWorkflow(string, any) })
		actor  string
	}{
		{"staff reopen", func(env interface{ SignalWorkflow(string, any) }) {
			env.SignalWorkflow(SignalDecision, tierflow.Decision{Action: tierflow.ActionReopen, DecisionID: "ro-1",
				Actor: agent, Reason: "the bank bounced the refund"})
		}, "agent-1"},
		{"customer reply", func(env interface{ SignalWorkflow(string, any) }) {
			env.SignalWorkflow(SignalCustomerEvent, tierflow.CustomerEvent{Kind: tierflow.CustomerReply, EventID: "r-1",
				Source: integration, Message: "still not refunded"})
		}, "crm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, f := testEnv(t, t0)
			decideAt(t, env, time.Hour, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
			decideAt(t, env, 2*time.Hour, tierflow.Decision{Action: tierflow.ActionResolve, Actor: agent, Resolution: "refunded"})
			at(env, sent+time.Hour, func() { tc.reopen(env) })
			reopened := queryAt(t, env, sent+2*time.Hour)
			late := &outcome{}
			at(env, sent+3*time.Hour, func() {
				sendUpdateTo(t, env, UpdateSurvey, tierflow.SurveyResponse{Score: 5, Resolved: true, Round: 1}, late)
			})
			decideAt(t, env, sent+4*day, closeBy(executive, "end"))
			env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
			result(t, env)

			assert.Equal(t, tierflow.StatusInProgress, reopened.Status)
			assert.Equal(t, tierflow.TierFrontline, reopened.Tier)
			assert.Equal(t, 1, reopened.Reopens)
			assert.Nil(t, reopened.ResolvedAt)
			assert.Equal(t, tierflow.SurveyCancelled, reopened.Survey.Status)
			require.NotNil(t, reopened.Deadlines.ResolveBy)
			assert.Equal(t, t0.Add(sent+time.Hour+24*time.Hour), *reopened.Deadlines.ResolveBy)
			require.Error(t, late.rejected)
			assert.Contains(t, late.rejected.Error(), "no survey is waiting")

			ev := f.eventsOf(tierflow.EventReopened)
			require.Len(t, ev, 1)
			assert.Equal(t, tc.actor, ev[0].Actor.ID)
			assert.Len(t, f.customerOf(tierflow.MsgReopened), 1)
			assert.Empty(t, f.customerOf(tierflow.MsgSurveyReminder), "the cancelled survey is not reminded")
			var told []activities.NotifyStaffInput
			for _, m := range f.staffOf(tierflow.MsgStaffAssignment) {
				if strings.HasPrefix(m.Data.Reason, "reopened: ") {
					told = append(told, m)
				}
			}
			require.Len(t, told, 1, "the owner is told")
			assert.Equal(t, []string{activities.StaffOwner}, told[0].Groups)
			assert.Equal(t, "agent-1", told[0].AssigneeID)
			f.checkRecord(t)
		})
	}
}
