package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
)

// The department rule holds at every tier: an agent or specialist acts (anything
// but a note) only on a case of a department they serve, even when their tier is
// above the case's. Supervisors and executives name no department and are not
// concerned.

// shippingSpecialist serves shipping at tier 2 (testDirectory's spec-2);
// specialist serves billing only.
var shippingSpecialist = tierflow.Principal{ID: "spec-2", Role: tierflow.RoleSpecialist, Tier: 2, Departments: []string{"shipping"}}

// shippingCase is a tier-1 case of the shipping department.
func shippingCase() tierflow.OpenCaseRequest {
	r := testRequest()
	r.Department = "shipping"
	return r
}

func TestDepartmentRuleAtEveryTierRefusesAnUpdateAndASignal(t *testing.T) {
	env, f := testEnv(t, t0)
	asked := 0
	env.OnGetVersion(changeDepartmentAtEveryTier, workflow.DefaultVersion, 1).
		Run(func(mock.Arguments) { asked++ }).Return(workflow.Version(1))
	update := decideAt(t, env, time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, DecisionID: "u-1", Actor: specialist})
	at(env, 2*time.Minute, func() {
		env.SignalWorkflow(SignalDecision, tierflow.Decision{Action: tierflow.ActionAcknowledge, DecisionID: "s-1", Actor: specialist})
	})
	after := queryAt(t, env, 3*time.Minute)
	note := decideAt(t, env, 4*time.Minute, tierflow.Decision{Action: tierflow.ActionNote, DecisionID: "n-1", Actor: specialist,
		Text: "a note is open to any staff"})
	decideAt(t, env, time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), shippingCase()))
	result(t, env)

	require.Error(t, update.rejected, "a tier-2 billing specialist may not act on a tier-1 shipping case")
	assert.Equal(t, tierflow.CodeForbidden, rejectionCode(t, update.rejected))
	assert.Contains(t, update.rejected.Error(), "does not serve the shipping department")
	rejected := f.eventsOf(tierflow.EventDecisionRejected)
	require.Len(t, rejected, 1, "the signal is recorded as rejected")
	assert.Contains(t, rejected[0].Reason, "does not serve the shipping department")
	assert.Equal(t, tierflow.StatusOpen, after.Status, "nobody acknowledged")
	require.NoError(t, note.rejected)
	assert.Equal(t, 1, asked, "only the signal's handler asks the patch; the Update's validator refused first")
}

// An actor who serves the department acts above its tier as before, and an
// ordinary run asks no patch.
func TestDepartmentRuleAtEveryTierLetsTheDepartmentAct(t *testing.T) {
	env, f := testEnv(t, t0)
	asked := 0
	env.OnGetVersion(changeDepartmentAtEveryTier, workflow.DefaultVersion, 1).
		Run(func(mock.Arguments) { asked++ }).Return(workflow.Version(1))
	ack := decideAt(t, env, time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, DecisionID: "u-1", Actor: shippingSpecialist})
	at(env, 2*time.Minute, func() {
		env.SignalWorkflow(SignalDecision, tierflow.Decision{Action: tierflow.ActionUpdateCustomer, DecisionID: "s-1",
			Actor: shippingSpecialist, Message: "on its way"})
	})
	decideAt(t, env, time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), shippingCase()))
	result(t, env)

	require.NoError(t, ack.rejected)
	assert.Equal(t, tierflow.StatusInProgress, ack.view.Status)
	assert.Empty(t, f.eventsOf(tierflow.EventDecisionRejected))
	assert.Equal(t, 0, asked, "no marker when the new rule changes nothing")
}

