package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// maxSocketPath keeps the unix socket path under the kernel's sun_path limit (108).
const maxSocketPath = 100

// prepareDir creates the data directory (or a temporary one) and, when root, hands
// it to the postgres user with every parent traversable.
func (c *Cluster) prepareDir(dir string) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "pgcluster-")
		if err != nil {
			return fmt.Errorf("create temp dir: %w", err)
		}
		// MkdirTemp makes it 0700; the postgres user must be able to enter it.
		if err := os.Chmod(tmp, 0o755); err != nil {
			return fmt.Errorf("chmod temp dir: %w", err)
		}
		c.tempDir = tmp
		dir = filepath.Join(tmp, "data")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	c.dataDir = abs
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return fmt.Errorf("create data dir parent: %w", err)
	}
	if err := os.Mkdir(abs, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create data dir: %w", err)
	}
	if c.asUser == "" {
		return nil
	}
	if err := checkTraversable(filepath.Dir(abs)); err != nil {
		return err
	}
	u, err := user.Lookup(c.asUser)
	if err != nil {
		return fmt.Errorf("running as root needs the %q user to run initdb (%s): %w", c.asUser, InstallHint, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(abs, uid, gid); err != nil {
		return fmt.Errorf("chown data dir to %s: %w", c.asUser, err)
	}
	return nil
}

// initialised reports whether the data directory already holds a cluster.
func (c *Cluster) initialised() bool {
	_, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION"))
	return err == nil
}

// initIfNeeded runs initdb on an empty data directory and writes our settings.
func (c *Cluster) initIfNeeded(ctx context.Context) error {
	if c.initialised() {
		c.logf("pgcluster: reusing data directory %s", c.dataDir)
		return nil
	}
	c.logf("pgcluster: initdb %s", c.dataDir)
	err := c.run(ctx, "initdb",
		"-D", c.dataDir,
		"-U", Superuser,
		"--auth=trust",
		"--encoding=UTF8",
		"--locale=C",
		"--no-sync",
	)
	if err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	socketDir := c.dataDir
	if len(filepath.Join(socketDir, ".s.PGSQL.65535")) > maxSocketPath {
		socketDir = "" // too long for a unix socket: TCP only
	}
	settings := []string{
		"",
		"# Written by pgcluster: a local cluster for tests and development, not durable.",
		"listen_addresses = '127.0.0.1'",
		"unix_socket_directories = '" + socketDir + "'",
		"fsync = off",
		"synchronous_commit = off",
		"full_page_writes = off",
		"# No replicas: minimal WAL makes CREATE DATABASE (one per test) about twice as fast.",
		"wal_level = minimal",
		"max_wal_senders = 0",
		"max_connections = 200",
		"shared_buffers = 32MB",
		"log_min_messages = warning",
	}
	settings = append(append(settings, c.settings...), "")
	// Appending keeps the file's owner (the postgres user when we are root).
	f, err := os.OpenFile(filepath.Join(c.dataDir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open postgresql.conf: %w", err)
	}
	_, werr := f.WriteString(strings.Join(settings, "\n"))
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("write postgresql.conf: %w", werr)
	}
	return nil
}

// startServer starts postgres on port (a free one when 0) and waits for it.
func (c *Cluster) startServer(ctx context.Context, port int) error {
	// A server left running on this directory (a dev session that was killed)
	// would make start fail: stop it first, so port and settings are ours.
	if c.run(ctx, "pg_ctl", "status", "-D", c.dataDir) == nil {
		c.logf("pgcluster: stopping a server left running on %s", c.dataDir)
		if err := c.run(ctx, "pg_ctl", "stop", "-D", c.dataDir, "-m", "fast", "-w"); err != nil {
			return fmt.Errorf("stop leftover server: %w", err)
		}
	}
	attempts := 1
	if port == 0 {
		attempts = 3 // another process may take the free port before we bind it
	}
	var err error
	for range attempts {
		p := port
		if p == 0 {
			if p, err = freePort(); err != nil {
				return err
			}
		}
		c.port = p
		c.logf("pgcluster: starting postgres on 127.0.0.1:%d", p)
		err = c.run(ctx, "pg_ctl", "start", "-w", "-t", "60",
			"-D", c.dataDir,
			"-l", filepath.Join(c.dataDir, "server.log"),
			"-o", fmt.Sprintf("-p %d", p),
		)
		if err == nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("start postgres (log: %s): %w", filepath.Join(c.dataDir, "server.log"), err)
	}
	if err := c.waitReady(ctx); err != nil {
		_ = c.run(context.Background(), "pg_ctl", "stop", "-D", c.dataDir, "-m", "immediate", "-w")
		return err
	}
	return nil
}

// waitReady polls until a connection succeeds.
func (c *Cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, c.DSN("postgres"))
		if err == nil {
			err = conn.Ping(ctx)
			_ = conn.Close(ctx)
			if err == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("postgres on port %d did not accept connections: %w", c.port, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// checkTraversable makes sure the postgres user can reach the data directory: every
// parent must be searchable by others.
func checkTraversable(dir string) error {
	for p := dir; ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("data dir parent: %w", err)
		}
		if st.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("the postgres user cannot reach the data directory: %s is not searchable by others "+
				"(chmod o+x it, or choose a data directory elsewhere)", p)
		}
		if parent := filepath.Dir(p); parent == p {
			return nil
		}
	}
}
