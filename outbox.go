package tierflow

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"time"
)

// OutboxBatch is one transition's emails, written with the transition's record
// (in the same transaction) and delivered later by the mailer. Seq is the
// transition's last event: (case, Seq) names the batch, so a retried record
// writes it once. Batch is the activities' NotifyInput as JSON (opaque here).
type OutboxBatch struct {
	Seq   int64           `json:"seq"`
	Batch json.RawMessage `json:"batch"`
	// NotBefore, when set, is the earliest the batch is delivered (a scheduled
	// email, such as the satisfaction survey a day after resolution). Until then
	// it does not hold back its case's later batches, and a later record of the
	// case may withdraw it (Transition.CancelEmails).
	NotBefore *time.Time `json:"not_before,omitempty"`
}

// OutboxRow is a batch claimed for delivery. Attempt is the claim's number: the
// fencing token of MarkOutboxDelivered and RetryOutbox, so a delivery whose lease
// expired (and was claimed again) cannot settle the row.
type OutboxRow struct {
	ID        int64           `json:"id"`
	CaseID    string          `json:"case_id"`
	Seq       int64           `json:"seq"`
	Batch     json.RawMessage `json:"batch"`
	Attempt   int             `json:"attempt"`
	CreatedAt time.Time       `json:"created_at"`
	// DueAt is when the batch became due: its creation, or its NotBefore when
	// that is later. Delivery lag is measured from it.
	DueAt time.Time `json:"due_at"`
}

// OutboxStats is what waits in the outbox: the backlog of due batches. A
// scheduled batch whose time has not come is not part of it.
type OutboxStats struct {
	// Depth counts undelivered due batches; Oldest is when the longest waiting
	// of them became due (OutboxRow.DueAt; zero when Depth is 0).
	Depth  int
	Oldest time.Time
}

// OutboxShard is the shard (0..shards-1) of a case's batches: every batch of a
// case is in the same shard, so one mailer keeps them in order.
func OutboxShard(caseID string, shards int) int {
	if shards <= 1 {
		return 0
	}
	return int(OutboxHash(caseID) % uint32(shards))
}

// OutboxHash is the stable hash of a case ID that OutboxShard reduces.
func OutboxHash(caseID string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(caseID))
	return h.Sum32()
}

// Outbox keeps the emails of recorded transitions until they are delivered.
//
// A case's batches are delivered in Seq order: ClaimOutbox never returns a batch
// while an earlier batch of its case is undelivered, except an earlier batch
// scheduled for later (OutboxBatch.NotBefore not yet reached): it goes at its
// time and holds nothing back meanwhile. A batch withdrawn by a later record
// (Transition.CancelEmails) before it was claimed is settled, never delivered,
// and holds nothing back either. A claim holds the row for
// its lease; when the lease ends unsettled (the deliverer died), the row is
// claimed again and the notification ledger keeps each email at most once.
type Outbox interface {
	// RecordTransitionWithOutbox is CaseRecorder.RecordTransition plus the
	// batches, in one transaction; a batch already there is kept as it is. The
	// batches are written before t.CancelEmails is applied.
	RecordTransitionWithOutbox(ctx context.Context, t Transition, batches []OutboxBatch) error
	// ClaimOutbox leases up to limit due batches of shard (of shards), at most one
	// per case, oldest due first.
	ClaimOutbox(ctx context.Context, shard, shards, limit int, lease time.Duration) ([]OutboxRow, error)
	// MarkOutboxDelivered settles a claimed row; problem, when not empty, says
	// which emails no retry could send (the row is settled all the same).
	// CodeConflict when the claim is no longer the row's (the lease expired).
	MarkOutboxDelivered(ctx context.Context, id int64, attempt int, problem string) error
	// RetryOutbox releases a claimed row until after has passed, with the reason.
	RetryOutbox(ctx context.Context, id int64, attempt int, after time.Duration, reason string) error
	// PurgeDeliveredOutbox deletes up to limit batches of shard (of shards)
	// delivered (or withdrawn) more than olderThan ago and returns how many: a batch holds
	// customer names and addresses, and its emails' outcomes stay in the ledger.
	PurgeDeliveredOutbox(ctx context.Context, shard, shards int, olderThan time.Duration, limit int) (int, error)
	// OutboxStats counts the undelivered due batches.
	OutboxStats(ctx context.Context) (OutboxStats, error)
	// ListenOutbox subscribes to new batches: wake receives (without blocking the
	// store) when a batch may be due, until ctx ends or the returned stop is called.
	ListenOutbox(ctx context.Context, wake chan<- struct{}) (stop func(), err error)
}
