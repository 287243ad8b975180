package workflows

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// Runs at the current code level (codeSurveyOutbox): the survey email goes into
// the outbox at the resolution, to go out at its send time without waking the
// case. The tests resolve at 2h; the survey goes out a day later (sendAt).

var surveySendAt = t0.Add(2*time.Hour + day)

// resolveAt2h acknowledges at 1h and resolves at 2h.
func resolveAt2h(t *testing.T, env *testsuite.TestWorkflowEnvironment) *outcome {
	decideAt(t, env, time.Hour, tierflow.Decision{Action: tierflow.ActionAcknowledge, DecisionID: "a1", Actor: agent})
	return decideAt(t, env, 2*time.Hour, tierflow.Decision{Action: tierflow.ActionResolve, DecisionID: "r1", Actor: agent,
		Resolution: "refunded"})
}

// timersAt lists the instants (UTC) of the timers the run starts.
func timersAt(env *testsuite.TestWorkflowEnvironment) *[]time.Time {
	var at []time.Time
	env.SetOnTimerScheduledListener(func(_ string, d time.Duration) { at = append(at, env.Now().Add(d).UTC()) })
	return &at
}

// transitionOf is the recorded transition whose events include an event of typ.
func (f *fakes) transitionOf(t *testing.T, typ tierflow.EventType) tierflow.Transition {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, tr := range f.transitions {
		for _, ev := range tr.Events {
			if ev.Type == typ {
				return tr
			}
		}
	}
	t.Fatalf("no recorded transition has a %s event", typ)
	return tierflow.Transition{}
}

func eventTypesOf(tr tierflow.Transition) []tierflow.EventType {
	var out []tierflow.EventType
	for _, ev := range tr.Events {
		out = append(out, ev.Type)
	}
	return out
}

