package workflows

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
)

// When the server suggests continue-as-new, the run applies the signals that
// arrived with the suggestion, then continues with the whole state; the next run
// picks up the same clocks, sequence and deduplication memory.
func TestContinueAsNewKeepsStateAndSignals(t *testing.T) {
	env, f := testEnv(t, t0)
	note := tierflow.Decision{Action: tierflow.ActionNote, DecisionID: "n-1", Actor: agent, Text: "called the bank"}
	// The server suggests continue-as-new from the start, and two signals arrive
	// while the opening transition is being recorded: they wait in their channels
	// when the workflow decides to continue, and must be applied first.
	env.SetContinueAsNewSuggested(true)
	f.onRecord = func(n int) {
		if n == 1 {
			env.SignalWorkflow(SignalDecision, note)
			env.SignalWorkflow(SignalCustomerEvent, tierflow.CustomerEvent{Kind: tierflow.CustomerReply, EventID: "r-1", Message: "any news?"})
		}
	}
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))

	require.True(t, env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(env.GetWorkflowError(), &can), "got %v", env.GetWorkflowError())
	assert.Equal(t, WorkflowName, can.WorkflowType.Name)
	var next CaseInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.NotNil(t, next.Resume)
	st := next.Resume
	assert.Equal(t, testRequest().ExternalID, next.Request.ExternalID)
	assert.Equal(t, "v1", next.Policy.Version, "the pinned policy travels with the case")
	assert.Zero(t, next.Code, "a run without a code level continues without one")
	assert.Equal(t, tierflow.StatusOpen, st.Status)
	assert.Equal(t, "owner-t1", st.Assignee)
	assert.Equal(t, []string{"n-1"}, st.SeenDecisions)
	assert.Equal(t, []string{"r-1"}, st.SeenEvents)
	require.NotNil(t, st.Clocks.Acknowledge)
	assert.Equal(t, t0.Add(8*time.Hour), st.Clocks.Acknowledge.At)
	assert.Len(t, f.eventsOf(tierflow.EventNote), 1, "the buffered signals were applied before continuing")
	assert.Len(t, f.eventsOf(tierflow.EventCustomerReplied), 1)
	events := f.events()
	assert.Equal(t, events[len(events)-1].Seq, st.Seq)
	assert.Equal(t, int64(4), st.Seq)

	// The state survives JSON unchanged.
	raw, err := json.Marshal(st)
	require.NoError(t, err)
	var back CaseState
	require.NoError(t, json.Unmarshal(raw, &back))
	assert.Equal(t, *st, back)

	// The next run: no second opening, the same deadline, the same memory.
	env2, f2 := testEnv(t, t0)
	dup := decideAt(t, env2, time.Minute, note)
	decideAt(t, env2, 9*time.Hour, closeBy(supervisor, "end"))
	env2.ExecuteWorkflow(WorkflowName, next)
	final := result(t, env2)

	require.NoError(t, dup.rejected, "a retried decision answers the case")
	assert.Equal(t, st.Seq, dup.view.Seq, "and is not applied again")
	evs := f2.events()
	require.NotEmpty(t, evs)
	assert.Equal(t, st.Seq+1, evs[0].Seq, "sequence numbers continue across runs")
	assert.Empty(t, f2.eventsOf(tierflow.EventOpened))
	breaches := f2.eventsOf(tierflow.EventBreach)
	require.Len(t, breaches, 1)
	assert.Equal(t, t0.Add(8*time.Hour), breaches[0].At, "the acknowledge deadline from the first run")
	assert.Equal(t, tierflow.StatusClosed, final.Status)
	assert.Equal(t, tierflow.TierSpecialist, final.Tier)
	f2.mu.Lock()
	assert.Equal(t, testCaseID+"/"+itoa(int(st.Seq)+3)+"/escalated", f2.customer[0].Key, "warning 5, breach 6, escalated 7")
	f2.mu.Unlock()
}

// Continue-as-new keeps the run's code level and never raises it: a worker from
// before the higher level may take the next run (a rolling upgrade from a release
// without levels drops the field and runs it at level 0), and a level-aware
// worker replaying that history would then meet commands it did not expect.
func TestContinueAsNewKeepsTheRunsCodeLevel(t *testing.T) {
	for _, level := range []int{0, codeEmailOutbox, codeSurveyOutbox, codeDeadlineNotWarning, codeWarningOutbox} {
		t.Run("level "+itoa(level), func(t *testing.T) {
			env, _ := testEnv(t, t0)
			env.SetContinueAsNewSuggested(true)
			in := input(testPolicy(), testRequest())
			in.Code = level
			env.ExecuteWorkflow(WorkflowName, in)

			require.True(t, env.IsWorkflowCompleted())
			var can *workflow.ContinueAsNewError
			require.True(t, errors.As(env.GetWorkflowError(), &can), "got %v", env.GetWorkflowError())
			var next CaseInput
			require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
			require.NotNil(t, next.Resume)
			assert.Equal(t, level, next.Code)
		})
	}
}

