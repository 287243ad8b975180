package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/postgres"
)

// Figures of the fast policy (policyfile/fast.yaml) the checks below rely on.
const (
	fastTier1AuthorityCents = 5000  // 50.00: a frontline agent's authority
	fastTier2AuthorityCents = 25000 // 250.00: a specialist's authority
	fastTier3Team           = "a customer service supervisor"
)

// TestEndToEndSettlesApprovalsAndReopensAsEscalation drives, through the HTTP API
// under the fast policy, the two behaviours of the case workflow that ending a case
// and a bad survey answer changed:
//
//   - a case that ends while a compensation approval is pending settles it: closed
//     by a supervisor (after an escalation that kept the approval pending) or
//     withdrawn by the customer, the case shows no pending approval, the
//     compensation is "withdrawn" and the audit log records approval_withdrawn;
//   - a survey answered "1, not resolved" reopens the resolved case at tier 3 as an
//     escalation: open with a fresh acknowledge deadline, an ETA and a proposed
//     owner who is told, and the customer gets one "reopened" email saying who
//     handles it and by when (no second "escalated" email).
func TestEndToEndSettlesApprovalsAndReopensAsEscalation(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	begin := time.Now()
	s := startStack(t)
	a := newAPI(s.APIURL)
	newFlow := func() *flow { return &flow{ctx: ctx, stack: s, api: a, started: begin} }

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"close_withdraws_the_pending_approval", newFlow().closeWithdrawsApproval},
		{"customer_withdrawal_withdraws_the_pending_approval", newFlow().customerWithdrawalWithdrawsApproval},
		{"low_survey_score_reopens_at_tier_3_as_an_escalation", newFlow().lowScoreReopensAsEscalation},
	}
	for _, st := range steps {
		t.Run(st.name, st.run)
	}
	t.Logf("passed in %s", time.Since(begin).Round(time.Millisecond))
}

// openFastCase opens a normal-priority billing case under the fast policy (it
// starts at tier 1) and returns it.
func (f *flow) openFastCase(t *testing.T, prefix string) tierflow.CaseView {
	t.Helper()
	ext := prefix + "-" + strconv.FormatInt(time.Now().UnixNano()%1_000_000_000, 10)
	f.open = tierflow.OpenCaseRequest{
		Source: "zendesk", ExternalID: ext,
		Customer: tierflow.Customer{ID: "C-" + ext, Name: "Grace Hopper", Email: strings.ToLower(ext) + "@example.com", Locale: "en"},
		Subject:  "Charged twice for order 8812", Description: "The customer sees two charges for one order.",
		Category: "billing", Priority: tierflow.PriorityNormal, Channel: "email", Department: "billing",
		OpenedAt: time.Now().UTC().Add(-time.Minute).Truncate(time.Second), Trigger: tierflow.TriggerUnresolved,
		FrontlineSummary: "Two settled charges in the payment log.", Policy: "fast",
	}
	v := f.api.do(f.ctx, t, tokIntegration, http.MethodPost, "/v1/cases", f.open).
		expect(t, http.StatusCreated, "open").caseView(t)
	f.caseID, f.view = v.ID, v
	require.Equal(t, tierflow.TierFrontline, v.Tier, "a normal, unresolved case starts at tier 1")
	require.Equal(t, "fast", v.Policy.Name)
	return v
}

