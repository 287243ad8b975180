package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tierflow/tierflow"
)

var _ tierflow.WebhookOutbox = (*Webhooks)(nil)

// UndispatchedPairs lists the pairs of active subscriptions with rows the
// dispatcher has not handed over yet, the oldest first.
func (w *Webhooks) UndispatchedPairs(ctx context.Context, limit int) ([]tierflow.WebhookPair, error) {
	rows, err := w.store.pool.Query(ctx, `
SELECT d.subscription_id, d.case_id, max(d.seq)
FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id AND s.status = 'active'
WHERE NOT d.dispatched
GROUP BY d.subscription_id, d.case_id
ORDER BY min(d.created_at)
LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("undispatched webhook deliveries: %w", mapError(err))
	}
	pairs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[tierflow.WebhookPair])
	if err != nil {
		return nil, fmt.Errorf("undispatched webhook deliveries: %w", mapError(err))
	}
	return pairs, nil
}

// MarkDispatched marks each pair's rows up to its MaxSeq as handed over. Rows
// added since (a higher seq, or a redelivery) stay undispatched.
func (w *Webhooks) MarkDispatched(ctx context.Context, pairs []tierflow.WebhookPair) error {
	if len(pairs) == 0 {
		return nil
	}
	batch := &pgx.Batch{}
	for _, p := range pairs {
		batch.Queue(`UPDATE webhook_deliveries SET dispatched = true
WHERE subscription_id = $1 AND case_id = $2 AND seq <= $3 AND NOT dispatched`, p.SubscriptionID, p.CaseID, p.MaxSeq)
	}
	if err := w.store.pool.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("mark webhook deliveries dispatched: %w", mapError(err))
	}
	return nil
}

// NextDelivery returns the pair's lowest undelivered delivery of an active subscription.
func (w *Webhooks) NextDelivery(ctx context.Context, subscriptionID, caseID string) (tierflow.WebhookDelivery, bool, error) {
	d, err := scanDelivery(w.store.pool.QueryRow(ctx, `SELECT `+prefixed("d.", deliveryColumns)+`
FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id AND s.status = 'active'
WHERE d.subscription_id = $1 AND d.case_id = $2 AND d.status IN ('pending', 'failing')
ORDER BY d.seq LIMIT 1`, subscriptionID, caseID))
	if errors.Is(err, pgx.ErrNoRows) {
		return tierflow.WebhookDelivery{}, false, nil
	}
	if err != nil {
		return tierflow.WebhookDelivery{}, false, fmt.Errorf("next webhook delivery: %w", mapError(err))
	}
	return d, true, nil
}

// LoadMessage reads one delivery with its event, its subscription and the
// subscription's secrets (opened): CodeNotFound when the delivery is gone (the
// subscription was deleted).
func (w *Webhooks) LoadMessage(ctx context.Context, subscriptionID, caseID string, seq int64) (tierflow.WebhookMessage, error) {
	var (
		m                  tierflow.WebhookMessage
		keyID, prevKeyID   string
		sealed, prevSealed []byte
		prevExpires        *time.Time
		now                time.Time
	)
	d := &m.Delivery
	err := w.store.pool.QueryRow(ctx, `
SELECT `+prefixed("d.", deliveryColumns)+`, d.case_snapshot,
    s.url, s.description, s.status, s.secret_key_id, s.secret, s.previous_secret_key_id, s.previous_secret,
    s.previous_secret_expires_at, now(), e.at, e.tier, e.status, e.department, e.details
FROM webhook_deliveries d
JOIN webhook_subscriptions s ON s.id = d.subscription_id
JOIN case_events e ON e.case_id = d.case_id AND e.seq = d.seq
WHERE d.subscription_id = $1 AND d.case_id = $2 AND d.seq = $3`, subscriptionID, caseID, seq).Scan(
		&d.SubscriptionID, &d.CaseID, &d.Seq, &d.EventType, &d.WebhookID, &d.Status, &d.Attempts,
		&d.LastStatus, &d.LastError, &d.CreatedAt, &d.FirstAttemptAt, &d.NextAttemptAt, &d.DeliveredAt, &m.Case,
		&m.URL, &m.Description, &m.SubscriptionStatus, &keyID, &sealed, &prevKeyID, &prevSealed,
		&prevExpires, &now, &m.EventAt, &m.Tier, &m.Status, &m.Department, &m.Details)
	if errors.Is(err, pgx.ErrNoRows) {
		return tierflow.WebhookMessage{}, tierflow.Errorf(tierflow.CodeNotFound,
			"no webhook delivery %s of case %s seq %d", subscriptionID, caseID, seq)
	}
	if err != nil {
		return tierflow.WebhookMessage{}, fmt.Errorf("load webhook delivery: %w", mapError(err))
	}
	if m.Secrets.Current, err = w.sealer.open(subscriptionID, keyID, sealed); err != nil {
		return tierflow.WebhookMessage{}, &tierflow.Error{Code: tierflow.CodeInternal, Message: "webhook secret unreadable", Err: err}
	}
	if prevSealed != nil && prevExpires != nil && now.Before(*prevExpires) {
		if m.Secrets.Previous, err = w.sealer.open(subscriptionID, prevKeyID, prevSealed); err != nil {
			return tierflow.WebhookMessage{}, &tierflow.Error{Code: tierflow.CodeInternal, Message: "webhook secret unreadable", Err: err}
		}
	}
	return m, nil
}

// RecordAttempt records one attempt's outcome: delivered, or failing with the
// time of the next attempt. A delivery that is no longer undelivered (queued
// again meanwhile, or its subscription deleted) is left alone.
func (w *Webhooks) RecordAttempt(ctx context.Context, a tierflow.WebhookAttempt) (tierflow.WebhookDelivery, error) {
	status, next, deliveredAt := tierflow.DeliveryFailing, &a.NextAttemptAt, (*time.Time)(nil)
	if a.Delivered {
		status, next, deliveredAt = tierflow.DeliveryDelivered, nil, &a.At
	}
	d, err := scanDelivery(w.store.pool.QueryRow(ctx, `
UPDATE webhook_deliveries SET status = $4, attempts = attempts + 1, last_status = $5, last_error = $6,
    first_attempt_at = coalesce(first_attempt_at, $7), next_attempt_at = $8, delivered_at = $9
WHERE subscription_id = $1 AND case_id = $2 AND seq = $3 AND status IN ('pending', 'failing')
RETURNING `+deliveryColumns, a.SubscriptionID, a.CaseID, a.Seq, status, a.HTTPStatus, clip(a.Error, 500), a.At,
		next, deliveredAt))
	if errors.Is(err, pgx.ErrNoRows) {
		return tierflow.WebhookDelivery{}, tierflow.Errorf(tierflow.CodeConflict, "the webhook delivery is no longer pending")
	}
	if err != nil {
		return tierflow.WebhookDelivery{}, fmt.Errorf("record webhook attempt: %w", mapError(err))
	}
	return d, nil
}

// GiveUp marks the delivery dead (seq > 0) and disables the subscription with
// reason, in one transaction.
func (w *Webhooks) GiveUp(ctx context.Context, subscriptionID, caseID string, seq int64, reason string) error {
	err := pgx.BeginFunc(ctx, w.store.pool, func(tx pgx.Tx) error {
		if seq > 0 {
			if _, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET status = 'dead', next_attempt_at = NULL
WHERE subscription_id = $1 AND case_id = $2 AND seq = $3 AND status IN ('pending', 'failing')`, subscriptionID, caseID, seq); err != nil {
				return err
			}
		}
		// disabled_at keeps the first time: a redelivery backfills from it.
		_, err := tx.Exec(ctx, `UPDATE webhook_subscriptions SET status = 'disabled', disabled_reason = $2,
    disabled_at = coalesce(disabled_at, now()), updated_at = now()
WHERE id = $1`, subscriptionID, clip(reason, 500))
		return err
	})
	if err != nil {
		return fmt.Errorf("give up webhook delivery: %w", mapError(err))
	}
	return nil
}

