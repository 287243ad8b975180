package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/tierflow/tierflow"
)

// surveysSentSQL counts the surveys that went out, per group. A survey sent by
// its case's own timer is a survey_sent event. A survey the outbox sends at its
// time is a survey_scheduled event (details send_at); its case records
// survey_sent lazily, at its next step, so until then the scheduled event counts
// once its send time has passed. It does not count when a later event of its
// case is survey_sent (that event counts instead) or reopened or closed: the
// lazy survey_sent comes before a later step's own events, so a reopen or close
// without one withdrew the survey before it went out.
const surveysSentSQL = `
SELECT co.grp, count(*)
FROM case_events e JOIN cohort co ON co.id = e.case_id
WHERE e.type = 'survey_sent'
   OR (e.type = 'survey_scheduled' AND (e.details ->> 'send_at')::timestamptz <= now()
       AND NOT EXISTS (SELECT 1 FROM case_events l
                       WHERE l.case_id = e.case_id AND l.seq > e.seq
                         AND l.type IN ('survey_sent', 'reopened', 'closed')))
GROUP BY 1`

// surveysSent counts the surveys sent, the response rate's denominator.
func surveysSent(ctx context.Context, tx pgx.Tx, q tierflow.KPIQuery, groupExpr string,
	_ map[string]*tierflow.KPIs, counts map[string]*kpiCounts) error {
	rows, err := tx.Query(ctx, cohortSQL(groupExpr)+surveysSentSQL, q.From, q.To)
	if err != nil {
		return fmt.Errorf("surveys sent: %w", err)
	}
	var g string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&g, &n}, func() error {
		counts[g].surveysSent += n
		return nil
	})
	if err != nil {
		return fmt.Errorf("surveys sent: %w", err)
	}
	return nil
}

// surveyAnswers fills the CSAT distribution and the sums behind its average.
func surveyAnswers(ctx context.Context, tx pgx.Tx, q tierflow.KPIQuery, groupExpr string,
	groups map[string]*tierflow.KPIs, counts map[string]*kpiCounts) error {
	rows, err := tx.Query(ctx, cohortSQL(groupExpr)+`
SELECT co.grp, r.score, count(*)
FROM survey_responses r JOIN cohort co ON co.id = r.case_id
GROUP BY 1, 2`, q.From, q.To)
	if err != nil {
		return fmt.Errorf("survey answers: %w", err)
	}
	var g string
	var score, n int
	_, err = pgx.ForEachRow(rows, []any{&g, &score, &n}, func() error {
		groups[g].CSATDistribution[strconv.Itoa(score)] = n
		counts[g].responses += n
		counts[g].scoreSum += score * n
		return nil
	})
	if err != nil {
		return fmt.Errorf("survey answers: %w", err)
	}
	return nil
}
