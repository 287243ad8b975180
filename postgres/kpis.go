package postgres

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tierflow/tierflow"
)

// kpiGroupColumns maps KPIQuery.GroupBy to the SQL expression of a case's group.
// Only these fixed strings ever reach the SQL text.
var kpiGroupColumns = map[string]string{
	"":           "''",
	"category":   "c.category",
	"department": "c.department",
	"tier":       "c.tier::text", // the case's current tier
	"priority":   "c.priority",
}

// topCategoryCount is how many categories TopCategories lists.
const topCategoryCount = 5

// KPIs reports the indicators of the cases OPENED in [q.From, q.To), in total and,
// with q.GroupBy, per group. Definitions (all over that cohort of cases):
//   - escalated cases: escalations > 0; EscalationsToTier counts escalated events by
//     the tier they went to; SLABreachesByTier counts sla_breach events by tier.
//   - resolved cases: resolved_at set. First-tier resolution: resolved cases that
//     started at tier 1 and never escalated, over resolved cases.
//   - time to resolution: resolved_at - opened_at, p50 and p90 (percentile_cont);
//     ResolvedWithin30Days: cases resolved within 30 days over cases opened.
//   - CSAT: survey answers (average, count per score 1-5); response rate: answers
//     over surveys sent (surveysSent says which).
//   - reopen rate: cases reopened at least once over cases ever resolved (resolved
//     now or reopened).
//   - compensation: amount_cents of compensation_recorded and approved events, per
//     currency.
//   - top categories: the 5 named categories with most escalated cases.
//   - the funnel: cases by start tier and by the highest tier reached (the start
//     tier, the current tier or an escalation's destination, whichever is highest).
//   - breaches by tier and clock: sla_breach events by tier and details.clock.
//   - the time-to-resolution histogram: resolved cases per ResolutionTimeBuckets.
//   - ResolvedWithinCloseTarget: cases resolved whose close target (their policy's,
//     recorded by the workflow as close_target_breached) never broke, over cases
//     opened.
//
// The report is read in one repeatable-read snapshot, so its figures agree.
func (s *Store) KPIs(ctx context.Context, q tierflow.KPIQuery) (tierflow.KPIReport, error) {
	groupExpr, ok := kpiGroupColumns[q.GroupBy]
	var v tierflow.Validation
	v.Check(ok, "group_by", "must be one of category, department, tier, priority; got %q", q.GroupBy)
	v.Check(!q.From.IsZero(), "from", "is required")
	v.Check(!q.To.IsZero(), "to", "is required")
	v.Check(q.From.Before(q.To), "to", "must be after from")
	if err := v.Err("invalid KPI query"); err != nil {
		return tierflow.KPIReport{}, err
	}
	report := tierflow.KPIReport{From: q.From.UTC(), To: q.To.UTC(), GroupBy: q.GroupBy}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error {
			total, _, err := kpiGroups(ctx, tx, q, kpiGroupColumns[""])
			if err != nil {
				return err
			}
			report.Total = *kpiOrEmpty(total, "")
			if q.GroupBy == "" {
				return nil
			}
			groups, order, err := kpiGroups(ctx, tx, q, groupExpr)
			if err != nil {
				return err
			}
			for _, g := range order {
				report.Groups = append(report.Groups, *groups[g])
			}
			return nil
		})
	if err != nil {
		return tierflow.KPIReport{}, fmt.Errorf("kpis: %w", mapError(err))
	}
	return report, nil
}

func kpiOrEmpty(m map[string]*tierflow.KPIs, group string) *tierflow.KPIs {
	if k, ok := m[group]; ok {
		return k
	}
	return newKPIs(group)
}

func newKPIs(group string) *tierflow.KPIs {
	k := &tierflow.KPIs{
		Group:             group,
		EscalationsToTier: map[string]int{},
		SLABreachesByTier: map[string]int{},
		CSATDistribution:  map[string]int{},
		CompensationCents: map[string]int64{},
		TopCategories:     []tierflow.CategoryCount{},

		CasesByStartTier:          map[string]int{},
		CasesByHighestTier:        map[string]int{},
		SLABreachesByTierAndClock: map[string]map[string]int{},
		TimeToResolutionHistogram: tierflow.NewResolutionHistogram(),
	}
	for score := 1; score <= 5; score++ {
		k.CSATDistribution[strconv.Itoa(score)] = 0
	}
	for t := tierflow.TierFrontline; t <= tierflow.TierExecutive; t++ {
		k.CasesByStartTier[strconv.Itoa(int(t))] = 0
		k.CasesByHighestTier[strconv.Itoa(int(t))] = 0
	}
	return k
}

