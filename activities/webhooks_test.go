package activities

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/internal/egress"
	"github.com/tierflow/tierflow/internal/stdwebhook"
)

// fakeOutbox is a tierflow.WebhookOutbox of one message.
type fakeOutbox struct {
	tierflow.WebhookOutbox // methods the tests do not use panic
	mu                     sync.Mutex
	msg                    tierflow.WebhookMessage
	attempts               []tierflow.WebhookAttempt
	gaveUp                 []string
}

func (f *fakeOutbox) LoadMessage(context.Context, string, string, int64) (tierflow.WebhookMessage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.msg, nil
}

func (f *fakeOutbox) RecordAttempt(_ context.Context, a tierflow.WebhookAttempt) (tierflow.WebhookDelivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts = append(f.attempts, a)
	d := f.msg.Delivery
	d.FirstAttemptAt = &f.attempts[0].At
	return d, nil
}

func (f *fakeOutbox) GiveUp(_ context.Context, _, _ string, _ int64, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gaveUp = append(f.gaveUp, reason)
	return nil
}

func secretOf(s string) string { return "whsec_" + base64.StdEncoding.EncodeToString([]byte(s)) }

// received is what the test receiver saw.
type received struct {
	header http.Header
	body   []byte
}

func receiver(t *testing.T, status int) (*httptest.Server, chan received) {
	got := make(chan received, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- received{header: r.Header.Clone(), body: b}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func testMessage(url string) tierflow.WebhookMessage {
	assignee := "dev:agent"
	return tierflow.WebhookMessage{
		Delivery: tierflow.WebhookDelivery{SubscriptionID: "wh_a1b2c3d4e5", CaseID: "zendesk-7", Seq: 4,
			EventType: "case.survey_answered", WebhookID: "msg_wh_a1b2c3d4e5_x_4", Status: tierflow.DeliveryPending,
			CreatedAt: time.Now().Add(-2 * time.Second)},
		URL: url, Description: "CRM", SubscriptionStatus: tierflow.WebhookActive,
		Secrets: tierflow.WebhookSecrets{Current: secretOf("the-new-secret-0123456789")},
		EventAt: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC), Tier: 2, Status: tierflow.StatusClosed, Department: "billing",
		Details: map[string]string{tierflow.DetailScore: "5", tierflow.DetailResolved: "true",
			tierflow.DetailComment: "Thanks, Ada Lovelace <ada@example.com>"},
		Case: tierflow.WebhookCaseSnapshot{Source: "zendesk", ExternalID: "7", Assignee: &assignee,
			Deadlines: json.RawMessage(`{"acknowledge_by": null}`)},
	}
}

func deliver(t *testing.T, outbox *fakeOutbox) DeliverWebhookResult {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	acts := &WebhookActivities{Outbox: outbox, Egress: egress.Mode{}}
	env.RegisterActivity(acts)
	val, err := env.ExecuteActivity(acts.DeliverWebhook, DeliverWebhookInput{SubscriptionID: "wh_a1b2c3d4e5",
		CaseID: "zendesk-7", Seq: 4, RetryIn: time.Minute})
	require.NoError(t, err)
	var res DeliverWebhookResult
	require.NoError(t, val.Get(&res))
	return res
}

// During a rotation's overlap the delivery carries both signatures: a receiver
// on either secret verifies it.
func TestDeliverSignsWithBothSecretsDuringRotation(t *testing.T) {
	srv, got := receiver(t, http.StatusNoContent)
	outbox := &fakeOutbox{msg: testMessage(srv.URL + "/hook")}
	outbox.msg.Secrets.Previous = secretOf("the-old-secret-0123456789")

	res := deliver(t, outbox)
	assert.Equal(t, WebhookDelivered, res.Outcome)
	r := <-got
	assert.Equal(t, "msg_wh_a1b2c3d4e5_x_4", r.header.Get("webhook-id"))
	sigs := strings.Fields(r.header.Get("webhook-signature"))
	require.Len(t, sigs, 2)
	for _, secret := range []string{outbox.msg.Secrets.Current, outbox.msg.Secrets.Previous} {
		key, err := stdwebhook.ParseSecret(secret)
		require.NoError(t, err)
		assert.NoError(t, stdwebhook.Verify([]stdwebhook.Secret{key}, r.header, r.body, 5*time.Minute, time.Now()))
	}
	wrong, _ := stdwebhook.ParseSecret(secretOf("somebody-else-0123456789"))
	assert.ErrorIs(t, stdwebhook.Verify([]stdwebhook.Secret{wrong}, r.header, r.body, 5*time.Minute, time.Now()), stdwebhook.ErrNoMatchingSignature)
	require.Len(t, outbox.attempts, 1)
	assert.True(t, outbox.attempts[0].Delivered)
}

// The payload tells the event and the case, never the customer.
func TestDeliverPayloadHoldsNoPersonalData(t *testing.T) {
	srv, got := receiver(t, http.StatusOK)
	outbox := &fakeOutbox{msg: testMessage(srv.URL)}
	deliver(t, outbox)
	r := <-got
	body := string(r.body)
	for _, pii := range []string{"Ada", "Lovelace", "ada@example.com", "comment"} {
		assert.NotContains(t, body, pii)
	}
	var p WebhookPayload
	require.NoError(t, json.Unmarshal(r.body, &p))
	assert.Equal(t, "case.survey_answered", p.Type)
	assert.Equal(t, "zendesk-7", p.Data.CaseID)
	assert.Equal(t, int64(4), p.Data.Seq)
	assert.Equal(t, map[string]string{"score": "5", "resolved": "true"}, p.Data.Details)
	assert.Equal(t, "dev:agent", *p.Data.Assignee)
}

// 410 disables the subscription; any other failure is recorded for a retry.
func TestDeliverOutcomes(t *testing.T) {
	gone, _ := receiver(t, http.StatusGone)
	outbox := &fakeOutbox{msg: testMessage(gone.URL)}
	res := deliver(t, outbox)
	assert.Equal(t, WebhookGone, res.Outcome)
	assert.Equal(t, []string{"the receiver answered 410 Gone"}, outbox.gaveUp)

	down, _ := receiver(t, http.StatusServiceUnavailable)
	outbox = &fakeOutbox{msg: testMessage(down.URL)}
	res = deliver(t, outbox)
	assert.Equal(t, WebhookFailed, res.Outcome)
	assert.Equal(t, 503, res.HTTPStatus)
	assert.Empty(t, outbox.gaveUp)
	require.Len(t, outbox.attempts, 1)
	assert.Equal(t, time.Minute, outbox.attempts[0].NextAttemptAt.Sub(outbox.attempts[0].At))
	assert.False(t, res.FirstAttemptAt.IsZero())

	outbox = &fakeOutbox{msg: testMessage("http://10.0.0.1/hook")}
	res = deliver(t, outbox)
	assert.Equal(t, WebhookFailed, res.Outcome)
	assert.Contains(t, res.Error, "refused target", "the guard runs at send time too")

	outbox = &fakeOutbox{msg: testMessage("https://10.2.3.4/hook")}
	res = deliver(t, outbox)
	assert.Equal(t, "refused target: the URL's host is not a public address", res.Error,
		"the attempt's error (the subscriber's last_error) names no address")
}

// dispatchOutbox has undispatched pairs once, then none.
type dispatchOutbox struct {
	fakeOutbox
	pairs  []tierflow.WebhookPair
	marked []tierflow.WebhookPair
	purges []string // "<retention> <limit>" of each purge
}

func (d *dispatchOutbox) PurgeSettledDeliveries(_ context.Context, olderThan time.Duration, limit int) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.purges = append(d.purges, fmt.Sprint(olderThan, " ", limit))
	return 0, nil
}

