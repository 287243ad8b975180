package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// While Tierflow's database is down, RecordTransition fails and retries, and the
// case goes on: the acknowledge warning and breach fire on time, the automatic
// escalation happens, a signalled note is applied, and an Update waits for its
// record without holding anything up. Once the database is back, the record
// catches up in order, in a few batched writes, and the Update answers.
//
// The SDK's test environment stops retrying an activity after 10 attempts (the
// server never does), so the outage here lasts 10 minutes, within them, and the
// acknowledge clock is 8 minutes.
func TestDatabaseOutageDelaysTheRecordNotTheCase(t *testing.T) {
	env, f := testEnv(t, t0)
	f.recordDown.Store(true)
	p := testPolicy()
	normal := p.Priorities[tierflow.PriorityNormal]
	normal.Acknowledge.Tiers = map[tierflow.Tier]tierflow.Duration{tierflow.TierFrontline: dur(8 * time.Minute)}
	p.Priorities[tierflow.PriorityNormal] = normal
	at(env, time.Minute, func() {
		env.SignalWorkflow(SignalDecision, tierflow.Decision{Action: tierflow.ActionNote, DecisionID: "n1", Actor: agent, Text: "called"})
	})
	waiting := decideAt(t, env, 2*time.Minute, tierflow.Decision{Action: tierflow.ActionNote, DecisionID: "n2", Actor: agent, Text: "again"})
	escalated := queryAt(t, env, 9*time.Minute)
	var doneDuringOutage bool
	at(env, 9*time.Minute+30*time.Second, func() { doneDuringOutage = waiting.done })
	at(env, 10*time.Minute, func() { f.recordDown.Store(false) })
	retried := decideAt(t, env, 30*time.Minute, tierflow.Decision{Action: tierflow.ActionNote, DecisionID: "n2", Actor: agent, Text: "again"})
	decideAt(t, env, time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(p, testRequest()))
	final := result(t, env)

	// The case did not wait for the database.
	assert.Equal(t, tierflow.TierSpecialist, escalated.Tier, "the acknowledge deadline escalated during the outage")
	breaches := f.eventsOf(tierflow.EventBreach)
	require.Len(t, breaches, 1)
	assert.Equal(t, t0.Add(8*time.Minute), breaches[0].At, "on time")
	require.Len(t, f.eventsOf(tierflow.EventWarning), 1)
	assert.Equal(t, t0.Add(6*time.Minute), f.eventsOf(tierflow.EventWarning)[0].At)
	assert.Len(t, f.eventsOf(tierflow.EventNote), 2, "the signal and the Update were applied once each")
	// The Update answered only once its transition was recorded, after the outage.
	assert.False(t, doneDuringOutage, "the Update waits for its record")
	require.True(t, waiting.done)
	require.NoError(t, waiting.rejected)
	require.NoError(t, waiting.err)
	require.NoError(t, retried.rejected, "a retry of the same decision answers the case")
	assert.GreaterOrEqual(t, retried.view.Seq, waiting.view.Seq, "the case as it is now")
	// The record caught up in order (checkRecord: contiguous seq), in few writes.
	f.mu.Lock()
	firstWrite, writes, tries := f.recordedAt[0], len(f.transitions), f.recordTries
	f.mu.Unlock()
	assert.False(t, firstWrite.Before(t0.Add(10*time.Minute)), "nothing was written during the outage")
	assert.Greater(t, tries, writes, "the record was retried during the outage")
	assert.LessOrEqual(t, writes, 6, "what queued during the outage is written in a batch")
	assert.Equal(t, tierflow.StatusClosed, final.Status)
	f.checkRecord(t)
}

// An email whose outcome is unknown is not resent, and the case's record says so
// (a notification_unconfirmed event naming the message), so a person can check it.
func TestUnconfirmedEmailIsOnTheCaseRecord(t *testing.T) {
	env, f := testEnv(t, t0)
	f.unconfirmCustomer = tierflow.MsgEscalated
	decideAt(t, env, time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	result(t, env)

	evs := f.eventsOf(tierflow.EventNotificationUnconfirmed)
	require.Len(t, evs, 1)
	assert.Equal(t, testCaseID+"/1/escalated", evs[0].Details[tierflow.DetailKey])
	assert.Equal(t, string(tierflow.MsgEscalated), evs[0].Details[tierflow.DetailKind])
	assert.Contains(t, evs[0].Reason, "outcome unknown")
	assert.Len(t, f.customerOf(tierflow.MsgEscalated), 1, "not sent again")
	f.checkRecord(t)
}
