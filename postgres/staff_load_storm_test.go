package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// A transaction that moves a case to another owner takes the owners'
// staff_load locks at its commit (migration 010), not at its statement: the
// rest of the record (its events, its outbox) runs without holding them, and a
// storm's records stop queueing behind each other on the few people of a tier.
func TestStaffLoadLocksAreTakenAtCommit(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	view := testCase("zendesk-hot", 1)
	view.Assignee = ptr("owner-a")
	record(t, s, view, testEvent("zendesk-hot", 1, tierflow.EventOpened))

	tx, err := s.pool.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx)
	_, err = tx.Exec(ctx, `UPDATE cases SET assignee = 'owner-b' WHERE id = 'zendesk-hot'`)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `INSERT INTO case_events (case_id, seq, type, at, actor_id, tier, status)
		VALUES ('zendesk-hot', 2, 'note', now(), 'system', 1, 'open')`)
	require.NoError(t, err)

	// Another session can lock the old owner's row while the transaction is open.
	other, err := s.pool.Begin(ctx)
	require.NoError(t, err)
	var load int64
	err = other.QueryRow(ctx, `SELECT open_cases FROM staff_load WHERE staff_id = 'owner-a' FOR UPDATE NOWAIT`).Scan(&load)
	require.NoError(t, other.Rollback(ctx)) // before any failure: the store's Close waits for it
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		t.Fatalf("owner-a's load row is locked before the commit (%s %s): the trigger runs at the statement", pgErr.Code, pgErr.Message)
	}
	require.NoError(t, err)
	assert.Equal(t, int64(1), load)

	require.NoError(t, tx.Commit(ctx))
	assert.Equal(t, map[string]int64{"owner-a": 0, "owner-b": 1}, staffLoads(t, s))
}

func staffLoads(t testing.TB, s *Store) map[string]int64 {
	t.Helper()
	rows, _ := s.pool.Query(context.Background(), `SELECT staff_id, open_cases FROM staff_load`)
	loads := map[string]int64{}
	var id string
	var n int64
	_, err := pgx.ForEachRow(rows, []any{&id, &n}, func() error { loads[id] = n; return nil })
	require.NoError(t, err)
	return loads
}

// BenchmarkEscalationStorm records a storm of escalations, stormCases cases
// moved from three tier-1 owners to three tier-2 owners by 16 concurrent
// writers, each record as the burst's (the projection, five events, one outbox
// batch, the withdrawal of the released warning). Baseline, in the same run:
// the staff_load triggers as migration 009 made them, run at the statement (the
// "drop below" half of migration 010).
func BenchmarkEscalationStorm(b *testing.B) {
	down, err := fs.ReadFile(migrationFiles, "migrations/010_staff_load_at_commit.sql")
	require.NoError(b, err)
	_, atStatement, ok := strings.Cut(string(down), "---- create above / drop below ----")
	require.True(b, ok)
	for _, v := range []struct{ name, sql string }{{"triggers_at_statement", atStatement}, {"triggers_at_commit", ""}} {
		b.Run(v.name, func(b *testing.B) {
			s := newStore(b)
			if v.sql != "" {
				_, err := s.pool.Exec(context.Background(), v.sql)
				require.NoError(b, err)
			}
			var total time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				ids := openStorm(b, s, i)
				b.StartTimer()
				start := time.Now()
				escalateStorm(b, s, ids)
				total += time.Since(start)
			}
			b.ReportMetric(float64(b.N*stormCases)/total.Seconds(), "escalations/s")
			loads := staffLoads(b, s)
			require.Equal(b, int64(b.N*stormCases), loads["t2-0"]+loads["t2-1"]+loads["t2-2"], "%v", loads)
		})
	}
}

const stormCases = 300

func openStorm(b testing.TB, s *Store, round int) []string {
	ids := make([]string, stormCases)
	for k := range ids {
		ids[k] = fmt.Sprintf("storm-%d-%d", round, k)
		tr, batches := openingTransition(b, ids[k])
		tr.View.Assignee = ptr(fmt.Sprintf("t1-%d", k%3))
		_, err := s.recordTransition(context.Background(), tr, batches)
		require.NoError(b, err)
	}
	return ids
}

// escalateStorm records the escalations of ids by 16 concurrent writers.
func escalateStorm(b *testing.B, s *Store, ids []string) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for w := range errs {
		wg.Go(func() {
			for k := int(next.Add(1)) - 1; k < len(ids) && errs[w] == nil; k = int(next.Add(1)) - 1 {
				errs[w] = recordEscalation(b, s, ids[k], k)
			}
		})
	}
	wg.Wait()
	require.NoError(b, errors.Join(errs...))
}

// recordEscalation records the escalation to tier 2 of case id, the storm's
// k-th (its owner by k, as its tier-1 owner).
func recordEscalation(b testing.TB, s *Store, id string, k int) error {
	view := testCase(id, 7)
	view.Tier, view.Escalations = 2, 1
	view.Assignee = ptr(fmt.Sprintf("t2-%d", k%3))
	events := []tierflow.CaseEvent{testEvent(id, 3, tierflow.EventNote), testEvent(id, 4, tierflow.EventNote),
		testEvent(id, 5, tierflow.EventNote), testEvent(id, 6, tierflow.EventNote)}
	assigned := testEvent(id, 7, tierflow.EventAssigned)
	assigned.Details = map[string]string{"assignee": *view.Assignee}
	events = append(events, assigned)
	_, err := s.recordTransition(context.Background(), tierflow.Transition{
		CaseID: id, View: view, Events: events, CancelEmails: []int64{1},
	}, []tierflow.OutboxBatch{batchOf(b, 7)})
	return err
}
