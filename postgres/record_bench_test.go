package postgres

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// recordTransitionInTx is recordTransition as it was before it became one
// batch, kept as BenchmarkRecordTransition's baseline: BEGIN, the upsert, the
// events' batch, the survey answers, the comparison of skipped events, the
// outbox's batch and COMMIT, each a round trip of its own. (The old code sent
// each answer and the upsert as plain statements: the same round trips.)
func (s *Store) recordTransitionInTx(ctx context.Context, t tierflow.Transition, batches []tierflow.OutboxBatch) (recordResult, error) {
	if err := validateRecord(t, batches); err != nil {
		return recordResult{}, err
	}
	var res recordResult
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		res = recordResult{}
		var skipped []tierflow.CaseEvent
		steps := []func(*statementBatch){
			func(b *statementBatch) { queueProjection(b, t.View, &res) },
			func(b *statementBatch) { queueEvents(b, t, &res, &skipped) },
			func(b *statementBatch) { queueSurveyResponses(b, t) },
		}
		for _, queue := range steps {
			b := &statementBatch{}
			queue(b)
			if err := b.send(ctx, tx); err != nil {
				return err
			}
		}
		if err := compareSkipped(ctx, tx, t.CaseID, skipped, &res); err != nil {
			return err
		}
		b := &statementBatch{}
		queueOutbox(b, t.CaseID, batches, t.CancelEmails)
		return b.send(ctx, tx)
	})
	if err != nil {
		return recordResult{}, fmt.Errorf("record transition of case %s: %w", t.CaseID, mapError(err))
	}
	return res, nil
}

type recordFunc func(*Store, context.Context, tierflow.Transition, []tierflow.OutboxBatch) (recordResult, error)

// BenchmarkRecordTransition compares the record (one batch) with its baseline
// (a transaction of several round trips) on the two transitions on the
// decision and open paths: a note (one event, the projection moved, no email)
// and an opening (two events, the projection inserted, one outbox batch).
// round-trips/op counts the statements and batches sent.
func BenchmarkRecordTransition(b *testing.B) {
	variants := []struct {
		name   string
		record recordFunc
	}{
		{"batch", (*Store).recordTransition},
		{"transaction", (*Store).recordTransitionInTx},
	}
	for _, v := range variants {
		b.Run("note/"+v.name, func(b *testing.B) { benchmarkNote(b, v.record) })
	}
	for _, v := range variants {
		b.Run("open/"+v.name, func(b *testing.B) { benchmarkOpen(b, v.record) })
	}
}

func benchmarkNote(b *testing.B, record recordFunc) {
	ctx := context.Background()
	s, counter := newCountedStore(b)
	const id = "bench-note"
	opening, batches := openingTransition(b, id)
	_, err := record(s, ctx, opening, batches)
	require.NoError(b, err)
	agent := tierflow.Principal{ID: "dev-agent", Name: "Robin", Role: tierflow.RoleAgent, Tier: 1}
	measure(b, counter, func(i int) error {
		seq := int64(i) + 3
		note := testEvent(id, seq, tierflow.EventNote)
		note.Actor, note.Summary = agent, "called the customer back"
		view := testCase(id, seq)
		view.Status, view.Assignee = tierflow.StatusInProgress, ptr(agent.ID)
		_, err := record(s, ctx, tierflow.Transition{CaseID: id, View: view, Events: []tierflow.CaseEvent{note}}, nil)
		return err
	})
}

func benchmarkOpen(b *testing.B, record recordFunc) {
	ctx := context.Background()
	s, counter := newCountedStore(b)
	measure(b, counter, func(i int) error {
		opening, batches := openingTransition(b, fmt.Sprintf("bench-open-%d", i))
		_, err := record(s, ctx, opening, batches)
		return err
	})
}

// measure runs one record per iteration and reports its round trips.
func measure(b *testing.B, counter *requestCounter, recordOne func(i int) error) {
	var failed error
	statements, batches := counter.roundTrips(func() {
		for i := 0; b.Loop(); i++ {
			if err := recordOne(i); err != nil {
				failed = err
				return
			}
		}
	})
	require.NoError(b, failed)
	b.ReportMetric(float64(statements+batches)/float64(b.N), "round-trips/op")
}
