package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// Every reason an Update is refused, through the real validator of a running case.
func TestDecisionValidatorRejections(t *testing.T) {
	billing := tierflow.Principal{ID: "spec-2", Role: tierflow.RoleSpecialist, Tier: 2, Departments: []string{"technical"}}
	viewer := tierflow.Principal{ID: "v", Role: tierflow.RoleViewer}
	ack := func(p tierflow.Principal) tierflow.Decision {
		return tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: p}
	}
	propose := tierflow.Decision{Action: tierflow.ActionProposeCompensation, Actor: agent, AmountCents: 30000,
		Currency: "EUR", Description: "refund"}
	tier2 := func(r *tierflow.OpenCaseRequest) { r.Trigger, r.Department = tierflow.TriggerComplexity, "billing" }
	tier3 := func(r *tierflow.OpenCaseRequest) { r.Priority = tierflow.PriorityUrgent }
	tests := []struct {
		name    string
		request func(*tierflow.OpenCaseRequest)
		before  []tierflow.Decision
		send    tierflow.Decision
		code    tierflow.Code
		reason  string
	}{
		{name: "acknowledge twice", before: []tierflow.Decision{ack(agent)}, send: ack(agent),
			code: tierflow.CodeConflict, reason: "cannot acknowledge a case that is in_progress"},
		{name: "actor below the case's tier", request: tier3, send: ack(agent),
			code: tierflow.CodeForbidden, reason: "an actor at tier 1 cannot decide for a tier 3 case"},
		{name: "role that cannot decide", send: ack(viewer),
			code: tierflow.CodeForbidden, reason: `role "viewer" cannot decide`},
		{name: "department mismatch", request: tier2, send: ack(billing),
			code: tierflow.CodeForbidden, reason: "does not serve the billing department"},
		{name: "escalate without summary", send: tierflow.Decision{Action: tierflow.ActionEscalate, Actor: agent,
			Mode: tierflow.EscalationHierarchical, Reason: "stuck"}, code: tierflow.CodeInvalid, reason: "summary"},
		{name: "transfer without summary", request: tier2, send: tierflow.Decision{Action: tierflow.ActionTransfer,
			Actor: specialist, Department: "technical"}, code: tierflow.CodeInvalid, reason: "summary"},
		{name: "functional escalation above tier 1", request: tier2, send: tierflow.Decision{Action: tierflow.ActionEscalate,
			Actor: specialist, Mode: tierflow.EscalationFunctional, Department: "technical", Reason: "r", Summary: "s"},
			code: tierflow.CodeConflict, reason: "use transfer"},
		{name: "resolve at tier 3 without explanation", request: tier3, send: tierflow.Decision{Action: tierflow.ActionResolve,
			Actor: supervisor, Resolution: "refunded"}, code: tierflow.CodeInvalid, reason: "explanation is required"},
		{name: "approve with no pending approval", send: tierflow.Decision{Action: tierflow.ActionApprove, Actor: supervisor,
			ApprovalID: "apr-1"}, code: tierflow.CodeConflict, reason: "no approval is pending"},
		{name: "approve above authority", before: []tierflow.Decision{ack(agent), propose},
			send: tierflow.Decision{Action: tierflow.ActionApprove, Actor: tierflow.Principal{ID: "spec-9", Role: tierflow.RoleSpecialist, Tier: 2}, ApprovalID: "apr-4"},
			code: tierflow.CodeForbidden, reason: "tier 2's authority (250.00 EUR) does not cover the pending approval"},
		{name: "unknown approval id", before: []tierflow.Decision{ack(agent), propose},
			send: tierflow.Decision{Action: tierflow.ActionApprove, Actor: supervisor, ApprovalID: "apr-99"},
			code: tierflow.CodeConflict, reason: `unknown approval id "apr-99"`},
		{name: "second proposal while one is pending", before: []tierflow.Decision{ack(agent), propose},
			send: tierflow.Decision{Action: tierflow.ActionProposeCompensation, Actor: supervisor, AmountCents: 100,
				Currency: "EUR", Description: "x"}, code: tierflow.CodeConflict, reason: "cannot propose_compensation a case that is awaiting_approval"},
		{name: "resolve while approval pending", before: []tierflow.Decision{ack(agent), propose},
			send: tierflow.Decision{Action: tierflow.ActionResolve, Actor: supervisor, Resolution: "r", Explanation: "e"},
			code: tierflow.CodeConflict, reason: "cannot resolve a case that is awaiting_approval"},
		{name: "resolve while an approval is pending", before: []tierflow.Decision{ack(agent), propose,
			{Action: tierflow.ActionEscalate, Actor: agent, Mode: tierflow.EscalationHierarchical, Reason: "r", Summary: "s"}},
			send: tierflow.Decision{Action: tierflow.ActionResolve, Actor: supervisor, Resolution: "r", Explanation: "e"},
			code: tierflow.CodeConflict, reason: "approval apr-4 is pending; approve or reject it first"},
		{name: "decision id reused for another decision", before: []tierflow.Decision{{Action: tierflow.ActionNote, DecisionID: "n-1", Actor: agent, Text: "x"}},
			send: tierflow.Decision{Action: tierflow.ActionNote, DecisionID: "n-1", Actor: agent, Text: "y"},
			code: tierflow.CodeConflict, reason: "decision_id n-1 was already used for a different decision"},
		{name: "close needs a supervisor", send: closeBy(agent, ""),
			code: tierflow.CodeForbidden, reason: "needs a supervisor or above"},
		{name: "reopen a case that is not resolved", send: tierflow.Decision{Action: tierflow.ActionReopen, Actor: agent, Reason: "r"},
			code: tierflow.CodeConflict, reason: "cannot reopen a case that is open"},
		{name: "request info while waiting on the customer", before: []tierflow.Decision{{Action: tierflow.ActionRequestInfo, Actor: agent, Message: "m"}},
			send: tierflow.Decision{Action: tierflow.ActionRequestInfo, Actor: agent, Message: "m2"},
			code: tierflow.CodeConflict, reason: "cannot request_info a case that is awaiting_customer"},
		{name: "escalate past tier 4", request: func(r *tierflow.OpenCaseRequest) { r.Trigger = tierflow.TriggerExternalComplaint },
			send: tierflow.Decision{Action: tierflow.ActionEscalate, Actor: executive, Mode: tierflow.EscalationHierarchical, Reason: "r", Summary: "s"},
			code: tierflow.CodeConflict, reason: "top of the ladder"},
		{name: "unknown action", send: tierflow.Decision{Action: "fly", Actor: agent},
			code: tierflow.CodeInvalid, reason: "unknown action"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env, f := testEnv(t, t0)
			r := testRequest()
			if tc.request != nil {
				tc.request(&r)
			}
			var before []*outcome
			for i, d := range tc.before {
				before = append(before, decideAt(t, env, time.Duration(i+1)*time.Minute, d))
			}
			got := decideAt(t, env, 30*time.Minute, tc.send)
			decideAt(t, env, 2*time.Hour, closeBy(executive, "end"))
			env.ExecuteWorkflow(WorkflowName, input(testPolicy(), r))
			result(t, env)
			for i, o := range before {
				require.NoError(t, o.rejected, "setup decision %d", i)
			}
			require.True(t, got.done)
			require.Error(t, got.rejected, "the update must be rejected by the validator")
			ce, ok := AsCaseError(got.rejected)
			require.True(t, ok, "rejection carries a case error: %v", got.rejected)
			assert.Equal(t, tc.code, ce.Code)
			assert.Contains(t, got.rejected.Error(), tc.reason)
			assert.Empty(t, f.eventsOf(tierflow.EventDecisionRejected), "a rejected update leaves no trace")
		})
	}
}