func (d *dispatchOutbox) UndispatchedPairs(context.Context, int) ([]tierflow.WebhookPair, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.pairs
	d.pairs = nil
	return p, nil
}

func (d *dispatchOutbox) MarkDispatched(_ context.Context, pairs []tierflow.WebhookPair) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.marked = append(d.marked, pairs...)
	return nil
}

func (d *dispatchOutbox) PendingCounts(context.Context) (map[string]int, error) {
	return map[string]int{"wh_a": 1}, nil
}

func (d *dispatchOutbox) ListenWakes(context.Context) (tierflow.WebhookWakeListener, error) {
	return nil, errors.New("no LISTEN here: the round polls")
}

type wakes struct {
	mu    sync.Mutex
	woken []string
	fail  string // a case whose wake-up fails
}

func (w *wakes) WakeDelivery(_ context.Context, sub, caseID string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if caseID == w.fail {
		return errors.New("temporal unavailable")
	}
	w.woken = append(w.woken, sub+"/"+caseID)
	return nil
}

// A round wakes each pair's workflow, marks only those it woke, and ends after
// DispatchFor.
func TestDispatchWakesAndMarks(t *testing.T) {
	outbox := &dispatchOutbox{pairs: []tierflow.WebhookPair{{SubscriptionID: "wh_a", CaseID: "zendesk-1", MaxSeq: 3},
		{SubscriptionID: "wh_a", CaseID: "zendesk-2", MaxSeq: 1}}}
	waker := &wakes{fail: "zendesk-2"}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	acts := &WebhookActivities{Outbox: outbox, Waker: waker, DispatchFor: 300 * time.Millisecond, PollInterval: 20 * time.Millisecond,
		Retention: 48 * time.Hour}
	env.RegisterActivity(acts)
	start := time.Now()
	val, err := env.ExecuteActivity(acts.DispatchWebhooks, DispatchWebhooksInput{})
	require.NoError(t, err)
	var res DispatchWebhooksResult
	require.NoError(t, val.Get(&res))
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)
	assert.Equal(t, 1, res.Woken)
	assert.Equal(t, []string{"wh_a/zendesk-1"}, waker.woken)
	assert.Equal(t, []tierflow.WebhookPair{{SubscriptionID: "wh_a", CaseID: "zendesk-1", MaxSeq: 3}}, outbox.marked,
		"a pair whose wake-up failed stays undispatched, for the next poll")
	assert.Equal(t, []string{"48h0m0s 1000"}, outbox.purges, "one bounded purge per minute, the first at once")
}