// proposeAboveTier1 acknowledges as the agent and proposes a compensation above
// tier 1's authority (but within tier 2's): the case waits for the approval.
func (f *flow) proposeAboveTier1(t *testing.T, decisionPrefix string) tierflow.Approval {
	t.Helper()
	v := f.api.mustDecide(f.ctx, t, tokAgent, f.caseID, map[string]any{"action": "acknowledge", "decision_id": decisionPrefix + "-ack"})
	require.Equal(t, tierflow.StatusInProgress, v.Status)
	const amount = 12000 // 120.00: above 50.00, within 250.00
	require.Greater(t, amount, fastTier1AuthorityCents)
	v = f.api.mustDecide(f.ctx, t, tokAgent, f.caseID, map[string]any{
		"action": "propose_compensation", "decision_id": decisionPrefix + "-comp", "amount_cents": amount, "currency": "EUR",
		"description": "refund of the second charge",
	})
	assert.Equal(t, tierflow.StatusAwaitingApproval, v.Status)
	require.NotNil(t, v.PendingApproval, "120.00 is above tier 1's authority")
	assert.Equal(t, int64(amount), v.PendingApproval.AmountCents)
	assert.Equal(t, tierflow.TierSpecialist, v.PendingApproval.RequiredTier, "within tier 2's %d cents", fastTier2AuthorityCents)
	require.Len(t, v.Compensation, 1)
	assert.Equal(t, tierflow.CompensationPending, v.Compensation[0].Status)
	assert.Equal(t, v.Compensation[0].ID, v.PendingApproval.Compensation)
	f.view = v
	return *v.PendingApproval
}

// assertApprovalWithdrawn checks a closed case's view: no approval pending, the
// compensation withdrawn with its decision time.
func assertApprovalWithdrawn(t *testing.T, v tierflow.CaseView, ap tierflow.Approval, what string) {
	t.Helper()
	assert.Equal(t, tierflow.StatusClosed, v.Status, what)
	assert.NotNil(t, v.ClosedAt, what)
	assert.Nil(t, v.PendingApproval, "%s: a closed case keeps no pending approval", what)
	assert.Nil(t, v.Deadlines.ApprovalBy, "%s: no approval deadline", what)
	if assert.Len(t, v.Compensation, 1, what) {
		c := v.Compensation[0]
		assert.Equal(t, ap.Compensation, c.ID, what)
		assert.Equal(t, tierflow.CompensationWithdrawn, c.Status, "%s: the compensation says what became of it", what)
		assert.NotNil(t, c.DecidedAt, "%s: withdrawn at", what)
		assert.Empty(t, c.ApprovedBy, what)
	}
}

// waitForEvents polls the audit timeline (written by activities) until it holds
// every type in want, and returns it.
func (f *flow) waitForEvents(t *testing.T, within time.Duration, want ...tierflow.EventType) []tierflow.CaseEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, within)
	defer cancel()
	var events []tierflow.CaseEvent
	poll(ctx, t, fmt.Sprintf("the events %v in the audit timeline", want), 300*time.Millisecond, func() (bool, string) {
		events = f.api.events(f.ctx, t, tokViewer, f.caseID)
		names := make([]string, len(events))
		for i, ev := range events {
			names[i] = timelineName(ev)
		}
		for _, w := range want {
			if !slices.Contains(names, string(w)) {
				return false, fmt.Sprintf("%v", names)
			}
		}
		return true, ""
	})
	return events
}

