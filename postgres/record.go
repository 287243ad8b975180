package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tierflow/tierflow"
)

// recordResult says what one RecordTransition changed.
type recordResult struct {
	EventsInserted  int
	EventsDuplicate int     // already recorded with the same content
	EventsConflict  []int64 // already recorded with different content (kept, reported)
	ProjectionMoved bool
}

// RecordTransition appends the transition's events (ignoring those already recorded)
// and moves the projection forward to t.View when t.View.Seq is newer than the
// stored one, in one transaction. A survey_answered event also records the answer.
// The outbox batches named by t.CancelEmails are withdrawn in the same
// transaction (tierflow.Transition.CancelEmails). The transaction is one round
// trip to the database; a retried record costs a second one, a read.
//
// Retrying a transition is harmless. An event whose (case, seq) is already recorded
// with different content keeps the first version (the log is append-only) and is
// reported in the log as a warning: it means two writers disagree about history.
func (s *Store) RecordTransition(ctx context.Context, t tierflow.Transition) error {
	_, err := s.recordTransition(ctx, t, nil)
	return err
}

// RecordTransitionWithOutbox is RecordTransition that also writes the
// transition's email batches into the outbox, in the same transaction, and wakes
// the mailers (pg_notify, delivered on commit). A batch already in the outbox
// (a retried record) is kept as it is. The batches are written before
// t.CancelEmails is applied.
func (s *Store) RecordTransitionWithOutbox(ctx context.Context, t tierflow.Transition, batches []tierflow.OutboxBatch) error {
	_, err := s.recordTransition(ctx, t, batches)
	return err
}

func (s *Store) recordTransition(ctx context.Context, t tierflow.Transition, batches []tierflow.OutboxBatch) (recordResult, error) {
	if err := validateRecord(t, batches); err != nil {
		return recordResult{}, err
	}
	var res recordResult
	var skipped []tierflow.CaseEvent
	b := &statementBatch{}
	queueProjection(b, t.View, &res)
	queueEvents(b, t, &res, &skipped)
	queueSurveyResponses(b, t)
	queueOutbox(b, t.CaseID, batches, t.CancelEmails)
	// One round trip, one transaction: pgx sends the batch as one pipeline
	// closed by a single Sync (in every QueryExecMode; see
	// Conn.sendBatchExtendedWithDescription in pgx v5, and in simple-protocol
	// mode one multi-statement Query), and documents on Conn.SendBatch: "All
	// queries are run in an implicit transaction unless explicit transaction
	// control statements are executed". PostgreSQL (protocol docs,
	// "Pipelining") commits that implicit transaction at the Sync if every
	// statement succeeded, and otherwise skips the rest up to the Sync and rolls
	// it all back. So the projection, the events, the answers and the outbox are
	// written together or not at all, and pg_notify is delivered on commit.
	if err := b.send(ctx, s.pool); err != nil {
		return recordResult{}, fmt.Errorf("record transition of case %s: %w", t.CaseID, mapError(err))
	}
	// A retried record (rare): the events it skipped were committed by the
	// earlier attempt (an insert that meets an uncommitted row waits for it), and
	// the log is append-only, so comparing them after the commit, on the pool,
	// sees what the transaction saw. Failing here leaves the record written; the
	// caller's retry then finds every event recorded.
	if err := compareSkipped(ctx, s.pool, t.CaseID, skipped, &res); err != nil {
		return recordResult{}, fmt.Errorf("record transition of case %s: %w", t.CaseID, mapError(err))
	}
	for _, seq := range res.EventsConflict {
		s.logger.Warn("event already recorded with different content; kept the first",
			"case_id", t.CaseID, "seq", seq)
	}
	return res, nil
}

// validateRecord checks a transition and its outbox batches before anything is
// sent.
func validateRecord(t tierflow.Transition, batches []tierflow.OutboxBatch) error {
	if err := validateTransition(t); err != nil {
		return err
	}
	return validateOutboxBatches(t, batches)
}

// statementBatch is a pgx.Batch and, in the same order, how to read the result
// of each queued statement.
type statementBatch struct {
	batch pgx.Batch
	reads []func(pgx.BatchResults) error
}

// queue adds sql; read reads its result, in turn, and says whether it failed.
func (b *statementBatch) queue(read func(pgx.BatchResults) error, sql string, args ...any) {
	b.batch.Queue(sql, args...)
	b.reads = append(b.reads, read)
}

