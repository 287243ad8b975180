package pgcluster_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow/internal/pgcluster"
)

var cluster *pgcluster.Cluster

func TestMain(m *testing.M) {
	os.Exit(pgcluster.RunTests(m, func(c *pgcluster.Cluster) { cluster = c }))
}

func TestNewTestDatabaseIsFreshAndUsable(t *testing.T) {
	ctx := context.Background()
	dsnA := pgcluster.NewTestDatabase(t, cluster)
	dsnB := pgcluster.NewTestDatabase(t, cluster)
	require.NotEqual(t, dsnA, dsnB)

	a, err := pgx.Connect(ctx, dsnA)
	require.NoError(t, err)
	defer a.Close(ctx)
	_, err = a.Exec(ctx, "CREATE TABLE only_in_a (id int)")
	require.NoError(t, err)

	b, err := pgx.Connect(ctx, dsnB)
	require.NoError(t, err)
	defer b.Close(ctx)
	var n int
	require.NoError(t, b.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'").Scan(&n))
	assert.Equal(t, 0, n, "databases must be independent")

	var settings struct{ fsync, listen string }
	require.NoError(t, b.QueryRow(ctx, "SELECT current_setting('fsync'), current_setting('listen_addresses')").
		Scan(&settings.fsync, &settings.listen))
	assert.Equal(t, "off", settings.fsync)
	assert.Equal(t, "127.0.0.1", settings.listen)
}

func TestNewTestDatabaseFromTemplate(t *testing.T) {
	ctx := context.Background()
	tmpl := pgcluster.TestDatabaseName("template")
	require.NoError(t, cluster.CreateDatabase(ctx, tmpl))
	t.Cleanup(func() { _ = cluster.DropDatabase(context.Background(), tmpl) })
	conn, err := pgx.Connect(ctx, cluster.DSN(tmpl))
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "CREATE TABLE seeded (v text); INSERT INTO seeded VALUES ('x')")
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))

	copyConn, err := pgx.Connect(ctx, pgcluster.NewTestDatabaseFrom(t, cluster, tmpl))
	require.NoError(t, err)
	defer copyConn.Close(ctx)
	var v string
	require.NoError(t, copyConn.QueryRow(ctx, "SELECT v FROM seeded").Scan(&v))
	assert.Equal(t, "x", v)
}

// A second Start on the same directory keeps the data (what `make dev` relies on).
func TestPersistentDirIsReused(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(traversableTempDir(t), "pg", "data")

	first, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir, Logf: t.Logf})
	require.NoError(t, err)
	require.NoError(t, first.CreateDatabase(ctx, "kept"))
	conn, err := pgx.Connect(ctx, first.DSN("kept"))
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "CREATE TABLE marker (v int); INSERT INTO marker VALUES (42)")
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))
	require.NoError(t, first.Stop())
	require.NoError(t, first.Stop(), "a second Stop is harmless")

	second, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir, Logf: t.Logf})
	require.NoError(t, err)
	defer func() { assert.NoError(t, second.Stop()) }()
	conn, err = pgx.Connect(ctx, second.DSN("kept"))
	require.NoError(t, err)
	defer conn.Close(ctx)
	var v int
	require.NoError(t, conn.QueryRow(ctx, "SELECT v FROM marker").Scan(&v))
	assert.Equal(t, 42, v)
	_, err = os.Stat(filepath.Join(dir, "PG_VERSION"))
	assert.NoError(t, err, "Stop must not remove a directory it did not create")
}

// A server left running by a killed dev session is stopped and replaced.
func TestStartReplacesLeftoverServer(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(traversableTempDir(t), "data")
	leftover, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir})
	require.NoError(t, err)
	_ = leftover // never stopped: its process owner "died"

	c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir})
	require.NoError(t, err)
	defer func() { assert.NoError(t, c.Stop()) }()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	require.NoError(t, err)
	assert.NoError(t, conn.Close(ctx))
}

// traversableTempDir is a t.TempDir the postgres user can reach when we are root.
func traversableTempDir(t *testing.T) string {
	dir := t.TempDir()
	if os.Geteuid() == 0 {
		for p := dir; p != filepath.Clean(os.TempDir()) && p != "/"; p = filepath.Dir(p) {
			require.NoError(t, os.Chmod(p, 0o755))
		}
	}
	return dir
}

func TestStopRemovesTempDir(t *testing.T) {
	c, err := pgcluster.Start(context.Background(), pgcluster.Options{})
	require.NoError(t, err)
	dir := c.DataDir()
	require.DirExists(t, dir)
	require.NoError(t, c.Stop())
	assert.NoDirExists(t, dir)
}

func TestMissingBinariesSayHowToInstall(t *testing.T) {
	_, err := pgcluster.Start(context.Background(), pgcluster.Options{BinDir: t.TempDir()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "apt-get install postgresql")
}

func TestDSN(t *testing.T) {
	assert.Regexp(t, `^postgres://postgres@127\.0\.0\.1:\d+/app\?sslmode=disable$`, cluster.DSN("app"))
	assert.NotZero(t, cluster.Port())
}
