package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/internal/pgcluster"
)

// openLimited opens a store with limits on a fresh, empty database of its own.
func openLimited(t *testing.T, limits Limits) *Store {
	t.Helper()
	s, err := OpenWithLimits(context.Background(), pgcluster.NewTestDatabase(t, cluster), limits, nil)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// A statement that runs away (a report over years of cases, a lock wait) is
// cancelled by the server at the statement timeout instead of holding one of the
// pool's connections for as long as it likes.
func TestSecurityStatementTimeoutCancelsALongQuery(t *testing.T) {
	limits := DefaultLimits()
	limits.StatementTimeout = 200 * time.Millisecond
	s := openLimited(t, limits)
	ctx := context.Background()

	var shown string
	require.NoError(t, s.pool.QueryRow(ctx, "SHOW statement_timeout").Scan(&shown))
	assert.Equal(t, "200ms", shown, "every session starts with the configured timeout")

	start := time.Now()
	_, err := s.pool.Exec(ctx, "SELECT pg_sleep(10)")
	elapsed := time.Since(start)
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr, "the server cancels the statement")
	assert.Equal(t, sqlstateQueryCanceled, pgErr.Code)
	assert.Less(t, elapsed, 5*time.Second, "cancelled at the timeout, not after the 10s sleep")
	mapped := mapError(err)
	assert.Equal(t, tierflow.CodeUnavailable, tierflow.ErrorCode(mapped))
	assert.NotContains(t, mapped.(*tierflow.Error).Message, "pg_sleep", "the client sees no SQL")

	require.NoError(t, s.Ping(ctx), "the connection is usable after the cancellation")
}

// The defaults bound every process: a statement timeout is on unless configured
// off, and the pool never grows past MaxConns however many callers wait.
func TestSecurityPoolLimitsAreExplicitAndHold(t *testing.T) {
	def, err := Open(context.Background(), pgcluster.NewTestDatabase(t, cluster), nil)
	require.NoError(t, err)
	defer def.Close()
	cfg := def.pool.Config()
	want := DefaultLimits()
	assert.Equal(t, want.MaxConns, cfg.MaxConns)
	assert.Equal(t, want.MinConns, cfg.MinConns)
	assert.Equal(t, want.MaxConnLifetime, cfg.MaxConnLifetime)
	assert.Equal(t, want.MaxConnIdleTime, cfg.MaxConnIdleTime)
	assert.Equal(t, want.HealthCheckPeriod, cfg.HealthCheckPeriod)
	assert.Equal(t, "30000", cfg.ConnConfig.RuntimeParams["statement_timeout"])

	limits := DefaultLimits()
	limits.MaxConns = 2
	s := openLimited(t, limits)
	ctx := context.Background()
	held := make([]interface{ Release() }, 0, 2)
	for range 2 {
		c, err := s.pool.Acquire(ctx)
		require.NoError(t, err)
		held = append(held, c)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err = s.pool.Acquire(waitCtx)
	require.Error(t, err, "a third caller waits instead of opening a third connection")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, int32(2), s.pool.Stat().TotalConns())
	for _, c := range held {
		c.Release()
	}
}

// Migrate waits for another process's migration however long it takes: the lock
// wait and the DDL are not cut by the pool's statement timeout, and the pool's
// connections keep the timeout afterwards.
func TestSecurityMigrateIsNotCutByTheStatementTimeout(t *testing.T) {
	limits := DefaultLimits()
	limits.StatementTimeout = 100 * time.Millisecond
	s := openLimited(t, limits)
	ctx := context.Background()

	other, err := pgx.Connect(ctx, s.pool.Config().ConnConfig.ConnString())
	require.NoError(t, err)
	defer other.Close(ctx)
	_, err = other.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey)
	require.NoError(t, err, "another process is migrating")
	released := make(chan error, 1)
	go func() {
		time.Sleep(600 * time.Millisecond)
		_, err := other.Exec(ctx, "SELECT pg_advisory_unlock($1)", migrateLockKey)
		released <- err
	}()

	require.NoError(t, s.Migrate(ctx), "Migrate waited 600ms on the lock under a 100ms statement timeout")
	require.NoError(t, <-released)
	version, err := s.SchemaVersion(ctx)
	require.NoError(t, err)
	assert.Positive(t, version)

	for range 3 { // every pooled connection, the migration's included
		var shown string
		require.NoError(t, s.pool.QueryRow(ctx, "SHOW statement_timeout").Scan(&shown))
		assert.Equal(t, "100ms", shown)
	}
}

