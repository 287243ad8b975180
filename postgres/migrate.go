package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// versionTable is where tern records the schema version.
const versionTable = "public.schema_version"

// migrateLockKey is the advisory lock that serialises Migrate across processes
// (workers and API replicas starting together). Arbitrary but fixed: "tierflow".
const migrateLockKey int64 = 0x7469657266_6c6f77

// migrateLockPoll is how often a process waiting for another's migration tries
// the lock again.
const migrateLockPoll = 100 * time.Millisecond

// takeMigrateLock takes the migration lock, trying it every migrateLockPoll
// rather than waiting in pg_advisory_lock: a statement waiting there holds a
// snapshot, and CREATE INDEX CONCURRENTLY (migration 011), run by the process
// holding the lock, waits for every older snapshot to end, so the waiting
// processes and the migrating one deadlocked (PostgreSQL broke it by failing a
// waiter: TestMigrateConcurrentlyOnFreshDatabase). Between tries a waiting
// session holds nothing.
func takeMigrateLock(ctx context.Context, conn *pgxpool.Conn) error {
	for {
		var taken bool
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", migrateLockKey).Scan(&taken); err != nil {
			return fmt.Errorf("migrate: take lock: %w", mapError(err))
		}
		if taken {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("migrate: wait for another process's migration: %w", ctx.Err())
		case <-time.After(migrateLockPoll):
		}
	}
}

// Migrate brings the schema to the latest version. Several processes may call it at
// the same time: they wait for each other on a PostgreSQL advisory lock, and the
// ones that come second find nothing left to do.
func (s *Store) Migrate(ctx context.Context) (err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: acquire connection: %w", mapError(err))
	}
	defer conn.Release()

	// Schema changes and the wait for another process's migration may outlast the
	// pool's statement_timeout: lift it for this session, and restore the pool's
	// value (the startup parameter) before the connection goes back to the pool.
	if _, err := conn.Exec(ctx, "SET statement_timeout = 0"); err != nil {
		return fmt.Errorf("migrate: lift statement_timeout: %w", mapError(err))
	}
	defer func() {
		if _, resetErr := conn.Exec(context.WithoutCancel(ctx), "RESET statement_timeout"); resetErr != nil {
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
			if err == nil {
				err = fmt.Errorf("migrate: restore statement_timeout: %w", mapError(resetErr))
			}
		}
	}()

	if err := takeMigrateLock(ctx, conn); err != nil {
		return err
	}
	defer func() {
		// The lock belongs to the session: when unlocking fails, close the
		// connection so the server drops it rather than returning it to the pool.
		if _, unlockErr := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLockKey); unlockErr != nil {
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
			if err == nil {
				err = fmt.Errorf("migrate: release lock: %w", mapError(unlockErr))
			}
		}
	}()

	migrator, err := migrate.NewMigrator(ctx, conn.Conn(), versionTable)
	if err != nil {
		return fmt.Errorf("migrate: prepare: %w", mapError(err))
	}
	files, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("migrate: embedded files: %w", err)
	}
	if err := migrator.LoadMigrations(files); err != nil {
		return fmt.Errorf("migrate: load: %w", err)
	}
	from, err := migrator.GetCurrentVersion(ctx)
	if err != nil {
		return fmt.Errorf("migrate: current version: %w", mapError(err))
	}
	migrator.OnStart = func(seq int32, name, direction, _ string) {
		s.logger.Info("applying migration", "sequence", seq, "name", name, "direction", direction)
	}
	if err := migrator.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", mapError(err))
	}
	s.logger.Info("schema up to date", "from_version", from, "version", len(migrator.Migrations))
	return nil
}

// SchemaVersion returns the applied schema version (0 before the first Migrate).
func (s *Store) SchemaVersion(ctx context.Context) (int32, error) {
	var v int32
	err := s.pool.QueryRow(ctx, "SELECT version FROM "+versionTable).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("schema version: %w", mapError(err))
	}
	return v, nil
}
