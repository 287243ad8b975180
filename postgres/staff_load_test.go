package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/tern/v2/migrate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/internal/pgcluster"
)

// openCasesByAssignee is what staff_load must equal: the count it replaced.
const openCasesByAssignee = `
SELECT assignee, count(*) FROM cases
WHERE assignee <> '' AND status NOT IN ('resolved', 'closed')
GROUP BY assignee`

// assertLoadMatchesCases checks every staff_load row against a count of cases:
// a row at 0 is allowed, a missing row means 0, and no row may be negative.
func assertLoadMatchesCases(t *testing.T, s *Store, msgAndArgs ...any) {
	t.Helper()
	ctx := context.Background()
	counted := queryCounts(t, s, openCasesByAssignee)
	kept := queryCounts(t, s, `SELECT staff_id, open_cases FROM staff_load WHERE open_cases <> 0`)
	assert.Equal(t, counted, kept, msgAndArgs...)
	var zeros int
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT count(*) FROM staff_load WHERE open_cases = 0`).Scan(&zeros))
	t.Logf("staff_load: %d assignees loaded, %d rows at 0", len(kept), zeros)
}

func queryCounts(t *testing.T, s *Store, sql string) map[string]int64 {
	t.Helper()
	rows, err := s.pool.Query(context.Background(), sql)
	require.NoError(t, err)
	defer rows.Close()
	counts := map[string]int64{}
	for rows.Next() {
		var id string
		var n int64
		require.NoError(t, rows.Scan(&id, &n))
		counts[id] = n
	}
	require.NoError(t, rows.Err())
	return counts
}

// assertPicksLikeCounting checks PickAssignee against its query before staff_load.
func assertPicksLikeCounting(t *testing.T, s *Store, tier tierflow.Tier, department string) {
	t.Helper()
	ctx := context.Background()
	want, wantOK, err := s.pickAssigneeByCount(ctx, tier, department)
	require.NoError(t, err)
	got, gotOK, err := s.PickAssignee(ctx, tier, department)
	require.NoError(t, err)
	assert.Equal(t, wantOK, gotOK)
	assert.Equal(t, want.ID, got.ID, "tier %d %q", tier, department)
}

// staffLoadWorld drives cases at random through the store's record (the upsert of
// the projection, with stale retries the upsert ignores) and through other
// writers (an operator's UPDATE, DELETE and TRUNCATE), remembering each case's seq.
type staffLoadWorld struct {
	t     *testing.T
	s     *Store
	rng   *rand.Rand
	seqs  map[string]int64
	ids   []string
	opens int
}

var (
	// loadAssignees: three agents in the directory, one id that is not, and the
	// two ways of having none (NULL, empty).
	loadAssignees = []*string{ptr("a-ann"), ptr("a-bo"), ptr("a-cy"), ptr("ghost"), ptr(""), nil}
	loadStatuses  = []tierflow.Status{tierflow.StatusOpen, tierflow.StatusInProgress, tierflow.StatusAwaitingCustomer,
		tierflow.StatusAwaitingApproval, tierflow.StatusResolved, tierflow.StatusClosed}
)

func (w *staffLoadWorld) view(id string, seq int64) tierflow.CaseView {
	v := testCase(id, seq)
	v.Assignee = loadAssignees[w.rng.IntN(len(loadAssignees))]
	v.Status = loadStatuses[w.rng.IntN(len(loadStatuses))]
	return v
}

func (w *staffLoadWorld) someCase() (string, bool) {
	if len(w.ids) == 0 {
		return "", false
	}
	return w.ids[w.rng.IntN(len(w.ids))], true
}

func (w *staffLoadWorld) exec(sql string, args ...any) {
	w.t.Helper()
	_, err := w.s.pool.Exec(context.Background(), sql, args...)
	require.NoError(w.t, err, sql)
}

// step does one random write.
func (w *staffLoadWorld) step() {
	w.t.Helper()
	id, ok := w.someCase()
	switch roll := w.rng.IntN(100); {
	case !ok || roll < 25: // a case opens
		w.opens++
		id = fmt.Sprintf("load-%d", w.opens)
		record(w.t, w.s, w.view(id, 1))
		w.seqs[id], w.ids = 1, append(w.ids, id)
	case roll < 75: // the case moves on: reassigned, resolved, reopened...
		w.seqs[id]++
		res := record(w.t, w.s, w.view(id, w.seqs[id]))
		require.True(w.t, res.ProjectionMoved)
	case roll < 85: // a late retry: the upsert leaves the row as it is
		res := record(w.t, w.s, w.view(id, 1+w.rng.Int64N(w.seqs[id])))
		require.False(w.t, res.ProjectionMoved)
	case roll < 92: // an operator reassigns by hand
		w.exec(`UPDATE cases SET assignee = $2 WHERE id = $1`, id, loadAssignees[w.rng.IntN(len(loadAssignees))])
	default: // an operator purges the case (the store deletes no case itself)
		w.exec(`DELETE FROM cases WHERE id = $1`, id)
		delete(w.seqs, id)
		for i, other := range w.ids {
			if other == id {
				w.ids = append(w.ids[:i], w.ids[i+1:]...)
				break
			}
		}
	}
}

// staff_load follows every write of cases, whichever path makes it, and
// PickAssignee picks whom counting the cases would.
func TestStaffLoadFollowsEveryWriteOfCases(t *testing.T) {
	for _, seed := range []uint64{10, 11, 12} {
		t.Run(fmt.Sprint("seed_", seed), func(t *testing.T) { driveCasesAtRandom(t, seed, 500) })
	}
}

func driveCasesAtRandom(t *testing.T, seed uint64, steps int) {
	ctx := context.Background()
	s := newStore(t)
	for _, m := range []tierflow.StaffMember{
		member("a-ann", "Ann", 1, true, "billing"),
		member("a-bo", "Bo", 1, true, "billing"),
		member("a-cy", "Cy", 1, true, "billing"),
	} {
		require.NoError(t, s.UpsertStaff(ctx, m))
	}
	w := &staffLoadWorld{t: t, s: s, rng: rand.New(rand.NewPCG(seed, seed)), seqs: map[string]int64{}}
	for i := 1; i <= steps; i++ {
		w.step()
		if i%50 == 0 {
			assertLoadMatchesCases(t, s, "seed %d, after step %d", seed, i)
			assertPicksLikeCounting(t, s, 1, "billing")
		}
	}

	_, err := s.pool.Exec(ctx, `TRUNCATE cases CASCADE`)
	require.NoError(t, err)
	var rows int
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT count(*) FROM staff_load`).Scan(&rows))
	assert.Zero(t, rows, "TRUNCATE empties staff_load too")
}