// eventsOf returns the events of type typ, oldest first.
func eventsOf(events []tierflow.CaseEvent, typ tierflow.EventType) []tierflow.CaseEvent {
	var out []tierflow.CaseEvent
	for _, ev := range events {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// indexOf is the position of the first event named name (see timelineName), or -1.
func indexOf[N ~string](events []tierflow.CaseEvent, name N) int {
	return slices.IndexFunc(events, func(ev tierflow.CaseEvent) bool { return timelineName(ev) == string(name) })
}

// checkWithdrawnEvent: exactly one approval_withdrawn naming the approval and its
// compensation, recorded before the close.
func checkWithdrawnEvent(t *testing.T, events []tierflow.CaseEvent, ap tierflow.Approval) {
	t.Helper()
	withdrawn := eventsOf(events, tierflow.EventApprovalWithdrawn)
	require.Len(t, withdrawn, 1, "one approval_withdrawn event")
	ev := withdrawn[0]
	assert.Equal(t, ap.ID, ev.Details["approval_id"])
	assert.Equal(t, ap.Compensation, ev.Details["compensation_id"])
	assert.Contains(t, ev.Reason, "closed", "the reason says the case ended")
	assert.Less(t, indexOf(events, tierflow.EventApprovalWithdrawn), indexOf(events, tierflow.EventClosed),
		"the approval is settled before the case closes")
	assert.Empty(t, eventsOf(events, tierflow.EventApproved), "nobody approved it")
}

// closeWithdrawsApproval: an agent proposes 120.00 (above tier 1's authority) and
// escalates while it waits (the approval stays pending and the escalation says
// so); a supervisor closes the case: the approval is withdrawn.
func (f *flow) closeWithdrawsApproval(t *testing.T) {
	f.openFastCase(t, "E2E-CLOSE")
	ap := f.proposeAboveTier1(t, "close")

	v := f.api.mustDecide(f.ctx, t, tokAgent, f.caseID, map[string]any{
		"action": "escalate", "mode": "hierarchical", "decision_id": "close-esc",
		"reason": "needs a specialist", "summary": "Refund of 120.00 EUR proposed and waiting for approval.",
	})
	assert.Equal(t, tierflow.TierSpecialist, v.Tier)
	require.NotNil(t, v.PendingApproval, "the escalation keeps the approval pending")
	assert.Equal(t, ap.ID, v.PendingApproval.ID)

	// close needs a reason.
	f.api.decide(f.ctx, t, tokSupervisor, f.caseID, map[string]any{"action": "close"}).
		expect(t, http.StatusUnprocessableEntity, "close without a reason")
	v = f.api.mustDecide(f.ctx, t, tokSupervisor, f.caseID, map[string]any{
		"action": "close", "decision_id": "close-1", "reason": "duplicate of another ticket"})
	assertApprovalWithdrawn(t, v, ap, "the close decision's answer")
	assertApprovalWithdrawn(t, f.api.getCase(f.ctx, t, tokSupervisor, f.caseID), ap, "GET after the close")

	events := f.waitForEvents(t, 20*time.Second, tierflow.EventApprovalWithdrawn, tierflow.EventClosed)
	checkWithdrawnEvent(t, events, ap)
	esc := indexOf(events, tierflow.EventEscalated+":hierarchical")
	if assert.GreaterOrEqual(t, esc, 0, "the hierarchical escalation is in the timeline") {
		ev := events[esc]
		assert.Equal(t, ap.ID, ev.Details["approval_id"], "the escalation names the pending approval")
		assert.Contains(t, ev.Details["approval"], "still pending")
		assert.Less(t, indexOf(events, tierflow.EventApprovalRequested), esc)
		assert.Less(t, esc, indexOf(events, tierflow.EventApprovalWithdrawn))
	}
	closed := eventsOf(events, tierflow.EventClosed)
	if assert.Len(t, closed, 1) {
		assert.Equal(t, idSupervisor, closed[0].Actor.ID)
	}
}

// customerWithdrawalWithdrawsApproval: the customer withdraws the case (through
// the CRM integration) while 120.00 waits for approval: the approval is withdrawn.
func (f *flow) customerWithdrawalWithdrawsApproval(t *testing.T) {
	f.openFastCase(t, "E2E-WITHDRAW")
	ap := f.proposeAboveTier1(t, "withdraw")

	f.api.do(f.ctx, t, tokIntegration, http.MethodPost, "/v1/cases/"+url.PathEscape(f.caseID)+"/customer-events",
		map[string]any{"kind": "withdrawn", "event_id": "withdraw-1", "message": "Sorted it out with my bank."}).
		expect(t, http.StatusAccepted, "the customer withdraws")

	ctx, cancel := context.WithTimeout(f.ctx, 20*time.Second)
	defer cancel()
	poll(ctx, t, "the withdrawn case to close", 300*time.Millisecond, func() (bool, string) {
		f.view = f.api.getCase(f.ctx, t, tokSupervisor, f.caseID)
		return f.view.Status == tierflow.StatusClosed, "status " + string(f.view.Status)
	})
	assertApprovalWithdrawn(t, f.view, ap, "GET after the withdrawal")

	events := f.waitForEvents(t, 20*time.Second, tierflow.EventApprovalWithdrawn, tierflow.EventClosed)
	checkWithdrawnEvent(t, events, ap)
}

// lowScoreReopensAsEscalation: tier 1 resolves; the customer answers the survey
// (the link of the survey email, answered as JSON) with 1 and "not resolved": the
// case reopens at tier 3 as an escalation.
func (f *flow) lowScoreReopensAsEscalation(t *testing.T) {
	f.openFastCase(t, "E2E-REOPEN")
	f.api.mustDecide(f.ctx, t, tokAgent, f.caseID, map[string]any{"action": "acknowledge", "decision_id": "reopen-ack"})
	v := f.api.mustDecide(f.ctx, t, tokAgent, f.caseID, map[string]any{
		"action": "resolve", "decision_id": "reopen-resolve", "resolution": "We refunded the second charge."})
	require.Equal(t, tierflow.StatusResolved, v.Status)
	require.Equal(t, tierflow.TierFrontline, v.Tier)

	surveyMail := f.waitForMail(t, tierflow.MsgSurvey, 30*time.Second) // fast: 5s after the resolution
	link := surveyLink(f.mailText(t, surveyMail.ID))
	require.True(t, strings.HasPrefix(link, f.stack.APIURL+"/v1/surveys/"), "survey link %q points at the API", link)
	answeredAt := time.Now()
	r := f.api.do(f.ctx, t, "", http.MethodPost, strings.TrimPrefix(link, f.stack.APIURL),
		map[string]any{"score": 1, "resolved": false, "comment": "I was still charged twice."}).
		expect(t, http.StatusOK, "the survey answer")
	assert.Contains(t, string(r.Body), "recorded")

	// The tier-3 acknowledge clock runs (fast: 20s): check the case at once.
	v = f.api.getCase(f.ctx, t, tokSupervisor, f.caseID)
	f.view = v
	t.Logf("after the survey: tier %d, status %s, assignee %v, acknowledge by %v, answer by %v",
		v.Tier, v.Status, deref(v.Assignee), v.Deadlines.AcknowledgeBy, v.Deadlines.AnswerBy)
	assert.Equal(t, tierflow.TierSupervisor, v.Tier, "a low score reopens at tier 3")
	assert.Equal(t, tierflow.StatusOpen, v.Status, "tier 3 must acknowledge")
	assert.Equal(t, 1, v.Reopens)
	assert.Nil(t, v.ResolvedAt, "no longer resolved")
	assert.Nil(t, v.ClosedAt)
	assert.Empty(t, tierBreaches(v, tierflow.TierSupervisor), "no tier-3 breach yet")
	if assert.NotNil(t, v.Deadlines.AcknowledgeBy, "a fresh acknowledge deadline") {
		assert.True(t, v.Deadlines.AcknowledgeBy.After(answeredAt), "acknowledge_by %s is after the reopen (%s)",
			v.Deadlines.AcknowledgeBy.Format(time.RFC3339), answeredAt.Format(time.RFC3339))
	}
	assert.Nil(t, v.Deadlines.ResolveBy, "the resolve clock starts with the acknowledgement")
	require.NotNil(t, v.Deadlines.AnswerBy, "the customer's ETA")
	assert.True(t, v.Deadlines.AnswerBy.After(answeredAt), "answer_by is ahead")
	require.NotNil(t, v.Assignee, "an owner is proposed")
	owner := devStaffMember(*v.Assignee)
	require.NotNil(t, owner, "the assignee %q is a member of the staff directory", *v.Assignee)
	assert.Equal(t, tierflow.TierSupervisor, owner.Tier, "the proposed owner serves tier 3")
	if assert.NotNil(t, v.Survey) {
		assert.Equal(t, 1, v.Survey.Score)
		if assert.NotNil(t, v.Survey.Resolved) {
			assert.False(t, *v.Survey.Resolved)
		}
	}

	// The audit log: reopened, then the escalation (mode reopen) from tier 1 to 3,
	// then the assignment at tier 3.
	events := f.waitForEvents(t, 15*time.Second, tierflow.EventReopened, tierflow.EventEscalated+":reopen", tierflow.EventAssigned)
	names := make([]string, len(events))
	for i, ev := range events {
		names[i] = timelineName(ev)
	}
	t.Logf("timeline: %v", names)
	reopened := indexOf(events, tierflow.EventReopened)
	esc := indexOf(events, tierflow.EventEscalated+":reopen")
	assert.Less(t, indexOf(events, tierflow.EventSurveyAnswered), reopened, "the answer comes first")
	assert.Less(t, reopened, esc, "reopened, then escalated")
	assert.Len(t, eventsOf(events, tierflow.EventReopened), 1)
	if esc >= 0 {
		ev := events[esc]
		assert.Equal(t, tierflow.TierFrontline, ev.FromTier)
		assert.Equal(t, tierflow.TierSupervisor, ev.Tier)
		assert.Contains(t, ev.CustomerMessage, "tier 3", "the audit log says what the customer was told")
		var assigned *tierflow.CaseEvent
		for i := esc + 1; i < len(events); i++ {
			if events[i].Type == tierflow.EventAssigned {
				assigned = &events[i]
				break
			}
		}
		if assert.NotNil(t, assigned, "an assignment after the escalation: %v", names) {
			assert.Equal(t, tierflow.TierSupervisor, assigned.Tier)
			assert.Equal(t, *v.Assignee, assigned.Details["assignee"])
		}
	}

	// The mailbox: the owner is told, the customer gets one "reopened" email.
	reopenMail := f.waitForMail(t, tierflow.MsgReopened, 15*time.Second)
	assignMail := f.waitForMailAfter(t, tierflow.MsgStaffAssignment, surveyMail.ID, 15*time.Second)
	assert.Contains(t, assignMail.To, owner.Email, "the staff assignment goes to the tier-3 owner")
	assert.Equal(t, []string{f.open.Customer.Email}, reopenMail.To)
	text := f.mailText(t, reopenMail.ID)
	assert.Contains(t, text, "We have reopened your case")
	assert.Contains(t, strings.ToLower(text), fastTier3Team+" (support tier 3)", "who handles it now")
	when := v.Deadlines.AnswerBy.UTC().Format("Monday 2 January 2006 at 15:04 MST")
	assert.Contains(t, text, "hear from us by "+when, "by when: the case's answer_by")

	msgs, err := f.stack.Store.ListMail(f.ctx, f.caseID, 200)
	require.NoError(t, err)
	var reopenedMails, laterEscalated []string
	for _, m := range msgs {
		switch {
		case m.Kind == tierflow.MsgReopened:
			reopenedMails = append(reopenedMails, m.Subject)
		case m.Kind == tierflow.MsgEscalated && m.ID > surveyMail.ID &&
			(v.Deadlines.AcknowledgeBy == nil || m.CreatedAt.Before(*v.Deadlines.AcknowledgeBy)):
			// An escalated email after the survey and before tier 3's acknowledge
			// deadline could only be about the reopen.
			laterEscalated = append(laterEscalated, m.Subject)
		}
	}
	assert.Len(t, reopenedMails, 1, "one reopened email")
	assert.Empty(t, laterEscalated, "no escalated email besides the reopened one")
}

// waitForMailAfter waits for the case's first message of kind kept after the
// message afterID.
func (f *flow) waitForMailAfter(t *testing.T, kind tierflow.MessageKind, afterID int64, within time.Duration) tierflow.MailboxMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, within)
	defer cancel()
	var found tierflow.MailboxMessage
	poll(ctx, t, fmt.Sprintf("a %s email after message %d", kind, afterID), 300*time.Millisecond, func() (bool, string) {
		msgs, err := f.stack.Store.ListMail(ctx, f.caseID, 200)
		if err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, m := range msgs {
			if m.Kind == kind && m.ID > afterID {
				found = m
				return true, ""
			}
			seen = append(seen, fmt.Sprintf("%d:%s", m.ID, m.Kind))
		}
		return false, fmt.Sprintf("%v", seen)
	})
	return found
}

// tierBreaches lists the breaches of tier.
func tierBreaches(v tierflow.CaseView, tier tierflow.Tier) []tierflow.Breach {
	var out []tierflow.Breach
	for _, b := range v.Breaches {
		if b.Tier == tier {
			out = append(out, b)
		}
	}
	return out
}

func devStaffMember(id string) *tierflow.StaffMember {
	for i := range postgres.DevStaff {
		if postgres.DevStaff[i].ID == id {
			return &postgres.DevStaff[i]
		}
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