// cohortSQL selects the cases opened in [$1, $2) with their group as grp.
func cohortSQL(groupExpr string) string {
	return `WITH cohort AS (
    SELECT c.*, ` + groupExpr + ` AS grp FROM cases c WHERE c.opened_at >= $1 AND c.opened_at < $2
) `
}

// kpiCounts holds the raw counts that rates are made of.
type kpiCounts struct {
	firstTierResolved int
	within30Days      int
	withinCloseTarget int
	everResolved      int
	reopened          int
	surveysSent       int
	responses         int
	scoreSum          int
}

// kpiGroups computes the KPIs of every group; order lists the groups sorted.
func kpiGroups(ctx context.Context, tx pgx.Tx, q tierflow.KPIQuery, groupExpr string) (map[string]*tierflow.KPIs, []string, error) {
	groups := map[string]*tierflow.KPIs{}
	counts := map[string]*kpiCounts{}
	order, err := caseAggregates(ctx, tx, q, groupExpr, groups, counts)
	if err != nil {
		return nil, nil, err
	}
	steps := []func(context.Context, pgx.Tx, tierflow.KPIQuery, string, map[string]*tierflow.KPIs, map[string]*kpiCounts) error{
		eventCounts, compensationTotals, surveysSent, surveyAnswers, topCategories, tierFunnel, resolutionHistogram,
	}
	for _, step := range steps {
		if err := step(ctx, tx, q, groupExpr, groups, counts); err != nil {
			return nil, nil, err
		}
	}
	for g, k := range groups {
		c := counts[g]
		k.EscalationRate = ratio(k.EscalatedCases, k.CasesOpened)
		k.FirstTierResolutionRate = ratio(c.firstTierResolved, k.ResolvedCases)
		k.ResolvedWithin30Days = ratio(c.within30Days, k.CasesOpened)
		k.ResolvedWithinCloseTarget = ratio(c.withinCloseTarget, k.CasesOpened)
		k.ReopenRate = ratio(c.reopened, c.everResolved)
		k.SurveyResponseRate = ratio(c.responses, c.surveysSent)
		if c.responses > 0 {
			avg := float64(c.scoreSum) / float64(c.responses)
			k.CSATAverage = &avg
		}
	}
	return groups, order, nil
}