// The resolution writes two outbox batches: the resolution email, due now, under
// the resolved event, and the survey under survey_scheduled, not before its send
// time. No timer wakes the case at the send time; the case query shows the
// survey sent from then on, though nothing was recorded.
func TestSurveyOutboxScheduledAtResolve(t *testing.T) {
	env, f := testEnv(t, t0)
	timers := timersAt(env)
	var fired []time.Time
	env.SetOnTimerFiredListener(func(string) { fired = append(fired, env.Now().UTC()) })
	resolveAt2h(t, env)
	before := queryAt(t, env, 3*time.Hour)
	after := queryAt(t, env, 2*time.Hour+day+time.Hour)
	recordsAfterSend := -1
	at(env, 2*time.Hour+day+time.Hour, func() {
		f.mu.Lock()
		recordsAfterSend = len(f.transitions)
		f.mu.Unlock()
	})
	decideAt(t, env, 2*time.Hour+day+2*time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, currentInput(testPolicy(), testRequest()))
	result(t, env)

	resolved := f.transitionOf(t, tierflow.EventResolved)
	require.Equal(t, []tierflow.EventType{tierflow.EventResolved, tierflow.EventSurveyScheduled}, eventTypesOf(resolved))
	scheduled := resolved.Events[1]
	assert.Equal(t, surveySendAt.UTC().Format(time.RFC3339), scheduled.Details[tierflow.DetailSendAt])
	assert.Equal(t, "r1", scheduled.Details[tierflow.DetailDecisionID], "caused by the resolve decision")

	f.mu.Lock()
	var batches []activities.TransitionEmails
	for _, b := range f.outboxed {
		if b.Seq == resolved.Events[0].Seq || b.Seq == scheduled.Seq {
			batches = append(batches, b)
		}
	}
	f.mu.Unlock()
	require.Len(t, batches, 2)
	assert.Equal(t, resolved.Events[0].Seq, batches[0].Seq)
	assert.Nil(t, batches[0].NotBefore, "the resolution email goes now")
	require.Len(t, batches[0].Messages, 1)
	assert.Equal(t, tierflow.MsgResolution, batches[0].Messages[0].Customer.Kind)
	assert.Equal(t, scheduled.Seq, batches[1].Seq)
	require.NotNil(t, batches[1].NotBefore)
	assert.Equal(t, surveySendAt, batches[1].NotBefore.UTC())
	require.Len(t, batches[1].Messages, 1)
	survey := batches[1].Messages[0].Customer
	require.NotNil(t, survey)
	assert.Equal(t, tierflow.MsgSurvey, survey.Kind)
	assert.Equal(t, testCaseID+"/"+itoa(int(scheduled.Seq))+"/survey", survey.Key)
	assert.Equal(t, 1, survey.Data.SurveyRound)
	require.NotNil(t, survey.Data.ExpiresAt)
	assert.Equal(t, surveySendAt.Add(14*day), survey.Data.ExpiresAt.UTC())

	assert.NotContains(t, *timers, surveySendAt, "no timer wakes the case to send the survey")
	assert.Contains(t, *timers, surveySendAt.Add(72*time.Hour), "resolved, the case sleeps until the survey's reminder")
	for _, at := range fired {
		assert.False(t, at.After(t0.Add(2*time.Hour)), "a timer fired at %s, after the resolution: the tier-1 clock's "+
			"timer was not replaced when the resolution stopped it", at)
	}
	assert.Equal(t, 3, recordsAfterSend, "nothing recorded at the send time: opening, acknowledge, resolve")

	require.NotNil(t, before.Survey)
	assert.Equal(t, tierflow.SurveyScheduled, before.Survey.Status)
	require.NotNil(t, before.Deadlines.SurveySendAt)
	assert.Equal(t, surveySendAt, before.Deadlines.SurveySendAt.UTC())
	require.NotNil(t, before.Deadlines.SurveyReminderAt)
	assert.Equal(t, surveySendAt.Add(72*time.Hour), before.Deadlines.SurveyReminderAt.UTC())
	require.NotNil(t, before.Deadlines.SurveyExpiresAt)
	assert.Equal(t, surveySendAt.Add(14*day), before.Deadlines.SurveyExpiresAt.UTC())

	require.NotNil(t, after.Survey)
	assert.Equal(t, tierflow.SurveySent, after.Survey.Status, "the query shows the survey as of now")
	require.NotNil(t, after.Survey.SentAt)
	assert.Equal(t, surveySendAt, after.Survey.SentAt.UTC())
	assert.Nil(t, after.Deadlines.SurveySendAt, "sent: no send pending")
	f.checkRecord(t)
}

// An answer after the send time is accepted though the state still says
// scheduled; its record says first that the survey went out (at its send time),
// then the answer.
func TestSurveyOutboxAnswerRecordsSentThenAnswered(t *testing.T) {
	env, f := testEnv(t, t0)
	resolveAt2h(t, env)
	answerAt := 2*time.Hour + day + 5*time.Hour
	answered := &outcome{}
	at(env, answerAt, func() {
		sendUpdateTo(t, env, UpdateSurvey, tierflow.SurveyResponse{Score: 5, Resolved: true, Comment: "thanks", Round: 1}, answered)
	})
	env.ExecuteWorkflow(WorkflowName, currentInput(testPolicy(), testRequest()))
	final := result(t, env)

	require.NoError(t, answered.rejected)
	require.NoError(t, answered.err)
	tr := f.transitionOf(t, tierflow.EventSurveyAnswered)
	require.Equal(t, []tierflow.EventType{tierflow.EventSurveySent, tierflow.EventSurveyAnswered, tierflow.EventClosed},
		eventTypesOf(tr))
	assert.Equal(t, surveySendAt, tr.Events[0].At.UTC(), "survey_sent carries the send time")
	assert.Equal(t, t0.Add(answerAt), tr.Events[1].At.UTC())
	assert.Empty(t, tr.CancelEmails)
	assert.Equal(t, tierflow.SurveyAnswered, final.Survey.Status)
	require.NotNil(t, final.Survey.SentAt)
	assert.Equal(t, surveySendAt, final.Survey.SentAt.UTC())
	assert.Len(t, f.eventsOf(tierflow.EventSurveySent), 1)
	assert.Equal(t, []tierflow.MessageKind{tierflow.MsgEscalated, tierflow.MsgResolution, tierflow.MsgSurvey}, f.customerKinds())
	f.checkRecord(t)
}

