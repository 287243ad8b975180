package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/codec"
)

// Webhooks keeps webhook subscriptions and their deliveries (migration 004): the
// API's tierflow.WebhookStore and the delivery side the worker's activities use
// (webhooks_delivery.go). Deliveries are created by a trigger on case_events, in
// the transaction that records the event.
type Webhooks struct {
	store  *Store
	sealer *secretSealer
}

var _ tierflow.WebhookStore = (*Webhooks)(nil)

// Webhooks returns the webhook store; keys seal the subscriptions' secrets at rest
// (nil: kept as they are, development only).
func (s *Store) Webhooks(keys *codec.Keyring) (*Webhooks, error) {
	sealer, err := newSecretSealer(keys)
	if err != nil {
		return nil, err
	}
	return &Webhooks{store: s, sealer: sealer}, nil
}

// webhookWakeChannel is the NOTIFY channel of new deliveries ("<subscription> <case>").
const webhookWakeChannel = "tierflow_webhooks"

// newSubscriptionID returns "wh_" and 26 random base32 characters (130 bits).
func newSubscriptionID() string { return "wh_" + rand.Text() }

const subscriptionColumns = `id, owner_id, allowed_sources, url, events, description, status, disabled_reason,
    previous_secret_expires_at, created_at, updated_at`

func scanSubscription(row pgx.Row) (tierflow.WebhookSubscription, error) {
	var w tierflow.WebhookSubscription
	err := row.Scan(&w.ID, &w.OwnerID, &w.AllowedSources, &w.URL, &w.Events, &w.Description, &w.Status,
		&w.DisabledReason, &w.PreviousSecretExpiresAt, &w.CreatedAt, &w.UpdatedAt)
	return w, err
}

// CreateSubscription stores a subscription of owner (scoped to its allowed sources)
// with secret sealed.
func (w *Webhooks) CreateSubscription(ctx context.Context, owner tierflow.Principal, n tierflow.NewWebhookSubscription,
	secret string) (tierflow.WebhookSubscription, error) {
	if err := n.Validate(); err != nil {
		return tierflow.WebhookSubscription{}, err
	}
	id := newSubscriptionID()
	keyID, sealed, err := w.sealer.seal(id, secret)
	if err != nil {
		return tierflow.WebhookSubscription{}, err
	}
	sources := owner.AllowedSources
	if owner.Role != tierflow.RoleIntegration || sources == nil {
		sources = []string{}
	}
	var sub tierflow.WebhookSubscription
	err = pgx.BeginFunc(ctx, w.store.pool, func(tx pgx.Tx) error {
		if err := checkRoomForActive(ctx, tx, owner.ID); err != nil {
			return err
		}
		sub, err = scanSubscription(tx.QueryRow(ctx, `
INSERT INTO webhook_subscriptions (id, owner_id, allowed_sources, url, events, description, secret_key_id, secret)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING `+subscriptionColumns, id, owner.ID, sources, n.URL, n.Events, n.Description, keyID, sealed))
		return err
	})
	if err != nil {
		return tierflow.WebhookSubscription{}, fmt.Errorf("create webhook subscription: %w", mapError(err))
	}
	return sub, nil
}

// checkRoomForActive refuses one more active subscription of ownerID when it holds
// tierflow.MaxActiveWebhookSubscriptions. It serialises the owner's creations and
// re-enablings until tx ends, so concurrent requests cannot both take the last
// place (the count is a statement of its own, taken once the lock is held).
func checkRoomForActive(ctx context.Context, tx pgx.Tx, ownerID string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('tierflow webhook owner ' || $1, 0))`, ownerID); err != nil {
		return err
	}
	var active int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM webhook_subscriptions WHERE owner_id = $1 AND status = 'active'`,
		ownerID).Scan(&active); err != nil {
		return err
	}
	if active >= tierflow.MaxActiveWebhookSubscriptions {
		return tierflow.TooManyWebhookSubscriptions()
	}
	return nil
}

// ListSubscriptions returns ownerID's subscriptions (every one for ""), oldest first.
func (w *Webhooks) ListSubscriptions(ctx context.Context, ownerID string) ([]tierflow.WebhookSubscription, error) {
	rows, err := w.store.pool.Query(ctx, `SELECT `+subscriptionColumns+`
FROM webhook_subscriptions WHERE ($1 = '' OR owner_id = $1) ORDER BY created_at, id`, ownerID)
	if err != nil {
		return nil, fmt.Errorf("list webhook subscriptions: %w", mapError(err))
	}
	subs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tierflow.WebhookSubscription, error) {
		return scanSubscription(r)
	})
	if err != nil {
		return nil, fmt.Errorf("list webhook subscriptions: %w", mapError(err))
	}
	return subs, nil
}

// ownerClause scopes a statement to ownerID unless it is empty (operators and
// the worker reach every subscription).
const ownerClause = `($2 = '' OR owner_id = $2)`

