package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tierflow/tierflow"
)

var _ tierflow.Outbox = (*Store)(nil)

// OutboxChannel is the LISTEN/NOTIFY channel a recorded batch is announced on.
const OutboxChannel = "tierflow_outbox"

// validateOutboxBatches refuses batches that do not belong to the transition:
// each names one of its events (so the row's (case, seq) key is the
// transition's own), once, and carries a JSON object.
func validateOutboxBatches(t tierflow.Transition, batches []tierflow.OutboxBatch) error {
	if len(batches) == 0 {
		return nil
	}
	var v tierflow.Validation
	events := make(map[int64]bool, len(t.Events))
	for _, e := range t.Events {
		events[e.Seq] = true
	}
	seen := make(map[int64]bool, len(batches))
	for i, b := range batches {
		field := fmt.Sprintf("outbox[%d]", i)
		v.Check(events[b.Seq], field+".seq", "%d is not an event of the transition", b.Seq)
		v.Check(!seen[b.Seq], field+".seq", "%d appears twice", b.Seq)
		seen[b.Seq] = true
		var obj map[string]json.RawMessage
		v.Check(json.Unmarshal(b.Batch, &obj) == nil && obj != nil, field+".batch", "must be a JSON object")
	}
	return v.Err("invalid outbox batches")
}

// insertOutboxSQL writes a batch; a scheduled one (not_before) is first due at
// its time (greatest ignores a NULL not_before).
const insertOutboxSQL = `
INSERT INTO outbox (case_id, seq, case_hash, batch, not_before, next_attempt_at)
VALUES ($1, $2, $3, $4, $5::timestamptz, greatest(now(), $5::timestamptz))
ON CONFLICT (case_id, seq) DO NOTHING`

// cancelOutboxSQL withdraws batches of a case that no mailer holds: settled
// without delivery, so they are never claimed and hold nothing back. Only a row
// with no lease is withdrawn: never claimed, or released by its mailer for a
// retry (RetryOutbox settles what went, the ledger holds it). A leased row is
// being sent; one whose lease ended unsettled was left by a mailer that may
// have died after sending it, so it waits for its retry (the ledger then tells
// what went) instead of being called withdrawn. A settled row is left as it is;
// a claim taking the row concurrently holds its lock, and this statement then
// sees its lease.
const cancelOutboxSQL = `
UPDATE outbox SET delivered_at = now(), cancelled_at = now(), last_error = 'cancelled'
WHERE case_id = $1 AND seq = ANY($2) AND delivered_at IS NULL AND leased_until IS NULL`

// queueOutbox queues the writing of the batches, then the withdrawal of the
// batches named by cancel (so a batch recorded and withdrawn in one record ends
// withdrawn), and their announcement, into the record's batch: the
// notification is sent when the transaction commits, never for a record that
// rolled back. A withdrawn batch may have held back its case's later ones,
// hence the announcement.
func queueOutbox(b *statementBatch, caseID string, batches []tierflow.OutboxBatch, cancel []int64) {
	if len(batches) == 0 && len(cancel) == 0 {
		return
	}
	hash := int64(tierflow.OutboxHash(caseID))
	for _, ob := range batches {
		b.queueExec("write outbox", insertOutboxSQL, caseID, ob.Seq, hash, string(ob.Batch), ob.NotBefore)
	}
	if len(cancel) > 0 {
		b.queueExec("write outbox", cancelOutboxSQL, caseID, cancel)
	}
	b.queueExec("write outbox", "SELECT pg_notify($1, $2)", OutboxChannel, caseID)
}