// queueExec adds a statement that only has to succeed; what names it in errors.
func (b *statementBatch) queueExec(what string, sql string, args ...any) {
	b.queue(func(r pgx.BatchResults) error {
		if _, err := r.Exec(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}, sql, args...)
}

// batchSender is what a pool, a connection and a transaction have in common.
type batchSender interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// send sends the batch and reads the results in order. The first failure is
// returned: the server skipped every later statement.
func (b *statementBatch) send(ctx context.Context, q batchSender) error {
	if len(b.reads) == 0 {
		return nil
	}
	results := q.SendBatch(ctx, &b.batch)
	for _, read := range b.reads {
		if err := read(results); err != nil {
			_ = results.Close()
			return err
		}
	}
	return results.Close()
}

// upsertProjectionSQL inserts the case or moves it forward; an older or equal seq
// leaves the row untouched, so a late retry never moves a case backwards.
const upsertProjectionSQL = `
INSERT INTO cases (id, seq, status, tier, start_tier, priority, category, department,
    assignee, source, external_id, breached, close_target_breached, escalations, reopens,
    opened_at, escalated_at, resolved_at, closed_at, updated_at, view)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, now(), $20)
ON CONFLICT (id) DO UPDATE SET
    seq = excluded.seq, status = excluded.status, tier = excluded.tier,
    start_tier = excluded.start_tier, priority = excluded.priority,
    category = excluded.category, department = excluded.department,
    assignee = excluded.assignee, source = excluded.source, external_id = excluded.external_id,
    breached = excluded.breached, close_target_breached = excluded.close_target_breached,
    escalations = excluded.escalations, reopens = excluded.reopens,
    opened_at = excluded.opened_at, escalated_at = excluded.escalated_at,
    resolved_at = excluded.resolved_at, closed_at = excluded.closed_at,
    updated_at = now(), view = excluded.view
WHERE excluded.seq > cases.seq
RETURNING id`

// queueProjection queues the upsert; a returned row means the projection moved.
func queueProjection(b *statementBatch, v tierflow.CaseView, res *recordResult) {
	var escalatedAt *time.Time
	if !v.EscalatedAt.IsZero() {
		escalatedAt = &v.EscalatedAt
	}
	b.queue(func(r pgx.BatchResults) error {
		var id string
		err := r.QueryRow().Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("upsert projection: %w", err)
		}
		res.ProjectionMoved = true
		return nil
	}, upsertProjectionSQL,
		v.ID, v.Seq, v.Status, v.Tier, v.StartTier, v.Priority, v.Category, v.Department,
		v.Assignee, v.Source, v.ExternalID, len(v.Breaches) > 0, v.CloseTargetBreached,
		v.Escalations, v.Reopens, v.OpenedAt, escalatedAt, v.ResolvedAt, v.ClosedAt, v)
}

// insertEventsSQL inserts a transition's events in one statement, in seq order
// (each row fires the webhooks' fan-out trigger, in that order), and returns
// the seqs it inserted: an event already recorded is skipped.
const insertEventsSQL = `
INSERT INTO case_events (case_id, seq, type, at, actor_id, actor_name, actor_role, actor_tier,
    tier, from_tier, status, department, reason, summary, customer_message, details)
SELECT $1, e.seq, e.type, e.at, e.actor_id, e.actor_name, e.actor_role, e.actor_tier,
    e.tier, e.from_tier, e.status, e.department, e.reason, e.summary, e.customer_message, e.details::jsonb
FROM unnest($2::bigint[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::smallint[],
    $9::smallint[], $10::smallint[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[])
    AS e (seq, type, at, actor_id, actor_name, actor_role, actor_tier,
          tier, from_tier, status, department, reason, summary, customer_message, details)
ORDER BY e.seq
ON CONFLICT (case_id, seq) DO NOTHING
RETURNING seq`

const insertSurveyResponseSQL = `
INSERT INTO survey_responses (case_id, event_seq, score, resolved, comment, answered_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (case_id, event_seq) DO NOTHING`