// A refused write names no constraint, table or column in the message a client may
// see; the cause (for the server's log) keeps them.
func TestSecurityDatabaseErrorsNameNoConstraint(t *testing.T) {
	s := openLimited(t, DefaultLimits())
	ctx := context.Background()
	_, err := s.pool.Exec(ctx, `CREATE TABLE secret_ledger (
		id int CONSTRAINT secret_ledger_pkey PRIMARY KEY,
		amount int NOT NULL CONSTRAINT secret_amount_positive CHECK (amount > 0),
		parent int CONSTRAINT secret_parent_fkey REFERENCES secret_ledger (id))`)
	require.NoError(t, err)
	_, err = s.pool.Exec(ctx, "INSERT INTO secret_ledger (id, amount) VALUES (1, 5)")
	require.NoError(t, err)

	for name, stmt := range map[string]string{
		"unique":      "INSERT INTO secret_ledger (id, amount) VALUES (1, 5)",
		"check":       "INSERT INTO secret_ledger (id, amount) VALUES (2, -1)",
		"foreign key": "INSERT INTO secret_ledger (id, amount, parent) VALUES (3, 5, 99)",
		"not null":    "INSERT INTO secret_ledger (id) VALUES (4)",
	} {
		_, err := s.pool.Exec(ctx, stmt)
		var pgErr *pgconn.PgError
		require.ErrorAs(t, err, &pgErr, name)
		var mapped *tierflow.Error
		require.True(t, errors.As(mapError(err), &mapped), name)
		assert.NotEqual(t, tierflow.CodeInternal, mapped.Code, name)
		for _, secret := range []string{"secret", "ledger", "amount", "parent", "pkey", "fkey"} {
			assert.NotContains(t, mapped.Message, secret, "%s: the message names no schema object", name)
		}
		assert.ErrorIs(t, mapped, err, "%s: the cause is kept for the logs", name)
	}
}

func TestLimitsFromEnv(t *testing.T) {
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	got, err := LimitsFromEnv(env(nil))
	require.NoError(t, err)
	assert.Equal(t, DefaultLimits(), got)

	got, err = LimitsFromEnv(env(map[string]string{
		EnvMaxConns: "25", EnvMinConns: "2", EnvMaxConnLifetime: "1h", EnvMaxConnIdleTime: "90s",
		EnvHealthCheckPeriod: "10s", EnvStatementTimeout: "5s",
	}))
	require.NoError(t, err)
	assert.Equal(t, Limits{MaxConns: 25, MinConns: 2, MaxConnLifetime: time.Hour, MaxConnIdleTime: 90 * time.Second,
		HealthCheckPeriod: 10 * time.Second, StatementTimeout: 5 * time.Second}, got)

	got, err = LimitsFromEnv(env(map[string]string{EnvStatementTimeout: "off"}))
	require.NoError(t, err)
	assert.Zero(t, got.StatementTimeout)

	_, err = LimitsFromEnv(env(map[string]string{
		EnvMaxConns: "0", EnvMinConns: "many", EnvMaxConnIdleTime: "-1s", EnvStatementTimeout: "soon",
	}))
	require.Error(t, err)
	for _, name := range []string{EnvMinConns, EnvStatementTimeout} {
		assert.Contains(t, err.Error(), name)
	}
	_, err = LimitsFromEnv(env(map[string]string{EnvMaxConns: "0", EnvMaxConnIdleTime: "-1s"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), EnvMaxConns)
	assert.Contains(t, err.Error(), EnvMaxConnIdleTime)

	broken := DefaultLimits()
	broken.MaxConns = 0
	_, err = OpenWithLimits(context.Background(), "postgres://localhost/x", broken, nil)
	assert.Equal(t, tierflow.CodeInvalid, tierflow.ErrorCode(err), "a pool without connections is refused")
	s, err := OpenWithLimits(context.Background(), "postgres://localhost/x", Limits{}, nil)
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, DefaultLimits().MaxConns, s.pool.Config().MaxConns, "the zero Limits is DefaultLimits")
}
