package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/internal/webhookcheck"
)

// TestEndToEndWebhooks runs issue 11's outbound webhook checks on one real stack,
// each receiver verifying every delivery with the independent Standard Webhooks
// library (internal/webhookcheck):
//
//   - a full case lifecycle (open, acknowledge, escalate, acknowledge, resolve,
//     survey) reaches a subscriber complete (every audit event, as GET
//     /v1/cases/{id}/events lists them), in seq order, without personal data;
//   - a receiver that answers 503 for TIERFLOW_WEBHOOK_OUTAGE (default 20s; `make
//     drill` runs the full two minutes) then recovers misses nothing, in order,
//     with duplicates only under the same webhook-id;
//   - a receiver that never answers does not slow cases: decision latency and
//     deadline lateness with it and without any subscription, measured side by
//     side, stay within a margin.
func TestEndToEndWebhooks(t *testing.T) {
	outage := 20 * time.Second
	if v := os.Getenv("TIERFLOW_WEBHOOK_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		require.NoError(t, err, "TIERFLOW_WEBHOOK_OUTAGE")
		outage = d
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute+2*outage)
	defer cancel()
	s := startStack(t)
	h := &hooks{ctx: ctx, stack: s, api: newAPI(s.APIURL)}
	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"lifecycle_delivered_complete_in_order_without_pii", h.lifecycle},
		{"receiver_outage_loses_nothing", func(t *testing.T) { h.outage(t, outage) }},
		{"dead_receiver_does_not_slow_cases", h.deadReceiver},
	}
	for _, st := range steps {
		t.Run(st.name, st.run)
	}
}

// hooks is what the webhook steps share.
type hooks struct {
	ctx   context.Context
	stack *stack
	api   *api
}

// subscribe starts a receiver and subscribes it to every event; the
// subscription is deleted and the receiver stopped when the test ends.
func (h *hooks) subscribe(t *testing.T, description string) *webhookcheck.Receiver {
	t.Helper()
	rcv, err := webhookcheck.Start()
	require.NoError(t, err)
	var sub struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	h.api.do(h.ctx, t, tokIntegration, http.MethodPost, "/v1/webhooks",
		map[string]any{"url": rcv.URL, "events": []string{tierflow.WebhookAllEvents}, "description": description}).
		expect(t, http.StatusCreated, "subscribe").decode(t, &sub)
	require.NoError(t, rcv.SetSecret(sub.Secret))
	t.Cleanup(func() {
		h.api.do(context.Background(), t, tokIntegration, http.MethodDelete, "/v1/webhooks/"+sub.ID, nil).
			expect(t, http.StatusNoContent, "unsubscribe")
		rcv.Close()
	})
	return rcv
}

// waitForDeliveries waits until the receiver holds every event of the case's
// audit log (read through the API) with no problem, and returns its account.
func (h *hooks) waitForDeliveries(t *testing.T, rcv *webhookcheck.Receiver, caseID string, within time.Duration) (
	events []tierflow.CaseEvent, got []webhookcheck.Delivery, duplicates int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, within)
	defer cancel()
	poll(ctx, t, "every audit event delivered to the receiver", 500*time.Millisecond, func() (bool, string) {
		events = h.api.events(h.ctx, t, tokSupervisor, caseID)
		seqs := make([]int64, len(events))
		for i, e := range events {
			seqs[i] = e.Seq
		}
		got = rcv.Accepted(caseID)
		var problems []string
		duplicates, problems = webhookcheck.Check(got, seqs)
		return len(problems) == 0, fmt.Sprintf("%d events, %d deliveries: %v", len(events), len(got), problems)
	})
	return events, got, duplicates
}

