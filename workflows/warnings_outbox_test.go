package workflows

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// Runs at codeWarningOutbox: a normal case's tier-1 acknowledge clock runs 8h,
// warned at 6h (testPolicy).

// scheduledWarnings are the warning_scheduled events of tr, by clock.
func scheduledWarnings(tr tierflow.Transition) map[string]tierflow.CaseEvent {
	out := map[string]tierflow.CaseEvent{}
	for _, ev := range tr.Events {
		if ev.Type == tierflow.EventWarningScheduled {
			out[ev.Details[tierflow.DetailClock]] = ev
		}
	}
	return out
}

// batchOf is the outbox batch named seq, recorded by the fake.
func (f *fakes) batchOf(t *testing.T, seq int64) activities.TransitionEmails {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range f.outboxed {
		if b.Seq == seq {
			return b
		}
	}
	t.Fatalf("no outbox batch %d", seq)
	return activities.TransitionEmails{}
}

// The opening writes the acknowledge warning (6h) into the outbox; no timer
// wakes the case at 6h. The breach at 8h records the warning first, stamped 6h,
// and writes tier 2's (at 14h); the close at 10h withdraws tier 2's. The tier-1
// warning was delivered once, to the queue and the supervisor. The close
// target's warning (day 25) keeps its timer: nothing of it is in the outbox.
func TestWarningsGoOutFromTheOutbox(t *testing.T) {
	env, f := testEnv(t, t0)
	timers := timersAt(env)
	decideAt(t, env, 10*time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, currentInput(testPolicy(), testRequest()))
	result(t, env)

	f.mu.Lock()
	opening := f.transitions[0]
	f.mu.Unlock()
	open := scheduledWarnings(opening)
	require.Len(t, open, 1, "the acknowledge warning only")
	ack := open[string(tierflow.ClockAcknowledge)]
	require.NotZero(t, ack.Seq)
	assert.Equal(t, t0.Add(6*time.Hour).Format(time.RFC3339), ack.Details[tierflow.DetailSendAt])
	assert.Equal(t, t0.Add(8*time.Hour).Format(time.RFC3339), ack.Details[tierflow.DetailDeadline])
	b := f.batchOf(t, ack.Seq)
	require.NotNil(t, b.NotBefore)
	assert.Equal(t, t0.Add(6*time.Hour), b.NotBefore.UTC())
	require.Len(t, b.Messages, 1)
	assert.Equal(t, tierflow.MsgStaffWarning, b.Messages[0].Staff.Kind)
	assert.Equal(t, []string{activities.StaffQueue, activities.StaffSupervisor}, b.Messages[0].Staff.Groups)

	assert.NotContains(t, *timers, t0.Add(6*time.Hour), "no timer for the warning")
	assert.Contains(t, *timers, t0.Add(8*time.Hour), "the deadline's timer")

	breach := f.transitionOf(t, tierflow.EventBreach)
	types := eventTypesOf(breach)
	require.Equal(t, tierflow.EventWarning, types[0], "the warning first: %v", types)
	assert.Equal(t, t0.Add(6*time.Hour), breach.Events[0].At.UTC(), "stamped with its instant")
	assert.Equal(t, tierflow.StatusOpen, breach.Events[0].Status)
	assert.Equal(t, tierflow.TierFrontline, breach.Events[0].Tier, "the case as it was then")
	tier2 := scheduledWarnings(breach)[string(tierflow.ClockAcknowledge)]
	require.NotZero(t, tier2.Seq, "tier 2's acknowledge warning written with the escalation: %v", types)
	assert.Equal(t, tierflow.TierSpecialist, tier2.Tier)
	assert.Equal(t, t0.Add(14*time.Hour).Format(time.RFC3339), tier2.Details[tierflow.DetailSendAt])

	closing := f.transitionOf(t, tierflow.EventClosed)
	assert.Equal(t, []int64{tier2.Seq}, closing.CancelEmails)
	assert.Equal(t, []int64{tier2.Seq}, f.cancelled, "withdrawn before it went out")
	warnings := f.staffOf(tierflow.MsgStaffWarning)
	require.Len(t, warnings, 1)
	assert.Equal(t, testCaseID+"/"+itoa(int(ack.Seq))+"/"+string(tierflow.MsgStaffWarning), warnings[0].Key)
	assert.Len(t, f.eventsOf(tierflow.EventWarning), 1)
	assert.Empty(t, f.eventsOf(tierflow.EventCloseTargetWarning))
	f.checkRecord(t)
	checkWarningOutbox(t, f, *queryAt(t, env, 0))
}