// A decision ID is applied once, whether it comes back as a signal or an update;
// an Update retrying it answers the case as it is (the client lost the answer).
func TestDuplicateDecisionAppliedOnce(t *testing.T) {
	env, f := testEnv(t, t0)
	note := tierflow.Decision{Action: tierflow.ActionNote, DecisionID: "dup-1", Actor: agent, Text: "called the bank"}
	at(env, time.Minute, func() { env.SignalWorkflow(SignalDecision, note) })
	at(env, 2*time.Minute, func() { env.SignalWorkflow(SignalDecision, note) })
	again := decideAt(t, env, 3*time.Minute, note)
	ackID := tierflow.Decision{Action: tierflow.ActionAcknowledge, DecisionID: "ack-1", Actor: agent}
	first := decideAt(t, env, 4*time.Minute, ackID)
	at(env, 5*time.Minute, func() { env.SignalWorkflow(SignalDecision, ackID) })
	decideAt(t, env, time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	final := result(t, env)

	assert.Len(t, f.eventsOf(tierflow.EventNote), 1)
	assert.Equal(t, "dup-1", f.eventsOf(tierflow.EventNote)[0].Details["decision_id"])
	require.NoError(t, again.rejected, "a retry is answered, not refused")
	require.NoError(t, again.err)
	assert.Equal(t, tierflow.StatusOpen, again.view.Status)
	assert.Equal(t, f.eventsOf(tierflow.EventNote)[0].Seq, again.view.Seq, "the case as the first one left it")
	require.NoError(t, first.rejected)
	assert.Len(t, f.eventsOf(tierflow.EventAcknowledged), 1)
	assert.Empty(t, f.eventsOf(tierflow.EventDecisionRejected), "a repeated signal is dropped, not an error")
	assert.Equal(t, tierflow.StatusClosed, final.Status)
	f.checkRecord(t)
}

// An invalid signal never fails the workflow: it is recorded as decision_rejected.
func TestInvalidSignalRecordedAsRejected(t *testing.T) {
	env, f := testEnv(t, t0)
	r := testRequest()
	r.Priority = tierflow.PriorityUrgent // starts at tier 3
	at(env, time.Minute, func() {
		env.SignalWorkflow(SignalDecision, tierflow.Decision{Action: tierflow.ActionAcknowledge, DecisionID: "x-1", Actor: agent})
	})
	at(env, 2*time.Minute, func() {
		env.SignalWorkflow(SignalCustomerEvent, tierflow.CustomerEvent{Kind: "shouted", EventID: "e-1"})
	})
	okAck := decideAt(t, env, 3*time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: supervisor})
	decideAt(t, env, 10*time.Minute, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), r))
	result(t, env)

	rejected := f.eventsOf(tierflow.EventDecisionRejected)
	require.Len(t, rejected, 2)
	assert.Contains(t, rejected[0].Reason, "an actor at tier 1 cannot decide for a tier 3 case")
	assert.Equal(t, "x-1", rejected[0].Details["decision_id"])
	assert.Equal(t, "agent-1", rejected[0].Actor.ID)
	assert.Equal(t, "customer_event", rejected[1].Details["message"])
	assert.Contains(t, rejected[1].Reason, "kind")
	require.NoError(t, okAck.rejected, "the case still works")
	f.checkRecord(t)
}

