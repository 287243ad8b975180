package workflows

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// migrationTarget is testPolicy's next version with every normal-priority tier
// clock halved: acknowledge 4h, resolve 12h (24x7).
func migrationTarget() *tierflow.Policy {
	p := testPolicy()
	p.Version = "v2"
	n := p.Priorities[tierflow.PriorityNormal]
	n.Acknowledge.Default, n.Resolve.Default = dur(4*time.Hour), dur(12*time.Hour)
	p.Priorities = map[tierflow.Priority]tierflow.PriorityPolicy{
		tierflow.PriorityUrgent: p.Priorities[tierflow.PriorityUrgent], tierflow.PriorityHigh: p.Priorities[tierflow.PriorityHigh],
		tierflow.PriorityNormal: n, tierflow.PriorityLow: p.Priorities[tierflow.PriorityLow]}
	return &p
}

func migrateTo(actor tierflow.Principal, p *tierflow.Policy, id string) tierflow.Decision {
	return tierflow.Decision{Action: tierflow.ActionMigratePolicy, DecisionID: id, Actor: actor,
		Policy: p.Ref(), PolicySnapshot: p, Reason: "the faster policy applies to billing cases"}
}

// explanationText is the explanation of the view's deadline of clock ("" when none).
func explanationText(v tierflow.CaseView, clock tierflow.Clock) string {
	if dl := explanationOf(v.Deadlines, clock); dl != nil {
		return dl.Explanation
	}
	return ""
}