// Acknowledging withdraws the acknowledge warning and writes the resolve
// clock's, to the owner; asking the customer pauses the clock and withdraws it;
// the reply resumes the clock and writes it again, its instant moved by the
// pause. The resolve warning then goes out while the case sleeps, and the case
// records it with the resolution, whose record also names its batch: a mailer
// lagging behind its instant would not send it once the clock has stopped.
func TestWarningsFollowTheClocks(t *testing.T) {
	env, f := testEnv(t, t0)
	decideAt(t, env, time.Hour, tierflow.Decision{Action: tierflow.ActionAcknowledge, DecisionID: "a1", Actor: agent})
	decideAt(t, env, 2*time.Hour, tierflow.Decision{Action: tierflow.ActionRequestInfo, DecisionID: "i1", Actor: agent,
		Message: "which card?"})
	at(env, 5*time.Hour, func() {
		sendUpdate(t, env, UpdateCustomerEvent, tierflow.CustomerEvent{Kind: tierflow.CustomerReply, EventID: "e1", Message: "the blue one"})
	})
	// resolve clock 24h from 1h (warned at 19h), paused 3h: warned at 22h, due at 28h.
	decideAt(t, env, 23*time.Hour, tierflow.Decision{Action: tierflow.ActionResolve, DecisionID: "r1", Actor: agent,
		Resolution: "refunded"})
	decideAt(t, env, 24*time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, currentInput(testPolicy(), testRequest()))
	final := result(t, env)

	ackT := f.transitionOf(t, tierflow.EventAcknowledged)
	opening := scheduledWarnings(f.transitions[0])
	assert.Contains(t, ackT.CancelEmails, opening[string(tierflow.ClockAcknowledge)].Seq, "the acknowledge warning withdrawn")
	first := scheduledWarnings(ackT)[string(tierflow.ClockResolve)]
	require.NotZero(t, first.Seq)
	assert.Equal(t, t0.Add(19*time.Hour).Format(time.RFC3339), first.Details[tierflow.DetailSendAt])
	staff := f.batchOf(t, first.Seq).Messages[0].Staff
	assert.Equal(t, []string{activities.StaffOwner, activities.StaffSupervisor}, staff.Groups)
	assert.Equal(t, "agent-1", staff.AssigneeID)

	paused := f.transitionOf(t, tierflow.EventInfoRequested)
	assert.Contains(t, paused.CancelEmails, first.Seq, "paused: the resolve warning withdrawn")
	assert.Empty(t, scheduledWarnings(paused)[string(tierflow.ClockResolve)].Seq, "and not written again while paused")
	replied := f.transitionOf(t, tierflow.EventCustomerReplied)
	again := scheduledWarnings(replied)[string(tierflow.ClockResolve)]
	require.NotZero(t, again.Seq, "resumed: written again")
	assert.Equal(t, t0.Add(22*time.Hour).Format(time.RFC3339), again.Details[tierflow.DetailSendAt])

	resolved := f.transitionOf(t, tierflow.EventResolved)
	types := eventTypesOf(resolved)
	require.Equal(t, tierflow.EventWarning, types[0], "%v", types)
	assert.Equal(t, t0.Add(22*time.Hour), resolved.Events[0].At.UTC())
	assert.Equal(t, string(tierflow.ClockResolve), resolved.Events[0].Details[tierflow.DetailClock])
	assert.Equal(t, tierflow.StatusInProgress, resolved.Events[0].Status)
	assert.Contains(t, resolved.CancelEmails, again.Seq, "its clock stopped: withdrawn if a lagging mailer still has it")
	f.mu.Lock()
	assert.NotContains(t, f.cancelled, again.Seq, "it went out at its instant: nothing to withdraw")
	f.mu.Unlock()
	warnings := f.staffOf(tierflow.MsgStaffWarning)
	require.Len(t, warnings, 1, "only the resolve warning went out")
	assert.Equal(t, testCaseID+"/"+itoa(int(again.Seq))+"/"+string(tierflow.MsgStaffWarning), warnings[0].Key)
	assert.True(t, slices.Contains(f.cancelled, first.Seq))
	f.checkRecord(t)
	checkWarningOutbox(t, f, final)
}

