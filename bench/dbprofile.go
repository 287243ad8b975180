package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The database's profile: with -pprof the stack's PostgreSQL (which the full
// server's persistence shares) loads pg_stat_statements, and the burst's drain
// and its baseline's each report the statements that took the database's time,
// per database: Temporal's (temporal, temporal_visibility) and Tierflow's.

// pgStatSettings are the postgresql.conf lines that load pg_stat_statements.
var pgStatSettings = []string{
	"shared_preload_libraries = 'pg_stat_statements'",
	"pg_stat_statements.track = all",
	"pg_stat_statements.max = 2000",
}

// pgStatInstalled says whether the PostgreSQL on PATH has pg_stat_statements
// (in the lib directory beside its bin directory, where Debian's packages put it).
func pgStatInstalled() (bool, string) {
	bin, err := exec.LookPath("postgres")
	if err != nil {
		return false, "postgres is not on PATH"
	}
	if real, err := filepath.EvalSymlinks(bin); err == nil {
		bin = real
	}
	lib := filepath.Join(filepath.Dir(filepath.Dir(bin)), "lib", "pg_stat_statements.so")
	if _, err := os.Stat(lib); err != nil {
		return false, lib + " is missing (Debian/Ubuntu: it comes with the postgresql package)"
	}
	return true, ""
}

// databaseProfile is what pg_stat_statements counted over a window.
type databaseProfile struct {
	ByDatabase []databaseTotal `json:"by_database"`
	Top        []statementCost `json:"top_statements"` // by execution time, all databases
}

type databaseTotal struct {
	Database string  `json:"database"`
	Calls    int64   `json:"calls"`
	ExecMs   float64 `json:"exec_ms"`
	Rows     int64   `json:"rows"`
	BlksHit  int64   `json:"shared_blocks_hit"`
	BlksRead int64   `json:"shared_blocks_read"` // from the OS: shared_buffers too small for the working set
}

type statementCost struct {
	Database string  `json:"database"`
	Calls    int64   `json:"calls"`
	ExecMs   float64 `json:"exec_ms"`
	Rows     int64   `json:"rows"`
	Query    string  `json:"query"` // whitespace folded, cut at 160 characters
}

// dbProfiler resets and reads pg_stat_statements; a nil one does nothing.
type dbProfiler struct {
	dsn string
}

// newDBProfiler creates the extension in the stack's database (the view it
// gives covers every database of the cluster).
func newDBProfiler(ctx context.Context, dsn string) (*dbProfiler, error) {
	p := &dbProfiler{dsn: dsn}
	return p, p.exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`)
}

func (p *dbProfiler) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, p.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}

// start forgets what was counted so far.
func (p *dbProfiler) start(ctx context.Context) error {
	if p == nil {
		return nil
	}
	return p.exec(ctx, `SELECT pg_stat_statements_reset()`)
}

const dbTotalsSQL = `
SELECT d.datname, sum(s.calls)::bigint, sum(s.total_exec_time), sum(s.rows)::bigint,
       sum(s.shared_blks_hit)::bigint, sum(s.shared_blks_read)::bigint
FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
GROUP BY d.datname ORDER BY 3 DESC`

const dbTopSQL = `
SELECT d.datname, s.calls, s.total_exec_time, s.rows,
       left(regexp_replace(s.query, '\s+', ' ', 'g'), 160)
FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
ORDER BY s.total_exec_time DESC LIMIT 15`

// read is what was counted since start.
func (p *dbProfiler) read(ctx context.Context) (*databaseProfile, error) {
	if p == nil {
		return nil, nil
	}
	conn, err := pgx.Connect(ctx, p.dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var prof databaseProfile
	rows, _ := conn.Query(ctx, dbTotalsSQL)
	if prof.ByDatabase, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (databaseTotal, error) {
		var t databaseTotal
		return t, r.Scan(&t.Database, &t.Calls, &t.ExecMs, &t.Rows, &t.BlksHit, &t.BlksRead)
	}); err != nil {
		return nil, fmt.Errorf("database totals: %w", err)
	}
	rows, _ = conn.Query(ctx, dbTopSQL)
	if prof.Top, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (statementCost, error) {
		var s statementCost
		return s, r.Scan(&s.Database, &s.Calls, &s.ExecMs, &s.Rows, &s.Query)
	}); err != nil {
		return nil, fmt.Errorf("top statements: %w", err)
	}
	return &prof, nil
}

// String is one line per database, then the five costliest statements.
func (p *databaseProfile) String() string {
	if p == nil {
		return "n/a"
	}
	var b strings.Builder
	for _, t := range p.ByDatabase {
		fmt.Fprintf(&b, "\n    %-20s %9d calls %9.0f ms executing %9d rows, blocks %d hit %d read",
			t.Database, t.Calls, t.ExecMs, t.Rows, t.BlksHit, t.BlksRead)
	}
	for i, s := range p.Top {
		if i == 5 {
			break
		}
		fmt.Fprintf(&b, "\n    top %d: %s %d calls %.0f ms: %s", i+1, s.Database, s.Calls, s.ExecMs, s.Query)
	}
	return b.String()
}

// window is a drain's accounting: the machine's CPU and the database's
// statements from its start.
type window struct {
	b   *bench
	cpu cpuSnapshot
	err error // the CPU snapshot's
}

// startWindow starts a drain's accounting.
func (b *bench) startWindow(ctx context.Context) (*window, error) {
	if err := b.db.start(ctx); err != nil {
		return nil, fmt.Errorf("reset the database profile: %w", err)
	}
	w := &window{b: b}
	w.cpu, w.err = takeCPUSnapshot()
	return w, nil
}

// end reads the window's accounting and logs it; what cannot be read is logged
// and left nil.
func (w *window) end(ctx context.Context, what string) (*machineCPU, *databaseProfile) {
	var cpu *machineCPU
	if w.err == nil {
		if m, err := cpuSince(w.cpu); err == nil {
			cpu = &m
			w.b.logf("%s: CPU during the drain: %s", what, m)
		}
	}
	prof, err := w.b.db.read(ctx)
	if err != nil {
		w.b.logf("%s: no database profile: %v", what, err)
	} else if prof != nil {
		w.b.logf("%s: database during the drain:%s", what, prof)
	}
	return cpu, prof
}