// queueEvents queues the insert of the events, one statement for all of them
// (a statement per event cost the database as much again in a storm of
// escalations, five events each); an event already recorded is skipped (and
// appended to skipped, for compareSkipped).
func queueEvents(b *statementBatch, t tierflow.Transition, res *recordResult, skipped *[]tierflow.CaseEvent) {
	if len(t.Events) == 0 {
		return
	}
	var c eventColumns
	for _, e := range t.Events {
		c.add(e)
	}
	b.queue(func(r pgx.BatchResults) error {
		rows, err := r.Query()
		if err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
		inserted, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
		res.EventsInserted += len(inserted)
		for _, e := range t.Events {
			if !slices.Contains(inserted, e.Seq) {
				*skipped = append(*skipped, e)
			}
		}
		return nil
	}, insertEventsSQL, t.CaseID, c.seqs, c.types, c.ats, c.actorIDs, c.actorNames, c.actorRoles, c.actorTiers,
		c.tiers, c.fromTiers, c.statuses, c.departments, c.reasons, c.summaries, c.customerMessages, c.details)
}

// eventColumns are events as the columns of insertEventsSQL's unnest.
type eventColumns struct {
	seqs                                      []int64
	ats                                       []time.Time
	actorTiers, tiers                         []int16
	fromTiers                                 []*int16 // NULL for none
	types, actorIDs, actorNames, actorRoles   []string
	statuses, departments, reasons, summaries []string
	customerMessages, details                 []string // details: a JSON object
}

func (c *eventColumns) add(e tierflow.CaseEvent) {
	details := e.Details
	if details == nil {
		details = map[string]string{}
	}
	raw, _ := json.Marshal(details) // a map of strings always marshals
	var fromTier *int16
	if e.FromTier != 0 {
		from := int16(e.FromTier)
		fromTier = &from
	}
	c.seqs, c.ats = append(c.seqs, e.Seq), append(c.ats, e.At)
	c.actorTiers, c.tiers, c.fromTiers = append(c.actorTiers, int16(e.Actor.Tier)), append(c.tiers, int16(e.Tier)), append(c.fromTiers, fromTier)
	c.types, c.actorIDs = append(c.types, string(e.Type)), append(c.actorIDs, e.Actor.ID)
	c.actorNames, c.actorRoles = append(c.actorNames, e.Actor.Name), append(c.actorRoles, string(e.Actor.Role))
	c.statuses, c.departments = append(c.statuses, string(e.Status)), append(c.departments, e.Department)
	c.reasons, c.summaries = append(c.reasons, e.Reason), append(c.summaries, e.Summary)
	c.customerMessages, c.details = append(c.customerMessages, e.CustomerMessage), append(c.details, string(raw))
}

// queueSurveyResponses queues the answer of each survey_answered event, after
// the events (an answer refers to its event).
func queueSurveyResponses(b *statementBatch, t tierflow.Transition) {
	for _, e := range t.Events {
		if e.Type != tierflow.EventSurveyAnswered {
			continue
		}
		answer, _ := surveyAnswer(e) // validated before the batch is sent
		b.queueExec("insert survey response", insertSurveyResponseSQL,
			t.CaseID, e.Seq, answer.Score, answer.Resolved, answer.Comment, e.At)
	}
}

// compareSkipped sorts events that were already recorded into duplicates (same
// content: a retry) and conflicts (different content).
func compareSkipped(ctx context.Context, q querier, caseID string, skipped []tierflow.CaseEvent, res *recordResult) error {
	if len(skipped) == 0 {
		return nil
	}
	seqs := make([]int64, len(skipped))
	for i, e := range skipped {
		seqs[i] = e.Seq
	}
	stored, err := queryEvents(ctx, q, `WHERE case_id = $1 AND seq = ANY($2)`, caseID, seqs)
	if err != nil {
		return err
	}
	bySeq := make(map[int64]tierflow.CaseEvent, len(stored))
	for _, e := range stored {
		bySeq[e.Seq] = e
	}
	for _, e := range skipped {
		if sameEvent(bySeq[e.Seq], e) {
			res.EventsDuplicate++
		} else {
			res.EventsConflict = append(res.EventsConflict, e.Seq)
		}
	}
	return nil
}

// sameEvent compares what the log stores, at the database's microsecond precision.
func sameEvent(stored, e tierflow.CaseEvent) bool {
	return stored.Type == e.Type &&
		stored.At.Equal(e.At.Truncate(time.Microsecond)) &&
		stored.Actor.ID == e.Actor.ID &&
		stored.Tier == e.Tier && stored.FromTier == e.FromTier &&
		stored.Status == e.Status && stored.Department == e.Department &&
		stored.Reason == e.Reason && stored.Summary == e.Summary &&
		stored.CustomerMessage == e.CustomerMessage &&
		(len(stored.Details) == 0 && len(e.Details) == 0 || maps.Equal(stored.Details, e.Details))
}
