package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/tierflow/tierflow"
)

// The KPI steps that describe the shape of the cohort rather than its totals: the
// escalation funnel and the time-to-resolution histogram. They run in the same
// snapshot as the other steps of KPIs (kpis.go).

// tierFunnel counts the cases per start tier and per highest tier reached: the
// highest of the start tier, the current tier and every escalation's destination.
func tierFunnel(ctx context.Context, tx pgx.Tx, q tierflow.KPIQuery, groupExpr string,
	groups map[string]*tierflow.KPIs, _ map[string]*kpiCounts) error {
	rows, err := tx.Query(ctx, cohortSQL(groupExpr)+`
SELECT grp, start_tier, highest, count(*) FROM (
    SELECT co.grp, co.start_tier,
        greatest(co.start_tier, co.tier, coalesce(max(e.tier), 0)) AS highest
    FROM cohort co LEFT JOIN case_events e ON e.case_id = co.id AND e.type = 'escalated'
    GROUP BY co.id, co.grp, co.start_tier, co.tier
) reached
GROUP BY 1, 2, 3`, q.From, q.To)
	if err != nil {
		return fmt.Errorf("tier funnel: %w", err)
	}
	var g string
	var start, highest, n int
	_, err = pgx.ForEachRow(rows, []any{&g, &start, &highest, &n}, func() error {
		groups[g].CasesByStartTier[strconv.Itoa(start)] += n
		groups[g].CasesByHighestTier[strconv.Itoa(highest)] += n
		return nil
	})
	if err != nil {
		return fmt.Errorf("tier funnel: %w", err)
	}
	return nil
}

// resolutionHistogram counts the resolved cases per tierflow.ResolutionTimeBuckets
// bucket. width_bucket over the buckets' lower bounds answers the 1-based bucket
// (0 only below the first bound, 0s, which a clock skew alone could produce; such
// a case counts in the first bucket).
func resolutionHistogram(ctx context.Context, tx pgx.Tx, q tierflow.KPIQuery, groupExpr string,
	groups map[string]*tierflow.KPIs, _ map[string]*kpiCounts) error {
	bounds := make([]float64, len(tierflow.ResolutionTimeBuckets))
	for i, d := range tierflow.ResolutionTimeBuckets {
		bounds[i] = d.Seconds()
	}
	rows, err := tx.Query(ctx, cohortSQL(groupExpr)+`
SELECT grp, greatest(width_bucket(extract(epoch FROM resolved_at - opened_at)::float8, $3::float8[]), 1), count(*)
FROM cohort WHERE resolved_at IS NOT NULL
GROUP BY 1, 2`, q.From, q.To, bounds)
	if err != nil {
		return fmt.Errorf("resolution histogram: %w", err)
	}
	var g string
	var bucket, n int
	_, err = pgx.ForEachRow(rows, []any{&g, &bucket, &n}, func() error {
		groups[g].TimeToResolutionHistogram[bucket-1].Cases += n
		return nil
	})
	if err != nil {
		return fmt.Errorf("resolution histogram: %w", err)
	}
	return nil
}