// A clock warned before a pause is not warned again when it resumes: the
// warning released at 19h is recorded by the pause at 20h, and the reply at 21h
// writes nothing.
func TestAClockWarnedBeforeAPauseIsNotWarnedAgain(t *testing.T) {
	env, f := testEnv(t, t0)
	decideAt(t, env, time.Hour, tierflow.Decision{Action: tierflow.ActionAcknowledge, DecisionID: "a1", Actor: agent})
	// The resolve clock (24h from 1h) is paused at 20h, after its warning at 19h
	// went out; nothing more is owed when it resumes.
	decideAt(t, env, 20*time.Hour, tierflow.Decision{Action: tierflow.ActionRequestInfo, DecisionID: "i1", Actor: agent,
		Message: "which card?"})
	at(env, 21*time.Hour, func() {
		sendUpdate(t, env, UpdateCustomerEvent, tierflow.CustomerEvent{Kind: tierflow.CustomerReply, EventID: "e1", Message: "blue"})
	})
	decideAt(t, env, 22*time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, currentInput(testPolicy(), testRequest()))
	final := result(t, env)

	paused := f.transitionOf(t, tierflow.EventInfoRequested)
	require.Equal(t, tierflow.EventWarning, paused.Events[0].Type, "the 19h warning recorded first")
	assert.Equal(t, t0.Add(19*time.Hour), paused.Events[0].At.UTC())
	replied := f.transitionOf(t, tierflow.EventCustomerReplied)
	assert.Empty(t, scheduledWarnings(replied), "warned once per clock: nothing written again")
	assert.Len(t, f.staffOf(tierflow.MsgStaffWarning), 1)
	f.checkRecord(t)
	checkWarningOutbox(t, f, final)
}

// A migration an hour before the new policy's acknowledge deadline, past its
// warning instant (3h of 4h): the old warning (6h) is withdrawn and the new one,
// already due, goes out at once from the case, in the migration's transition.
func TestAWarningAlreadyDueGoesOutAtOnce(t *testing.T) {
	env, f := testEnv(t, t0)
	decideAt(t, env, 3*time.Hour+30*time.Minute, migrateTo(supervisor, migrationTarget(), "m-1"))
	decideAt(t, env, 5*time.Hour, closeBy(executive, "end"))
	env.ExecuteWorkflow(WorkflowName, currentInput(testPolicy(), testRequest()))
	final := result(t, env)

	old := scheduledWarnings(f.transitions[0])[string(tierflow.ClockAcknowledge)]
	migrated := f.transitionOf(t, tierflow.EventPolicyMigrated)
	assert.Contains(t, migrated.CancelEmails, old.Seq, "the 6h warning withdrawn")
	types := eventTypesOf(migrated)
	require.Contains(t, types, tierflow.EventWarning, "%v", types)
	warning := f.eventsOf(tierflow.EventWarning)[0]
	assert.Equal(t, t0.Add(3*time.Hour+30*time.Minute), warning.At.UTC())
	assert.Equal(t, t0.Add(4*time.Hour).Format(time.RFC3339), warning.Details[tierflow.DetailDeadline])
	assert.Empty(t, scheduledWarnings(migrated)[string(tierflow.ClockAcknowledge)].Seq, "not written into the outbox")
	warnings := f.staffOf(tierflow.MsgStaffWarning)
	require.Len(t, warnings, 1)
	assert.Equal(t, testCaseID+"/"+itoa(int(warning.Seq))+"/"+string(tierflow.MsgStaffWarning), warnings[0].Key)
	require.NotEmpty(t, f.eventsOf(tierflow.EventBreach))
	assert.Equal(t, t0.Add(4*time.Hour), f.eventsOf(tierflow.EventBreach)[0].At.UTC())
	f.checkRecord(t)
	checkWarningOutbox(t, f, final)
}