// An answer before the send time answers a survey the customer cannot have: it
// is refused, and nothing is recorded.
func TestSurveyOutboxAnswerBeforeTheSendTimeIsRefused(t *testing.T) {
	env, f := testEnv(t, t0)
	resolveAt2h(t, env)
	early := &outcome{}
	at(env, 5*time.Hour, func() {
		sendUpdateTo(t, env, UpdateSurvey, tierflow.SurveyResponse{Score: 5, Resolved: true, Round: 1}, early)
	})
	decideAt(t, env, 6*time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, currentInput(testPolicy(), testRequest()))
	result(t, env)

	require.Error(t, early.rejected)
	assert.Contains(t, early.rejected.Error(), "no survey is waiting")
	assert.Empty(t, f.eventsOf(tierflow.EventSurveyAnswered))
}

// A customer reply before the send time reopens the case and withdraws the
// survey: its record cancels the scheduled batch, which never goes out.
func TestSurveyOutboxReplyBeforeTheSendTimeWithdrawsIt(t *testing.T) {
	env, f := testEnv(t, t0)
	resolveAt2h(t, env)
	at(env, 5*time.Hour, func() {
		env.SignalWorkflow(SignalCustomerEvent, tierflow.CustomerEvent{Kind: tierflow.CustomerReply, EventID: "e1", Message: "still charged"})
	})
	reopened := queryAt(t, env, 6*time.Hour)
	decideAt(t, env, 3*day, closeBy(executive, "end")) // the reopened case climbed meanwhile
	env.ExecuteWorkflow(WorkflowName, currentInput(testPolicy(), testRequest()))
	result(t, env)

	scheduled := f.eventsOf(tierflow.EventSurveyScheduled)
	require.Len(t, scheduled, 1)
	tr := f.transitionOf(t, tierflow.EventCustomerReplied)
	assert.Equal(t, []int64{scheduled[0].Seq}, tr.CancelEmails, "the reply's record withdraws the survey's batch")
	assert.Equal(t, tierflow.EventCustomerReplied, tr.Events[0].Type, "nothing went out before the reply")
	warnings := warningSeqs(f)
	f.mu.Lock()
	assert.Equal(t, []int64{scheduled[0].Seq}, withoutSeqs(f.cancelled, warnings))
	assert.Empty(t, f.scheduled)
	f.mu.Unlock()
	assert.Equal(t, tierflow.StatusInProgress, reopened.Status)
	assert.Equal(t, tierflow.SurveyCancelled, reopened.Survey.Status)
	assert.Nil(t, reopened.Deadlines.SurveyExpiresAt)
	assert.Empty(t, f.eventsOf(tierflow.EventSurveySent))
	assert.Empty(t, f.customerOf(tierflow.MsgSurvey), "the withdrawn survey never goes out")
	f.checkRecord(t)
}