// Two cases handed over in opposite directions at the same time, again and
// again: each record moves the load of both owners in one statement, locking
// their rows in the same order, so neither waits for the other in a cycle.
func TestStaffLoadOppositeHandOversDoNotDeadlock(t *testing.T) {
	s := newStore(t)
	errs := handOverInOppositeDirections(t, s, 400)
	for _, err := range errs {
		assert.NoError(t, err)
	}
	assertLoadMatchesCases(t, s)
	assert.Equal(t, map[string]int64{"a-ann": 1, "a-bo": 1}, queryCounts(t, s, `SELECT staff_id, open_cases FROM staff_load`))

	// The control: moving the load in two statements, old owner first, deadlocks
	// under the same hand-overs (pg_sleep widens the window between them).
	s = newStore(t)
	_, err := s.pool.Exec(context.Background(), `
CREATE OR REPLACE FUNCTION cases_track_staff_load() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE staff_load SET open_cases = open_cases - 1 WHERE staff_id = OLD.assignee;
    PERFORM pg_sleep(0.05);
    INSERT INTO staff_load VALUES (NEW.assignee, 1)
    ON CONFLICT (staff_id) DO UPDATE SET open_cases = staff_load.open_cases + 1;
    RETURN NULL;
END
$$`)
	require.NoError(t, err)
	var deadlocks int
	for _, err := range handOverInOppositeDirections(t, s, 5) {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == sqlstateDeadlock {
			deadlocks++
		}
	}
	assert.Positive(t, deadlocks, "the two-statement trigger deadlocks: the test can tell")
}

