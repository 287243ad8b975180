package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow/activities"
)

// The Mailer workflow delivers the email outbox (changeEmailOutbox): one per
// shard of the cases (tierflow.OutboxShard), IDs MailerWorkflowID(0..N-1), started
// by every worker at boot (the first start wins, the others use it). It runs
// DeliverOutbox, a long activity that heartbeats its progress, again and again,
// and continues as new every mailerIterations so its history stays short.
const (
	// MailerWorkflowName is the Mailer's registered name.
	MailerWorkflowName = "Mailer"
	// SignalNotificationProblems carries an activities.NotificationProblems from
	// the mailer to the case whose emails could not all be sent.
	SignalNotificationProblems = "notification-problems"
	// DefaultMailerShards is how many Mailer workflows deliver the outbox.
	DefaultMailerShards = 2
	// mailerIterations is how many DeliverOutbox one run of a Mailer runs (about
	// 16 hours of 5-minute deliveries, 6 history events each).
	mailerIterations = 200
	// mailerHeartbeatTimeout: a delivery that stops heartbeating this long is
	// retried (its leased batches wait for their lease to end).
	mailerHeartbeatTimeout = 10 * time.Second
)

// MailerWorkflowID is the workflow ID of shard's Mailer.
func MailerWorkflowID(shard int) string { return fmt.Sprintf("tierflow-mailer-%d", shard) }

// MailerInput names the Mailer's shard. Iterations, when positive, replaces
// mailerIterations (tests).
type MailerInput struct {
	Shard      int `json:"shard"`
	Shards     int `json:"shards"`
	Iterations int `json:"iterations,omitempty"`
}

// MailerWorkflow delivers the outbox of one shard, forever.
func MailerWorkflow(ctx workflow.Context, in MailerInput) error {
	iterations := in.Iterations
	if iterations <= 0 {
		iterations = mailerIterations
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: activities.DefaultOutboxDeliveryTime + time.Minute,
		HeartbeatTimeout:    mailerHeartbeatTimeout,
		// Unlimited attempts: the outbox must always have a deliverer.
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: time.Minute, NonRetryableErrorTypes: []string{activities.ErrTypeInvalidInput}},
		Summary: fmt.Sprintf("deliver the email outbox, shard %d of %d", in.Shard, in.Shards),
	})
	log := workflow.GetLogger(ctx)
	for range iterations {
		var res activities.DeliverOutboxResult
		err := workflow.ExecuteActivity(actx, a.DeliverOutbox, activities.DeliverOutboxInput{Shard: in.Shard,
			Shards: in.Shards, For: activities.DefaultOutboxDeliveryTime}).Get(ctx, &res)
		if err != nil {
			// Only an input no retry can fix ends here (a misconfigured shard):
			// keep the workflow, so a fixed worker picks it up.
			log.Error("outbox delivery failed", "shard", in.Shard, "error", err)
			if err := workflow.Sleep(ctx, time.Minute); err != nil {
				return err
			}
			continue
		}
		log.Info("outbox delivered", "shard", in.Shard, "delivered", res.Delivered, "retried", res.Retried,
			"problems", res.Problems)
	}
	return workflow.NewContinueAsNewError(ctx, MailerWorkflowName, in)
}
