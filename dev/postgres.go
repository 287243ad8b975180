package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tierflow/tierflow/internal/pgcluster"
	"github.com/tierflow/tierflow/internal/procgroup"
	"github.com/tierflow/tierflow/postgres"
)

// duplicateDatabase is the SQLSTATE of CREATE DATABASE for a name that exists.
const duplicateDatabase = "42P04"

type database struct {
	dsn  string
	own  bool         // started by us (else DATABASE_URL)
	stop func() error // nil when not ours
}

// startPostgres starts the cluster in <data>/pg (on a free port) and creates the
// tierflow database once, unless DATABASE_URL names a database to use instead.
func startPostgres(ctx context.Context, con *console, dataDir string) (database, error) {
	if dsn := os.Getenv("DATABASE_URL"); dsn != "" {
		con.printf("dev", "using the database in DATABASE_URL")
		return database{dsn: dsn}, nil
	}
	pgDir := filepath.Join(dataDir, "pg")
	if err := checkTraversable(dataDir); err != nil {
		return database{}, err
	}
	if err := stopLeftoverPostmaster(con, pgDir); err != nil {
		return database{}, err
	}
	con.printf("dev", "starting PostgreSQL (data %s)", pgDir)
	cluster, err := pgcluster.Start(ctx, pgcluster.Options{Dir: pgDir, Logf: con.logf("postgres")})
	if err != nil {
		return database{}, fmt.Errorf("start PostgreSQL: %w", err)
	}
	db := database{dsn: cluster.DSN(databaseName), own: true, stop: cluster.Stop}
	err = cluster.CreateDatabase(ctx, databaseName)
	var pgErr *pgconn.PgError
	if err != nil && !(errors.As(err, &pgErr) && pgErr.Code == duplicateDatabase) {
		return db, fmt.Errorf("create database %s: %w", databaseName, err)
	}
	return db, nil
}

// stopLeftoverPostmaster stops a server still running on our data directory after
// an earlier runner was killed without cleaning up (its postmaster.pid names it).
func stopLeftoverPostmaster(con *console, pgDir string) error {
	b, err := os.ReadFile(filepath.Join(pgDir, "postmaster.pid"))
	if err != nil {
		return nil // no server, or never initialised
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || !procgroup.Alive(pid) || !isPostgres(pid) {
		return nil
	}
	con.printf("dev", "stopping a PostgreSQL (pid %d) left running by an earlier run", pid)
	_ = syscall.Kill(pid, syscall.SIGINT) // fast shutdown
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if !procgroup.Alive(pid) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("a PostgreSQL (pid %d) still runs on %s: stop it (pg_ctl -D %s stop)", pid, pgDir, pgDir)
}

// checkTraversable: as root, the cluster runs as the postgres user, which must be
// able to reach the data folder (a checkout under a 0700 home directory is not).
func checkTraversable(dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	for p := dir; ; p = filepath.Dir(p) {
		if st, err := os.Stat(p); err == nil && st.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("PostgreSQL runs as the postgres user, which cannot enter %s: "+
				"run `chmod o+x %s`, or set DATABASE_URL to a database of your own", p, p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// isPostgres guards against a recycled pid: only a postgres process is stopped.
func isPostgres(pid int) bool {
	comm, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
	if err != nil {
		return true // no /proc: trust postmaster.pid, as pg_ctl does
	}
	return strings.HasPrefix(strings.TrimSpace(string(comm)), "postgres")
}

// prepareDatabase migrates the schema and seeds the dev staff directory (both safe
// to repeat at every start).
func prepareDatabase(ctx context.Context, con *console, dsn string) error {
	logger := slog.New(slog.NewTextHandler(lineWriter{con: con, prefix: "migrate"}, nil))
	store, err := postgres.Open(ctx, dsn, logger)
	if err != nil {
		return fmt.Errorf("open the database: %w", err)
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate the database: %w", err)
	}
	if err := store.SeedDevStaff(ctx); err != nil {
		return fmt.Errorf("seed the dev staff: %w", err)
	}
	return nil
}

// lineWriter writes each line of what it is given to the console with a prefix.
type lineWriter struct {
	con    *console
	prefix string
}

func (w lineWriter) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimRight(p, "\n"), []byte("\n")) {
		w.con.printf(w.prefix, "%s", line)
	}
	return len(p), nil
}
