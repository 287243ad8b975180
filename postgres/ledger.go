package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tierflow/tierflow"
)

// The ledger row moves new -> sending (claimed) -> sent | failed | unconfirmed; a
// release moves a claim back to new after a failure that certainly sent nothing.
// Sent and failed are final; the claim that left a key unconfirmed may still turn
// it into sent or failed when it learns the outcome (a zombie's late answer).
// Attempts numbers the claims and fences every update.

// claimSQL takes the key when it is unknown (insert) or was released (state new);
// either way this call owns the send and attempts counts it. It returns no row when
// someone else holds or settled the key.
const claimSQL = `
INSERT INTO notifications AS n (key, case_id, kind, audience, recipients, state, attempts)
VALUES ($1, $2, $3, $4, $5, 'sending', 1)
ON CONFLICT (key) DO UPDATE SET state = 'sending', attempts = n.attempts + 1,
    error = '', updated_at = now()
WHERE n.state = 'new'
RETURNING key, case_id, kind, state, provider_message_id, error, attempts, updated_at`

const notificationColumns = `key, case_id, kind, state, provider_message_id, error, attempts, updated_at`

// ClaimNotification claims the sending of one message. The returned record carries
// the state the key was in before the call: NotificationNew means this call owns it
// and must send; any other state means it must not send again.
func (s *Store) ClaimNotification(ctx context.Context, c tierflow.NotificationClaim) (tierflow.NotificationRecord, error) {
	var v tierflow.Validation
	v.Check(c.Key != "", "key", "is required")
	v.Check(c.CaseID != "", "case_id", "is required")
	v.Check(c.Kind != "", "kind", "is required")
	v.Check(c.Audience == tierflow.AudienceCustomer || c.Audience == tierflow.AudienceStaff,
		"audience", "must be customer or staff, got %q", c.Audience)
	v.Check(c.Recipients >= 0, "recipients", "must not be negative")
	if err := v.Err("invalid notification claim"); err != nil {
		return tierflow.NotificationRecord{}, err
	}
	rec, err := scanNotification(s.pool.QueryRow(ctx, claimSQL, c.Key, c.CaseID, c.Kind, c.Audience, c.Recipients))
	if err == nil {
		rec.State = tierflow.NotificationNew // the state before this claim
		return rec, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return tierflow.NotificationRecord{}, fmt.Errorf("claim notification %s: %w", c.Key, mapError(err))
	}
	rec, err = s.notification(ctx, c.Key)
	if err != nil {
		return tierflow.NotificationRecord{}, fmt.Errorf("claim notification %s: %w", c.Key, err)
	}
	return rec, nil
}

// Every update below is fenced on the claim it settles (attempts = claim) and on
// the state that claim left (sending): a stale attempt changes nothing.

// MarkNotificationSent settles a claim as sent. Repeating it is harmless (the first
// provider message id is kept).
func (s *Store) MarkNotificationSent(ctx context.Context, key string, claim int, providerMessageID string) error {
	return s.settle(ctx, key, claim, `UPDATE notifications
SET state = 'sent', provider_message_id = $3, error = '', updated_at = now()
WHERE key = $1 AND attempts = $2 AND state IN ('sending', 'unconfirmed')`, providerMessageID, tierflow.NotificationSent)
}

// MarkNotificationFailed records a permanent failure of the claim (the provider
// refused the message).
func (s *Store) MarkNotificationFailed(ctx context.Context, key string, claim int, reason string) error {
	return s.settle(ctx, key, claim, `UPDATE notifications
SET state = 'failed', error = $3, updated_at = now()
WHERE key = $1 AND attempts = $2 AND state IN ('sending', 'unconfirmed')`, reason, tierflow.NotificationFailed)
}

// MarkNotificationUnconfirmed settles a claim whose outcome is unknown: the message
// is not sent again and waits for a person in UnconfirmedNotifications.
func (s *Store) MarkNotificationUnconfirmed(ctx context.Context, key string, claim int, reason string) error {
	return s.settle(ctx, key, claim, `UPDATE notifications
SET state = 'unconfirmed', error = $3, updated_at = now()
WHERE key = $1 AND attempts = $2 AND state = 'sending'`, reason, tierflow.NotificationUnconfirmed)
}

