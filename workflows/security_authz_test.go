package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// Authorization gaps (issue 9, item 6) where the case workflow is the last word.

// A survey link is bound to its round: after a reopen and a second resolution, the
// first survey's link (round 1) cannot answer the second survey; the second's can.
func TestSecurityOldSurveyRoundCannotAnswerAfterReopen(t *testing.T) {
	env, f := testEnv(t, t0)
	sent := 2*time.Hour + day // the first survey goes out a day after the resolution
	decideAt(t, env, time.Hour, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
	decideAt(t, env, 2*time.Hour, tierflow.Decision{Action: tierflow.ActionResolve, Actor: agent, Resolution: "refunded"})
	at(env, sent+time.Hour, func() {
		env.SignalWorkflow(SignalCustomerEvent, tierflow.CustomerEvent{Kind: tierflow.CustomerReply, EventID: "r-1",
			Source: integration, Message: "still not refunded"})
	})
	resolvedAgain := decideAt(t, env, sent+2*time.Hour, tierflow.Decision{Action: tierflow.ActionResolve, DecisionID: "res-2",
		Actor: agent, Resolution: "refunded, for real"})
	secondSent := sent + 2*time.Hour + day
	secondOut := queryAt(t, env, secondSent+time.Minute)
	replayed := &outcome{}
	at(env, secondSent+time.Hour, func() {
		sendUpdateTo(t, env, UpdateSurvey, tierflow.SurveyResponse{Score: 5, Resolved: true, Comment: "replayed", Round: 1}, replayed)
	})
	answered := &outcome{}
	at(env, secondSent+2*time.Hour, func() {
		sendUpdateTo(t, env, UpdateSurvey, tierflow.SurveyResponse{Score: 5, Resolved: true, Round: 2}, answered)
	})
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	final := result(t, env)

	require.NoError(t, resolvedAgain.rejected)
	require.NotNil(t, secondOut.Survey)
	assert.Equal(t, tierflow.SurveySent, secondOut.Survey.Status)
	assert.Equal(t, 2, secondOut.Survey.Round, "the survey after one reopen is round 2")

	require.Error(t, replayed.rejected, "the first survey's link answers nothing")
	assert.Equal(t, tierflow.CodeGone, rejectionCode(t, replayed.rejected))
	assert.Contains(t, replayed.rejected.Error(), "earlier survey")
	require.NoError(t, answered.rejected)
	assert.Equal(t, tierflow.StatusClosed, final.Status)
	assert.Empty(t, f.eventsOf(tierflow.EventSurveyAnswered)[0].Summary, "the answer recorded is the current link's")

	surveys := f.customerOf(tierflow.MsgSurvey)
	require.Len(t, surveys, 2)
	assert.Equal(t, 1, surveys[0].Data.SurveyRound, "each survey email's link is signed for its round")
	assert.Equal(t, 2, surveys[1].Data.SurveyRound)
}

// An answer that names no round is not taken (the API always sends the round of
// the link it verified).
func TestSecuritySurveyAnswerMustNameItsRound(t *testing.T) {
	env, _ := testEnv(t, t0)
	decideAt(t, env, time.Hour, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
	decideAt(t, env, 2*time.Hour, tierflow.Decision{Action: tierflow.ActionResolve, Actor: agent, Resolution: "refunded"})
	unnamed := &outcome{}
	at(env, 2*time.Hour+day+time.Hour, func() {
		sendUpdateTo(t, env, UpdateSurvey, tierflow.SurveyResponse{Score: 5, Resolved: true}, unnamed)
	})
	decideAt(t, env, 3*day, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	result(t, env)

	require.Error(t, unnamed.rejected)
	assert.Equal(t, tierflow.CodeInvalid, rejectionCode(t, unnamed.rejected))
	assert.Contains(t, unnamed.rejected.Error(), "round")
}

// An agent without departments serves no department: on a billing case at its
// tier, its decision is refused (Update) or recorded as rejected (Signal). A run
// from before changeDepartmentsRequired keeps the old rule (it served all), so its
// history replays.
func TestSecurityDepartmentlessAgentServesNoDepartment(t *testing.T) {
	billing := testRequest()
	billing.Department = "billing" // unresolved, normal priority: tier 1
	noDepartments := tierflow.Principal{ID: "agent-none", Role: tierflow.RoleAgent, Tier: 1}
	// The staff directory vouches for signals; agent-none is a row written before
	// the directory required departments (UpsertStaff refuses it now).
	directory := testDirectory()
	directory[noDepartments.ID] = activities.LookUpStaffResult{Found: true, Active: true, Member: noDepartments}

	t.Run("refused", func(t *testing.T) {
		env, f := testEnv(t, t0)
		f.directory = directory
		update := decideAt(t, env, time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, DecisionID: "u-1", Actor: noDepartments})
		at(env, 2*time.Minute, func() {
			env.SignalWorkflow(SignalDecision, tierflow.Decision{Action: tierflow.ActionAcknowledge, DecisionID: "s-1", Actor: noDepartments})
		})
		after := queryAt(t, env, 3*time.Minute)
		decideAt(t, env, time.Hour, closeBy(supervisor, "end"))
		env.ExecuteWorkflow(WorkflowName, input(testPolicy(), billing))
		result(t, env)

		require.Error(t, update.rejected)
		assert.Equal(t, tierflow.CodeForbidden, rejectionCode(t, update.rejected))
		rejected := f.eventsOf(tierflow.EventDecisionRejected)
		require.Len(t, rejected, 1, "the signal is recorded as rejected")
		assert.Contains(t, rejected[0].Reason, "billing")
		assert.Equal(t, tierflow.StatusOpen, after.Status, "nobody acknowledged")
	})
	t.Run("a run from before the rule", func(t *testing.T) {
		env, f := testEnv(t, t0)
		f.directory = directory
		beforeLeanHistory(env)
		env.OnGetVersion(changeDepartmentsRequired, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
		at(env, time.Minute, func() {
			env.SignalWorkflow(SignalDecision, tierflow.Decision{Action: tierflow.ActionAcknowledge, DecisionID: "s-1", Actor: noDepartments})
		})
		after := queryAt(t, env, 3*time.Minute)
		decideAt(t, env, time.Hour, closeBy(supervisor, "end"))
		env.ExecuteWorkflow(WorkflowName, input(testPolicy(), billing))
		result(t, env)

		assert.Empty(t, f.eventsOf(tierflow.EventDecisionRejected))
		assert.Equal(t, tierflow.StatusInProgress, after.Status, "applied as the old rule did")
	})
}

// rejectionCode is the case error code an Update was refused with.
func rejectionCode(t *testing.T, err error) tierflow.Code {
	t.Helper()
	ce, ok := AsCaseError(err)
	require.True(t, ok, "a case error: %v", err)
	return ce.Code
}