func (h *hooks) lifecycle(t *testing.T) {
	rcv := h.subscribe(t, "lifecycle receiver")
	f := &flow{ctx: h.ctx, stack: h.stack, api: h.api}
	f.openFastCase(t, "E2E-HOOK")
	f.api.mustDecide(h.ctx, t, tokAgent, f.caseID, map[string]any{"action": "acknowledge", "decision_id": "hook-ack-1"})
	f.api.mustDecide(h.ctx, t, tokAgent, f.caseID, map[string]any{"action": "escalate", "mode": "functional",
		"department": "billing", "decision_id": "hook-esc", "reason": "needs a refund",
		"summary": "Two settled charges; a refund needs billing."})
	f.api.mustDecide(h.ctx, t, tokSpecialist, f.caseID, map[string]any{"action": "acknowledge", "decision_id": "hook-ack-2"})
	f.api.mustDecide(h.ctx, t, tokSpecialist, f.caseID, map[string]any{"action": "resolve", "decision_id": "hook-resolve",
		"resolution": "We refunded the second charge."})
	link := surveyLink(f.mailText(t, f.waitForMail(t, tierflow.MsgSurvey, 30*time.Second).ID))
	require.NotEmpty(t, link)
	f.api.do(h.ctx, t, "", http.MethodPost, strings.TrimPrefix(link, h.stack.APIURL),
		map[string]any{"score": 5, "resolved": true, "comment": "Thanks, Grace Hopper here, all good"}).
		expect(t, http.StatusOK, "the survey answer")

	closedCtx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
	defer cancel()
	poll(closedCtx, t, "the case to close after the survey", 500*time.Millisecond, func() (bool, string) {
		v := f.api.getCase(h.ctx, t, tokSupervisor, f.caseID)
		return v.Status == tierflow.StatusClosed, string(v.Status)
	})

	events, got, duplicates := h.waitForDeliveries(t, rcv, f.caseID, 60*time.Second)
	types := typesOf(events)
	for _, want := range []tierflow.EventType{tierflow.EventOpened, tierflow.EventAcknowledged, tierflow.EventEscalated,
		tierflow.EventResolved, tierflow.EventSurveyAnswered} {
		assert.Contains(t, types, want)
	}
	for i, d := range got[:len(events)] {
		assert.Equal(t, events[i].Seq, d.Seq)
		assert.Equal(t, tierflow.WebhookEventType(events[i].Type), d.Type, "seq %d", d.Seq)
	}
	for _, d := range got {
		body := string(d.Body)
		for _, pii := range []string{f.open.Customer.Name, "Grace", f.open.Customer.Email, "@example.com", "Thanks", `"comment"`} {
			assert.NotContains(t, body, pii, "delivery %s (seq %d) holds personal data", d.WebhookID, d.Seq)
		}
	}
	c := rcv.Counts()
	assert.Zero(t, c.BadSignatures, "every delivery verifies")
	assert.Zero(t, c.Conflicts)
	t.Logf("case %s: %d audit events, %d deliveries (%d duplicates), all verified: %v", f.caseID, len(events),
		len(got), duplicates, types)
}

func (h *hooks) outage(t *testing.T, outage time.Duration) {
	rcv := h.subscribe(t, "outage receiver")
	rcv.Answer(http.StatusServiceUnavailable)
	began := time.Now()
	f := &flow{ctx: h.ctx, stack: h.stack, api: h.api}
	f.openFastCase(t, "E2E-HOOK-OUT")
	f.api.mustDecide(h.ctx, t, tokAgent, f.caseID, map[string]any{"action": "acknowledge", "decision_id": "out-ack"})
	f.api.mustDecide(h.ctx, t, tokAgent, f.caseID, map[string]any{"action": "resolve", "decision_id": "out-resolve",
		"resolution": "Refunded."})
	select {
	case <-time.After(time.Until(began.Add(outage))):
	case <-h.ctx.Done():
		t.Fatal("timed out during the outage")
	}
	refused := rcv.Counts().Refused
	require.Positive(t, refused, "the receiver refused deliveries during the outage")
	rcv.Answer(http.StatusOK)
	recovered := time.Now()

	// The longest wait after n failures is 2^(n-1) s (full jitter, capped at 1 h).
	events, got, duplicates := h.waitForDeliveries(t, rcv, f.caseID, 2*outage+90*time.Second)
	c := rcv.Counts()
	assert.Zero(t, c.BadSignatures)
	assert.Zero(t, c.Conflicts, "a webhook-id always carries the same body")
	t.Logf("outage of %s: %d answers refused; recovered %s after it ended; %d events, %d deliveries, %d duplicates (same webhook-id)",
		outage, refused, time.Since(recovered).Round(time.Millisecond), len(events), len(got), duplicates)

	var ds struct {
		Deliveries []tierflow.WebhookDelivery `json:"deliveries"`
	}
	subs := h.subscriptions(t)
	require.NotEmpty(t, subs)
	h.api.do(h.ctx, t, tokSupervisor, http.MethodGet, "/v1/webhooks/"+subs[len(subs)-1]+"/deliveries?case_id="+f.caseID, nil).
		expect(t, http.StatusOK, "deliveries").decode(t, &ds)
	require.NotEmpty(t, ds.Deliveries)
	assert.Greater(t, ds.Deliveries[0].Attempts, 1, "the first event was retried through the outage")
	assert.Equal(t, tierflow.DeliveryDelivered, ds.Deliveries[0].Status)
	assert.Equal(t, http.StatusOK, ds.Deliveries[0].LastStatus)
}

