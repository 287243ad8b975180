package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// recordOutboxTransition records events from..to of case id with the batches,
// withdrawing the batches of cancel.
func recordOutboxTransition(s *Store, id string, from, to int64, batches []tierflow.OutboxBatch, cancel ...int64) error {
	var events []tierflow.CaseEvent
	for seq := from; seq <= to; seq++ {
		events = append(events, testEvent(id, seq, tierflow.EventNote))
	}
	return s.RecordTransitionWithOutbox(context.Background(),
		tierflow.Transition{CaseID: id, Events: events, View: testCase(id, to), CancelEmails: cancel}, batches)
}

func scheduledBatchOf(t *testing.T, seq int64, notBefore time.Time) tierflow.OutboxBatch {
	b := batchOf(t, seq)
	b.NotBefore = &notBefore
	return b
}

// outboxRow is what a test reads of one row.
type outboxRow struct {
	attempts    int
	delivered   bool
	cancelledAt *time.Time
	lastError   *string
}

func readOutboxRow(t *testing.T, s *Store, id string, seq int64) outboxRow {
	t.Helper()
	var r outboxRow
	require.NoError(t, s.pool.QueryRow(context.Background(),
		`SELECT attempts, delivered_at IS NOT NULL, cancelled_at, last_error FROM outbox WHERE case_id = $1 AND seq = $2`,
		id, seq).Scan(&r.attempts, &r.delivered, &r.cancelledAt, &r.lastError))
	return r
}

func claimSeqs(t *testing.T, s *Store) map[string][]int64 {
	t.Helper()
	rows, err := s.ClaimOutbox(context.Background(), 0, 1, 100, time.Minute)
	require.NoError(t, err)
	out := map[string][]int64{}
	for _, r := range rows {
		out[r.CaseID] = append(out[r.CaseID], r.Seq)
	}
	return out
}

// A scheduled batch (the survey, a day after resolution) is not claimed before
// its time and is after it, dated from it; meanwhile it holds back none of its
// case's later batches, is no backlog, and the retention never deletes it.
func TestOutboxScheduledBatchWaitsForItsTimeWithoutHoldingItsCase(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	sendAt := time.Now().Add(1500 * time.Millisecond)
	require.NoError(t, recordOutboxTransition(s, "sv", 1, 1, []tierflow.OutboxBatch{scheduledBatchOf(t, 1, sendAt)}))
	require.NoError(t, recordOutboxTransition(s, "sv", 2, 2, []tierflow.OutboxBatch{batchOf(t, 2)}))

	rows, err := s.ClaimOutbox(ctx, 0, 1, 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, rows, 1, "the scheduled batch is not due; the later one does not wait for it")
	assert.Equal(t, int64(2), rows[0].Seq)
	assert.WithinDuration(t, rows[0].CreatedAt, rows[0].DueAt, 0, "an unscheduled batch is due when recorded")
	st, err := s.OutboxStats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Depth, "the scheduled batch is no backlog")
	require.NoError(t, s.MarkOutboxDelivered(ctx, rows[0].ID, rows[0].Attempt, ""))
	st, err = s.OutboxStats(ctx)
	require.NoError(t, err)
	assert.Zero(t, st.Depth)
	assert.True(t, st.Oldest.IsZero())

	// Retention: everything settled is old; the waiting batch was created long ago.
	_, err = s.pool.Exec(ctx, `UPDATE outbox SET created_at = now() - interval '30 days',
		delivered_at = CASE WHEN delivered_at IS NULL THEN NULL ELSE now() - interval '30 days' END`)
	require.NoError(t, err)
	n, err := s.PurgeDeliveredOutbox(ctx, 0, 1, time.Hour, 100)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the delivered batch goes")
	left, _ := outboxRows(t, s, "sv")
	assert.Equal(t, 1, left, "the scheduled batch stays")

	var due []tierflow.OutboxRow
	require.Eventually(t, func() bool {
		due, err = s.ClaimOutbox(ctx, 0, 1, 10, time.Minute)
		require.NoError(t, err)
		return len(due) > 0
	}, 10*time.Second, 100*time.Millisecond, "claimed once its time has come")
	assert.False(t, time.Now().Before(sendAt.Truncate(time.Microsecond)), "not before its time")
	require.Len(t, due, 1)
	assert.Equal(t, int64(1), due[0].Seq)
	assert.WithinDuration(t, sendAt, due[0].DueAt, time.Millisecond, "due from its send time, not its creation")
	st, err = s.OutboxStats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Depth, "due, it is part of the backlog")
	assert.WithinDuration(t, sendAt, st.Oldest, time.Millisecond, "its wait counts from its send time")

	// Once due, it is an ordinary batch: a later one waits behind it.
	require.NoError(t, recordOutboxTransition(s, "sv", 3, 3, []tierflow.OutboxBatch{batchOf(t, 3)}))
	assert.Empty(t, claimSeqs(t, s)["sv"], "seq 3 waits for the survey, now being sent")
	require.NoError(t, s.MarkOutboxDelivered(ctx, due[0].ID, due[0].Attempt, ""))
	assert.Equal(t, []int64{3}, claimSeqs(t, s)["sv"])
}

