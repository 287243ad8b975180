// Package pgcluster starts a PostgreSQL cluster of its own on this machine, for
// integration tests (throwaway, in a temporary directory) and for `make dev`
// (persistent, in a git-ignored folder).
//
// It runs the server binaries found on PATH or under /usr/lib/postgresql/*/bin.
// initdb refuses to run as root, so when the process is root the binaries run as
// the "postgres" user through runuser, and the data directory is handed to it.
//
// The cluster is tuned for speed, not durability (fsync, synchronous_commit and
// full_page_writes off), listens on 127.0.0.1 only and trusts local connections:
// never point it at data you care about.
package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tierflow/tierflow/internal/freeport"
)

// Superuser is the role initdb creates and DSN connects as.
const Superuser = "postgres"

// InstallHint says how to get the server binaries.
const InstallHint = "install the PostgreSQL server binaries (Debian/Ubuntu: apt-get install postgresql) " +
	"and put initdb, pg_ctl and postgres on PATH"

// Options configure Start.
type Options struct {
	// Dir is the data directory. Empty means a temporary directory removed by Stop.
	// An existing, initialised Dir is reused as it is.
	Dir string
	// Port to listen on (127.0.0.1 only); 0 picks a free one.
	Port int
	// BinDir holds initdb, pg_ctl and postgres; empty means discover them.
	BinDir string
	// Logf receives progress lines; nil discards them.
	Logf func(format string, args ...any)
	// Settings are postgresql.conf lines added after ours when the data directory
	// is initialised (a reused directory keeps its file), for example
	// "shared_preload_libraries = 'pg_stat_statements'".
	Settings []string
}

// Cluster is a running PostgreSQL server started by Start.
type Cluster struct {
	dataDir  string
	tempDir  string // removed by Stop when set
	port     int
	binDir   string
	asUser   string // run binaries as this user (when root), empty = as ourselves
	logf     func(string, ...any)
	settings []string // Options.Settings
	stopped  bool
}

// Start initialises the data directory if needed, starts the server and waits until
// it accepts connections.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	c := &Cluster{logf: opts.Logf, settings: opts.Settings}
	if c.logf == nil {
		c.logf = func(string, ...any) {}
	}
	binDir, err := findBinDir(opts.BinDir)
	if err != nil {
		return nil, err
	}
	c.binDir = binDir
	if os.Geteuid() == 0 {
		c.asUser = Superuser
	}
	if err := c.prepareDir(opts.Dir); err != nil {
		c.cleanupTemp()
		return nil, err
	}
	if err := c.initIfNeeded(ctx); err != nil {
		c.cleanupTemp()
		return nil, err
	}
	if err := c.startServer(ctx, opts.Port); err != nil {
		c.cleanupTemp()
		return nil, err
	}
	return c, nil
}

// DataDir is the cluster's data directory.
func (c *Cluster) DataDir() string { return c.dataDir }

// Port is the TCP port the server listens on, on 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// DSN returns a connection URL for database dbname as the superuser.
func (c *Cluster) DSN(dbname string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", Superuser, c.port, dbname)
}

// CreateDatabase creates database name (an empty copy of template1).
func (c *Cluster) CreateDatabase(ctx context.Context, name string) error {
	return c.CreateDatabaseFrom(ctx, name, "")
}

// CreateDatabaseFrom creates database name as a copy of template (template1 when
// empty). The template must have no open connections.
func (c *Cluster) CreateDatabaseFrom(ctx context.Context, name, template string) error {
	// FILE_COPY copies the template's files after a checkpoint: with minimal WAL
	// that is faster than logging every page (WAL_LOG) for small databases.
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize() + " STRATEGY = FILE_COPY"
	if template != "" {
		sql += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	return c.admin(ctx, sql)
}

// DropDatabase drops database name if it exists, closing its connections.
func (c *Cluster) DropDatabase(ctx context.Context, name string) error {
	return c.admin(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
}

func (c *Cluster) admin(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("connect to cluster: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("exec %q: %w", sql, err)
	}
	return nil
}

// Stop shuts the server down (fast mode: open sessions are ended) and removes the
// temporary data directory, if Start made one. Calling it twice is harmless.
func (c *Cluster) Stop() error {
	if c.stopped {
		return nil
	}
	c.stopped = true
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := c.run(ctx, "pg_ctl", "stop", "-D", c.dataDir, "-m", "fast", "-w")
	if err != nil {
		err = fmt.Errorf("stop postgres: %w", err)
	}
	c.cleanupTemp()
	return err
}

func (c *Cluster) cleanupTemp() {
	if c.tempDir != "" {
		_ = os.RemoveAll(c.tempDir)
	}
}

// findBinDir returns the directory holding initdb, pg_ctl and postgres.
func findBinDir(explicit string) (string, error) {
	var candidates []string
	if explicit != "" {
		candidates = append(candidates, explicit)
	} else {
		if p, err := exec.LookPath("initdb"); err == nil {
			if real, err := filepath.EvalSymlinks(p); err == nil {
				candidates = append(candidates, filepath.Dir(real))
			}
			candidates = append(candidates, filepath.Dir(p))
		}
		// Debian keeps the server binaries off PATH; prefer the newest version.
		dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
		for i := len(dirs) - 1; i >= 0; i-- {
			candidates = append(candidates, dirs[i])
		}
	}
	for _, dir := range candidates {
		if hasBinaries(dir) {
			return dir, nil
		}
	}
	return "", errors.New("postgresql server binaries (initdb, pg_ctl, postgres) not found: " + InstallHint)
}

func hasBinaries(dir string) bool {
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// freePort is a port that was free a moment ago (freeport.Port).
func freePort() (int, error) { return freeport.Port() }

// run executes one of the server binaries, as the postgres user when we are root.
func (c *Cluster) run(ctx context.Context, name string, args ...string) error {
	bin := filepath.Join(c.binDir, name)
	var cmd *exec.Cmd
	if c.asUser != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", c.asUser, "--", bin}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, bin, args...)
	}
	// The postgres user may not be able to enter our working directory.
	cmd.Dir = filepath.Dir(c.dataDir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
