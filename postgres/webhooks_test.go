package postgres

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/codec"
)

func testWebhooks(t *testing.T) (*Store, *Webhooks) {
	t.Helper()
	s := newStore(t)
	keys, err := codec.ParseKeyring("k1:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32))))
	require.NoError(t, err)
	w, err := s.Webhooks(keys)
	require.NoError(t, err)
	return s, w
}

var (
	integrationA = tierflow.Principal{ID: "crm-a", Role: tierflow.RoleIntegration}
	integrationB = tierflow.Principal{ID: "crm-b", Role: tierflow.RoleIntegration, AllowedSources: []string{"salesforce"}}
)

func subscribe(t *testing.T, w *Webhooks, owner tierflow.Principal, events ...string) tierflow.WebhookSubscription {
	t.Helper()
	sub, err := w.CreateSubscription(context.Background(), owner,
		tierflow.NewWebhookSubscription{URL: "https://hooks.example.com/" + owner.ID, Events: events, Description: "crm"},
		"whsec_"+base64.StdEncoding.EncodeToString([]byte("secret-of-"+owner.ID+"-0123456789")))
	require.NoError(t, err)
	return sub
}

func deliveriesOf(t *testing.T, w *Webhooks, sub tierflow.WebhookSubscription) []tierflow.WebhookDelivery {
	t.Helper()
	ds, err := w.ListDeliveries(context.Background(), sub.OwnerID, sub.ID, tierflow.DeliveryFilter{})
	require.NoError(t, err)
	return ds
}

// Recording events creates one pending delivery per matching, active, in-scope
// subscription, in the same transaction; a retried record creates nothing twice,
// and the dispatcher is woken.
func TestWebhookFanOutFollowsTheRecord(t *testing.T) {
	ctx := context.Background()
	s, w := testWebhooks(t)
	all := subscribe(t, w, integrationA, tierflow.WebhookAllEvents)
	escalations := subscribe(t, w, integrationA, tierflow.WebhookEventType(tierflow.EventEscalated))
	otherSource := subscribe(t, w, integrationB, tierflow.WebhookAllEvents) // zendesk is outside its scope
	disabled := subscribe(t, w, integrationA, tierflow.WebhookAllEvents)
	require.NoError(t, w.GiveUp(ctx, disabled.ID, "", 0, "test"))

	listener, err := w.ListenWakes(ctx)
	require.NoError(t, err)
	defer listener.Close()

	view := testCase("zendesk-1", 2)
	events := []tierflow.CaseEvent{testEvent("zendesk-1", 1, tierflow.EventOpened), testEvent("zendesk-1", 2, tierflow.EventEscalated)}
	record(t, s, view, events...)
	record(t, s, view, events...) // a retry

	got := deliveriesOf(t, w, all)
	require.Len(t, got, 2)
	assert.Equal(t, "case.opened", got[0].EventType)
	assert.Equal(t, "case.escalated", got[1].EventType)
	assert.Equal(t, tierflow.DeliveryPending, got[0].Status)
	assert.NotEqual(t, got[0].WebhookID, got[1].WebhookID)
	esc := deliveriesOf(t, w, escalations)
	require.Len(t, esc, 1)
	assert.Equal(t, int64(2), esc[0].Seq)
	assert.Empty(t, deliveriesOf(t, w, otherSource), "a scoped integration gets no case of another source")
	assert.Empty(t, deliveriesOf(t, w, disabled), "a disabled subscription gets nothing new")

	waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	start := time.Now()
	require.NoError(t, listener.Wait(waitCtx, 3*time.Second))
	assert.Less(t, time.Since(start), 2*time.Second, "the record woke the listener")

	pairs, err := w.UndispatchedPairs(ctx, 10)
	require.NoError(t, err)
	assert.ElementsMatch(t, []tierflow.WebhookPair{{SubscriptionID: all.ID, CaseID: "zendesk-1", MaxSeq: 2},
		{SubscriptionID: escalations.ID, CaseID: "zendesk-1", MaxSeq: 2}}, pairs)
	require.NoError(t, w.MarkDispatched(ctx, pairs))
	pairs, err = w.UndispatchedPairs(ctx, 10)
	require.NoError(t, err)
	assert.Empty(t, pairs)
}

// Deliveries go lowest seq first; a failure keeps the seq next, a success moves on;
// giving up kills the delivery and disables the subscription; redelivery queues
// again and enables it.
func TestWebhookDeliveryOrderAndRedelivery(t *testing.T) {
	ctx := context.Background()
	s, w := testWebhooks(t)
	sub := subscribe(t, w, integrationA, tierflow.WebhookAllEvents)
	record(t, s, testCase("zendesk-2", 3), testEvent("zendesk-2", 1, tierflow.EventOpened),
		testEvent("zendesk-2", 2, tierflow.EventAcknowledged), testEvent("zendesk-2", 3, tierflow.EventResolved))

	next := func() tierflow.WebhookDelivery {
		d, found, err := w.NextDelivery(ctx, sub.ID, "zendesk-2")
		require.NoError(t, err)
		require.True(t, found)
		return d
	}
	assert.Equal(t, int64(1), next().Seq)
	now := time.Now().UTC()
	_, err := w.RecordAttempt(ctx, tierflow.WebhookAttempt{SubscriptionID: sub.ID, CaseID: "zendesk-2", Seq: 1, At: now,
		HTTPStatus: 503, Error: "503 Service Unavailable", NextAttemptAt: now.Add(time.Second)})
	require.NoError(t, err)
	d := next()
	assert.Equal(t, int64(1), d.Seq, "a failing delivery stays first")
	assert.Equal(t, tierflow.DeliveryFailing, d.Status)
	assert.Equal(t, 1, d.Attempts)
	assert.Equal(t, 503, d.LastStatus)

	_, err = w.RecordAttempt(ctx, tierflow.WebhookAttempt{SubscriptionID: sub.ID, CaseID: "zendesk-2", Seq: 1, At: now, Delivered: true, HTTPStatus: 200})
	require.NoError(t, err)
	assert.Equal(t, int64(2), next().Seq)

	require.NoError(t, w.GiveUp(ctx, sub.ID, "zendesk-2", 2, "failing for 72h"))
	_, found, err := w.NextDelivery(ctx, sub.ID, "zendesk-2")
	require.NoError(t, err)
	assert.False(t, found, "a disabled subscription has nothing to send")
	got, err := w.GetSubscription(ctx, "", sub.ID)
	require.NoError(t, err)
	assert.Equal(t, tierflow.WebhookDisabled, got.Status)
	assert.Equal(t, "failing for 72h", got.DisabledReason)
	dead, err := w.ListDeliveries(ctx, sub.OwnerID, sub.ID, tierflow.DeliveryFilter{Status: tierflow.DeliveryDead})
	require.NoError(t, err)
	require.Len(t, dead, 1)

	n, err := w.Redeliver(ctx, sub.OwnerID, sub.ID, tierflow.Redelivery{FromSeq: 1, CaseID: "zendesk-2"})
	require.NoError(t, err)
	assert.Equal(t, 3, n, "every event of the case from seq 1")
	assert.Equal(t, int64(1), next().Seq, "the delivered seq 1 is sent again, first")
	got, err = w.GetSubscription(ctx, "", sub.ID)
	require.NoError(t, err)
	assert.Equal(t, tierflow.WebhookActive, got.Status)
}

// Secrets are sealed at rest; a rotation signs with both until the overlap ends;
// another owner neither sees nor changes a subscription.
func TestWebhookSecretsAndOwnership(t *testing.T) {
	ctx := context.Background()
	s, w := testWebhooks(t)
	sub := subscribe(t, w, integrationA, tierflow.WebhookAllEvents)
	record(t, s, testCase("zendesk-3", 1), testEvent("zendesk-3", 1, tierflow.EventOpened))

	var raw []byte
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT secret FROM webhook_subscriptions WHERE id = $1`, sub.ID).Scan(&raw))
	assert.NotContains(t, string(raw), "whsec_", "sealed at rest")

	m, err := w.LoadMessage(ctx, sub.ID, "zendesk-3", 1)
	require.NoError(t, err)
	first := m.Secrets.Current
	assert.True(t, strings.HasPrefix(first, "whsec_"))
	assert.Empty(t, m.Secrets.Previous)
	assert.Equal(t, "zendesk", m.Case.Source)
	assert.Equal(t, "case.opened", m.Delivery.EventType)

	_, err = w.RotateSecret(ctx, sub.OwnerID, sub.ID, "whsec_"+base64.StdEncoding.EncodeToString([]byte("the-second-secret-0123")))
	require.NoError(t, err)
	m, err = w.LoadMessage(ctx, sub.ID, "zendesk-3", 1)
	require.NoError(t, err)
	assert.NotEqual(t, first, m.Secrets.Current)
	assert.Equal(t, first, m.Secrets.Previous, "the old secret signs during the overlap")
	_, err = s.pool.Exec(ctx, `UPDATE webhook_subscriptions SET previous_secret_expires_at = now() - interval '1 second'`)
	require.NoError(t, err)
	m, err = w.LoadMessage(ctx, sub.ID, "zendesk-3", 1)
	require.NoError(t, err)
	assert.Empty(t, m.Secrets.Previous, "not after it")

	_, err = w.GetSubscription(ctx, integrationB.ID, sub.ID)
	requireCode(t, err, tierflow.CodeNotFound)
	requireCode(t, w.DeleteSubscription(ctx, integrationB.ID, sub.ID), tierflow.CodeNotFound)
	_, err = w.RotateSecret(ctx, integrationB.ID, sub.ID, "whsec_x")
	requireCode(t, err, tierflow.CodeNotFound)
	_, err = w.Redeliver(ctx, integrationB.ID, sub.ID, tierflow.Redelivery{FromSeq: 1})
	requireCode(t, err, tierflow.CodeNotFound)
	mine, err := w.ListSubscriptions(ctx, integrationB.ID)
	require.NoError(t, err)
	assert.Empty(t, mine)
	require.NoError(t, w.DeleteSubscription(ctx, integrationA.ID, sub.ID))
	_, err = w.LoadMessage(ctx, sub.ID, "zendesk-3", 1)
	requireCode(t, err, tierflow.CodeNotFound)
}

// A disabled subscription strands its pending deliveries (their workflows found
// nothing and ended) and gets no row for events recorded meanwhile: redelivery
// wakes the first and backfills the second, within the subscription's scope.
func TestWebhookRedeliveryRestartsWhatTheDisabledSubscriptionLeft(t *testing.T) {
	ctx := context.Background()
	s, w := testWebhooks(t)
	salesforceCase := func(id string, seq int64) tierflow.CaseView {
		v := testCase(id, seq)
		v.Source = "salesforce"
		return v
	}
	record(t, s, salesforceCase("salesforce-0", 1), testEvent("salesforce-0", 1, tierflow.EventOpened)) // before subscribing
	sub := subscribe(t, w, integrationB, tierflow.WebhookAllEvents)                                     // salesforce only
	record(t, s, salesforceCase("salesforce-1", 1), testEvent("salesforce-1", 1, tierflow.EventOpened))
	pairs, err := w.UndispatchedPairs(ctx, 10)
	require.NoError(t, err)
	require.NoError(t, w.MarkDispatched(ctx, pairs))                                   // handed to a workflow...
	require.NoError(t, w.GiveUp(ctx, sub.ID, "", 0, "the receiver answered 410 Gone")) // ...which then ends

	record(t, s, salesforceCase("salesforce-1", 2), testEvent("salesforce-1", 2, tierflow.EventAcknowledged))
	record(t, s, salesforceCase("salesforce-2", 1), testEvent("salesforce-2", 1, tierflow.EventOpened))
	record(t, s, testCase("zendesk-9", 1), testEvent("zendesk-9", 1, tierflow.EventOpened)) // outside the scope
	require.Len(t, deliveriesOf(t, w, sub), 1, "nothing fans out to a disabled subscription")

	n, err := w.Redeliver(ctx, sub.OwnerID, sub.ID, tierflow.Redelivery{FromSeq: 1})
	require.NoError(t, err)
	assert.Equal(t, 3, n, "the stranded delivery and the two missed events")

	type key struct {
		caseID string
		seq    int64
	}
	var got []key
	for _, d := range deliveriesOf(t, w, sub) {
		assert.Equal(t, tierflow.DeliveryPending, d.Status)
		got = append(got, key{d.CaseID, d.Seq})
	}
	assert.ElementsMatch(t, []key{{"salesforce-1", 1}, {"salesforce-1", 2}, {"salesforce-2", 1}}, got)
	pairs, err = w.UndispatchedPairs(ctx, 10)
	require.NoError(t, err)
	assert.ElementsMatch(t, []tierflow.WebhookPair{{SubscriptionID: sub.ID, CaseID: "salesforce-1", MaxSeq: 2},
		{SubscriptionID: sub.ID, CaseID: "salesforce-2", MaxSeq: 1}}, pairs, "the dispatcher wakes both pairs")

	// Enabled again, nothing is left to backfill: a second redelivery of one case
	// touches that case only.
	require.NoError(t, w.MarkDispatched(ctx, pairs))
	n, err = w.Redeliver(ctx, sub.OwnerID, sub.ID, tierflow.Redelivery{FromSeq: 2, CaseID: "salesforce-1"})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

// Redelivering one case of a disabled subscription enables it, so every other
// case's stranded deliveries are woken too.
func TestWebhookRedeliveryOfOneCaseWakesTheOthers(t *testing.T) {
	ctx := context.Background()
	s, w := testWebhooks(t)
	sub := subscribe(t, w, integrationA, tierflow.WebhookAllEvents)
	record(t, s, testCase("zendesk-4", 1), testEvent("zendesk-4", 1, tierflow.EventOpened))
	record(t, s, testCase("zendesk-5", 1), testEvent("zendesk-5", 1, tierflow.EventOpened))
	pairs, err := w.UndispatchedPairs(ctx, 10)
	require.NoError(t, err)
	require.NoError(t, w.MarkDispatched(ctx, pairs))
	require.NoError(t, w.GiveUp(ctx, sub.ID, "zendesk-4", 1, "failing for 72h"))

	n, err := w.Redeliver(ctx, sub.OwnerID, sub.ID, tierflow.Redelivery{FromSeq: 1, CaseID: "zendesk-4"})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	pairs, err = w.UndispatchedPairs(ctx, 10)
	require.NoError(t, err)
	assert.Len(t, pairs, 2)
}

// The fan-out runs once per active subscription inside every record: an owner
// holds at most tierflow.MaxActiveWebhookSubscriptions, whether it creates one or
// a redelivery enables a disabled one; other owners are not affected.
func TestWebhookActiveSubscriptionsPerOwnerAreLimited(t *testing.T) {
	ctx := context.Background()
	_, w := testWebhooks(t)
	var first tierflow.WebhookSubscription
	for i := range tierflow.MaxActiveWebhookSubscriptions {
		sub := subscribe(t, w, integrationA, tierflow.WebhookAllEvents)
		if i == 0 {
			first = sub
		}
	}
	newSub := tierflow.NewWebhookSubscription{URL: "https://hooks.example.com/more", Events: []string{tierflow.WebhookAllEvents}}
	_, err := w.CreateSubscription(ctx, integrationA, newSub, "whsec_c2VjcmV0LW9mLW1vcmUtMDEyMzQ1Njc4OQ==")
	requireCode(t, err, tierflow.CodeInvalid)
	assert.Contains(t, err.Error(), "at most 25 active webhook subscriptions")
	subscribe(t, w, integrationB, tierflow.WebhookAllEvents) // another owner

	require.NoError(t, w.GiveUp(ctx, first.ID, "", 0, "the receiver answered 410 Gone"))
	subscribe(t, w, integrationA, tierflow.WebhookAllEvents) // the disabled one freed a place
	_, err = w.Redeliver(ctx, "", first.ID, tierflow.Redelivery{FromSeq: 1})
	requireCode(t, err, tierflow.CodeInvalid)
	got, err := w.GetSubscription(ctx, "", first.ID)
	require.NoError(t, err)
	assert.Equal(t, tierflow.WebhookDisabled, got.Status, "the refused redelivery changed nothing")
}

// Delivered and dead deliveries older than the retention go, at most limit per
// call; undelivered ones, recent ones and a disabled subscription's stay.
func TestWebhookPurgeDeletesOldSettledDeliveries(t *testing.T) {
	ctx := context.Background()
	s, w := testWebhooks(t)
	sub := subscribe(t, w, integrationA, tierflow.WebhookAllEvents)
	disabled := subscribe(t, w, integrationA, tierflow.WebhookAllEvents)
	record(t, s, testCase("zendesk-6", 4), testEvent("zendesk-6", 1, tierflow.EventOpened),
		testEvent("zendesk-6", 2, tierflow.EventAcknowledged), testEvent("zendesk-6", 3, tierflow.EventNote),
		testEvent("zendesk-6", 4, tierflow.EventResolved))
	_, err := s.pool.Exec(ctx, `UPDATE webhook_deliveries SET created_at = now() - interval '3 days'`)
	require.NoError(t, err)
	_, err = s.pool.Exec(ctx, `UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now() - interval '2 days' WHERE seq = 1`)
	require.NoError(t, err)
	_, err = s.pool.Exec(ctx, `UPDATE webhook_deliveries SET status = 'dead' WHERE seq = 2`)
	require.NoError(t, err)
	_, err = s.pool.Exec(ctx, `UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now() - interval '1 hour' WHERE seq = 3`)
	require.NoError(t, err)
	require.NoError(t, w.GiveUp(ctx, disabled.ID, "", 0, "the receiver answered 410 Gone"))

	n, err := w.PurgeSettledDeliveries(ctx, 24*time.Hour, 1)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "at most limit")
	n, err = w.PurgeSettledDeliveries(ctx, 24*time.Hour, 1000)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	var seqs []int64
	for _, d := range deliveriesOf(t, w, sub) {
		seqs = append(seqs, d.Seq)
	}
	assert.Equal(t, []int64{3, 4}, seqs, "the recent delivered one and the pending one stay")
	assert.Len(t, deliveriesOf(t, w, disabled), 4, "a disabled subscription's rows are kept for its redelivery")
}