// claimOutboxSQL leases the due rows of a shard whose case has no earlier
// undelivered row (so a case's batches go in seq order, one at a time), not
// counting an earlier row scheduled for later and never attempted: it waits for
// its time without holding its case back. Withdrawn rows are settled, so
// neither claimed nor counted. Rows another claim is taking are skipped, not
// waited for.
const claimOutboxSQL = `
WITH due AS (
    SELECT o.id FROM outbox o
    WHERE o.delivered_at IS NULL AND o.next_attempt_at <= now()
      AND (o.leased_until IS NULL OR o.leased_until <= now())
      AND o.case_hash % $2 = $1
      AND NOT EXISTS (SELECT 1 FROM outbox e
                      WHERE e.case_id = o.case_id AND e.seq < o.seq AND e.delivered_at IS NULL
                        AND (e.not_before IS NULL OR e.not_before <= now() OR e.attempts > 0))
    ORDER BY o.next_attempt_at, o.id
    LIMIT $3
    FOR UPDATE OF o SKIP LOCKED)
UPDATE outbox o SET attempts = o.attempts + 1, leased_until = now() + $4 * interval '1 millisecond'
FROM due WHERE o.id = due.id
RETURNING o.id, o.case_id, o.seq, o.batch, o.attempts, o.created_at, greatest(o.created_at, o.not_before)`

