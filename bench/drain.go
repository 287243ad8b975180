package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tierflow/tierflow"
)

// escalationRecord is one case's first automatic escalation as PostgreSQL holds it.
// An escalation is drained when it is recorded (the escalated event is a row in
// case_events) and every email it caused is settled in the notification ledger
// (sent, failed or unconfirmed; none new or sending).
type escalationRecord struct {
	CaseID     string
	Deadline   time.Time // the tier 1 acknowledge deadline, as the case's breach records it
	At         time.Time // the escalated event's time: the workflow's clock when it handled the timer
	RecordedAt time.Time // when the escalated event was written (case_events.recorded_at)
	// Mails counts the ledger's emails keyed by the breach's event or a later one
	// (keys are <case>/<event seq>/<kind>); Pending those still new or sending;
	// MailsDone is when the last settled one was last updated (zero without any).
	Mails, Pending int
	MailsDone      time.Time
}

// Drained is when the escalation was complete: recorded, its emails settled.
func (e escalationRecord) Drained() time.Time {
	if e.MailsDone.After(e.RecordedAt) {
		return e.MailsDone
	}
	return e.RecordedAt
}

// escalationsSQL reads the records of the cases $1. The deadline comes from the
// case's view (full precision; the breach event's detail has whole seconds).
const escalationsSQL = `
WITH esc AS (
	SELECT DISTINCT ON (case_id) case_id, at, recorded_at FROM case_events
	WHERE case_id = ANY($1) AND type = $2 AND details->>'mode' = 'automatic'
	ORDER BY case_id, seq),
br AS (
	SELECT DISTINCT ON (case_id) case_id, seq FROM case_events
	WHERE case_id = ANY($1) AND type = $3 AND details->>'clock' = 'acknowledge'
	ORDER BY case_id, seq),
dl AS (
	SELECT c.id AS case_id, (b->>'at')::timestamptz AS deadline FROM cases c
	CROSS JOIN LATERAL (SELECT b FROM jsonb_array_elements(c.view->'breaches') b
		WHERE b->>'clock' = 'acknowledge' AND (b->>'tier')::int = 1 LIMIT 1) first_breach
	WHERE c.id = ANY($1)),
mail AS (
	SELECT n.case_id, count(*) AS mails,
		count(*) FILTER (WHERE n.state IN ('new', 'sending')) AS pending,
		max(n.updated_at) FILTER (WHERE n.state NOT IN ('new', 'sending')) AS done
	FROM notifications n JOIN br ON br.case_id = n.case_id
	WHERE n.case_id = ANY($1) AND substring(n.key FROM '/([0-9]+)/[^/]*$')::bigint >= br.seq
	GROUP BY n.case_id)
SELECT esc.case_id, dl.deadline, esc.at, esc.recorded_at,
	coalesce(mail.mails, 0), coalesce(mail.pending, 0), mail.done
FROM esc JOIN br USING (case_id) JOIN dl USING (case_id) LEFT JOIN mail USING (case_id)`

// escalationsChunk is how many cases one escalationsSQL reads: on the full
// server, whose databases share the stack's PostgreSQL, 8,912 cases in one query
// ran past the 30s statement timeout (issue 10's run at 16:04).
const escalationsChunk = 1000

// readEscalations reads the escalation records of ids (cases not yet escalated
// have none), escalationsChunk cases per query.
func (b *bench) readEscalations(ctx context.Context, ids []string) ([]escalationRecord, error) {
	var out []escalationRecord
	for len(ids) > 0 {
		n := min(len(ids), escalationsChunk)
		part, err := b.readEscalationsOf(ctx, ids[:n])
		if err != nil {
			return nil, err
		}
		out, ids = append(out, part...), ids[n:]
	}
	return out, nil
}

