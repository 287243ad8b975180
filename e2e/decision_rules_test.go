package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// TestEndToEndDecisionRulesComeFromTheWorkflow: the API sends a decision as one
// Update, without reading the case first; who may decide is the workflow's
// validator's answer. Every refusal the API's own pre-check gave before still
// comes, with the same status, and the approval's recipient may now decide it
// after the case climbed past them (the pre-check refused that; the workflow
// always allowed it).
func TestEndToEndDecisionRulesComeFromTheWorkflow(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	begin := time.Now()
	s := startStack(t)
	a := newAPI(s.APIURL)
	newFlow := func() *flow { return &flow{ctx: ctx, stack: s, api: a, started: begin} }

	t.Run("refusals", newFlow().refusalsFromTheWorkflow)
	t.Run("approval_recipient_after_the_case_climbed", newFlow().approvalRecipientAfterClimb)
	t.Logf("passed in %s", time.Since(begin).Round(time.Millisecond))
}

// refusalsFromTheWorkflow: a tier 1 shipping case refuses the billing specialist
// (above its tier, another department: the department rule holds at every tier);
// a tier 2 shipping case refuses the frontline agent (below its tier) and the
// billing specialist (at its tier, another department); close needs a supervisor;
// approving with nothing pending is a conflict; resolving at tier 3 without an
// explanation is invalid. A note is anyone's.
func (f *flow) refusalsFromTheWorkflow(t *testing.T) {
	f.openFastCase(t, "E2E-RULES")
	refused := func(token string, d map[string]any, status int, what string) string {
		t.Helper()
		r := f.api.decide(f.ctx, t, token, f.caseID, d).expect(t, status, what)
		var p struct {
			Detail string `json:"detail"`
		}
		r.decode(t, &p)
		assert.NotEmpty(t, p.Detail, "%s: the workflow's reason", what)
		return p.Detail
	}
	ack := map[string]any{"action": "acknowledge"}

	v := f.api.mustDecide(f.ctx, t, tokAgent, f.caseID, map[string]any{
		"action": "transfer", "department": "shipping", "decision_id": "rules-transfer",
		"summary": "The parcel never arrived; shipping handles it.",
	})
	require.Equal(t, tierflow.TierFrontline, v.Tier)
	require.Equal(t, "shipping", v.Department)
	detail := refused(tokSpecialist, ack, http.StatusForbidden, "a specialist above the case's tier, of another department")
	assert.Contains(t, detail, "shipping department")
	refused(tokSpecialist, map[string]any{"action": "update_customer", "message": "we are on it"}, http.StatusForbidden,
		"a specialist above the case's tier, of another department, writing to the customer")

	v = f.api.mustDecide(f.ctx, t, tokAgent, f.caseID, map[string]any{
		"action": "escalate", "mode": "functional", "department": "shipping", "decision_id": "rules-esc",
		"reason": "a lost parcel", "summary": "The carrier lost the parcel; shipping must trace it.",
	})
	require.Equal(t, tierflow.TierSpecialist, v.Tier)
	require.Equal(t, "shipping", v.Department)

	refused(tokAgent, ack, http.StatusForbidden, "an agent below the case's tier")
	refused(tokSpecialist, ack, http.StatusForbidden, "a specialist of another department at the case's tier")
	refused(tokAgent, map[string]any{"action": "close", "reason": "duplicate"}, http.StatusForbidden, "an agent closing")
	refused(tokSupervisor, map[string]any{"action": "approve", "approval_id": "ap-none"}, http.StatusConflict,
		"an approval with none pending")
	f.api.mustDecide(f.ctx, t, tokAgent, f.caseID, map[string]any{"action": "note", "text": "called the carrier"})

	v = f.api.mustDecide(f.ctx, t, tokSupervisor, f.caseID, map[string]any{
		"action": "escalate", "mode": "hierarchical", "decision_id": "rules-esc-3",
		"reason": "the customer asked for a supervisor", "summary": "Parcel lost; the customer wants a supervisor.",
	})
	require.GreaterOrEqual(t, v.Tier, tierflow.TierSupervisor)
	refused(tokSupervisor, map[string]any{"action": "resolve", "resolution": "refunded"}, http.StatusUnprocessableEntity,
		"a resolve at tier 3 without an explanation")

	events := f.api.events(f.ctx, t, tokSupervisor, f.caseID)
	for _, ev := range events {
		assert.NotEqual(t, tierflow.EventDecisionRejected, ev.Type, "a refused Update leaves no trace (event %d)", ev.Seq)
	}
}

// approvalRecipientAfterClimb: 120.00 waits for tier 2's approval; the case climbs
// to tier 3; the specialist, whom the request was sent to, approves it through
// the API.
func (f *flow) approvalRecipientAfterClimb(t *testing.T) {
	f.openFastCase(t, "E2E-CLIMB")
	ap := f.proposeAboveTier1(t, "climb")
	for i, reason := range []string{"needs a specialist", "needs a supervisor"} {
		v := f.api.mustDecide(f.ctx, t, tokSupervisor, f.caseID, map[string]any{
			"action": "escalate", "mode": "hierarchical", "decision_id": "climb-esc-" + string(rune('1'+i)),
			"reason": reason, "summary": "Refund of 120.00 EUR proposed and waiting for approval.",
		})
		require.NotNil(t, v.PendingApproval, "the escalation keeps the approval pending")
	}
	v := f.api.getCase(f.ctx, t, tokSpecialist, f.caseID)
	require.Greater(t, v.Tier, tierflow.TierSpecialist, "the case climbed past the approval's recipient")

	v = f.api.mustDecide(f.ctx, t, tokSpecialist, f.caseID, map[string]any{
		"action": "approve", "approval_id": ap.ID, "decision_id": "climb-approve", "note": "the refund is due"})
	assert.Nil(t, v.PendingApproval, "the answer shows the approval decided")
	require.Len(t, v.Compensation, 1)
	assert.Equal(t, tierflow.CompensationApproved, v.Compensation[0].Status)
	assert.Equal(t, "dev:specialist", v.Compensation[0].ApprovedBy, "the specialist's principal")
}