// ClaimOutbox leases up to limit due batches of shard, at most one per case.
func (s *Store) ClaimOutbox(ctx context.Context, shard, shards, limit int, lease time.Duration) ([]tierflow.OutboxRow, error) {
	if shards < 1 || shard < 0 || shard >= shards || limit < 1 || lease <= 0 {
		return nil, tierflow.Errorf(tierflow.CodeInvalid, "claim outbox: shard %d of %d, limit %d, lease %s", shard, shards, limit, lease)
	}
	rows, err := s.pool.Query(ctx, claimOutboxSQL, shard, shards, limit, lease.Milliseconds())
	if err != nil {
		return nil, fmt.Errorf("claim outbox: %w", mapError(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tierflow.OutboxRow, error) {
		var o tierflow.OutboxRow
		var batch []byte
		err := r.Scan(&o.ID, &o.CaseID, &o.Seq, &batch, &o.Attempt, &o.CreatedAt, &o.DueAt)
		o.Batch = batch
		return o, err
	})
	if err != nil {
		return nil, fmt.Errorf("claim outbox: %w", mapError(err))
	}
	// RETURNING does not keep the CTE's order: oldest batch first.
	slices.SortFunc(out, func(a, b tierflow.OutboxRow) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

const markOutboxDeliveredSQL = `
UPDATE outbox SET delivered_at = now(), leased_until = NULL, last_error = NULLIF($3, '')
WHERE id = $1 AND attempts = $2 AND delivered_at IS NULL`

// MarkOutboxDelivered settles a claimed row; CodeConflict when the claim is stale.
func (s *Store) MarkOutboxDelivered(ctx context.Context, id int64, attempt int, problem string) error {
	return s.settleOutbox(ctx, "mark outbox delivered", markOutboxDeliveredSQL, id, attempt, problem)
}

const retryOutboxSQL = `
UPDATE outbox SET next_attempt_at = now() + $3 * interval '1 millisecond', leased_until = NULL, last_error = $4
WHERE id = $1 AND attempts = $2 AND delivered_at IS NULL`

// RetryOutbox releases a claimed row until after has passed; CodeConflict when
// the claim is stale.
func (s *Store) RetryOutbox(ctx context.Context, id int64, attempt int, after time.Duration, reason string) error {
	if after < 0 {
		after = 0
	}
	return s.settleOutbox(ctx, "retry outbox", retryOutboxSQL, id, attempt, after.Milliseconds(), reason)
}

func (s *Store) settleOutbox(ctx context.Context, what, sql string, id int64, attempt int, args ...any) error {
	tag, err := s.pool.Exec(ctx, sql, append([]any{id, attempt}, args...)...)
	if err != nil {
		return fmt.Errorf("%s %d: %w", what, id, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return tierflow.Errorf(tierflow.CodeConflict, "%s %d: claim %d is no longer the row's", what, id, attempt)
	}
	return nil
}

// purgeOutboxSQL deletes a shard's batches delivered (or withdrawn: they are
// settled too) before the retention, a bounded number per statement
// (outbox_delivered finds them). A batch not yet delivered, a scheduled one
// waiting for its time included, is never deleted.
const purgeOutboxSQL = `
DELETE FROM outbox WHERE id IN (
    SELECT id FROM outbox
    WHERE delivered_at < now() - $3 * interval '1 millisecond' AND case_hash % $2 = $1
    LIMIT $4)`

// PurgeDeliveredOutbox deletes up to limit batches of shard delivered (or
// withdrawn) more than olderThan ago.
func (s *Store) PurgeDeliveredOutbox(ctx context.Context, shard, shards int, olderThan time.Duration, limit int) (int, error) {
	if shards < 1 || shard < 0 || shard >= shards || olderThan <= 0 || limit < 1 {
		return 0, tierflow.Errorf(tierflow.CodeInvalid, "purge outbox: shard %d of %d, retention %s, limit %d",
			shard, shards, olderThan, limit)
	}
	tag, err := s.pool.Exec(ctx, purgeOutboxSQL, shard, shards, olderThan.Milliseconds(), limit)
	if err != nil {
		return 0, fmt.Errorf("purge outbox: %w", mapError(err))
	}
	return int(tag.RowsAffected()), nil
}

// outboxStatsSQL counts the backlog: undelivered batches that are due, a
// scheduled one only once its time has come (a survey a day away is not a
// stuck mailer), dated from when each became due. It reads the range of
// outbox_due_from (migration 011) up to now, so the batches scheduled ahead,
// however many cases have their warnings and surveys written, are not read.
const outboxStatsSQL = `
SELECT count(*), min(greatest(created_at, not_before)) FROM outbox
WHERE delivered_at IS NULL AND coalesce(not_before, '-infinity'::timestamptz) <= now()`

// OutboxStats counts the undelivered due batches and dates the oldest.
func (s *Store) OutboxStats(ctx context.Context) (tierflow.OutboxStats, error) {
	var st tierflow.OutboxStats
	var oldest *time.Time
	err := s.pool.QueryRow(ctx, outboxStatsSQL).Scan(&st.Depth, &oldest)
	if err != nil {
		return st, fmt.Errorf("outbox stats: %w", mapError(err))
	}
	if oldest != nil {
		st.Oldest = *oldest
	}
	return st, nil
}

// ListenOutbox LISTENs on OutboxChannel on a connection of its own (outside the
// pool) and signals wake on every notification, without blocking: a full wake
// means a pass is already due. A lost connection is opened again after a second
// (the caller polls meanwhile). stop ends it and waits for it to end.
func (s *Store) ListenOutbox(ctx context.Context, wake chan<- struct{}) (stop func(), err error) {
	ctx, cancel := context.WithCancel(ctx)
	conn, err := s.listen(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if conn == nil {
				if conn, err = s.listen(ctx); err != nil {
					s.logger.Warn("outbox listener: reconnect failed", "error", err)
					select {
					case <-ctx.Done():
					case <-time.After(time.Second):
					}
					continue
				}
			}
			if _, err := conn.WaitForNotification(ctx); err != nil {
				_ = conn.Close(context.WithoutCancel(ctx))
				conn = nil
				if ctx.Err() == nil {
					s.logger.Warn("outbox listener: connection lost", "error", err)
				}
				continue
			}
			select {
			case wake <- struct{}{}:
			default:
			}
		}
		if conn != nil {
			_ = conn.Close(context.WithoutCancel(ctx))
		}
	}()
	return func() { cancel(); <-done }, nil
}

func (s *Store) listen(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("outbox listener: connect: %w", mapError(err))
	}
	if _, err := conn.Exec(ctx, "LISTEN "+OutboxChannel); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("outbox listener: listen: %w", mapError(err))
	}
	return conn, nil
}
