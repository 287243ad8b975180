package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow/activities"
	"github.com/tierflow/tierflow/internal/egress"
	"github.com/tierflow/tierflow/postgres"
	"github.com/tierflow/tierflow/workflows"
)

// registerWebhooks puts the webhook workflows and activities on the worker
// (workflows/webhook_names.go). Secrets are opened with keys derived from the
// codec keys, as the API sealed them.
func registerWebhooks(r worker.Registry, c client.Client, store *postgres.Store, cfg config) error {
	outbox, err := store.Webhooks(cfg.CodecKeys)
	if err != nil {
		return fmt.Errorf("webhook store: %w", err)
	}
	r.RegisterWorkflowWithOptions(workflows.WebhookDispatcher, workflow.RegisterOptions{Name: workflows.WebhookDispatcherName})
	r.RegisterWorkflowWithOptions(workflows.WebhookDelivery, workflow.RegisterOptions{Name: workflows.WebhookDeliveryName})
	r.RegisterActivity(&activities.WebhookActivities{
		Outbox: outbox,
		Waker:  deliveryWaker{c: c},
		Egress: egress.Mode{Production: cfg.Mode.Production},
		Now:    time.Now,
		// Settled deliveries are deleted by the dispatcher after this.
		Retention: cfg.WebhookRetention,
	})
	return nil
}

// deliveryWaker signals a pair's delivery workflow, starting it when none runs.
type deliveryWaker struct{ c client.Client }

func (d deliveryWaker) WakeDelivery(ctx context.Context, subscriptionID, caseID string) error {
	_, err := d.c.SignalWithStartWorkflow(ctx, workflows.WebhookDeliveryID(subscriptionID, caseID),
		workflows.SignalWebhookWake, nil, workflows.WebhookDeliveryStartOptions(subscriptionID, caseID),
		workflows.WebhookDeliveryName, workflows.WebhookDeliveryInput{SubscriptionID: subscriptionID, CaseID: caseID})
	return err
}

// startWebhookDispatcher starts the one dispatcher unless it runs already (every
// worker asks at boot; USE_EXISTING makes all but the first a no-op). A failure
// is logged, not fatal: the next worker start, or this one's retry, starts it.
func startWebhookDispatcher(ctx context.Context, c client.Client, logger *slog.Logger) {
	go func() {
		for attempt := 0; attempt < 10; attempt++ {
			startCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			run, err := c.ExecuteWorkflow(startCtx, workflows.WebhookDispatcherStartOptions(), workflows.WebhookDispatcherName,
				workflows.WebhookDispatcherInput{})
			cancel()
			if err == nil {
				logger.Info("webhook dispatcher running", "workflow_id", run.GetID(), "run_id", run.GetRunID())
				return
			}
			logger.Warn("cannot start the webhook dispatcher; retrying", "error", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Duration(attempt+1) * 3 * time.Second):
			}
		}
		logger.Error("the webhook dispatcher could not be started: webhooks wait for the next worker start")
	}()
}