// PendingCounts returns the undelivered deliveries of each active subscription.
func (w *Webhooks) PendingCounts(ctx context.Context) (map[string]int, error) {
	rows, err := w.store.pool.Query(ctx, `
SELECT s.id, count(d.seq) FROM webhook_subscriptions s
LEFT JOIN webhook_deliveries d ON d.subscription_id = s.id AND d.status IN ('pending', 'failing')
WHERE s.status = 'active' GROUP BY s.id`)
	if err != nil {
		return nil, fmt.Errorf("pending webhook deliveries: %w", mapError(err))
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("pending webhook deliveries: %w", mapError(err))
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending webhook deliveries: %w", mapError(err))
	}
	return out, nil
}

// purgeSettledSQL deletes the settled deliveries of active subscriptions past the
// retention, a bounded number per statement (webhook_deliveries_settled finds
// them). The outer status check holds for a row a redelivery queued again meanwhile.
const purgeSettledSQL = `
DELETE FROM webhook_deliveries d USING (
    SELECT o.subscription_id, o.case_id, o.seq FROM webhook_deliveries o
    JOIN webhook_subscriptions s ON s.id = o.subscription_id AND s.status = 'active'
    WHERE o.status IN ('delivered', 'dead')
      AND coalesce(o.delivered_at, o.created_at) < now() - $1 * interval '1 millisecond'
    LIMIT $2) old
WHERE d.subscription_id = old.subscription_id AND d.case_id = old.case_id AND d.seq = old.seq
  AND d.status IN ('delivered', 'dead')`

