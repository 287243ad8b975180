package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

func batchOf(t testing.TB, seq int64) tierflow.OutboxBatch {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"messages": []any{map[string]any{"key": fmt.Sprintf("k/%d", seq)}}})
	require.NoError(t, err)
	return tierflow.OutboxBatch{Seq: seq, Batch: raw}
}

// recordWithOutbox records events 1..n of case id with one batch on each listed seq.
func recordWithOutbox(t *testing.T, s *Store, id string, from, to int64, batchSeqs ...int64) error {
	t.Helper()
	var events []tierflow.CaseEvent
	for seq := from; seq <= to; seq++ {
		events = append(events, testEvent(id, seq, tierflow.EventNote))
	}
	var batches []tierflow.OutboxBatch
	for _, seq := range batchSeqs {
		batches = append(batches, batchOf(t, seq))
	}
	return s.RecordTransitionWithOutbox(context.Background(),
		tierflow.Transition{CaseID: id, Events: events, View: testCase(id, to)}, batches)
}

func outboxRows(t *testing.T, s *Store, id string) (n int, attempts int) {
	t.Helper()
	require.NoError(t, s.pool.QueryRow(context.Background(),
		`SELECT count(*), coalesce(sum(attempts), 0) FROM outbox WHERE case_id = $1`, id).Scan(&n, &attempts))
	return n, attempts
}

func TestOutboxIsWrittenWithTheRecordOnce(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	wake := make(chan struct{}, 1)
	stop, err := s.ListenOutbox(ctx, wake)
	require.NoError(t, err)
	defer stop()

	require.NoError(t, recordWithOutbox(t, s, "c1", 1, 2, 1, 2))
	require.NoError(t, recordWithOutbox(t, s, "c1", 1, 2, 1, 2), "a retried record")
	n, _ := outboxRows(t, s, "c1")
	assert.Equal(t, 2, n, "a retried record inserts nothing twice")
	select {
	case <-wake:
	case <-time.After(5 * time.Second):
		t.Fatal("the record did not wake the listener")
	}

	// A batch naming no event of the transition is refused with the record: no
	// event and no batch is written.
	err = recordWithOutbox(t, s, "c2", 1, 1, 7)
	requireCode(t, err, tierflow.CodeInvalid)
	n, _ = outboxRows(t, s, "c2")
	assert.Zero(t, n)
	_, err = s.GetCase(ctx, "c2")
	requireCode(t, err, tierflow.CodeNotFound)
}

func TestOutboxClaimKeepsEachCaseInOrder(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	require.NoError(t, recordWithOutbox(t, s, "a", 1, 1, 1))
	require.NoError(t, recordWithOutbox(t, s, "b", 1, 1, 1))
	require.NoError(t, recordWithOutbox(t, s, "a", 2, 3, 3))

	rows, err := s.ClaimOutbox(ctx, 0, 1, 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, rows, 2, "one batch per case")
	assert.Equal(t, "a", rows[0].CaseID)
	assert.Equal(t, int64(1), rows[0].Seq)
	assert.Equal(t, "b", rows[1].CaseID)
	assert.Equal(t, 1, rows[0].Attempt)
	assert.JSONEq(t, string(batchOf(t, 1).Batch), string(rows[0].Batch))

	again, err := s.ClaimOutbox(ctx, 0, 1, 10, time.Minute)
	require.NoError(t, err)
	assert.Empty(t, again, "leased rows, and a case's next batch before its previous is delivered, are not due")

	require.NoError(t, s.MarkOutboxDelivered(ctx, rows[0].ID, rows[0].Attempt, ""))
	next, err := s.ClaimOutbox(ctx, 0, 1, 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, next, 1)
	assert.Equal(t, "a", next[0].CaseID)
	assert.Equal(t, int64(3), next[0].Seq)

	st, err := s.OutboxStats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, st.Depth)
	assert.False(t, st.Oldest.IsZero())
}

func TestOutboxShardsSplitCases(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	ids := []string{"s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"}
	for _, id := range ids {
		require.NoError(t, recordWithOutbox(t, s, id, 1, 1, 1))
	}
	seen := map[string]int{}
	for shard := 0; shard < 3; shard++ {
		rows, err := s.ClaimOutbox(ctx, shard, 3, 100, time.Minute)
		require.NoError(t, err)
		for _, r := range rows {
			assert.Equal(t, shard, tierflow.OutboxShard(r.CaseID, 3), r.CaseID)
			seen[r.CaseID]++
		}
	}
	assert.Len(t, seen, len(ids), "every case is in exactly one shard")
	_, err := s.ClaimOutbox(ctx, 3, 3, 1, time.Minute)
	requireCode(t, err, tierflow.CodeInvalid)
}