// A mailer lagging 6 hours behind: the acknowledge warning (6h) has not gone
// out when the case is acknowledged at 7h. The acknowledgement records the
// warning (released at 6h) and withdraws its batch: the owner who just took the
// case is not warned of a clock that no longer runs.
func TestALaggingWarningIsWithdrawnWhenItsClockStops(t *testing.T) {
	env, f := testEnv(t, t0)
	f.deliveryDelay = 6 * time.Hour
	decideAt(t, env, 7*time.Hour, tierflow.Decision{Action: tierflow.ActionAcknowledge, DecisionID: "a1", Actor: agent})
	decideAt(t, env, 8*time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, currentInput(testPolicy(), testRequest()))
	final := result(t, env)

	ack := scheduledWarnings(f.transitions[0])[string(tierflow.ClockAcknowledge)]
	acked := f.transitionOf(t, tierflow.EventAcknowledged)
	require.Equal(t, tierflow.EventWarning, acked.Events[0].Type, "%v", eventTypesOf(acked))
	assert.Equal(t, t0.Add(6*time.Hour), acked.Events[0].At.UTC())
	assert.Contains(t, acked.CancelEmails, ack.Seq)
	f.mu.Lock()
	assert.Contains(t, f.cancelled, ack.Seq, "withdrawn before the mailer sent it")
	assert.Empty(t, f.scheduled)
	f.mu.Unlock()
	assert.Empty(t, f.staffOf(tierflow.MsgStaffWarning), "no warning for a clock that stopped")
	f.checkRecord(t)
	checkWarningOutbox(t, f, final)
}

// Continue-as-new carries the written warning: the next run does not write it
// again, records it (released at 6h) with the breach at 8h, and withdraws its
// batch then, its clock having ended.
func TestAWrittenWarningCrossesContinueAsNew(t *testing.T) {
	env, f := testEnv(t, t0)
	env.SetContinueAsNewSuggested(true)
	env.ExecuteWorkflow(WorkflowName, currentInput(testPolicy(), testRequest()))
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(env.GetWorkflowError(), &can), "got %v", env.GetWorkflowError())
	var next CaseInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.NotNil(t, next.Resume)
	written := scheduledWarnings(f.transitions[0])[string(tierflow.ClockAcknowledge)]
	require.Len(t, next.Resume.WarningOutbox, 1, "the written warning travels with the state")
	assert.Equal(t, written.Seq, next.Resume.WarningOutbox[0].Seq)

	env2, f2 := testEnv(t, t0)
	decideAt(t, env2, 9*time.Hour, closeBy(supervisor, "end"))
	env2.ExecuteWorkflow(WorkflowName, next)
	result(t, env2)
	breach := f2.transitionOf(t, tierflow.EventBreach)
	require.Equal(t, tierflow.EventWarning, breach.Events[0].Type, "%v", eventTypesOf(breach))
	assert.Equal(t, t0.Add(6*time.Hour), breach.Events[0].At.UTC())
	assert.Contains(t, breach.CancelEmails, written.Seq, "its clock ended with the breach")
	for _, ev := range f2.eventsOf(tierflow.EventWarningScheduled) {
		assert.NotEqual(t, t0.Add(8*time.Hour).Format(time.RFC3339), ev.Details[tierflow.DetailDeadline],
			"the first run's warning is not written again")
	}
}
