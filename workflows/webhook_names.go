package workflows

import (
	"encoding/binary"
	"hash/fnv"
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/tierflow/tierflow/activities"
)

// Outbound webhooks are delivered by workflows of their own, independent of the
// case workflows: a case records its events and never waits for a receiver.
//
//   - WebhookDispatcher (one per namespace, WebhookDispatcherID, started by every
//     worker at boot with USE_EXISTING) loops over the DispatchWebhooks activity,
//     which wakes a WebhookDelivery per (subscription, case) with new deliveries.
//   - WebhookDelivery sends the pair's deliveries one at a time, lowest seq first,
//     retrying a failure with exponential backoff and full jitter (WebhookBackoff)
//     for at least tierflow.WebhookRetryWindow; then the delivery is dead and the
//     subscription disabled. It ends when nothing is left (after a minute's wait
//     for a wake-up); the next event starts it again.
const (
	WebhookDispatcherName = "WebhookDispatcher"
	WebhookDeliveryName   = "WebhookDelivery"
	WebhookDispatcherID   = "tierflow-webhook-dispatcher"
	// SignalWebhookWake tells a delivery workflow that its pair has new deliveries.
	SignalWebhookWake = "webhook-wake"
)

// WebhookDeliveryID is the delivery workflow's ID of a pair.
func WebhookDeliveryID(subscriptionID, caseID string) string {
	return "webhook-" + subscriptionID + "-" + caseID
}

// WebhookDeliveryInput names the pair a delivery workflow serves.
type WebhookDeliveryInput struct {
	SubscriptionID string `json:"subscription_id"`
	CaseID         string `json:"case_id"`
}

// WebhookDispatcherInput starts (or continues) the dispatcher.
type WebhookDispatcherInput struct{}

// WebhookDispatcherStartOptions start the dispatcher once: a worker that finds it
// running leaves it be.
func WebhookDispatcherStartOptions() client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID: WebhookDispatcherID, TaskQueue: TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		StaticSummary:            "Wakes the delivery workflow of every (subscription, case) with new webhook deliveries",
	}
}

// WebhookDeliveryStartOptions start (or signal) a pair's delivery workflow.
func WebhookDeliveryStartOptions(subscriptionID, caseID string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID: WebhookDeliveryID(subscriptionID, caseID), TaskQueue: TaskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		StaticSummary:         "Webhook deliveries of case " + caseID + " to " + subscriptionID,
	}
}

// Backoff of a failing delivery: full jitter over an exponential ceiling.
const (
	webhookBackoffBase = time.Second
	webhookBackoffMax  = time.Hour
)

// WebhookBackoff is the wait after the attempt-th failed attempt (1-based) of the
// delivery webhookID: uniform in [0, min(1s*2^(attempt-1), 1h)], drawn from a
// hash of the two, so replay draws the same value without a side effect. Waits
// never exceed an hour; the retry window is measured in time (at least
// tierflow.WebhookRetryWindow from the first attempt), not in attempts.
func WebhookBackoff(webhookID string, attempt int) time.Duration {
	ceiling := webhookBackoffMax
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 13 { // 2^12 s > 1 h
		ceiling = min(webhookBackoffBase<<(attempt-1), webhookBackoffMax)
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(webhookID))
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(attempt))
	_, _ = h.Write(n[:])
	fraction := float64(mix64(h.Sum64())>>11) / float64(1<<53) // [0, 1)
	return time.Duration(fraction * float64(ceiling+time.Millisecond)).Truncate(time.Millisecond)
}

// mix64 is splitmix64's finalizer: FNV alone barely moves its high bits when only
// the last bytes differ, which would give consecutive attempts the same wait.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// webhookSummary names a delivery in the Temporal UI: "deliver case.escalated #7
// to CRM sync".
func webhookSummary(next activities.NextWebhookDeliveryResult) string {
	to := next.Description
	if to == "" {
		to = "the subscriber"
	}
	return truncate("deliver "+next.EventType+" #"+strconv.FormatInt(next.Seq, 10)+" to "+to, 200)
}
