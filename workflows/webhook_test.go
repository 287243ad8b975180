package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// fakeReceiver plays the webhook activities against a list of deliveries and a
// scripted receiver, on the test environment's clock.
type fakeReceiver struct {
	env     *testsuite.TestWorkflowEnvironment
	pending []int64                // seqs left, in order
	answer  func(seq int64) string // the outcome of an attempt
	sent    []int64                // every attempt, in order
	waits   []time.Duration        // the RetryIn of every failed attempt
	first   map[int64]time.Time    // first attempt of each seq
	tries   map[int64]int          // attempts of each seq
	gaveUp  []activities.GiveUpWebhookInput
}

func newFakeReceiver(env *testsuite.TestWorkflowEnvironment, answer func(int64) string, seqs ...int64) *fakeReceiver {
	f := &fakeReceiver{env: env, pending: seqs, answer: answer, first: map[int64]time.Time{}, tries: map[int64]int{}}
	env.RegisterActivityWithOptions(f.next, activity.RegisterOptions{Name: "NextWebhookDelivery"})
	env.RegisterActivityWithOptions(f.deliver, activity.RegisterOptions{Name: "DeliverWebhook"})
	env.RegisterActivityWithOptions(f.giveUp, activity.RegisterOptions{Name: "GiveUpWebhook"})
	return f
}

func (f *fakeReceiver) next(_ context.Context, in activities.WebhookPairInput) (activities.NextWebhookDeliveryResult, error) {
	if len(f.pending) == 0 {
		return activities.NextWebhookDeliveryResult{}, nil
	}
	seq := f.pending[0]
	return activities.NextWebhookDeliveryResult{Found: true, Seq: seq, EventType: "case.escalated", WebhookID: "msg_" + in.CaseID,
		Attempts: f.tries[seq], Description: "CRM sync"}, nil
}

func (f *fakeReceiver) deliver(_ context.Context, in activities.DeliverWebhookInput) (activities.DeliverWebhookResult, error) {
	now := f.env.Now()
	if _, ok := f.first[in.Seq]; !ok {
		f.first[in.Seq] = now
	}
	f.sent = append(f.sent, in.Seq)
	f.tries[in.Seq]++
	outcome := f.answer(in.Seq)
	switch outcome {
	case activities.WebhookDelivered:
		f.pending = f.pending[1:]
	case activities.WebhookFailed:
		f.waits = append(f.waits, in.RetryIn)
	}
	return activities.DeliverWebhookResult{Outcome: outcome, HTTPStatus: 503, FirstAttemptAt: f.first[in.Seq]}, nil
}

func (f *fakeReceiver) giveUp(_ context.Context, in activities.GiveUpWebhookInput) error {
	f.gaveUp = append(f.gaveUp, in)
	f.pending = nil
	return nil
}

func webhookEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(WebhookDelivery, workflow.RegisterOptions{Name: WebhookDeliveryName})
	env.SetTestTimeout(time.Minute)
	return env
}

var testPair = WebhookDeliveryInput{SubscriptionID: "wh_test0001", CaseID: "zendesk-7"}

// Deliveries go in seq order: a failing one is retried (with backoff) before the
// next is sent; with nothing left the workflow waits a minute, then completes.
func TestWebhookDeliveryKeepsOrder(t *testing.T) {
	env := webhookEnv(t)
	failures := 0
	f := newFakeReceiver(env, func(seq int64) string {
		if seq == 1 && failures < 2 {
			failures++
			return activities.WebhookFailed
		}
		return activities.WebhookDelivered
	}, 1, 2, 3)
	start := env.Now()
	env.ExecuteWorkflow(WebhookDelivery, testPair)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	assert.Equal(t, []int64{1, 1, 1, 2, 3}, f.sent)
	assert.GreaterOrEqual(t, env.Now().Sub(start), webhookIdleWait, "it waited for more before completing")
}

// A wake-up during the idle wait sends what arrived.
func TestWebhookDeliveryWakesUp(t *testing.T) {
	env := webhookEnv(t)
	f := newFakeReceiver(env, func(int64) string { return activities.WebhookDelivered }, 1)
	env.RegisterDelayedCallback(func() {
		f.pending = append(f.pending, 2)
		env.SignalWorkflow(SignalWebhookWake, nil)
	}, 30*time.Second)
	env.ExecuteWorkflow(WebhookDelivery, testPair)
	require.NoError(t, env.GetWorkflowError())
	assert.Equal(t, []int64{1, 2}, f.sent)
}

// A 410 (gone) or a deleted subscription ends the workflow at once.
func TestWebhookDeliveryEndsWhenGone(t *testing.T) {
	for _, outcome := range []string{activities.WebhookGone, activities.WebhookStopped} {
		env := webhookEnv(t)
		f := newFakeReceiver(env, func(int64) string { return outcome }, 1, 2)
		start := env.Now()
		env.ExecuteWorkflow(WebhookDelivery, testPair)
		require.NoError(t, env.GetWorkflowError())
		assert.Equal(t, []int64{1}, f.sent, outcome)
		assert.Less(t, env.Now().Sub(start), webhookIdleWait, "no wait: %s", outcome)
	}
}

// A receiver that never answers is retried for at least 72 hours, each wait at
// most an hour; then the delivery is given up (and the subscription disabled).
func TestWebhookDeliveryRetriesForAtLeast72Hours(t *testing.T) {
	env := webhookEnv(t)
	f := newFakeReceiver(env, func(int64) string { return activities.WebhookFailed }, 1, 2)
	env.ExecuteWorkflow(WebhookDelivery, testPair)
	require.NoError(t, env.GetWorkflowError())
	require.Len(t, f.gaveUp, 1)
	assert.Equal(t, int64(1), f.gaveUp[0].Seq)
	assert.Contains(t, f.gaveUp[0].Reason, "failing since")
	retried := env.Now().Sub(f.first[1])
	assert.GreaterOrEqual(t, retried, tierflow.WebhookRetryWindow)
	assert.Less(t, retried, tierflow.WebhookRetryWindow+2*time.Hour)
	for _, w := range f.waits {
		assert.LessOrEqual(t, w, time.Hour)
	}
	assert.NotContains(t, f.sent, int64(2), "seq 2 is never sent before seq 1")
	t.Logf("%d attempts over %s before giving up", len(f.sent), retried.Round(time.Minute))
}

func TestWebhookBackoffBounds(t *testing.T) {
	var total time.Duration
	distinct := map[time.Duration]bool{}
	for attempt := 1; attempt <= 200; attempt++ {
		b := WebhookBackoff("msg_wh_a_1", attempt)
		ceiling := time.Hour
		if attempt <= 12 {
			ceiling = min(time.Second<<(attempt-1), time.Hour)
		}
		assert.GreaterOrEqual(t, b, time.Duration(0))
		assert.LessOrEqual(t, b, ceiling+time.Millisecond, "attempt %d", attempt)
		assert.Equal(t, b, WebhookBackoff("msg_wh_a_1", attempt), "deterministic")
		distinct[b] = true
		total += b
	}
	assert.Greater(t, len(distinct), 150, "jittered")
	assert.NotEqual(t, WebhookBackoff("msg_wh_a_1", 20), WebhookBackoff("msg_wh_b_1", 20), "receivers spread apart")
	// Full jitter averages half the ceiling: 200 attempts last far beyond a day.
	assert.Greater(t, total, 48*time.Hour)
}