func ratio(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

func caseAggregates(ctx context.Context, tx pgx.Tx, q tierflow.KPIQuery, groupExpr string,
	groups map[string]*tierflow.KPIs, counts map[string]*kpiCounts) ([]string, error) {
	rows, err := tx.Query(ctx, cohortSQL(groupExpr)+`
SELECT grp,
    count(*),
    count(*) FILTER (WHERE escalations > 0),
    count(*) FILTER (WHERE resolved_at IS NOT NULL),
    count(*) FILTER (WHERE resolved_at IS NOT NULL AND start_tier = 1 AND tier = 1 AND escalations = 0),
    percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - opened_at)::float8)
        FILTER (WHERE resolved_at IS NOT NULL),
    percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - opened_at)::float8)
        FILTER (WHERE resolved_at IS NOT NULL),
    count(*) FILTER (WHERE resolved_at <= opened_at + interval '30 days'),
    count(*) FILTER (WHERE resolved_at IS NOT NULL OR reopens > 0),
    count(*) FILTER (WHERE reopens > 0),
    count(*) FILTER (WHERE resolved_at IS NOT NULL AND NOT close_target_breached)
FROM cohort GROUP BY grp ORDER BY grp`, q.From, q.To)
	if err != nil {
		return nil, fmt.Errorf("case aggregates: %w", err)
	}
	defer rows.Close()
	var order []string
	for rows.Next() {
		var g string
		var c kpiCounts
		var p50, p90 *float64
		k := newKPIs("")
		if err := rows.Scan(&g, &k.CasesOpened, &k.EscalatedCases, &k.ResolvedCases, &c.firstTierResolved,
			&p50, &p90, &c.within30Days, &c.everResolved, &c.reopened, &c.withinCloseTarget); err != nil {
			return nil, fmt.Errorf("case aggregates: %w", err)
		}
		k.Group = g
		k.TimeToResolutionP50 = secondsToDuration(p50)
		k.TimeToResolutionP90 = secondsToDuration(p90)
		groups[g], counts[g] = k, &c
		order = append(order, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("case aggregates: %w", err)
	}
	return order, nil
}

// secondsToDuration converts a percentile in seconds, rounded to the microsecond
// (the database's precision).
func secondsToDuration(sec *float64) *tierflow.Duration {
	if sec == nil {
		return nil
	}
	d := time.Duration(math.Round(*sec*1e6)) * time.Microsecond
	return &tierflow.Duration{Duration: d}
}

// eventCounts counts escalations and breaches per tier (breaches also per clock).
func eventCounts(ctx context.Context, tx pgx.Tx, q tierflow.KPIQuery, groupExpr string,
	groups map[string]*tierflow.KPIs, counts map[string]*kpiCounts) error {
	rows, err := tx.Query(ctx, cohortSQL(groupExpr)+`
SELECT co.grp, e.type, e.tier,
    CASE WHEN e.type = 'sla_breach' THEN coalesce(e.details ->> 'clock', '') ELSE '' END,
    count(*)
FROM case_events e JOIN cohort co ON co.id = e.case_id
WHERE e.type IN ('escalated', 'sla_breach')
GROUP BY 1, 2, 3, 4`, q.From, q.To)
	if err != nil {
		return fmt.Errorf("event counts: %w", err)
	}
	var g, typ, clock string
	var tier, n int
	_, err = pgx.ForEachRow(rows, []any{&g, &typ, &tier, &clock, &n}, func() error {
		switch tierflow.EventType(typ) {
		case tierflow.EventEscalated:
			groups[g].EscalationsToTier[strconv.Itoa(tier)] += n
		case tierflow.EventBreach:
			t := strconv.Itoa(tier)
			groups[g].SLABreachesByTier[t] += n
			byClock := groups[g].SLABreachesByTierAndClock
			if byClock[t] == nil {
				byClock[t] = map[string]int{}
			}
			byClock[t][clock] += n
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("event counts: %w", err)
	}
	return nil
}

// compensationTotals sums recorded and approved compensation per currency.
func compensationTotals(ctx context.Context, tx pgx.Tx, q tierflow.KPIQuery, groupExpr string,
	groups map[string]*tierflow.KPIs, _ map[string]*kpiCounts) error {
	rows, err := tx.Query(ctx, cohortSQL(groupExpr)+`
SELECT co.grp, e.details ->> 'currency', sum((e.details ->> 'amount_cents')::bigint)::bigint
FROM case_events e JOIN cohort co ON co.id = e.case_id
WHERE e.type IN ('compensation_recorded', 'approved') AND e.details ? 'amount_cents'
GROUP BY 1, 2`, q.From, q.To)
	if err != nil {
		return fmt.Errorf("compensation totals: %w", err)
	}
	var g, currency string
	var cents int64
	_, err = pgx.ForEachRow(rows, []any{&g, &currency, &cents}, func() error {
		groups[g].CompensationCents[currency] = cents
		return nil
	})
	if err != nil {
		return fmt.Errorf("compensation totals: %w", err)
	}
	return nil
}

// topCategories lists the named categories with most escalated cases, most first,
// ties by name.
func topCategories(ctx context.Context, tx pgx.Tx, q tierflow.KPIQuery, groupExpr string,
	groups map[string]*tierflow.KPIs, _ map[string]*kpiCounts) error {
	rows, err := tx.Query(ctx, cohortSQL(groupExpr)+`
SELECT grp, category, cases FROM (
    SELECT grp, category, count(*) AS cases,
        row_number() OVER (PARTITION BY grp ORDER BY count(*) DESC, category) AS rank
    FROM cohort WHERE escalations > 0 AND category <> ''
    GROUP BY grp, category
) ranked
WHERE rank <= $3
ORDER BY grp, rank`, q.From, q.To, topCategoryCount)
	if err != nil {
		return fmt.Errorf("top categories: %w", err)
	}
	var g string
	var c tierflow.CategoryCount
	_, err = pgx.ForEachRow(rows, []any{&g, &c.Category, &c.Cases}, func() error {
		groups[g].TopCategories = append(groups[g].TopCategories, c)
		return nil
	})
	if err != nil {
		return fmt.Errorf("top categories: %w", err)
	}
	return nil
}
