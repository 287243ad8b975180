package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// pickAssigneeByCountSQL is PickAssignee's query before migration 009, kept as
// BenchmarkPickAssignee's baseline and as the reference the staff_load tests
// compare picks with: it counts each candidate's open cases, visiting every one.
const pickAssigneeByCountSQL = `
SELECT ` + staffColumns + `
FROM staff s
CROSS JOIN LATERAL (
    SELECT count(*) AS open_cases FROM cases c
    WHERE c.assignee = s.id AND c.status NOT IN ('resolved', 'closed')
) load
WHERE s.active AND s.tier = $1 AND ` + servesDepartment + `
ORDER BY load.open_cases, s.name, s.id
LIMIT 1`

func (s *Store) pickAssigneeByCount(ctx context.Context, tier tierflow.Tier, department string) (tierflow.StaffMember, bool, error) {
	m, err := scanStaff(s.pool.QueryRow(ctx, pickAssigneeByCountSQL, tier, department))
	if errors.Is(err, pgx.ErrNoRows) {
		return tierflow.StaffMember{}, false, nil
	}
	return m, err == nil, err
}

// BenchmarkPickAssignee compares PickAssignee (staff_load) with the count it
// replaced, with 4 tier-1 agents holding 5,000 open cases each (and 2,000
// resolved cases each). server-ms is the fastest of 5 EXPLAIN ANALYZE
// execution times of the query.
//
//	go test -run '^$' -bench PickAssignee -benchtime 200x ./postgres/
func BenchmarkPickAssignee(b *testing.B) {
	const agents, openEach, resolvedEach = 4, 5000, 2000
	ctx := context.Background()
	s := newStore(b)
	for i := range agents {
		require.NoError(b, s.UpsertStaff(ctx, tierflow.StaffMember{ID: fmt.Sprintf("agent-%d", i),
			Name: fmt.Sprintf("Agent %d", i), Email: fmt.Sprintf("agent-%d@support.example.com", i),
			Role: tierflow.RoleAgent, Tier: 1, Departments: []string{"billing"}, Active: true}))
	}
	seedCases(b, s, agents, openEach, "open")
	seedCases(b, s, agents, resolvedEach, "resolved")
	_, err := s.pool.Exec(ctx, `ANALYZE cases; ANALYZE staff; ANALYZE staff_load`)
	require.NoError(b, err)

	variants := []struct {
		name string
		sql  string
		pick func(context.Context, tierflow.Tier, string) (tierflow.StaffMember, bool, error)
	}{
		{"before_count_cases", pickAssigneeByCountSQL, s.pickAssigneeByCount},
		{"after_staff_load", pickAssigneeSQL, s.PickAssignee},
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			for b.Loop() {
				if _, ok, err := v.pick(ctx, 1, "billing"); err != nil || !ok {
					b.Fatalf("pick: ok %v, err %v", ok, err)
				}
			}
			// After the loop: b.Loop's first call resets the reported metrics.
			b.ReportMetric(explainExecutionMillis(b, s, v.sql, 1, "billing"), "server-ms")
		})
	}
}

// seedCases inserts perAgent cases of the status for each agent-<i>, a thousand
// per statement (each statement a transaction of its own, as records are: many
// rows of one owner in one transaction make a long chain of versions of that
// owner's staff_load row).
func seedCases(b *testing.B, s *Store, agents, perAgent int, status string) {
	const perStatement = 1000
	total := agents * perAgent
	for from := 0; from < total; from += perStatement {
		_, err := s.pool.Exec(context.Background(), `
INSERT INTO cases (id, seq, status, tier, start_tier, priority, department, assignee, opened_at, view)
SELECT $1 || g, 1, $1, 1, 1, 'normal', 'billing', 'agent-' || (g % $2), now(), '{}'
FROM generate_series($3::int, $4::int) AS g`, status, agents, from, min(from+perStatement, total)-1)
		require.NoError(b, err)
	}
}

// explainExecutionMillis runs EXPLAIN ANALYZE on sql 5 times and returns the
// fastest server-side execution time, in milliseconds.
func explainExecutionMillis(b *testing.B, s *Store, sql string, args ...any) float64 {
	b.Helper()
	var times []float64
	for range 5 {
		var plan []struct {
			ExecutionTime float64 `json:"Execution Time"`
		}
		var raw []byte
		require.NoError(b, s.pool.QueryRow(context.Background(), "EXPLAIN (ANALYZE, FORMAT JSON) "+sql, args...).Scan(&raw))
		require.NoError(b, json.Unmarshal(raw, &plan))
		require.Len(b, plan, 1)
		times = append(times, plan[0].ExecutionTime)
	}
	return slices.Min(times)
}