// A customer reply after the send time: the survey went out (recorded first),
// then the reply reopens the case and cancels it; its record still names the
// survey's batch (the mailer may not have delivered it), which the store
// ignores, as the fake does: it went out.
func TestSurveyOutboxReplyAfterTheSendTimeIsSentThenReopened(t *testing.T) {
	env, f := testEnv(t, t0)
	resolveAt2h(t, env)
	at(env, 2*time.Hour+day+3*time.Hour, func() {
		env.SignalWorkflow(SignalCustomerEvent, tierflow.CustomerEvent{Kind: tierflow.CustomerReply, EventID: "e1", Message: "still charged"})
	})
	decideAt(t, env, 3*day, closeBy(executive, "end")) // the reopened case climbed meanwhile
	env.ExecuteWorkflow(WorkflowName, currentInput(testPolicy(), testRequest()))
	final := result(t, env)

	scheduled := f.eventsOf(tierflow.EventSurveyScheduled)
	require.Len(t, scheduled, 1)
	tr := f.transitionOf(t, tierflow.EventCustomerReplied)
	require.GreaterOrEqual(t, len(tr.Events), 3)
	assert.Equal(t, []tierflow.EventType{tierflow.EventSurveySent, tierflow.EventCustomerReplied, tierflow.EventReopened},
		eventTypesOf(tr)[:3])
	assert.Equal(t, surveySendAt, tr.Events[0].At.UTC())
	assert.Equal(t, []int64{scheduled[0].Seq}, tr.CancelEmails, "withdrawn if the mailer has not delivered it")
	f.mu.Lock()
	assert.NotContains(t, f.cancelled, scheduled[0].Seq, "it went out at its send time: not withdrawn")
	f.mu.Unlock()
	assert.Len(t, f.customerOf(tierflow.MsgSurvey), 1)
	assert.Equal(t, tierflow.SurveyCancelled, final.Survey.Status, "reopened: the sent survey is over")
	assert.Equal(t, 1, final.Reopens)
	f.checkRecord(t)
	checkSurveyOutbox(t, f, final)
}

// A customer reply 3 hours after the send time while the mailer lags 6 hours
// (a backlog, its shard down, the batch in retry backoff): the survey has not
// gone out, so the reply's record withdraws it; it never goes out, and the
// reopen's email, which the due survey would have held back, goes at once. The
// audit log still says survey_sent at the send time (see survey.go).
func TestSurveyOutboxReplyWhileTheMailerLagsWithdrawsIt(t *testing.T) {
	env, f := testEnv(t, t0)
	f.deliveryDelay = 6 * time.Hour
	resolveAt2h(t, env)
	at(env, 2*time.Hour+day+3*time.Hour, func() {
		env.SignalWorkflow(SignalCustomerEvent, tierflow.CustomerEvent{Kind: tierflow.CustomerReply, EventID: "e1", Message: "still charged"})
	})
	decideAt(t, env, 3*day, closeBy(executive, "end"))
	env.ExecuteWorkflow(WorkflowName, currentInput(testPolicy(), testRequest()))
	final := result(t, env)

	scheduled := f.eventsOf(tierflow.EventSurveyScheduled)
	require.Len(t, scheduled, 1)
	tr := f.transitionOf(t, tierflow.EventCustomerReplied)
	assert.Equal(t, []tierflow.EventType{tierflow.EventSurveySent, tierflow.EventCustomerReplied, tierflow.EventReopened},
		eventTypesOf(tr)[:3])
	warnings := warningSeqs(f)
	assert.Equal(t, []int64{scheduled[0].Seq}, withoutSeqs(tr.CancelEmails, warnings),
		"the reply's record withdraws the undelivered survey")
	f.mu.Lock()
	assert.Equal(t, []int64{scheduled[0].Seq}, withoutSeqs(f.cancelled, warnings))
	assert.Empty(t, f.scheduled, "the close withdrew what the lagging mailer had not sent")
	f.mu.Unlock()
	assert.Empty(t, f.customerOf(tierflow.MsgSurvey), "the withdrawn survey never goes out")
	assert.Equal(t, []tierflow.MessageKind{tierflow.MsgEscalated, tierflow.MsgResolution, tierflow.MsgReopened},
		f.customerKinds()[:3], "the reopen's email is not held behind the survey")
	assert.Equal(t, tierflow.SurveyCancelled, final.Survey.Status)
	f.checkRecord(t)
	checkSurveyOutbox(t, f, final)
}