// PurgeSettledDeliveries deletes up to limit delivered or dead deliveries of
// active subscriptions older than olderThan.
func (w *Webhooks) PurgeSettledDeliveries(ctx context.Context, olderThan time.Duration, limit int) (int, error) {
	if olderThan <= 0 || limit < 1 {
		return 0, tierflow.Errorf(tierflow.CodeInvalid, "purge webhook deliveries: retention %s, limit %d", olderThan, limit)
	}
	tag, err := w.store.pool.Exec(ctx, purgeSettledSQL, olderThan.Milliseconds(), limit)
	if err != nil {
		return 0, fmt.Errorf("purge webhook deliveries: %w", mapError(err))
	}
	return int(tag.RowsAffected()), nil
}

// ListenWakes holds one connection that LISTENs for new deliveries.
func (w *Webhooks) ListenWakes(ctx context.Context) (tierflow.WebhookWakeListener, error) {
	conn, err := w.store.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("listen for webhook deliveries: %w", mapError(err))
	}
	if _, err := conn.Exec(ctx, "LISTEN "+webhookWakeChannel); err != nil {
		conn.Release()
		return nil, fmt.Errorf("listen for webhook deliveries: %w", mapError(err))
	}
	return &wakeListener{conn: conn}, nil
}

type wakeListener struct{ conn *pgxpool.Conn }

// Wait returns nil on a wake-up or when timeout passes; an error when the
// connection failed (the caller listens again, or polls).
func (l *wakeListener) Wait(ctx context.Context, timeout time.Duration) error {
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := l.conn.Conn().WaitForNotification(waitCtx)
	if err != nil && waitCtx.Err() != nil && ctx.Err() == nil {
		return nil // the timeout: a poll is due
	}
	if err != nil {
		return fmt.Errorf("wait for webhook deliveries: %w", mapError(err))
	}
	return nil
}

// Close drops the connection rather than return a LISTENing one to the pool (a
// wait cut short by a timeout may also have left it mid-read).
func (l *wakeListener) Close() {
	_ = l.conn.Conn().Close(context.Background())
	l.conn.Release()
}

func prefixed(prefix, columns string) string {
	out, start := "", true
	for _, r := range columns {
		if start && r != ' ' && r != '\n' {
			out += prefix
			start = false
		}
		out += string(r)
		if r == ',' {
			start = true
		}
	}
	return out
}

// clip keeps at most n bytes of s, never cutting a character in two.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