// handOverInOppositeDirections records two cases, X owned by a-ann and Y by
// a-bo, then has two goroutines record rounds of hand-overs at the same time: in
// each round X and Y swap owners (X a-ann to a-bo while Y a-bo to a-ann, then
// back). It returns the records' errors; a goroutine stops at its first.
func handOverInOppositeDirections(t *testing.T, s *Store, rounds int) []error {
	t.Helper()
	owners := [2]string{"a-ann", "a-bo"}
	ids := [2]string{"case-x", "case-y"}
	for i, id := range ids {
		assign(t, s, id, owners[i], tierflow.StatusInProgress)
	}
	errs := make([]error, len(ids))
	var start, wg sync.WaitGroup
	start.Add(1)
	for i, id := range ids {
		wg.Go(func() {
			start.Wait()
			for round := 1; round <= rounds; round++ {
				v := testCase(id, int64(round+1))
				v.Status = tierflow.StatusInProgress
				v.Assignee = &owners[(i+round)%2]
				if _, err := s.recordTransition(context.Background(), tierflow.Transition{CaseID: id, View: v}, nil); err != nil {
					errs[i] = fmt.Errorf("%s, round %d: %w", id, round, err)
					return
				}
			}
		})
	}
	start.Done()
	wg.Wait()
	return errs
}

// Migration 009 counts the cases already there: the triggers only see later writes.
func TestStaffLoadMigrationBackfillsExistingCases(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, pgcluster.NewTestDatabase(t, cluster), nil)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	migrateTo(t, s, 8)

	for _, c := range []struct {
		id, assignee string
		status       tierflow.Status
	}{
		{"b1", "a-ann", tierflow.StatusOpen},
		{"b2", "a-ann", tierflow.StatusAwaitingCustomer},
		{"b3", "a-ann", tierflow.StatusResolved},
		{"b4", "a-bo", tierflow.StatusInProgress},
		{"b5", "a-bo", tierflow.StatusClosed},
		{"b6", "ghost", tierflow.StatusAwaitingApproval},
		{"b7", "", tierflow.StatusOpen},
	} {
		assign(t, s, c.id, c.assignee, c.status)
	}
	record(t, s, testCase("b8", 1)) // nobody's
	backfilled := map[string]int64{"a-ann": 2, "a-bo": 1, "ghost": 1}

	require.NoError(t, s.Migrate(ctx))
	assert.Equal(t, backfilled, queryCounts(t, s, `SELECT staff_id, open_cases FROM staff_load`))
	assertLoadMatchesCases(t, s)

	assign(t, s, "b9", "a-bo", tierflow.StatusOpen)
	assertLoadMatchesCases(t, s, "the triggers count what follows the backfill")

	migrateTo(t, s, 8)
	var tables int
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE tablename = 'staff_load'`).Scan(&tables))
	assert.Zero(t, tables, "009 rolls back")
	assign(t, s, "b10", "a-cy", tierflow.StatusOpen) // no trigger left behind
	require.NoError(t, s.Migrate(ctx))
	assertLoadMatchesCases(t, s, "migrated again")
}

// migrateTo moves the schema to version with tern, as Migrate does to the latest.
func migrateTo(t *testing.T, s *Store, version int32) {
	t.Helper()
	ctx := context.Background()
	conn, err := s.pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	migrator, err := migrate.NewMigrator(ctx, conn.Conn(), versionTable)
	require.NoError(t, err)
	files, err := fs.Sub(migrationFiles, "migrations")
	require.NoError(t, err)
	require.NoError(t, migrator.LoadMigrations(files))
	require.NoError(t, migrator.MigrateTo(ctx, version))
}
