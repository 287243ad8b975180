package main

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow/internal/pgcluster"
)

// The database profile counts, per database, the statements run after its
// start, and not those before.
func TestDatabaseProfileCountsTheWindow(t *testing.T) {
	ok, why := pgStatInstalled()
	require.True(t, ok, "the bench's database profile needs pg_stat_statements: %s", why)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pgcluster.Start(ctx, pgcluster.Options{Settings: pgStatSettings})
	require.NoError(t, err)
	defer c.Stop()
	require.NoError(t, c.CreateDatabase(ctx, "profiled"))
	dsn := c.DSN("profiled")
	p, err := newDBProfiler(ctx, dsn)
	require.NoError(t, err)

	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `CREATE TABLE before_window (n int)`)
	require.NoError(t, err)
	require.NoError(t, p.start(ctx))
	_, err = conn.Exec(ctx, `CREATE TABLE t (n int)`)
	require.NoError(t, err)
	for i := range 7 {
		_, err = conn.Exec(ctx, `INSERT INTO t VALUES ($1)`, i)
		require.NoError(t, err)
	}
	prof, err := p.read(ctx)
	require.NoError(t, err)

	var profiled *databaseTotal
	for i := range prof.ByDatabase {
		if prof.ByDatabase[i].Database == "profiled" {
			profiled = &prof.ByDatabase[i]
		}
	}
	require.NotNil(t, profiled, "%+v", prof.ByDatabase)
	assert.GreaterOrEqual(t, profiled.Rows, int64(7))
	var insert *statementCost
	for i, s := range prof.Top {
		assert.NotContains(t, s.Query, "before_window")
		if s.Query == "INSERT INTO t VALUES ($1)" {
			insert = &prof.Top[i]
		}
	}
	require.NotNil(t, insert, "%+v", prof.Top)
	assert.Equal(t, int64(7), insert.Calls)
	assert.Contains(t, prof.String(), "profiled")
}

// Without -pprof there is no profiler, and the window's calls are no-ops.
func TestNoDatabaseProfileWithoutProfiler(t *testing.T) {
	var p *dbProfiler
	require.NoError(t, p.start(context.Background()))
	prof, err := p.read(context.Background())
	require.NoError(t, err)
	assert.Nil(t, prof)
}