// pagedOutbox has pages of undispatched pairs, one page a call.
type pagedOutbox struct {
	dispatchOutbox
	pages [][]tierflow.WebhookPair
}

func (p *pagedOutbox) UndispatchedPairs(context.Context, int) ([]tierflow.WebhookPair, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.pages) == 0 {
		return nil, nil
	}
	page := p.pages[0]
	p.pages = p.pages[1:]
	return page, nil
}

// A pass over many pairs heartbeats after each batch of 200, not only at its end
// (DispatchWebhooks records each as its heartbeat; the SDK throttles the calls).
func TestDispatchHeartbeatsAfterEachBatch(t *testing.T) {
	outbox := &pagedOutbox{}
	for page := range 3 {
		var pairs []tierflow.WebhookPair
		for i := range 200 {
			pairs = append(pairs, tierflow.WebhookPair{SubscriptionID: "wh_a", CaseID: fmt.Sprintf("zendesk-%d-%d", page, i), MaxSeq: 1})
		}
		outbox.pages = append(outbox.pages, pairs)
	}
	acts := &WebhookActivities{Outbox: outbox, Waker: &wakes{}}
	var beats []int
	woken, err := acts.dispatchOnce(context.Background(), func(n int) { beats = append(beats, n) })
	require.NoError(t, err)
	assert.Equal(t, 600, woken)
	assert.Equal(t, []int{200, 400, 600}, beats, "one heartbeat per batch, during the pass")
	assert.Len(t, outbox.marked, 600)
}