func TestOutboxRetryBacksOffAndExpiredLeaseIsFenced(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	require.NoError(t, recordWithOutbox(t, s, "r", 1, 1, 1))

	rows, err := s.ClaimOutbox(ctx, 0, 1, 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.NoError(t, s.RetryOutbox(ctx, rows[0].ID, rows[0].Attempt, time.Hour, "provider unavailable"))
	rows2, err := s.ClaimOutbox(ctx, 0, 1, 10, time.Minute)
	require.NoError(t, err)
	assert.Empty(t, rows2, "not due before its backoff")
	var wait time.Duration
	var lastError string
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT extract(epoch FROM next_attempt_at - now())::float8 * interval '1 second', last_error
		FROM outbox WHERE id = $1`, rows[0].ID).Scan(&wait, &lastError))
	assert.InDelta(t, time.Hour.Seconds(), wait.Seconds(), 60)
	assert.Equal(t, "provider unavailable", lastError)

	// Due again; a lease that expires lets another delivery claim the row, and
	// the first one can no longer settle it.
	_, err = s.pool.Exec(ctx, `UPDATE outbox SET next_attempt_at = now()`)
	require.NoError(t, err)
	first, err := s.ClaimOutbox(ctx, 0, 1, 10, time.Millisecond)
	require.NoError(t, err)
	require.Len(t, first, 1)
	time.Sleep(20 * time.Millisecond)
	second, err := s.ClaimOutbox(ctx, 0, 1, 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, second, 1)
	assert.Equal(t, first[0].Attempt+1, second[0].Attempt)
	requireCode(t, s.MarkOutboxDelivered(ctx, first[0].ID, first[0].Attempt, ""), tierflow.CodeConflict)
	requireCode(t, s.RetryOutbox(ctx, first[0].ID, first[0].Attempt, time.Second, "x"), tierflow.CodeConflict)
	require.NoError(t, s.MarkOutboxDelivered(ctx, second[0].ID, second[0].Attempt, "refused: k/1"))
	st, err := s.OutboxStats(ctx)
	require.NoError(t, err)
	assert.Zero(t, st.Depth)
}

// Only delivered batches older than the retention go, those of the shard asked,
// at most limit per call.
func TestOutboxPurgeDeletesOldDeliveredBatchesOnly(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	for _, id := range []string{"p1", "p2", "p3", "p4"} {
		require.NoError(t, recordWithOutbox(t, s, id, 1, 1, 1))
	}
	_, err := s.pool.Exec(ctx, `UPDATE outbox SET delivered_at = now() - interval '2 hours' WHERE case_id IN ('p1', 'p2', 'p3')`)
	require.NoError(t, err)
	_, err = s.pool.Exec(ctx, `UPDATE outbox SET delivered_at = now() - interval '10 minutes' WHERE case_id = 'p3'`)
	require.NoError(t, err)

	n, err := s.PurgeDeliveredOutbox(ctx, 0, 1, time.Hour, 1)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "at most limit")
	n, err = s.PurgeDeliveredOutbox(ctx, 0, 1, time.Hour, 1000)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	for id, want := range map[string]int{"p1": 0, "p2": 0, "p3": 1, "p4": 1} {
		got, _ := outboxRows(t, s, id)
		assert.Equal(t, want, got, "case %s: recent or undelivered batches stay", id)
	}

	_, err = s.pool.Exec(ctx, `UPDATE outbox SET delivered_at = now() - interval '2 hours'`)
	require.NoError(t, err)
	shard := tierflow.OutboxShard("p3", 2)
	n, err = s.PurgeDeliveredOutbox(ctx, 1-shard, 2, time.Hour, 1000)
	require.NoError(t, err)
	got3, _ := outboxRows(t, s, "p3")
	assert.Equal(t, 1, got3, "another shard's purge leaves p3 alone (it deleted %d)", n)
	_, err = s.PurgeDeliveredOutbox(ctx, 0, 1, 0, 10)
	requireCode(t, err, tierflow.CodeInvalid)
}