// UnconfirmedNotifications lists, oldest first, the messages a person should check,
// last changed at least olderThan ago: those whose outcome is unknown
// ("unconfirmed") and claims still "sending" (an attempt that died and was never
// retried; a younger one may just be in flight). limit is 1 to 1000.
func (s *Store) UnconfirmedNotifications(ctx context.Context, olderThan time.Duration, limit int) ([]tierflow.NotificationRecord, error) {
	if olderThan < 0 || limit < 1 || limit > 1000 {
		return nil, tierflow.Errorf(tierflow.CodeInvalid, "unconfirmed notifications: want olderThan >= 0 and limit 1 to 1000")
	}
	rows, err := s.pool.Query(ctx, `SELECT `+notificationColumns+` FROM notifications
WHERE state IN ('unconfirmed', 'sending') AND updated_at <= now() - make_interval(secs => $1)
ORDER BY updated_at, key LIMIT $2`, olderThan.Seconds(), limit)
	if err != nil {
		return nil, fmt.Errorf("unconfirmed notifications: %w", mapError(err))
	}
	defer rows.Close()
	var out []tierflow.NotificationRecord
	for rows.Next() {
		rec, err := scanNotification(rows)
		if err != nil {
			return nil, fmt.Errorf("unconfirmed notifications: %w", mapError(err))
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("unconfirmed notifications: %w", mapError(err))
	}
	return out, nil
}

// ReleaseNotification returns a claim to new after a failure that certainly sent
// nothing, so that the next claim may send it.
func (s *Store) ReleaseNotification(ctx context.Context, key string, claim int, reason string) error {
	return s.settle(ctx, key, claim, `UPDATE notifications
SET state = 'new', error = $3, updated_at = now()
WHERE key = $1 AND attempts = $2 AND state = 'sending'`, reason, tierflow.NotificationNew)
}

// settle runs one fenced state change. When it changes nothing, the key is unknown
// (CodeNotFound), the same change was already made by this claim (nil: a retried
// update), or the claim is stale (CodeConflict, saying what the key is now).
func (s *Store) settle(ctx context.Context, key string, claim int, sql, arg string, to tierflow.NotificationState) error {
	if key == "" {
		return tierflow.Errorf(tierflow.CodeInvalid, "notification key is required")
	}
	if claim <= 0 {
		return tierflow.Errorf(tierflow.CodeInvalid, "notification %s: a claim number is required", key)
	}
	tag, err := s.pool.Exec(ctx, sql, key, claim, arg)
	if err != nil {
		return fmt.Errorf("mark notification %s %s: %w", key, to, mapError(err))
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	rec, err := s.notification(ctx, key)
	if err != nil {
		return fmt.Errorf("mark notification %s %s: %w", key, to, err)
	}
	if rec.Attempts == claim && rec.State == to {
		return nil // this claim already made this change
	}
	return tierflow.Errorf(tierflow.CodeConflict,
		"notification %s: stale claim %d changed nothing (the key is %s, claim %d)", key, claim, rec.State, rec.Attempts)
}

// Notification returns the ledger row of key; CodeNotFound when unknown.
func (s *Store) Notification(ctx context.Context, key string) (tierflow.NotificationRecord, error) {
	return s.notification(ctx, key)
}

func (s *Store) notification(ctx context.Context, key string) (tierflow.NotificationRecord, error) {
	rec, err := scanNotification(s.pool.QueryRow(ctx, `SELECT `+notificationColumns+` FROM notifications WHERE key = $1`, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return tierflow.NotificationRecord{}, tierflow.Errorf(tierflow.CodeNotFound, "notification %q not found", key)
	}
	if err != nil {
		return tierflow.NotificationRecord{}, mapError(err)
	}
	return rec, nil
}

func scanNotification(row pgx.Row) (tierflow.NotificationRecord, error) {
	var r tierflow.NotificationRecord
	err := row.Scan(&r.Key, &r.CaseID, &r.Kind, &r.State, &r.ProviderMessageID, &r.Error, &r.Attempts, &r.UpdatedAt)
	r.UpdatedAt = r.UpdatedAt.UTC()
	return r, err
}