// The customer's own escalations: asking for a supervisor lifts the case to tier 3,
// an external complaint straight to tier 4; both as signal and as update.
func TestCustomerEscalations(t *testing.T) {
	env, f := testEnv(t, t0)
	at(env, time.Minute, func() {
		env.SignalWorkflow(SignalCustomerEvent, tierflow.CustomerEvent{Kind: tierflow.CustomerRequestedSupervisor,
			EventID: "c-1", Source: integration, Message: "I want a manager"})
	})
	atTier3 := queryAt(t, env, 2*time.Minute)
	complaint := &outcome{}
	at(env, 3*time.Minute, func() {
		sendUpdateTo(t, env, UpdateCustomerEvent, tierflow.CustomerEvent{Kind: tierflow.CustomerExternalComplaint,
			EventID: "c-2", Source: integration, Message: "letter to the regulator"}, complaint)
	})
	dup := &outcome{}
	at(env, 4*time.Minute, func() {
		sendUpdateTo(t, env, UpdateCustomerEvent, tierflow.CustomerEvent{Kind: tierflow.CustomerExternalComplaint,
			EventID: "c-2", Source: integration}, dup)
	})
	at(env, 5*time.Minute, func() {
		env.SignalWorkflow(SignalCustomerEvent, tierflow.CustomerEvent{Kind: tierflow.CustomerWithdrawn, EventID: "c-3", Source: integration})
	})
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	final := result(t, env)

	assert.Equal(t, tierflow.TierSupervisor, atTier3.Tier)
	assert.Equal(t, tierflow.StatusOpen, atTier3.Status)
	require.NoError(t, complaint.rejected)
	assert.Equal(t, tierflow.TierExecutive, complaint.view.Tier)
	require.NoError(t, dup.rejected, "the CRM's retry answers the case")
	assert.Equal(t, complaint.view.Seq, dup.view.Seq, "and applies nothing")
	assert.Len(t, f.eventsOf(tierflow.EventCustomerEvent), 3, "the request, the complaint once, the withdrawal")

	assert.Equal(t, tierflow.StatusClosed, final.Status)
	assert.Nil(t, final.Survey, "a withdrawn case closes without survey")
	esc := f.eventsOf(tierflow.EventEscalated)
	require.Len(t, esc, 2)
	assert.Equal(t, "hierarchical", esc[0].Details["mode"])
	assert.Equal(t, "the customer asked for a supervisor", esc[0].Reason)
	assert.Equal(t, tierflow.TierFrontline, esc[0].FromTier)
	assert.Equal(t, tierflow.TierSupervisor, esc[1].FromTier)
	assert.Equal(t, tierflow.TierExecutive, esc[1].Tier)
	assert.Len(t, f.eventsOf(tierflow.EventCustomerEvent), 3)
	assert.Len(t, f.customerOf(tierflow.MsgEscalated), 3)
	f.checkRecord(t)
}