// An unanswered survey is reminded 72h and expires 14 days after its send time,
// counted from the resolution on; the reminder's record says first that the
// survey went out.
func TestSurveyOutboxRemindsAndExpiresFromTheSendTime(t *testing.T) {
	env, f := testEnv(t, t0)
	resolveAt2h(t, env)
	env.ExecuteWorkflow(WorkflowName, currentInput(testPolicy(), testRequest()))
	final := result(t, env)

	reminder := f.transitionOf(t, tierflow.EventReminderSent)
	require.Equal(t, []tierflow.EventType{tierflow.EventSurveySent, tierflow.EventReminderSent}, eventTypesOf(reminder))
	assert.Equal(t, surveySendAt, reminder.Events[0].At.UTC())
	assert.Equal(t, surveySendAt.Add(72*time.Hour), reminder.Events[1].At.UTC())
	expired := f.eventsOf(tierflow.EventSurveyExpired)
	require.Len(t, expired, 1)
	assert.Equal(t, surveySendAt.Add(14*day), expired[0].At.UTC())
	assert.Equal(t, tierflow.SurveyExpired, final.Survey.Status)
	assert.Equal(t, surveySendAt.Add(14*day), final.ClosedAt.UTC())
	assert.Equal(t, []tierflow.MessageKind{tierflow.MsgEscalated, tierflow.MsgResolution, tierflow.MsgSurvey,
		tierflow.MsgSurveyReminder}, f.customerKinds())
	sv := f.customerOf(tierflow.MsgSurveyReminder)[0]
	require.NotNil(t, sv.Data.ExpiresAt)
	assert.Equal(t, surveySendAt.Add(14*day), sv.Data.ExpiresAt.UTC())
	f.checkRecord(t)
}

// A run without a code level (started before levels: every history recorded
// until then) sends the survey as before: its timer wakes the case at the send
// time, which records survey_sent and queues the email then.
func TestSurveyWithoutCodeLevelIsSentOnItsTimer(t *testing.T) {
	env, f := testEnv(t, t0)
	timers := timersAt(env)
	resolveAt2h(t, env)
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	result(t, env)

	assert.Empty(t, f.eventsOf(tierflow.EventSurveyScheduled))
	resolved := f.transitionOf(t, tierflow.EventResolved)
	assert.Equal(t, []tierflow.EventType{tierflow.EventResolved}, eventTypesOf(resolved))
	sent := f.transitionOf(t, tierflow.EventSurveySent)
	assert.Equal(t, []tierflow.EventType{tierflow.EventSurveySent}, eventTypesOf(sent), "a transition of its own")
	assert.Equal(t, surveySendAt, sent.Events[0].At.UTC())
	assert.Contains(t, *timers, surveySendAt, "a timer wakes the case to send it")
	f.mu.Lock()
	for _, b := range f.outboxed {
		assert.Nil(t, b.NotBefore)
	}
	f.mu.Unlock()
	assert.Equal(t, []tierflow.MessageKind{tierflow.MsgEscalated, tierflow.MsgResolution, tierflow.MsgSurvey,
		tierflow.MsgSurveyReminder}, f.customerKinds())
}

// A run whose code level this worker does not know must not run a step: the
// workflow task fails (here: the test environment reports the panic) and is
// retried until a newer worker takes it.
func TestUnknownCodeLevelFailsTheWorkflowTask(t *testing.T) {
	env, f := testEnv(t, t0)
	in := currentInput(testPolicy(), testRequest())
	in.Code = CurrentCode + 1
	env.ExecuteWorkflow(WorkflowName, in)

	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("code level %d, this worker knows levels up to %d", CurrentCode+1, CurrentCode))
	assert.Empty(t, f.events(), "nothing recorded")
}

// warningSeqs are the seqs of the warning_scheduled events (their outbox
// batches): the survey tests leave the warnings to warnings_outbox_test.go.
func warningSeqs(f *fakes) map[int64]bool {
	out := map[int64]bool{}
	for _, ev := range f.eventsOf(tierflow.EventWarningScheduled) {
		out[ev.Seq] = true
	}
	return out
}

func withoutSeqs(seqs []int64, drop map[int64]bool) []int64 {
	var out []int64
	for _, s := range seqs {
		if !drop[s] {
			out = append(out, s)
		}
	}
	return out
}
