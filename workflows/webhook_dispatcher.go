package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow/activities"
)

// Timings of the dispatcher.
const (
	// dispatchRound is how long one DispatchWebhooks runs (the activity's
	// DispatchFor must stay below it).
	dispatchRound = 6 * time.Minute
	// dispatchHeartbeat: a worker that dies mid-round is replaced this fast.
	dispatchHeartbeat = 30 * time.Second
	// dispatchRoundsPerRun bounds one run's history (about a day of rounds).
	dispatchRoundsPerRun = 300
)

// WebhookDispatcher loops over DispatchWebhooks forever, continuing as new every
// dispatchRoundsPerRun rounds. See webhook_names.go.
func WebhookDispatcher(ctx workflow.Context, in WebhookDispatcherInput) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: dispatchRound, HeartbeatTimeout: dispatchHeartbeat,
		Summary: "wake webhook deliveries",
		// A failed round (the database is down) is tried again, without end.
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second},
	})
	for round := 0; round < dispatchRoundsPerRun && !workflow.GetInfo(ctx).GetContinueAsNewSuggested(); round++ {
		var res activities.DispatchWebhooksResult
		if err := workflow.ExecuteActivity(ctx, wa.DispatchWebhooks, activities.DispatchWebhooksInput{}).Get(ctx, &res); err != nil {
			workflow.GetLogger(ctx).Warn("webhook dispatch round failed", "error", err)
			_ = workflow.Sleep(ctx, 10*time.Second)
		}
	}
	return workflow.NewContinueAsNewError(ctx, WebhookDispatcherName, in)
}
