package deploy

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow/internal/pgcluster"
	"github.com/tierflow/tierflow/postgres"
)

// compose's database initialisation, run on a real PostgreSQL: the worker and the
// API log in with credentials of their own yet both act as the owner (each runs the
// migrations), and neither Temporal's role nor the bare owner role can log in to the
// case records.
func TestSecurityComposeDatabaseRolesSeparateTheProcesses(t *testing.T) {
	initSQL, _ := dig(documents(t, "compose.yaml")[0], "configs", "init-databases", "content").(string)
	require.NotEmpty(t, initSQL)
	// Compose substitutes the required variables; the test cluster trusts local
	// connections, so the passwords themselves are not what is checked here.
	initSQL = regexp.MustCompile(`\$\{([A-Z0-9_]+):\?[^}]*\}`).ReplaceAllString(initSQL, "test-$1")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cluster, err := pgcluster.Start(ctx, pgcluster.Options{})
	require.NoError(t, err, pgcluster.InstallHint)
	defer func() { assert.NoError(t, cluster.Stop()) }()

	admin, err := pgx.Connect(ctx, cluster.DSN("postgres"))
	require.NoError(t, err)
	defer admin.Close(context.WithoutCancel(ctx))
	// One statement at a time, as psql runs the file (CREATE DATABASE refuses a
	// transaction block).
	for _, stmt := range strings.Split(initSQL, ";\n") {
		if stmt = strings.TrimSpace(stmt); stmt != "" {
			_, err := admin.Exec(ctx, stmt)
			require.NoError(t, err, stmt)
		}
	}
	dsnAs := func(role string) string {
		return fmt.Sprintf("postgres://%s@127.0.0.1:%d/tierflow?sslmode=disable", role, cluster.Port())
	}

	// The worker migrates first and creates every table; the API, migrating second,
	// must still be able to change them, as a later release's migration may run in
	// either process.
	for _, role := range []string{"tierflow_worker", "tierflow_api"} {
		store, err := postgres.Open(ctx, dsnAs(role), nil)
		require.NoError(t, err)
		require.NoError(t, store.Migrate(ctx), role)
		var current, session string
		require.NoError(t, store.Pool().QueryRow(ctx, "SELECT current_user, session_user").Scan(&current, &session))
		assert.Equal(t, "tierflow", current, "%s acts as the owner role", role)
		assert.Equal(t, role, session, "%s logs in as itself", role)
		_, err = store.Pool().Exec(ctx, "ALTER TABLE staff ADD COLUMN probe integer; ALTER TABLE staff DROP COLUMN probe")
		assert.NoError(t, err, "%s changes a table another process created", role)
		store.Close()
	}

	records, err := pgx.Connect(ctx, cluster.DSN("tierflow"))
	require.NoError(t, err)
	defer records.Close(context.WithoutCancel(ctx))
	var objects, foreign int
	require.NoError(t, records.QueryRow(ctx, `
SELECT count(*), count(*) FILTER (WHERE pg_get_userbyid(c.relowner) <> 'tierflow')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'`).Scan(&objects, &foreign))
	assert.Positive(t, objects)
	assert.Zero(t, foreign, "every object belongs to the owner role")

	for role, why := range map[string]string{
		"temporal": "permission denied for database",
		"tierflow": "is not permitted to log in",
	} {
		conn, err := pgx.Connect(ctx, dsnAs(role))
		if err == nil {
			conn.Close(ctx)
		}
		if assert.Error(t, err, "%s logs in to the case records", role) {
			assert.Contains(t, err.Error(), why, role)
		}
	}
}
