package postgres

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/internal/pgcluster"
)

// requestCounter counts what the store's connections send to the server, each
// one round trip: statements (BEGIN and COMMIT included) and batches.
type requestCounter struct{ statements, batches atomic.Int64 }

func (c *requestCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.statements.Add(1)
	return ctx
}

func (c *requestCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *requestCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.batches.Add(1)
	return ctx
}

func (c *requestCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (c *requestCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// roundTrips returns how many requests fn sent.
func (c *requestCounter) roundTrips(fn func()) (statements, batches int64) {
	s0, b0 := c.statements.Load(), c.batches.Load()
	fn()
	return c.statements.Load() - s0, c.batches.Load() - b0
}

// newCountedStore is newStore whose requests counter counts.
func newCountedStore(t testing.TB) (*Store, *requestCounter) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(pgcluster.NewTestDatabaseFrom(t, cluster, migratedSchema))
	require.NoError(t, err)
	counter := &requestCounter{}
	cfg.ConnConfig.Tracer = counter
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	s := NewFromPool(pool, nil)
	t.Cleanup(s.Close)
	return s, counter
}

// openingTransition opens case id: opened and assigned, the customer's
// acknowledgement in the outbox.
func openingTransition(t testing.TB, id string) (tierflow.Transition, []tierflow.OutboxBatch) {
	assigned := testEvent(id, 2, tierflow.EventAssigned)
	assigned.Details = map[string]string{"assignee": "dev-agent"}
	return tierflow.Transition{
		CaseID: id, View: testCase(id, 2),
		Events: []tierflow.CaseEvent{testEvent(id, 1, tierflow.EventOpened), assigned},
	}, []tierflow.OutboxBatch{batchOf(t, 1)}
}

// The common case is one request; a retried record adds one read to compare
// what it skipped.
func TestRecordTransitionIsOneRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, counter := newCountedStore(t)
	tr, batches := openingTransition(t, "zendesk-rt")

	var res recordResult
	var err error
	statements, sent := counter.roundTrips(func() { res, err = s.recordTransition(ctx, tr, batches) })
	require.NoError(t, err)
	assert.Equal(t, recordResult{EventsInserted: 2, ProjectionMoved: true}, res)
	assert.Equal(t, [2]int64{0, 1}, [2]int64{statements, sent}, "statements and batches of a first record")

	statements, sent = counter.roundTrips(func() { res, err = s.recordTransition(ctx, tr, batches) })
	require.NoError(t, err)
	assert.Equal(t, recordResult{EventsDuplicate: 2}, res)
	assert.Equal(t, [2]int64{1, 1}, [2]int64{statements, sent}, "statements and batches of a retried record")
}

// What a record reports, with the outbox in the batch: all new, all
// duplicates, then a conflict beside a new event.
func TestRecordTransitionWithOutboxReportsWhatItChanged(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	tr, batches := openingTransition(t, "zendesk-oc")

	first, err := s.recordTransition(ctx, tr, batches)
	require.NoError(t, err)
	assert.Equal(t, recordResult{EventsInserted: 2, ProjectionMoved: true}, first)
	retry, err := s.recordTransition(ctx, tr, batches)
	require.NoError(t, err)
	assert.Equal(t, recordResult{EventsDuplicate: 2}, retry)
	n, _ := outboxRows(t, s, "zendesk-oc")
	assert.Equal(t, 1, n)

	other := tr.Events[1]
	other.Summary = "another writer's version"
	next := tierflow.Transition{CaseID: "zendesk-oc", View: testCase("zendesk-oc", 3),
		Events: []tierflow.CaseEvent{other, testEvent("zendesk-oc", 3, tierflow.EventNote)}}
	res, err := s.recordTransition(ctx, next, []tierflow.OutboxBatch{batchOf(t, 3)})
	require.NoError(t, err)
	assert.Equal(t, recordResult{EventsInserted: 1, EventsConflict: []int64{2}, ProjectionMoved: true}, res)
	n, _ = outboxRows(t, s, "zendesk-oc")
	assert.Equal(t, 2, n)
	events, err := s.CaseEvents(ctx, "zendesk-oc")
	require.NoError(t, err)
	require.Len(t, events, 3)
	assert.Empty(t, events[1].Summary, "the first version is kept")
}

// The batch is one transaction: when one of its last statements is refused,
// nothing of the transition is written and nobody is woken. Both refusals pass
// the store's validation and are caught by PostgreSQL only.
func TestRecordTransitionWritesNothingWhenALaterStatementFails(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	listener, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	require.NoError(t, err)
	t.Cleanup(func() { _ = listener.Close(context.Background()) })

	tests := []struct {
		name     string
		id       string
		batch    string // of the transition's last event
		sqlstate string // of the refusal
	}{
		// jsonb refuses the \u0000 escape encoding/json accepts: the outbox insert fails.
		{"outbox batch refused", "zendesk-nul", `{"messages": [{"subject": "\u0000"}]}`, "22P05"},
		// A notification's payload (the case id) is at most 8000 bytes: pg_notify,
		// the batch's last statement, fails.
		{"notification refused", "zendesk-" + strings.Repeat("x", 8000), `{"messages": []}`, "22023"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			record(t, s, testCase(tt.id, 1), testEvent(tt.id, 1, tierflow.EventOpened))
			_, err := listener.Exec(ctx, "LISTEN "+OutboxChannel) // after the first record, which notifies no one
			require.NoError(t, err)

			answered := testEvent(tt.id, 3, tierflow.EventSurveyAnswered)
			answered.Details = map[string]string{"score": "5"}
			next := testCase(tt.id, 3)
			next.Status, next.Tier = tierflow.StatusInProgress, 2
			tr := tierflow.Transition{CaseID: tt.id, View: next,
				Events: []tierflow.CaseEvent{testEvent(tt.id, 2, tierflow.EventNote), answered}}
			batches := []tierflow.OutboxBatch{batchOf(t, 2), {Seq: 3, Batch: []byte(tt.batch)}}
			_, err = s.recordTransition(ctx, tr, batches)
			requireCode(t, err, tierflow.CodeInvalid)
			var pgErr *pgconn.PgError
			require.ErrorAs(t, err, &pgErr)
			require.Equal(t, tt.sqlstate, pgErr.Code, "refused by the statement meant to fail: %v", err)

			got, err := s.GetCase(ctx, tt.id)
			require.NoError(t, err)
			assert.Equal(t, int64(1), got.Seq, "the projection did not move")
			assert.Equal(t, tierflow.StatusOpen, got.Status)
			events, err := s.CaseEvents(ctx, tt.id)
			require.NoError(t, err)
			assert.Equal(t, 1, len(events), "no event was added") // not Len: it would print the long id
			n, _ := outboxRows(t, s, tt.id)
			assert.Zero(t, n, "no batch was written")
			assert.Zero(t, countRows(t, s, "survey_responses"), "no answer was recorded")
		})
	}

	// Notifications arrive in commit order: the first one is this record's.
	tr, batches := openingTransition(t, "zendesk-after")
	require.NoError(t, s.RecordTransitionWithOutbox(ctx, tr, batches))
	waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	note, err := listener.WaitForNotification(waitCtx)
	require.NoError(t, err)
	assert.Equal(t, "zendesk-after", note.Payload, "a refused record woke the mailers")
}