func (b *bench) readEscalationsOf(ctx context.Context, ids []string) ([]escalationRecord, error) {
	rows, err := b.stack.Store.Pool().Query(ctx, escalationsSQL, ids, string(tierflow.EventEscalated), string(tierflow.EventBreach))
	if err != nil {
		return nil, fmt.Errorf("read escalations: %w", err)
	}
	defer rows.Close()
	var out []escalationRecord
	for rows.Next() {
		var e escalationRecord
		var done *time.Time
		if err := rows.Scan(&e.CaseID, &e.Deadline, &e.At, &e.RecordedAt, &e.Mails, &e.Pending, &done); err != nil {
			return nil, fmt.Errorf("read escalations: %w", err)
		}
		if done != nil {
			e.MailsDone = *done
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read escalations: %w", err)
	}
	return out, nil
}

// drainProgress is what one look at the records says.
type drainProgress struct {
	Escalated, Mails, Pending, MinMails, MaxMails int
}

func progressOf(records []escalationRecord) drainProgress {
	p := drainProgress{Escalated: len(records)}
	for i, e := range records {
		p.Mails, p.Pending = p.Mails+e.Mails, p.Pending+e.Pending
		if i == 0 || e.Mails < p.MinMails {
			p.MinMails = e.Mails
		}
		p.MaxMails = max(p.MaxMails, e.Mails)
	}
	return p
}

// complete: every one of want cases escalated, every case has as many settled
// emails as the one with most (at least one: an escalation tells the customer),
// none pending. An email not yet claimed by its activity is not in the ledger, so
// the caller also requires the count to hold still between two looks.
func (p drainProgress) complete(want int) bool {
	return p.Escalated >= want && p.Pending == 0 && p.MinMails >= 1 && p.MinMails == p.MaxMails
}

func (p drainProgress) String() string {
	return fmt.Sprintf("%d escalated, %d emails (%d pending, %d-%d per case)", p.Escalated, p.Mails, p.Pending, p.MinMails, p.MaxMails)
}

// waitDrained waits until the escalations of ids are drained (complete, and the
// same for two looks settle apart) or until the deadline; it returns the records
// of the last look and whether they drained. It looks every 2 seconds: the
// figures come from the rows' timestamps, so looking more often would only load
// the database that is being measured. For the same reason each look asks only
// about the cases not yet seen escalated: counting every case's escalation
// event at each look cost 28 ms a look in a 5,000-case burst on the full server
// (3.6 s of the database's 150 s of statements in the drain), and the
// projections' primary key 67 ms (their rows are wide).
func (b *bench) waitDrained(ctx context.Context, ids []string, until time.Time, settle time.Duration) ([]escalationRecord, bool, error) {
	escalatedSQL := `SELECT case_id FROM case_events WHERE case_id = ANY($1) AND type = $2 AND details->>'mode' = 'automatic'`
	waiting := map[string]bool{}
	for _, id := range ids {
		waiting[id] = true
	}
	var last drainProgress
	var completeSince time.Time
	for {
		if len(waiting) > 0 {
			seen, err := b.stack.Store.Pool().Query(ctx, escalatedSQL, slices.Collect(maps.Keys(waiting)), string(tierflow.EventEscalated))
			if err != nil {
				return nil, false, fmt.Errorf("look for escalations: %w", err)
			}
			escalated, err := pgx.CollectRows(seen, pgx.RowTo[string])
			if err != nil {
				return nil, false, fmt.Errorf("look for escalations: %w", err)
			}
			for _, id := range escalated {
				delete(waiting, id)
			}
		}
		// The full read waits until every case has escalated.
		if len(waiting) == 0 || time.Now().After(until) {
			records, err := b.readEscalations(ctx, ids)
			if err != nil {
				return nil, false, err
			}
			p := progressOf(records)
			switch {
			case !p.complete(len(ids)):
				completeSince = time.Time{}
			case completeSince.IsZero() || p != last:
				completeSince = time.Now()
			case time.Since(completeSince) >= settle:
				return records, true, nil
			}
			last = p
			if time.Now().After(until) {
				return records, false, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, false, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// waitMailSettled looks every second until the ledger holds at least minMails
// emails of the cases ids, none new or sending, unchanged for 2s (an email not
// yet claimed by its activity is not in the ledger), or until; it says whether
// they settled.
func (b *bench) waitMailSettled(ctx context.Context, ids []string, minMails int, until time.Time) (bool, error) {
	var last int
	var settledSince time.Time
	for time.Now().Before(until) {
		var total, pending int
		if err := b.stack.Store.Pool().QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE state IN ('new', 'sending'))
			FROM notifications WHERE case_id = ANY($1)`, ids).Scan(&total, &pending); err != nil {
			return false, fmt.Errorf("count emails: %w", err)
		}
		switch {
		case pending > 0 || total < minMails:
			settledSince = time.Time{}
		case settledSince.IsZero() || total != last:
			settledSince = time.Now()
		case time.Since(settledSince) >= 2*time.Second:
			return true, nil
		}
		last = total
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return false, nil
}
