package prodlocal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tierflow/tierflow/internal/pgcluster"
	"github.com/tierflow/tierflow/internal/procgroup"
)

// duplicateDatabase is the SQLSTATE of CREATE DATABASE for a name that exists.
const duplicateDatabase = "42P04"

// Postgres is the one PostgreSQL cluster of the topology (Temporal's two databases
// and Tierflow's), a handle that can stop, crash and start it again on the same
// port, for the drills.
type Postgres struct {
	dir  string
	logf func(string, ...any)

	mu      sync.Mutex
	port    int // chosen at the first start, kept for restarts
	cluster *pgcluster.Cluster
}

// NewPostgres returns a handle on the cluster in dir (created at the first Start),
// listening on port (0: a free one, chosen once).
func NewPostgres(dir string, port int, logf func(string, ...any)) *Postgres {
	return &Postgres{dir: dir, port: port, logf: logf}
}

// Start starts the cluster (initdb the first time) and waits until it accepts
// connections.
func (p *Postgres) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cluster != nil {
		return fmt.Errorf("postgres: already running on port %d", p.port)
	}
	c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: p.dir, Port: p.port, Logf: p.logf})
	if err != nil {
		return fmt.Errorf("start PostgreSQL: %w", err)
	}
	p.cluster, p.port = c, c.Port()
	return nil
}

// Stop shuts the cluster down (fast mode: sessions are ended, nothing is lost).
func (p *Postgres) Stop() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cluster == nil {
		return nil
	}
	err := p.cluster.Stop()
	p.cluster = nil
	return err
}

// Kill crashes the cluster: SIGQUIT to the postmaster is PostgreSQL's immediate
// shutdown, which skips the checkpoint, so the next start runs crash recovery.
func (p *Postgres) Kill() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cluster == nil {
		return nil
	}
	pid, err := postmasterPid(p.dir)
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGQUIT); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill postgres (pid %d): %w", pid, err)
	}
	for deadline := time.Now().Add(30 * time.Second); procgroup.Alive(pid); {
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres (pid %d) still runs 30s after SIGQUIT", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.cluster = nil
	return nil
}

// Running reports whether the handle's cluster runs (as far as the handle knows).
func (p *Postgres) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cluster != nil
}

// Port is the cluster's port on 127.0.0.1 (0 before the first start on a free port).
func (p *Postgres) Port() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.port
}

// DSN is the URL of database dbname, as the superuser.
func (p *Postgres) DSN(dbname string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", pgcluster.Superuser, p.Port(), dbname)
}

// LogFile is the server's log.
func (p *Postgres) LogFile() string { return filepath.Join(p.dir, "server.log") }

// EnsureDatabases creates each database that does not exist yet.
func (p *Postgres) EnsureDatabases(ctx context.Context, names ...string) error {
	p.mu.Lock()
	c := p.cluster
	p.mu.Unlock()
	if c == nil {
		return errors.New("postgres: not running")
	}
	for _, name := range names {
		err := c.CreateDatabase(ctx, name)
		var pgErr *pgconn.PgError
		if err != nil && !(errors.As(err, &pgErr) && pgErr.Code == duplicateDatabase) {
			return fmt.Errorf("create database %s: %w", name, err)
		}
	}
	return nil
}

func postmasterPid(dataDir string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0, fmt.Errorf("postgres: no running server on %s: %w", dataDir, err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return 0, fmt.Errorf("postgres: bad postmaster.pid in %s: %w", dataDir, err)
	}
	return pid, nil
}