// Survey answers are refused when no survey waits, once answered, and once expired.
func TestSurveyValidator(t *testing.T) {
	now := t0
	later := now.Add(time.Hour)
	earlier := now.Add(-time.Hour)
	tests := []struct {
		name   string
		survey *tierflow.SurveyState
		code   tierflow.Code
		reason string
	}{
		{"no survey", nil, tierflow.CodeConflict, "no survey is waiting for an answer"},
		{"not sent yet", &tierflow.SurveyState{Status: tierflow.SurveyScheduled}, tierflow.CodeConflict, "no survey is waiting for an answer"},
		{"cancelled by a reopen", &tierflow.SurveyState{Status: tierflow.SurveyCancelled}, tierflow.CodeConflict, "no survey is waiting for an answer"},
		{"already answered", &tierflow.SurveyState{Status: tierflow.SurveyAnswered}, tierflow.CodeConflict, "already answered"},
		{"expired", &tierflow.SurveyState{Status: tierflow.SurveyExpired}, tierflow.CodeGone, "expired"},
		{"expiry instant reached", &tierflow.SurveyState{Status: tierflow.SurveySent, ExpiresAt: &earlier}, tierflow.CodeGone, "expired"},
		{"waiting", &tierflow.SurveyState{Status: tierflow.SurveySent, ExpiresAt: &later}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &caseWorkflow{in: input(testPolicy(), testRequest()), st: &CaseState{Status: tierflow.StatusResolved, Survey: tc.survey}}
			err := w.validateSurvey(now, tierflow.SurveyResponse{Score: 4, Resolved: true, Round: 1})
			if tc.code == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tc.code, tierflow.ErrorCode(err))
			assert.Contains(t, err.Error(), tc.reason)
		})
	}
	w := &caseWorkflow{in: input(testPolicy(), testRequest()), st: &CaseState{Survey: &tierflow.SurveyState{Status: tierflow.SurveySent, ExpiresAt: &later}}}
	assert.Equal(t, tierflow.CodeInvalid, tierflow.ErrorCode(w.validateSurvey(now, tierflow.SurveyResponse{Score: 9})))
}

// Through the Update: no survey yet is refused with the documented reason.
func TestSurveyUpdateRejectedWithoutSurvey(t *testing.T) {
	env, _ := testEnv(t, t0)
	got := &outcome{}
	at(env, time.Minute, func() {
		sendUpdateTo(t, env, UpdateSurvey, tierflow.SurveyResponse{Score: 5, Resolved: true, Round: 1}, got)
	})
	decideAt(t, env, time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	result(t, env)
	require.Error(t, got.rejected)
	ce, ok := AsCaseError(got.rejected)
	require.True(t, ok)
	assert.Equal(t, tierflow.CodeConflict, ce.Code)
	assert.Equal(t, "no survey is waiting for an answer", ce.Message)
}

// An email the provider refuses is not retried; the failure goes on the record and
// the case carries on.
func TestRejectedEmailRecordedOnTheCase(t *testing.T) {
	env, f := testEnv(t, t0)
	f.rejectCustomer = tierflow.MsgEscalated
	acked := decideAt(t, env, time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
	decideAt(t, env, time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	result(t, env)

	require.NoError(t, acked.rejected)
	failed := f.eventsOf(tierflow.EventNotificationFailed)
	require.Len(t, failed, 1)
	assert.Equal(t, testCaseID+"/1/escalated", failed[0].Details["key"])
	assert.Equal(t, "email rejected: invalid address", failed[0].Reason)
	assert.Len(t, f.customerOf(tierflow.MsgEscalated), 1, "not retried")
	f.checkRecord(t)
}
