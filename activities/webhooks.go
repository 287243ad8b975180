package activities

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/internal/egress"
)

// WebhookActivities deliver outbound webhooks (workflows/webhook*.go). Register a
// value with the worker; the workflows refer to the methods through a nil
// *WebhookActivities. Secrets are read and used here only: no input or result
// carries them, so they never reach a workflow's history.
type WebhookActivities struct {
	Outbox tierflow.WebhookOutbox
	// Waker signals (or starts) the delivery workflow of a pair (the worker's
	// SignalWithStart; activities do not know the workflows).
	Waker DeliveryWaker
	// Egress judges every target again at send time and at dial time.
	Egress egress.Mode
	// HTTP sends the deliveries; nil: a client whose dialer applies Egress,
	// with WebhookTimeout, that follows no redirect.
	HTTP *http.Client
	Now  func() time.Time
	// DispatchFor is how long one DispatchWebhooks runs before it returns (default
	// 5 minutes); PollInterval the backstop poll when no NOTIFY comes (default 1 s).
	DispatchFor  time.Duration
	PollInterval time.Duration
	// Retention is how long a delivered or dead delivery is kept before the
	// dispatcher deletes it (TIERFLOW_WEBHOOK_RETENTION; 0: DefaultWebhookRetention).
	Retention time.Duration
}

// DefaultWebhookRetention is how long settled deliveries are kept.
const DefaultWebhookRetention = 30 * 24 * time.Hour

// webhookPurgeEvery and webhookPurgeBatch bound the retention's deletes: at most
// webhookPurgeBatch rows per pass.
const (
	webhookPurgeEvery = time.Minute
	webhookPurgeBatch = 1000
)

// DeliveryWaker wakes the delivery workflow of one (subscription, case).
type DeliveryWaker interface {
	WakeDelivery(ctx context.Context, subscriptionID, caseID string) error
}

// WebhookTimeout bounds one delivery attempt (connect, send, answer).
const WebhookTimeout = 10 * time.Second

// Metric names (the worker's Prometheus registry, through the SDK's metrics
// handler; tagged by subscription).
const (
	MetricWebhookLag      = "tierflow_webhook_delivery_lag"      // timer: event recorded -> delivered
	MetricWebhookFailures = "tierflow_webhook_delivery_failures" // counter: failed attempts
	MetricWebhookPending  = "tierflow_webhook_pending"           // gauge: undelivered deliveries
)

// DispatchWebhooksInput runs one dispatcher round.
type DispatchWebhooksInput struct{}

// DispatchWebhooksResult says how many pairs the round woke.
type DispatchWebhooksResult struct {
	Woken int `json:"woken"`
}

// DispatchWebhooks runs for DispatchFor: it wakes the delivery workflow of every
// pair with new deliveries, at once when PostgreSQL notifies one and at least
// every PollInterval, and refreshes the pending gauge. It heartbeats, so a dead
// worker's round is taken over within the heartbeat timeout.
func (a *WebhookActivities) DispatchWebhooks(ctx context.Context, _ DispatchWebhooksInput) (DispatchWebhooksResult, error) {
	runFor, poll := a.DispatchFor, a.PollInterval
	if runFor <= 0 {
		runFor = 5 * time.Minute
	}
	if poll <= 0 {
		poll = time.Second
	}
	var res DispatchWebhooksResult
	deadline := time.Now().Add(runFor)
	// A stopping worker ends the round at once (the workflow starts the next one,
	// on any worker) instead of holding the stop for WorkerStopTimeout.
	workerCtx := ctx
	ctx, stopRound := context.WithCancel(ctx)
	defer stopRound()
	go func() {
		select {
		case <-activity.GetWorkerStopChannel(workerCtx):
			stopRound()
		case <-ctx.Done():
		}
	}()
	listener, err := a.Outbox.ListenWakes(ctx)
	if err != nil {
		activity.GetLogger(ctx).Warn("cannot listen for webhook deliveries; polling", "error", err)
	}
	defer func() {
		if listener != nil {
			listener.Close()
		}
	}()
	var lastGauge, lastPurge time.Time
	for time.Now().Before(deadline) {
		woken := res.Woken
		n, err := a.dispatchOnce(ctx, func(n int) { activity.RecordHeartbeat(workerCtx, woken+n) })
		res.Woken += n
		if err != nil && workerCtx.Err() == nil && ctx.Err() != nil {
			return res, nil // the worker is stopping
		}
		if err != nil {
			return res, fmt.Errorf("dispatch webhooks: %w", err)
		}
		if time.Since(lastGauge) >= 5*poll {
			a.reportPending(ctx)
			lastGauge = time.Now()
		}
		if time.Since(lastPurge) >= webhookPurgeEvery {
			a.purgeSettled(ctx)
			lastPurge = time.Now()
		}
		activity.RecordHeartbeat(workerCtx, res.Woken)
		if err := a.waitForWake(ctx, &listener, poll); err != nil {
			if workerCtx.Err() == nil {
				return res, nil // the worker is stopping
			}
			return res, err
		}
	}
	return res, nil
}