func (h *hooks) subscriptions(t *testing.T) []string {
	var list struct {
		Webhooks []tierflow.WebhookSubscription `json:"webhooks"`
	}
	h.api.do(h.ctx, t, tokIntegration, http.MethodGet, "/v1/webhooks", nil).expect(t, http.StatusOK, "list").decode(t, &list)
	var ids []string
	for _, w := range list.Webhooks {
		ids = append(ids, w.ID)
	}
	return ids
}

// caseTimings are what a dead receiver must not change.
type caseTimings struct {
	decisions []time.Duration // API latency of acknowledge and resolve
	lateness  []time.Duration // acknowledge breach recorded after its deadline
}

// measureCases runs three decided cases and one left to breach, side by side.
func (h *hooks) measureCases(t *testing.T, prefix string) caseTimings {
	const decided = 3
	var out caseTimings
	breach := &flow{ctx: h.ctx, stack: h.stack, api: h.api}
	breach.openFastCase(t, prefix+"-BREACH")
	for i := range decided {
		f := &flow{ctx: h.ctx, stack: h.stack, api: h.api}
		f.openFastCase(t, fmt.Sprintf("%s-%d", prefix, i))
		for _, d := range []map[string]any{
			{"action": "acknowledge", "decision_id": "m-ack"},
			{"action": "resolve", "decision_id": "m-resolve", "resolution": "Refunded."},
		} {
			start := time.Now()
			f.api.mustDecide(h.ctx, t, tokAgent, f.caseID, d)
			out.decisions = append(out.decisions, time.Since(start))
		}
	}
	ev := waitForEvent(h.ctx, t, h.api, breach.caseID, "the acknowledge breach", func(e tierflow.CaseEvent) bool {
		return e.Type == tierflow.EventBreach
	})
	deadline, err := time.Parse(time.RFC3339Nano, ev.Details[tierflow.DetailDeadline])
	require.NoError(t, err)
	out.lateness = append(out.lateness, ev.At.Sub(deadline))
	return out
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func (h *hooks) deadReceiver(t *testing.T) {
	require.Empty(t, h.subscriptions(t), "the baseline runs without any subscription")
	none := h.measureCases(t, "E2E-NOHOOK")

	rcv := h.subscribe(t, "dead receiver")
	rcv.Answer(0) // never answers: every attempt waits the full 10 s
	dead := h.measureCases(t, "E2E-DEADHOOK")
	require.Positive(t, rcv.Counts().Attempts, "the dead receiver was being called")

	t.Logf("decision latency median: %s without a subscription, %s with a dead receiver (samples %v / %v)",
		median(none.decisions), median(dead.decisions), none.decisions, dead.decisions)
	t.Logf("acknowledge-breach lateness: %v without, %v with a dead receiver", none.lateness, dead.lateness)
	assert.Less(t, median(dead.decisions), median(none.decisions)+300*time.Millisecond,
		"a dead receiver does not slow decisions")
	assert.Less(t, slices.Max(dead.lateness), slices.Max(none.lateness)+time.Second,
		"a dead receiver does not delay deadlines")
}