// A supervisor moves an open case to a faster policy an hour in: the
// acknowledge clock's used hour counts against the new 4h (due at 4h, warning
// at 3h), the answer promise becomes 4h+12h, the close target is kept; each
// explanation names both versions; the audit event says from, to, why and the
// deadlines before and after; the customer gets one eta_changed email; and the
// new clock fires: the unacknowledged case breaches at 4h, not 8h.
func TestMigratePolicyRebasesDeadlinesAndTellsTheCustomer(t *testing.T) {
	env, f := testEnv(t, t0)
	migrated := decideAt(t, env, time.Hour, migrateTo(supervisor, migrationTarget(), "m-1"))
	mid := queryAt(t, env, 90*time.Minute)
	decideAt(t, env, 6*time.Hour, closeBy(executive, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	result(t, env)

	require.NoError(t, migrated.rejected)
	require.NoError(t, migrated.err)
	assert.Equal(t, tierflow.PolicyRef{Name: "test", Version: "v2"}, mid.Policy)
	require.NotNil(t, mid.Deadlines.AcknowledgeBy)
	assert.Equal(t, t0.Add(4*time.Hour), mid.Deadlines.AcknowledgeBy.UTC())
	require.NotNil(t, mid.Deadlines.AnswerBy)
	assert.Equal(t, t0.Add(16*time.Hour), mid.Deadlines.AnswerBy.UTC())
	assert.Equal(t, t0.Add(30*day), mid.Deadlines.CloseTargetAt.UTC())
	ack := explanationText(*mid, tierflow.ClockAcknowledge)
	assert.Contains(t, ack, "was 8h under test@v1")
	assert.Contains(t, ack, "now 4h under test@v2")
	assert.Contains(t, ack, "policy test version v2")

	evs := f.eventsOf(tierflow.EventPolicyMigrated)
	require.Len(t, evs, 1)
	ev := evs[0]
	assert.Equal(t, supervisor.ID, ev.Actor.ID)
	assert.Equal(t, "the faster policy applies to billing cases", ev.Reason)
	assert.Equal(t, "test@v1", ev.Details[tierflow.DetailFromPolicy])
	assert.Equal(t, "test@v2", ev.Details[tierflow.DetailPolicy])
	assert.Equal(t, "m-1", ev.Details[tierflow.DetailDecisionID])
	assert.Contains(t, ev.Details[tierflow.DetailDeadlinesBefore], "acknowledge.t1="+t0.Add(8*time.Hour).Format(time.RFC3339))
	assert.Contains(t, ev.Details[tierflow.DetailDeadlinesAfter], "acknowledge.t1="+t0.Add(4*time.Hour).Format(time.RFC3339))
	assert.Contains(t, ev.Summary, "now 4h under test@v2")
	assert.NotEmpty(t, ev.CustomerMessage, "the record says the customer was told")

	etas := f.customerOf(tierflow.MsgETAChanged)
	require.Len(t, etas, 1, "one email for the new ETA")
	require.NotNil(t, etas[0].Data.ETA)
	assert.Equal(t, t0.Add(16*time.Hour), etas[0].Data.ETA.UTC())

	warnings, breaches := f.eventsOf(tierflow.EventWarning), f.eventsOf(tierflow.EventBreach)
	require.NotEmpty(t, warnings)
	assert.Equal(t, t0.Add(3*time.Hour), warnings[0].At.UTC(), "the warning at 75% of the new 4h")
	require.NotEmpty(t, breaches)
	assert.Equal(t, t0.Add(4*time.Hour), breaches[0].At.UTC(), "the new acknowledge deadline fires")
	f.checkRecord(t)
}

// A migration that leaves the customer's ETA where it was (only the close
// target differs) is recorded, but sends the customer nothing.
func TestMigratePolicyWithoutNewETASendsNoEmail(t *testing.T) {
	target := testPolicy()
	target.Version = "v3"
	target.CloseTarget = tierflow.CloseTargetPolicy{After: dur(20 * day), WarnAfter: dur(15 * day)}
	env, f := testEnv(t, t0)
	migrated := decideAt(t, env, time.Hour, migrateTo(executive, &target, "m-1"))
	mid := queryAt(t, env, 2*time.Hour)
	decideAt(t, env, 3*time.Hour, closeBy(executive, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	result(t, env)

	require.NoError(t, migrated.rejected)
	require.Len(t, f.eventsOf(tierflow.EventPolicyMigrated), 1)
	assert.Empty(t, f.customerOf(tierflow.MsgETAChanged), "the ETA did not change")
	assert.Equal(t, t0.Add(20*day), mid.Deadlines.CloseTargetAt.UTC())
	assert.Equal(t, t0.Add(8*time.Hour), mid.Deadlines.AcknowledgeBy.UTC())
	assert.Contains(t, explanationText(*mid, tierflow.ClockCloseTarget), "was 30d under test@v1")
}

// While the case waits on the customer, the tier clocks stand still: the
// migration counts their used time up to the pause, and the resume moves them
// on by the wait, as before.
func TestMigratePolicyWhilePaused(t *testing.T) {
	env, f := testEnv(t, t0)
	decideAt(t, env, time.Hour, tierflow.Decision{Action: tierflow.ActionRequestInfo, Actor: agent, Message: "which card?"})
	migrated := decideAt(t, env, 2*time.Hour, migrateTo(supervisor, migrationTarget(), "m-1"))
	at(env, 3*time.Hour, func() {
		env.SignalWorkflow(SignalCustomerEvent, tierflow.CustomerEvent{Kind: tierflow.CustomerReply, EventID: "r1", Message: "visa"})
	})
	resumed := queryAt(t, env, 3*time.Hour+time.Minute)
	decideAt(t, env, 4*time.Hour, closeBy(executive, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	result(t, env)

	require.NoError(t, migrated.rejected)
	// 1h used of the new 4h at the pause, 2h of waiting: due at 6h.
	require.NotNil(t, resumed.Deadlines.AcknowledgeBy)
	assert.Equal(t, t0.Add(6*time.Hour), resumed.Deadlines.AcknowledgeBy.UTC())
	// Paused, the customer is told how long the answer will take once the wait
	// ends: that changed (the reply's resume sends the second).
	evs := f.eventsOf(tierflow.EventPolicyMigrated)
	require.Len(t, evs, 1)
	etas := f.customerOf(tierflow.MsgETAChanged)
	require.Len(t, etas, 2)
	assert.Equal(t, fmt.Sprintf("%s/%d/%s", testCaseID, evs[0].Seq, tierflow.MsgETAChanged), etas[0].Key)
	assert.Nil(t, etas[0].Data.ETA, "no instant while the case waits")
	assert.Equal(t, "15 hours", etas[0].Data.AnswerWithin, "16h under v2, 1h used")
}

// Only a supervisor or above migrates, only with the policy's content, only to
// another policy, and never a closed case.
func TestMigratePolicyRefusals(t *testing.T) {
	env, f := testEnv(t, t0)
	byAgent := decideAt(t, env, time.Minute, migrateTo(agent, migrationTarget(), "m-agent"))
	bySpecialist := decideAt(t, env, 2*time.Minute, migrateTo(specialist, migrationTarget(), "m-spec"))
	bare := migrateTo(supervisor, migrationTarget(), "m-bare")
	bare.PolicySnapshot = nil
	withoutContent := decideAt(t, env, 3*time.Minute, bare)
	mismatched := migrateTo(supervisor, migrationTarget(), "m-mismatch")
	mismatched.Policy = "other@v2"
	wrongContent := decideAt(t, env, 4*time.Minute, mismatched)
	same := testPolicy()
	toSame := decideAt(t, env, 5*time.Minute, migrateTo(supervisor, &same, "m-same"))
	decideAt(t, env, 10*time.Minute, closeBy(executive, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	result(t, env)

	for name, c := range map[string]struct {
		o    *outcome
		code tierflow.Code
		text string
	}{
		"agent":           {byAgent, tierflow.CodeForbidden, "supervisor"},
		"specialist":      {bySpecialist, tierflow.CodeForbidden, "supervisor"},
		"without content": {withoutContent, tierflow.CodeInvalid, "invalid migrate_policy"},
		"wrong content":   {wrongContent, tierflow.CodeInvalid, "invalid migrate_policy"},
		"same policy":     {toSame, tierflow.CodeConflict, "already runs under policy test@v1"},
	} {
		require.Error(t, c.o.rejected, name)
		e, ok := AsCaseError(c.o.rejected)
		require.True(t, ok, name)
		assert.Equal(t, c.code, e.Code, "%s: %s", name, e.Message)
		assert.True(t, strings.Contains(e.Message, c.text), "%s: %q", name, e.Message)
	}
	assert.Empty(t, f.eventsOf(tierflow.EventPolicyMigrated))

	closed := &caseWorkflow{in: input(testPolicy(), testRequest()), st: &CaseState{Status: tierflow.StatusClosed}}
	err := closed.validateDecision(migrateTo(executive, migrationTarget(), "m-closed"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "closed")
}