// Messages do not multiply timers: twenty notes cost no timer, an earlier deadline
// cancels the one pending timer, and at most one is pending at any time.
func TestOneTimerAtATime(t *testing.T) {
	env, _ := testEnv(t, t0)
	pending := map[string]bool{}
	started, canceled := 0, 0
	env.SetOnTimerScheduledListener(func(id string, _ time.Duration) {
		started++
		pending[id] = true
	})
	env.SetOnTimerFiredListener(func(id string) { delete(pending, id) })
	env.SetOnTimerCanceledListener(func(id string) { canceled++; delete(pending, id) })
	for i := range 20 {
		at(env, time.Duration(i+1)*time.Minute, func() {
			env.SignalWorkflow(SignalDecision, tierflow.Decision{Action: tierflow.ActionNote, Actor: agent, Text: "still looking"})
		})
	}
	// Acknowledging moves the nearest deadline later (the timer stays); proposing an
	// amount above authority makes the approval expiry (4h later) the nearest:
	// earlier than the resolve warning, so the timer is replaced.
	decideAt(t, env, 30*time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
	decideAt(t, env, 7*time.Hour, tierflow.Decision{Action: tierflow.ActionProposeCompensation, Actor: agent,
		AmountCents: 30000, Currency: "EUR", Description: "refund"})
	decideAt(t, env, 8*time.Hour, closeBy(supervisor, "end"))
	var pendingAt []int
	for _, d := range []time.Duration{25 * time.Minute, 7*time.Hour + time.Minute} {
		at(env, d, func() { pendingAt = append(pendingAt, len(pending)) })
	}
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	result(t, env)

	assert.Equal(t, []int{1, 1}, pendingAt, "one pending timer after the notes and after the replacement")
	assert.Equal(t, 1, canceled, "the approval expiry (11h) replaced the resolve warning timer (18h30)")
	// Timers: the acknowledge warning at 6h (fires early: nothing due after the
	// acknowledge), the resolve warning at 18h30, then the approval expiry at 11h.
	assert.Equal(t, 3, started)
}

// A survey scheduled the old way (before the survey outbox) and carried into a
// run at the current code level is still sent by the case, on its timer. Such
// runs exist from the code that continued every run at its own level; a run
// now continues at the level it has (TestContinueAsNewKeepsTheRunsCodeLevel).
func TestContinuedRunSendsASurveyScheduledTheOldWayOnItsTimer(t *testing.T) {
	env, f := testEnv(t, t0)
	resolveAt2h(t, env)
	var carried *CaseState
	at(env, 3*time.Hour, func() {
		res, err := env.QueryWorkflow(QueryCase)
		require.NoError(t, err)
		var v tierflow.CaseView
		require.NoError(t, res.Get(&v))
		require.NotNil(t, v.Survey)
		require.Equal(t, tierflow.SurveyScheduled, v.Survey.Status)
		env.SetContinueAsNewSuggested(true)
		env.SignalWorkflow(SignalDecision, tierflow.Decision{Action: tierflow.ActionNote, DecisionID: "n1", Actor: agent, Text: "resolved"})
	})
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest())) // no code level: the survey is the old way's
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(env.GetWorkflowError(), &can), "got %v", env.GetWorkflowError())
	var next CaseInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	carried = next.Resume
	require.NotNil(t, carried)
	require.Zero(t, carried.SurveyOutboxSeq, "scheduled the old way")
	require.Empty(t, f.eventsOf(tierflow.EventSurveyScheduled))
	require.Zero(t, next.Code, "continued at its own level")
	next.Code = CurrentCode // as the first code with levels continued it

	env2, f2 := testEnv(t, t0.Add(3*time.Hour))
	timers := timersAt(env2)
	answered := &outcome{}
	at(env2, day, func() {
		sendUpdateTo(t, env2, UpdateSurvey, tierflow.SurveyResponse{Score: 5, Resolved: true, Round: 1}, answered)
	})
	env2.ExecuteWorkflow(WorkflowName, next)
	result(t, env2)

	require.NoError(t, answered.rejected)
	assert.Contains(t, *timers, surveySendAt, "the carried survey's timer")
	sent := f2.eventsOf(tierflow.EventSurveySent)
	require.Len(t, sent, 1)
	assert.Equal(t, surveySendAt, sent[0].At.UTC())
	assert.Equal(t, []tierflow.MessageKind{tierflow.MsgSurvey}, f2.customerKinds())
}
