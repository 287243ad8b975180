package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tierflow/tierflow/simulate"
)

// MaxSimulationPage caps one page of ReadCases.
const MaxSimulationPage = 500

// ReadCases is the simulator's read of the record (simulate.Reader): at most
// limit cases opened in [w.From, w.To) (of w.Source when set), ordered by
// (opened_at, id) after key, each with its whole audit log. It runs in one
// read-only transaction, so a page's cases and events are one snapshot.
func (s *Store) ReadCases(ctx context.Context, w simulate.Window, after *simulate.PageKey, limit int) (simulate.Page, error) {
	limit = min(max(limit, 1), MaxSimulationPage)
	var page simulate.Page
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		cases, err := readSimulationCases(ctx, tx, w, after, limit+1)
		if err != nil {
			return err
		}
		if len(cases) > limit {
			cases = cases[:limit]
			last := cases[limit-1]
			page.Next = &simulate.PageKey{OpenedAt: last.OpenedAt, CaseID: last.CaseID}
		}
		if err := readSimulationEvents(ctx, tx, cases); err != nil {
			return err
		}
		page.Cases = cases
		return nil
	})
	if err != nil {
		return simulate.Page{}, fmt.Errorf("read cases to simulate: %w", mapError(err))
	}
	return page, nil
}

func readSimulationCases(ctx context.Context, tx pgx.Tx, w simulate.Window, after *simulate.PageKey, n int) ([]simulate.CaseLog, error) {
	afterAt, afterID := time.Time{}, ""
	if after != nil {
		afterAt, afterID = after.OpenedAt, after.CaseID
	}
	rows, err := tx.Query(ctx, `
SELECT id, source, external_id, priority, opened_at
FROM cases
WHERE opened_at >= $1 AND opened_at < $2
  AND ($3 = '' OR source = $3)
  AND ($5 = '' OR (opened_at, id) > ($4, $5))
ORDER BY opened_at, id
LIMIT $6`, w.From, w.To, w.Source, afterAt, afterID, n)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (simulate.CaseLog, error) {
		var c simulate.CaseLog
		err := row.Scan(&c.CaseID, &c.Source, &c.ExternalID, &c.Priority, &c.OpenedAt)
		c.OpenedAt = c.OpenedAt.UTC()
		return c, err
	})
}

// readSimulationEvents fills in each case's audit log, oldest first.
func readSimulationEvents(ctx context.Context, tx pgx.Tx, cases []simulate.CaseLog) error {
	if len(cases) == 0 {
		return nil
	}
	ids := make([]string, len(cases))
	index := make(map[string]int, len(cases))
	for i, c := range cases {
		ids[i], index[c.CaseID] = c.CaseID, i
	}
	events, err := queryEvents(ctx, tx, `WHERE case_id = ANY($1)`, ids)
	if err != nil {
		return err
	}
	for _, e := range events {
		c := &cases[index[e.CaseID]]
		c.Events = append(c.Events, e)
	}
	return nil
}