// A withdrawn batch is never claimed and holds back nothing; withdrawing is
// idempotent, ignores unknown seqs, works in the record that wrote the batch and
// in a record without batches.
func TestOutboxCancelWithdrawsUnclaimedBatches(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	later := time.Now().Add(time.Hour)
	require.NoError(t, recordOutboxTransition(s, "cw", 1, 2,
		[]tierflow.OutboxBatch{scheduledBatchOf(t, 1, later), batchOf(t, 2)}))
	// Batch 2 failed once and waits for its retry: it holds back the case.
	rows, err := s.ClaimOutbox(ctx, 0, 1, 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.NoError(t, s.RetryOutbox(ctx, rows[0].ID, rows[0].Attempt, time.Hour, "provider unavailable"))
	require.NoError(t, recordOutboxTransition(s, "cw", 3, 3, []tierflow.OutboxBatch{batchOf(t, 3)}))
	assert.Empty(t, claimSeqs(t, s)["cw"], "batch 3 waits behind batch 2")

	require.NoError(t, recordOutboxTransition(s, "cw", 4, 4, nil, 1, 2, 99))
	for _, seq := range []int64{1, 2} {
		r := readOutboxRow(t, s, "cw", seq)
		assert.True(t, r.delivered, "seq %d is settled", seq)
		require.NotNil(t, r.cancelledAt, "seq %d", seq)
		require.NotNil(t, r.lastError)
		assert.Equal(t, "cancelled", *r.lastError)
	}
	assert.Equal(t, []int64{3}, claimSeqs(t, s)["cw"], "withdrawn batches are never claimed and hold nothing back")

	first := readOutboxRow(t, s, "cw", 1).cancelledAt
	require.NoError(t, recordOutboxTransition(s, "cw", 4, 4, nil, 1, 2, 99), "a retried record")
	assert.Equal(t, *first, *readOutboxRow(t, s, "cw", 1).cancelledAt, "withdrawn once")

	// Written and withdrawn by one record (transitions batched together).
	require.NoError(t, recordOutboxTransition(s, "cw", 5, 6, []tierflow.OutboxBatch{scheduledBatchOf(t, 5, later)}, 5))
	assert.NotNil(t, readOutboxRow(t, s, "cw", 5).cancelledAt)

	// RecordTransition (a record without emails) withdraws too.
	require.NoError(t, recordOutboxTransition(s, "cw", 7, 7, []tierflow.OutboxBatch{scheduledBatchOf(t, 7, later)}))
	require.NoError(t, s.RecordTransition(ctx, tierflow.Transition{CaseID: "cw", View: testCase("cw", 8),
		Events: []tierflow.CaseEvent{testEvent("cw", 8, tierflow.EventReopened)}, CancelEmails: []int64{7}}))
	assert.NotNil(t, readOutboxRow(t, s, "cw", 7).cancelledAt)

	err = recordOutboxTransition(s, "cw", 9, 9, nil, 0)
	requireCode(t, err, tierflow.CodeInvalid)
	_, err = s.pool.Exec(ctx, `UPDATE outbox SET cancelled_at = now(), delivered_at = NULL WHERE case_id = 'cw' AND seq = 3`)
	require.Error(t, err, "the schema refuses a withdrawn batch that is not settled")
}

// A batch a mailer holds (it is being sent) or has delivered stays as it is: it
// went out. So does one whose lease ended unsettled: its mailer may have died
// after sending it (the ledger knows; the retry settles it), so it is no longer
// withdrawable.
func TestOutboxCancelLeavesClaimedAndDeliveredBatches(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	require.NoError(t, recordOutboxTransition(s, "cl", 1, 1, []tierflow.OutboxBatch{batchOf(t, 1)}))
	require.NoError(t, recordOutboxTransition(s, "cd", 1, 1, []tierflow.OutboxBatch{batchOf(t, 1)}))
	require.NoError(t, recordOutboxTransition(s, "ce", 1, 1, []tierflow.OutboxBatch{batchOf(t, 1)}))
	held, err := s.ClaimOutbox(ctx, 0, 1, 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, held, 3)
	byCase := map[string]tierflow.OutboxRow{}
	for _, r := range held {
		byCase[r.CaseID] = r
	}
	require.NoError(t, s.MarkOutboxDelivered(ctx, byCase["cd"].ID, byCase["cd"].Attempt, ""))
	_, err = s.pool.Exec(ctx, `UPDATE outbox SET leased_until = now() - interval '1 second' WHERE case_id = 'ce'`)
	require.NoError(t, err)

	for _, id := range []string{"cl", "cd", "ce"} {
		require.NoError(t, recordOutboxTransition(s, id, 2, 2, nil, 1), id)
	}
	leased := readOutboxRow(t, s, "cl", 1)
	assert.Nil(t, leased.cancelledAt, "a leased batch is the mailer's")
	assert.False(t, leased.delivered)
	require.NoError(t, s.MarkOutboxDelivered(ctx, byCase["cl"].ID, byCase["cl"].Attempt, ""), "its mailer settles it")
	delivered := readOutboxRow(t, s, "cd", 1)
	assert.Nil(t, delivered.cancelledAt, "a delivered batch stays delivered")
	assert.Nil(t, delivered.lastError)

	ended := readOutboxRow(t, s, "ce", 1)
	assert.Nil(t, ended.cancelledAt, "a batch claimed once may have gone: not withdrawn")
	assert.False(t, ended.delivered, "it waits for its retry")
	require.NoError(t, s.MarkOutboxDelivered(ctx, byCase["ce"].ID, byCase["ce"].Attempt, ""), "its mailer, were it alive, could still settle it")
}

// Claims and withdrawals racing on the same rows: each row is either claimed
// (the withdrawal then leaves it alone) or withdrawn (never claimed), not both.
func TestOutboxCancelAndClaimRacing(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	const cases = 120
	for i := range cases {
		require.NoError(t, recordOutboxTransition(s, fmt.Sprintf("r%03d", i), 1, 1, []tierflow.OutboxBatch{batchOf(t, 1)}))
	}
	// Two pooled connections ready, so neither side starts late connecting.
	c1, err := s.pool.Acquire(ctx)
	require.NoError(t, err)
	c2, err := s.pool.Acquire(ctx)
	require.NoError(t, err)
	c1.Release()
	c2.Release()
	var wg sync.WaitGroup
	start := make(chan struct{})
	wg.Go(func() {
		<-start
		for {
			rows, err := s.ClaimOutbox(ctx, 0, 1, 1, time.Minute)
			if !assert.NoError(t, err) || len(rows) == 0 {
				return
			}
		}
	})
	wg.Go(func() {
		<-start
		for i := range cases {
			assert.NoError(t, recordOutboxTransition(s, fmt.Sprintf("r%03d", i), 2, 2, nil, 1))
		}
	})
	close(start)
	wg.Wait()
	var claimed, withdrawn, both, neither int
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE attempts > 0 AND cancelled_at IS NULL),
		count(*) FILTER (WHERE attempts = 0 AND cancelled_at IS NOT NULL),
		count(*) FILTER (WHERE attempts > 0 AND cancelled_at IS NOT NULL),
		count(*) FILTER (WHERE attempts = 0 AND cancelled_at IS NULL)
		FROM outbox`).Scan(&claimed, &withdrawn, &both, &neither))
	assert.Zero(t, both, "no batch both claimed and withdrawn")
	assert.Zero(t, neither, "every batch claimed or withdrawn")
	assert.Equal(t, cases, claimed+withdrawn)
	t.Logf("claimed %d, withdrawn %d", claimed, withdrawn)
}

// The backlog gauge reads the due rows, not the scheduled ones (migration 011):
// with thousands written ahead, it reads none of them, and a batch in its retry
// backoff is still backlog, dated from when it became due.
func TestOutboxStatsReadsNoScheduledRow(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	later := time.Now().Add(time.Hour)
	const ahead = 2000
	for i := range ahead {
		require.NoError(t, recordOutboxTransition(s, fmt.Sprintf("ahead-%d", i), 1, 1,
			[]tierflow.OutboxBatch{scheduledBatchOf(t, 1, later)}))
	}
	require.NoError(t, recordOutboxTransition(s, "retried", 1, 1, []tierflow.OutboxBatch{batchOf(t, 1)}))
	rows, err := s.ClaimOutbox(ctx, 0, 1, 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.NoError(t, s.RetryOutbox(ctx, rows[0].ID, rows[0].Attempt, time.Hour, "provider down"))
	require.NoError(t, recordOutboxTransition(s, "waiting", 1, 1, []tierflow.OutboxBatch{batchOf(t, 1)}))
	_, err = s.pool.Exec(ctx, `ANALYZE outbox`)
	require.NoError(t, err)

	st, err := s.OutboxStats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, st.Depth, "the batch in its backoff and the one waiting; none of the scheduled")
	assert.WithinDuration(t, rows[0].DueAt, st.Oldest, time.Millisecond, "dated from the retried batch's due time")

	var plan string
	require.NoError(t, s.pool.QueryRow(ctx, `EXPLAIN (ANALYZE, FORMAT JSON) `+outboxStatsSQL).Scan(&plan))
	read := rowsReadByScans(t, plan)
	assert.LessOrEqual(t, read, 10, "rows the scans read, with %d scheduled rows in the table", ahead)
}

// rowsReadByScans sums, over a JSON plan's scan nodes, the rows they returned
// and the rows their filters removed.
func rowsReadByScans(t *testing.T, plan string) int {
	var nodes []struct {
		Plan json.RawMessage `json:"Plan"`
	}
	require.NoError(t, json.Unmarshal([]byte(plan), &nodes))
	require.Len(t, nodes, 1)
	var walk func(raw json.RawMessage) int
	walk = func(raw json.RawMessage) int {
		var n struct {
			NodeType string            `json:"Node Type"`
			Rows     float64           `json:"Actual Rows"`
			Loops    float64           `json:"Actual Loops"`
			Removed  float64           `json:"Rows Removed by Filter"`
			Plans    []json.RawMessage `json:"Plans"`
		}
		require.NoError(t, json.Unmarshal(raw, &n))
		total := 0
		if strings.HasSuffix(n.NodeType, "Scan") {
			total += int((n.Rows + n.Removed) * max(n.Loops, 1))
		}
		for _, p := range n.Plans {
			total += walk(p)
		}
		return total
	}
	return walk(nodes[0].Plan)
}