func notFoundSubscription(id string) error {
	return tierflow.Errorf(tierflow.CodeNotFound, "no webhook subscription %s", id)
}

// GetSubscription returns a subscription; CodeNotFound when it does not exist or
// belongs to another owner.
func (w *Webhooks) GetSubscription(ctx context.Context, ownerID, id string) (tierflow.WebhookSubscription, error) {
	sub, err := scanSubscription(w.store.pool.QueryRow(ctx, `SELECT `+subscriptionColumns+`
FROM webhook_subscriptions WHERE id = $1 AND `+ownerClause, id, ownerID))
	if errors.Is(err, pgx.ErrNoRows) {
		return tierflow.WebhookSubscription{}, notFoundSubscription(id)
	}
	if err != nil {
		return tierflow.WebhookSubscription{}, fmt.Errorf("get webhook subscription: %w", mapError(err))
	}
	return sub, nil
}

// DeleteSubscription removes a subscription and its deliveries; its delivery
// workflows find nothing left and end.
func (w *Webhooks) DeleteSubscription(ctx context.Context, ownerID, id string) error {
	tag, err := w.store.pool.Exec(ctx, `DELETE FROM webhook_subscriptions WHERE id = $1 AND `+ownerClause, id, ownerID)
	if err != nil {
		return fmt.Errorf("delete webhook subscription: %w", mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return notFoundSubscription(id)
	}
	return nil
}

// RotateSecret makes secret current; the previous one keeps signing for
// tierflow.WebhookSecretOverlap. Rotating again within the overlap drops the
// oldest secret.
func (w *Webhooks) RotateSecret(ctx context.Context, ownerID, id, secret string) (tierflow.WebhookSubscription, error) {
	keyID, sealed, err := w.sealer.seal(id, secret)
	if err != nil {
		return tierflow.WebhookSubscription{}, err
	}
	sub, err := scanSubscription(w.store.pool.QueryRow(ctx, `
UPDATE webhook_subscriptions SET
    previous_secret_key_id = secret_key_id, previous_secret = secret,
    previous_secret_expires_at = now() + make_interval(secs => $5),
    secret_key_id = $3, secret = $4, updated_at = now()
WHERE id = $1 AND `+ownerClause+`
RETURNING `+subscriptionColumns, id, ownerID, keyID, sealed, tierflow.WebhookSecretOverlap.Seconds()))
	if errors.Is(err, pgx.ErrNoRows) {
		return tierflow.WebhookSubscription{}, notFoundSubscription(id)
	}
	if err != nil {
		return tierflow.WebhookSubscription{}, fmt.Errorf("rotate webhook secret: %w", mapError(err))
	}
	return sub, nil
}

// Delivery list sizes.
const (
	defaultDeliveryLimit = 100
	maxDeliveryLimit     = 500
)

const deliveryColumns = `subscription_id, case_id, seq, event_type, webhook_id, status, attempts, last_status,
    last_error, created_at, first_attempt_at, next_attempt_at, delivered_at`

func scanDelivery(row pgx.Row) (tierflow.WebhookDelivery, error) {
	var d tierflow.WebhookDelivery
	err := row.Scan(&d.SubscriptionID, &d.CaseID, &d.Seq, &d.EventType, &d.WebhookID, &d.Status, &d.Attempts,
		&d.LastStatus, &d.LastError, &d.CreatedAt, &d.FirstAttemptAt, &d.NextAttemptAt, &d.DeliveredAt)
	return d, err
}

// ListDeliveries returns a subscription's deliveries matching f, oldest first.
func (w *Webhooks) ListDeliveries(ctx context.Context, ownerID, id string, f tierflow.DeliveryFilter) ([]tierflow.WebhookDelivery, error) {
	if _, err := w.GetSubscription(ctx, ownerID, id); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > maxDeliveryLimit {
		f.Limit = defaultDeliveryLimit
	}
	rows, err := w.store.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
WHERE subscription_id = $1 AND ($2 = '' OR status = $2) AND ($3 = '' OR case_id = $3)
ORDER BY created_at, case_id, seq LIMIT $4`, id, string(f.Status), f.CaseID, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", mapError(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tierflow.WebhookDelivery, error) { return scanDelivery(r) })
	if err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", mapError(err))
	}
	return out, nil
}

// Redeliver queues deliveries again (tierflow.Redelivery), enables the
// subscription and wakes the dispatcher, in one transaction. Enabling a disabled
// subscription also restarts what it left behind: its undelivered rows, whose
// delivery workflows found nothing to send and ended, and the events the fan-out
// skipped while it was disabled (backfilled for every case it may see).
func (w *Webhooks) Redeliver(ctx context.Context, ownerID, id string, r tierflow.Redelivery) (int, error) {
	var queued int
	err := pgx.BeginFunc(ctx, w.store.pool, func(tx pgx.Tx) error {
		var (
			subscriptionOwner string
			disabledAt        *time.Time
		)
		err := tx.QueryRow(ctx, `SELECT owner_id, disabled_at FROM webhook_subscriptions WHERE id = $1 AND `+ownerClause+`
FOR UPDATE`, id, ownerID).Scan(&subscriptionOwner, &disabledAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFoundSubscription(id)
		}
		if err != nil {
			return err
		}
		if disabledAt != nil {
			if err := checkRoomForActive(ctx, tx, subscriptionOwner); err != nil {
				return err
			}
		}
		fromSeq := max(r.FromSeq, 1)
		var tag pgconn.CommandTag
		if r.CaseID != "" {
			tag, err = tx.Exec(ctx, requeueCaseSQL, id, r.CaseID, fromSeq)
		} else {
			tag, err = tx.Exec(ctx, requeueUndeliveredSQL, id, fromSeq)
		}
		if err != nil {
			return err
		}
		queued = int(tag.RowsAffected())
		if disabledAt != nil {
			// After the requeue, so that a row it reset (no longer dispatched) is not counted twice.
			if tag, err = tx.Exec(ctx, wakeStrandedSQL, id); err != nil {
				return err
			}
			queued += int(tag.RowsAffected())
			if tag, err = tx.Exec(ctx, backfillSinceDisabledSQL, id, *disabledAt); err != nil {
				return err
			}
			queued += int(tag.RowsAffected())
		}
		if _, err = tx.Exec(ctx, `UPDATE webhook_subscriptions SET status = 'active', disabled_reason = '',
    disabled_at = NULL, updated_at = now() WHERE id = $1`, id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, webhookWakeChannel, id+" *")
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("redeliver webhooks: %w", mapError(err))
	}
	return queued, nil
}

// requeueCaseSQL queues every event of one case from a seq on that the
// subscription matches and may see, whether or not a delivery existed.
const requeueCaseSQL = `
INSERT INTO webhook_deliveries (subscription_id, case_id, seq, event_type, webhook_id, case_snapshot)
SELECT s.id, e.case_id, e.seq, 'case.' || e.type, webhook_delivery_id(s.id, e.case_id, e.seq), webhook_case_snapshot(c)
FROM webhook_subscriptions s
JOIN case_events e ON e.case_id = $2 AND e.seq >= $3
JOIN cases c ON c.id = e.case_id
WHERE s.id = $1
  AND ('case.*' = ANY (s.events) OR 'case.' || e.type = ANY (s.events))
  AND (cardinality(s.allowed_sources) = 0 OR c.source = ANY (s.allowed_sources))
ON CONFLICT (subscription_id, case_id, seq) DO UPDATE SET
    status = 'pending', dispatched = false, attempts = 0, last_status = 0, last_error = '',
    first_attempt_at = NULL, next_attempt_at = NULL, delivered_at = NULL`

// requeueUndeliveredSQL queues again, from a seq on, every delivery not yet
// delivered: pending ones too, since their workflow may have ended (the
// subscription was disabled) and only the dispatcher starts it again.
const requeueUndeliveredSQL = `
UPDATE webhook_deliveries SET
    status = 'pending', dispatched = false, attempts = 0, last_status = 0, last_error = '',
    first_attempt_at = NULL, next_attempt_at = NULL
WHERE subscription_id = $1 AND seq >= $2 AND status IN ('pending', 'failing', 'dead')`

// wakeStrandedSQL restarts the undelivered deliveries a disabled subscription
// left behind (whatever their seq): already handed to workflows that have ended.
// Their retry window starts again.
const wakeStrandedSQL = `
UPDATE webhook_deliveries SET
    status = 'pending', dispatched = false, attempts = 0, last_status = 0, last_error = '',
    first_attempt_at = NULL, next_attempt_at = NULL
WHERE subscription_id = $1 AND dispatched AND status IN ('pending', 'failing')`

// backfillSinceDisabledSQL creates the deliveries the fan-out skipped while the
// subscription was disabled: every matching event recorded since it was disabled
// ($2) of a case the subscription may see. An event's recorded_at is its
// transaction's start, which may precede $2 although its fan-out ran after the
// subscription was disabled: the window opens a few minutes early (a record
// transaction is far shorter), and rows that exist are left alone.
const backfillSinceDisabledSQL = `
INSERT INTO webhook_deliveries (subscription_id, case_id, seq, event_type, webhook_id, case_snapshot)
SELECT s.id, e.case_id, e.seq, 'case.' || e.type, webhook_delivery_id(s.id, e.case_id, e.seq), webhook_case_snapshot(c)
FROM webhook_subscriptions s
JOIN case_events e ON e.recorded_at >= greatest(s.created_at, $2::timestamptz - interval '5 minutes')
JOIN cases c ON c.id = e.case_id
WHERE s.id = $1
  AND ('case.*' = ANY (s.events) OR 'case.' || e.type = ANY (s.events))
  AND (cardinality(s.allowed_sources) = 0 OR c.source = ANY (s.allowed_sources))
ON CONFLICT (subscription_id, case_id, seq) DO NOTHING`
