package postgres

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/internal/pgcluster"
)

// Workers and API processes start together and each runs Migrate.
func TestMigrateConcurrentlyOnFreshDatabase(t *testing.T) {
	ctx := context.Background()
	dsn := pgcluster.NewTestDatabase(t, cluster)

	const processes = 4
	errs := make([]error, processes)
	var wg sync.WaitGroup
	for i := range processes {
		wg.Go(func() {
			s, err := Open(ctx, dsn, nil)
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			errs[i] = s.Migrate(ctx)
		})
	}
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "process %d", i)
	}

	s, err := Open(ctx, dsn, nil)
	require.NoError(t, err)
	defer s.Close()
	v, err := s.SchemaVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, int32(11), v) // 003 the email outbox, 004 the webhooks, 005 the approval links, 006 webhook disabled_at, 007 retention indexes, 008 scheduled outbox batches, 009 staff load, 010 staff load at commit, 011 the outbox's due rows
	require.NoError(t, s.Migrate(ctx), "migrating an up-to-date schema is a no-op")

	for _, table := range []string{"cases", "case_events", "notifications", "survey_responses", "staff", "mailbox", "webhook_subscriptions", "webhook_deliveries"} {
		var n int
		require.NoError(t, s.pool.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = $1", table).Scan(&n))
		assert.Equal(t, 1, n, "table %s", table)
	}
}

func TestOpenAndPing(t *testing.T) {
	ctx := context.Background()
	_, err := Open(ctx, "postgres://%zz", nil)
	requireCode(t, err, tierflow.CodeInvalid)

	s := newStore(t)
	require.NoError(t, s.Ping(ctx))

	// Nothing listens on port 1: the store says unavailable, a retryable code.
	down, err := Open(ctx, "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", nil)
	require.NoError(t, err, "Open does not connect")
	defer down.Close()
	requireCode(t, down.Ping(ctx), tierflow.CodeUnavailable)
	_, err = down.GetCase(ctx, "zendesk-1")
	requireCode(t, err, tierflow.CodeUnavailable)
}
