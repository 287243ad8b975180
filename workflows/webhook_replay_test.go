package workflows

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow/activities"
)

// webhookFixtures are the recorded histories of the webhook workflows, kept apart
// from the case workflow's (TestReplayHistories replays testdata/*.json as cases).
var webhookFixtures = filepath.Join("testdata", "webhook")

// Every recorded webhook delivery history replays against the current code.
func TestReplayWebhookHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(webhookFixtures, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "record them: TIERFLOW_CAPTURE=1 go test -count=1 -run TestCaptureWebhookHistories ./workflows/")
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			replayer := worker.NewWorkflowReplayer()
			replayer.RegisterWorkflowWithOptions(WebhookDelivery, workflow.RegisterOptions{Name: WebhookDeliveryName})
			replayer.RegisterWorkflowWithOptions(WebhookDispatcher, workflow.RegisterOptions{Name: WebhookDispatcherName})
			require.NoError(t, replayer.ReplayWorkflowHistoryFromJSONFile(nil, file))
		})
	}
}

// captureReceiver fails seq 1 twice, then delivers everything; it has two
// deliveries, then a third after a wake-up.
type captureReceiver struct {
	mu      sync.Mutex
	pending []int64
	tries   map[int64]int
	first   time.Time
}

func (c *captureReceiver) next(_ context.Context, in activities.WebhookPairInput) (activities.NextWebhookDeliveryResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) == 0 {
		return activities.NextWebhookDeliveryResult{}, nil
	}
	seq := c.pending[0]
	return activities.NextWebhookDeliveryResult{Found: true, Seq: seq, EventType: "case.escalated",
		WebhookID: "msg_capture_" + in.CaseID, Attempts: c.tries[seq], Description: "CRM sync"}, nil
}

func (c *captureReceiver) deliver(_ context.Context, in activities.DeliverWebhookInput) (activities.DeliverWebhookResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.first.IsZero() {
		c.first = time.Now()
	}
	c.tries[in.Seq]++
	if in.Seq == 1 && c.tries[in.Seq] <= 2 {
		return activities.DeliverWebhookResult{Outcome: activities.WebhookFailed, HTTPStatus: 503,
			Error: "the receiver answered 503 Service Unavailable", FirstAttemptAt: c.first}, nil
	}
	c.pending = c.pending[1:]
	return activities.DeliverWebhookResult{Outcome: activities.WebhookDelivered, HTTPStatus: 204, FirstAttemptAt: c.first}, nil
}

// TestCaptureWebhookHistories records testdata/webhook/delivery.json from a real
// run on a dev server: two failures with backoff, deliveries, a wake-up, the idle
// wait and completion. A generator, run on demand:
//
//	TIERFLOW_CAPTURE=1 go test -count=1 -run TestCaptureWebhookHistories ./workflows/
func TestCaptureWebhookHistories(t *testing.T) {
	if os.Getenv("TIERFLOW_CAPTURE") != "1" {
		t.Skip("generator of testdata/webhook/*.json: set TIERFLOW_CAPTURE=1 to record new histories")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, stop := startCaptureServer(t, ctx)
	defer stop()
	rec := &captureReceiver{pending: []int64{1, 2}, tries: map[int64]int{}}
	w := worker.New(c, "webhook-capture", worker.Options{})
	w.RegisterWorkflowWithOptions(WebhookDelivery, workflow.RegisterOptions{Name: WebhookDeliveryName})
	w.RegisterActivityWithOptions(rec.next, activity.RegisterOptions{Name: "NextWebhookDelivery"})
	w.RegisterActivityWithOptions(rec.deliver, activity.RegisterOptions{Name: "DeliverWebhook"})
	require.NoError(t, w.Start())
	defer w.Stop()

	opts := WebhookDeliveryStartOptions("wh_capture01", "zendesk-capture")
	opts.TaskQueue = "webhook-capture"
	run, err := c.SignalWithStartWorkflow(ctx, opts.ID, SignalWebhookWake, nil, opts, WebhookDeliveryName,
		WebhookDeliveryInput{SubscriptionID: "wh_capture01", CaseID: "zendesk-capture"})
	require.NoError(t, err)
	time.Sleep(10 * time.Second) // two backoffs of at most 1 s and 2 s, then the idle wait
	rec.mu.Lock()
	rec.pending = append(rec.pending, 3)
	rec.mu.Unlock()
	require.NoError(t, c.SignalWorkflow(ctx, opts.ID, "", SignalWebhookWake, nil))
	require.NoError(t, run.Get(ctx, nil)) // after the minute's idle wait

	writeHistoryFixture(t, filepath.Join(webhookFixtures, "delivery.json"), fetchHistory(t, ctx, c, run.GetID(), run.GetRunID()))
}