// waitForWake waits for a NOTIFY or poll; a broken listener is dropped (then
// the round polls).
func (a *WebhookActivities) waitForWake(ctx context.Context, listener *tierflow.WebhookWakeListener, poll time.Duration) error {
	if *listener == nil {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
			return nil
		}
	}
	if err := (*listener).Wait(ctx, poll); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		activity.GetLogger(ctx).Warn("webhook listener failed; polling", "error", err)
		(*listener).Close()
		*listener = nil
	}
	return nil
}

// dispatchBatch is how many pairs dispatchOnce reads, wakes and marks at a time.
const dispatchBatch = 200

// dispatchOnce wakes every pair with undispatched deliveries, then marks them:
// a crash in between wakes them again, which is harmless. It heartbeats (the
// pairs woken so far) after each batch: a pass over thousands of new pairs
// outlasts the heartbeat timeout.
func (a *WebhookActivities) dispatchOnce(ctx context.Context, heartbeat func(woken int)) (int, error) {
	woken := 0
	for {
		pairs, err := a.Outbox.UndispatchedPairs(ctx, dispatchBatch)
		if err != nil || len(pairs) == 0 {
			return woken, err
		}
		var done []tierflow.WebhookPair
		for _, p := range pairs {
			if err := a.Waker.WakeDelivery(ctx, p.SubscriptionID, p.CaseID); err != nil {
				activity.GetLogger(ctx).Warn("cannot wake a webhook delivery workflow", "subscription_id", p.SubscriptionID,
					"case_id", p.CaseID, "error", err)
				continue
			}
			done = append(done, p)
		}
		if err := a.Outbox.MarkDispatched(ctx, done); err != nil {
			return woken, err
		}
		woken += len(done)
		heartbeat(woken)
		if len(done) < len(pairs) || len(pairs) < dispatchBatch {
			return woken, nil
		}
	}
}

// purgeSettled deletes the deliveries settled longer ago than the retention, at
// most webhookPurgeBatch per pass; a failure waits for the next pass.
func (a *WebhookActivities) purgeSettled(ctx context.Context) {
	retention := a.Retention
	if retention <= 0 {
		retention = DefaultWebhookRetention
	}
	n, err := a.Outbox.PurgeSettledDeliveries(ctx, retention, webhookPurgeBatch)
	if err != nil {
		activity.GetLogger(ctx).Warn("cannot delete settled webhook deliveries; next pass", "error", err)
		return
	}
	if n > 0 {
		activity.GetLogger(ctx).Info("deleted settled webhook deliveries past retention", "deleted", n,
			"retention", retention.String())
	}
}

func (a *WebhookActivities) reportPending(ctx context.Context) {
	counts, err := a.Outbox.PendingCounts(ctx)
	if err != nil {
		activity.GetLogger(ctx).Warn("cannot count pending webhook deliveries", "error", err)
		return
	}
	for id, n := range counts {
		activity.GetMetricsHandler(ctx).WithTags(map[string]string{"subscription": id}).Gauge(MetricWebhookPending).Update(float64(n))
	}
}

// WebhookPairInput names one (subscription, case).
type WebhookPairInput struct {
	SubscriptionID string `json:"subscription_id"`
	CaseID         string `json:"case_id"`
}

// NextWebhookDeliveryResult is the pair's next delivery, if any.
type NextWebhookDeliveryResult struct {
	Found          bool       `json:"found"`
	Seq            int64      `json:"seq,omitempty"`
	EventType      string     `json:"event_type,omitempty"`
	WebhookID      string     `json:"webhook_id,omitempty"`
	Attempts       int        `json:"attempts,omitempty"`
	FirstAttemptAt *time.Time `json:"first_attempt_at,omitempty"`
	// Description names the subscription in the workflow's summaries.
	Description string `json:"description,omitempty"`
}

// NextWebhookDelivery finds the pair's lowest undelivered delivery while its
// subscription is active.
func (a *WebhookActivities) NextWebhookDelivery(ctx context.Context, in WebhookPairInput) (NextWebhookDeliveryResult, error) {
	d, found, err := a.Outbox.NextDelivery(ctx, in.SubscriptionID, in.CaseID)
	if err != nil || !found {
		return NextWebhookDeliveryResult{}, err
	}
	m, err := a.Outbox.LoadMessage(ctx, in.SubscriptionID, in.CaseID, d.Seq)
	if tierflow.ErrorCode(err) == tierflow.CodeNotFound {
		return NextWebhookDeliveryResult{}, nil // deleted meanwhile
	}
	if err != nil {
		return NextWebhookDeliveryResult{}, err
	}
	return NextWebhookDeliveryResult{Found: true, Seq: d.Seq, EventType: d.EventType, WebhookID: d.WebhookID,
		Attempts: d.Attempts, FirstAttemptAt: d.FirstAttemptAt, Description: m.Description}, nil
}

// GiveUpWebhookInput ends a delivery that failed for the whole retry window.
type GiveUpWebhookInput struct {
	SubscriptionID string `json:"subscription_id"`
	CaseID         string `json:"case_id"`
	Seq            int64  `json:"seq"`
	Reason         string `json:"reason"`
}

// GiveUpWebhook marks the delivery dead and disables its subscription (an
// operator redelivers once the receiver is back).
func (a *WebhookActivities) GiveUpWebhook(ctx context.Context, in GiveUpWebhookInput) error {
	return a.Outbox.GiveUp(ctx, in.SubscriptionID, in.CaseID, in.Seq, in.Reason)
}
