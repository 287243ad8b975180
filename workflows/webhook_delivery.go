package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// wa refers to the webhook activities by method.
var wa *activities.WebhookActivities

// Timings of a delivery workflow.
const (
	// webhookIdleWait is how long a workflow with nothing to send waits for a
	// wake-up before it completes.
	webhookIdleWait = time.Minute
	// webhookStepsPerRun bounds one run's history: it continues as new after so
	// many activities (each delivery attempt is two).
	webhookStepsPerRun = 500
	// webhookActivityPause is the wait after an activity that failed for good
	// (the database was down through its retries) before the loop tries again.
	webhookActivityPause = 30 * time.Second
)

// webhookActivityRetry: few attempts, the workflow owns the delivery backoff.
var webhookActivityRetry = &temporal.RetryPolicy{
	InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second, MaximumAttempts: 3,
	NonRetryableErrorTypes: []string{activities.ErrTypeInvalidInput},
}

// WebhookDelivery sends a pair's deliveries in seq order: event n+1 is not sent
// before n was delivered (or given up on). See webhook_names.go.
func WebhookDelivery(ctx workflow.Context, in WebhookDeliveryInput) error {
	d := &webhookDelivery{in: in, wake: workflow.GetSignalChannel(ctx, SignalWebhookWake)}
	return d.run(ctx)
}

type webhookDelivery struct {
	in    WebhookDeliveryInput
	wake  workflow.ReceiveChannel
	steps int
}

func (d *webhookDelivery) run(ctx workflow.Context) error {
	pair := activities.WebhookPairInput{SubscriptionID: d.in.SubscriptionID, CaseID: d.in.CaseID}
	for {
		if d.steps >= webhookStepsPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			d.drainWakes() // the next run reads the database again: nothing is lost
			return workflow.NewContinueAsNewError(ctx, WebhookDeliveryName, d.in)
		}
		var next activities.NextWebhookDeliveryResult
		d.steps++
		if err := workflow.ExecuteActivity(webhookActivityCtx(ctx, "next delivery", 30*time.Second),
			wa.NextWebhookDelivery, pair).Get(ctx, &next); err != nil {
			_ = workflow.Sleep(ctx, webhookActivityPause)
			continue
		}
		if !next.Found {
			if d.waitForWake(ctx) {
				continue
			}
			return nil
		}
		done, err := d.attempt(ctx, next)
		if err != nil || done {
			return err
		}
	}
}

// attempt sends next once; done is true when the workflow should end (the
// subscription is gone, disabled or deleted).
func (d *webhookDelivery) attempt(ctx workflow.Context, next activities.NextWebhookDeliveryResult) (done bool, err error) {
	failures := next.Attempts + 1 // if this attempt fails
	retryIn := WebhookBackoff(next.WebhookID, failures)
	var res activities.DeliverWebhookResult
	d.steps++
	in := activities.DeliverWebhookInput{SubscriptionID: d.in.SubscriptionID, CaseID: d.in.CaseID, Seq: next.Seq, RetryIn: retryIn}
	// One POST of at most activities.WebhookTimeout, plus the database.
	if err := workflow.ExecuteActivity(webhookActivityCtx(ctx, webhookSummary(next), 30*time.Second),
		wa.DeliverWebhook, in).Get(ctx, &res); err != nil {
		return false, workflow.Sleep(ctx, max(retryIn, webhookActivityPause))
	}
	switch res.Outcome {
	case activities.WebhookDelivered:
		return false, nil
	case activities.WebhookGone, activities.WebhookStopped:
		return true, nil
	}
	if !res.FirstAttemptAt.IsZero() && workflow.Now(ctx).Sub(res.FirstAttemptAt) >= tierflow.WebhookRetryWindow {
		reason := "failing since " + res.FirstAttemptAt.UTC().Format(time.RFC3339) + ": " + res.Error
		d.steps++
		if err := workflow.ExecuteActivity(webhookActivityCtx(ctx, "give up: "+webhookSummary(next), 30*time.Second),
			wa.GiveUpWebhook, activities.GiveUpWebhookInput{SubscriptionID: d.in.SubscriptionID, CaseID: d.in.CaseID,
				Seq: next.Seq, Reason: reason}).Get(ctx, nil); err != nil {
			return false, workflow.Sleep(ctx, webhookActivityPause)
		}
		return true, nil
	}
	return false, workflow.Sleep(ctx, retryIn)
}

// waitForWake waits up to webhookIdleWait for a wake-up. Before it reports none
// (and the workflow completes) it takes every buffered wake-up: a signal that
// arrives while the completion is being written fails that workflow task, and the
// retried task sees it here.
func (d *webhookDelivery) waitForWake(ctx workflow.Context) bool {
	woken := false
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(d.wake, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); woken = true })
	timerCtx, cancel := workflow.WithCancel(ctx)
	sel.AddFuture(workflow.NewTimer(timerCtx, webhookIdleWait), func(workflow.Future) {})
	sel.Select(ctx)
	cancel()
	return d.drainWakes() || woken
}

// drainWakes takes every buffered wake-up and reports whether there was one.
func (d *webhookDelivery) drainWakes() bool {
	found := false
	for d.wake.ReceiveAsync(nil) {
		found = true
	}
	return found
}

func webhookActivityCtx(ctx workflow.Context, summary string, timeout time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: timeout, RetryPolicy: webhookActivityRetry, Summary: truncate(summary, 200),
	})
}
