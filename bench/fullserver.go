package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/tierflow/tierflow/internal/temporalconn"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/tierflow/tierflow/internal/pgcluster"
	"github.com/tierflow/tierflow/internal/prodlocal"
	"github.com/tierflow/tierflow/internal/stack"
	"github.com/tierflow/tierflow/internal/supervise"
	"github.com/tierflow/tierflow/internal/temporaldev"
	"github.com/tierflow/tierflow/internal/temporalfull"
)

// The servers -server chooses between.
const (
	serverDev  = "dev"  // the Temporal CLI's dev server, in memory
	serverFull = "full" // the full server on PostgreSQL, as in production
)

// Bounds of the full server's start: the first start on an empty schema is slow.
const (
	fullStartWait     = 3 * time.Minute
	fullNamespaceWait = 2 * time.Minute
	fullGrace         = 30 * time.Second
	fullRetention     = 24 * time.Hour
)

// serverDescription is the report's line about the server a run used.
func serverDescription(server string) string {
	if server == serverFull {
		return "Temporal server " + temporalfull.ServerVersion + " on PostgreSQL (its own databases in the stack's cluster, 4 history shards)"
	}
	return "Temporal dev server in memory"
}

// findFullServer returns the pinned binaries in <root>/bin, before anything starts.
func findFullServer() (temporalfull.Binaries, error) {
	root, err := temporaldev.ModuleRoot()
	if err != nil {
		return temporalfull.Binaries{}, fmt.Errorf("find the module root: %w", err)
	}
	return temporalfull.Find(filepath.Join(root, "bin"))
}

// fullServer is the full Temporal server the stack runs on with -server=full: its
// databases temporal and temporal_visibility in the stack's PostgreSQL, set up with
// the server's SQL tool, the namespace and the search attributes registered, every
// service in one process (as `make prod-local` runs it).
type fullServer struct {
	proc     *supervise.Process
	hostPort string
	dir      string // configuration and log, removed by Stop
}

var _ stack.TemporalServer = (*fullServer)(nil)

// startFullServer is a stack.Options.StartTemporal.
func startFullServer(bins temporalfull.Binaries, logf func(string, ...any)) func(context.Context, *pgcluster.Cluster) (stack.TemporalServer, error) {
	return func(ctx context.Context, pg *pgcluster.Cluster) (stack.TemporalServer, error) {
		pgc := temporalfull.Postgres{Port: pg.Port(), User: pgcluster.Superuser, Database: "temporal", VisibilityDatabase: "temporal_visibility"}
		began := time.Now()
		for _, db := range []string{pgc.Database, pgc.VisibilityDatabase} {
			if err := pg.CreateDatabase(ctx, db); err != nil {
				return nil, fmt.Errorf("create the database %s: %w", db, err)
			}
		}
		if err := temporalfull.SetupSchemas(ctx, bins.SQLTool, pgc); err != nil {
			return nil, err
		}
		logf("full server: schemas set up in %s", time.Since(began).Round(time.Millisecond))
		// A port picked free may be taken before the server binds it: try again then.
		for attempt := 1; ; attempt++ {
			s, err := launchFullServer(ctx, bins, pgc, logf)
			if err == nil || attempt == 3 || ctx.Err() != nil || !errors.Is(err, errFullExited) {
				return s, err
			}
			logf("full server: %v; again on other ports", err)
		}
	}
}

var errFullExited = errors.New("the Temporal server exited during start")

// launchFullServer writes the configuration on free ports, starts the server and
// prepares the namespace. It returns a nil interface on error, having stopped all.
func launchFullServer(ctx context.Context, bins temporalfull.Binaries, pgc temporalfull.Postgres, logf func(string, ...any)) (stack.TemporalServer, error) {
	ports, err := freeTemporalPorts()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "tierflow-bench-temporal-")
	if err != nil {
		return nil, fmt.Errorf("make the server's directory: %w", err)
	}
	if err := temporalfull.WriteServerConfig(dir, temporalfull.ServerConfig{Ports: ports, Postgres: pgc}); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s := &fullServer{hostPort: ports.FrontendAddress(), dir: dir}
	s.proc = supervise.New(supervise.Spec{
		Name: "temporal", Path: bins.Server, Args: temporalfull.ServerArgs(dir), Env: temporalfull.ServerEnv(),
		LogFile: filepath.Join(dir, "temporal.log"), Grace: fullGrace,
		Ready: func(ctx context.Context) error { return temporalfull.FrontendReady(ctx, s.hostPort) },
	})
	began := time.Now()
	startCtx, cancel := context.WithTimeout(ctx, fullStartWait)
	err = s.proc.Start(startCtx)
	exited := startCtx.Err() == nil // not a timeout: the process ended
	cancel()
	if err != nil {
		os.RemoveAll(dir)
		if exited {
			return nil, fmt.Errorf("%w: %v", errFullExited, err)
		}
		return nil, fmt.Errorf("start the Temporal server %s: %w", temporalfull.ServerVersion, err)
	}
	logf("full server: frontend %s ready in %s", s.hostPort, time.Since(began).Round(time.Millisecond))
	nsCtx, cancel := context.WithTimeout(ctx, fullNamespaceWait)
	err = temporalfull.Prepare(nsCtx, s.hostPort, s.Namespace(), fullRetention)
	cancel()
	if err != nil {
		if stopErr := s.Stop(); stopErr != nil {
			logf("full server: stop after a failed start: %v", stopErr)
		}
		return nil, err
	}
	logf("full server: namespace %s and search attributes ready", s.Namespace())
	return s, nil
}

func (s *fullServer) HostPort() string  { return s.hostPort }
func (s *fullServer) Namespace() string { return temporaldev.DefaultNamespace }

// Dial connects a client to the namespace; nil logger drops the SDK's logging.
func (s *fullServer) Dial(ctx context.Context, logger sdklog.Logger) (client.Client, error) {
	if logger == nil {
		logger = sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))
	}
	c, err := client.DialContext(ctx, client.Options{HostPort: s.hostPort, Namespace: s.Namespace(), Logger: logger,
		ConnectionOptions: client.ConnectionOptions{GrpcCompression: temporalconn.HarnessCompression()}})
	if err != nil {
		return nil, fmt.Errorf("dial temporal at %s: %w", s.hostPort, err)
	}
	return c, nil
}

// Stop stops the server (SIGINT, killed after the grace) and removes its directory.
func (s *fullServer) Stop() error {
	err := s.proc.Stop()
	return errors.Join(err, os.RemoveAll(s.dir))
}

// freeTemporalPorts picks the server's ten ports free on 127.0.0.1, all below 32768:
// the membership ports must fit PostgreSQL's smallint, and the kernel hands out its
// own free ports from 32768 up.
func freeTemporalPorts() (temporalfull.Ports, error) {
	p, err := prodlocal.FreePorts()
	return p.Temporal, err
}