// An approval's recipients are the required tier's staff of the case's
// department: one of them decides it, a specialist of another department may not.
func TestDepartmentRuleAtEveryTierForApprovals(t *testing.T) {
	env, _ := testEnv(t, t0)
	decideAt(t, env, 10*time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
	proposed := decideAt(t, env, 20*time.Minute, tierflow.Decision{Action: tierflow.ActionProposeCompensation, DecisionID: "p1",
		Actor: agent, AmountCents: 10000, Currency: "EUR", Description: "refund of the postage"}) // tier 2 approves
	byBilling, byShipping := &outcome{}, &outcome{}
	at(env, time.Hour, func() {
		id := proposed.view.PendingApproval.ID
		sendUpdateTo(t, env, UpdateDecide, tierflow.Decision{Action: tierflow.ActionApprove, Actor: specialist, ApprovalID: id}, byBilling)
		sendUpdateTo(t, env, UpdateDecide, tierflow.Decision{Action: tierflow.ActionApprove, Actor: shippingSpecialist, ApprovalID: id}, byShipping)
	})
	decideAt(t, env, 2*time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), shippingCase()))
	result(t, env)

	require.NotNil(t, proposed.view.PendingApproval)
	assert.Equal(t, tierflow.TierSpecialist, proposed.view.PendingApproval.RequiredTier)
	require.Error(t, byBilling.rejected)
	assert.Equal(t, tierflow.CodeForbidden, rejectionCode(t, byBilling.rejected))
	assert.Contains(t, byBilling.rejected.Error(), "shipping")
	require.NoError(t, byShipping.rejected)
	assert.Nil(t, byShipping.view.PendingApproval)
}

// An approval email's link decides as the required tier's staff of the
// department the email went to: a tier-2 link of the case's department is
// admitted, one signed for another department is not.
func TestDepartmentRuleAtEveryTierForApprovalLinks(t *testing.T) {
	env, _ := testEnv(t, t0)
	decideAt(t, env, 10*time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
	proposed := decideAt(t, env, 20*time.Minute, tierflow.Decision{Action: tierflow.ActionProposeCompensation, DecisionID: "p1",
		Actor: agent, AmountCents: 10000, Currency: "EUR", Description: "refund of the postage"}) // tier 2 approves
	byBillingLink, byShippingLink := &outcome{}, &outcome{}
	at(env, time.Hour, func() {
		link := tierflow.ApprovalLink{CaseID: testCaseID, ApprovalID: proposed.view.PendingApproval.ID,
			Tier: tierflow.TierSpecialist, Decision: tierflow.ActionApprove, Department: "billing"}
		sendUpdateTo(t, env, UpdateDecide, link.Decide("from the email"), byBillingLink)
		link.Department = "shipping"
		sendUpdateTo(t, env, UpdateDecide, link.Decide("from the email"), byShippingLink)
	})
	decideAt(t, env, 2*time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), shippingCase()))
	result(t, env)

	require.NotNil(t, proposed.view.PendingApproval)
	assert.Equal(t, tierflow.TierSpecialist, proposed.view.PendingApproval.RequiredTier)
	require.Error(t, byBillingLink.rejected, "a link signed for billing on a shipping case")
	assert.Equal(t, tierflow.CodeForbidden, rejectionCode(t, byBillingLink.rejected))
	require.NoError(t, byShippingLink.rejected, "the shipping specialists' link")
	assert.Nil(t, byShippingLink.view.PendingApproval)
	require.Len(t, byShippingLink.view.Compensation, 1)
	assert.Equal(t, "email-link:tier-2", byShippingLink.view.Compensation[0].ApprovedBy)
}

// A run from before changeDepartmentAtEveryTier applied such a decision: its
// history replays with the rule it was recorded under.
func TestDepartmentRuleAtEveryTierKeepsOlderRuns(t *testing.T) {
	env, f := testEnv(t, t0)
	env.OnGetVersion(changeDepartmentAtEveryTier, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	at(env, time.Minute, func() {
		env.SignalWorkflow(SignalDecision, tierflow.Decision{Action: tierflow.ActionAcknowledge, DecisionID: "s-1", Actor: specialist})
	})
	after := queryAt(t, env, 3*time.Minute)
	decideAt(t, env, time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), shippingCase()))
	result(t, env)

	assert.Empty(t, f.eventsOf(tierflow.EventDecisionRejected))
	assert.Equal(t, tierflow.StatusInProgress, after.Status, "applied as the old rule did")
}
