package prodlocal

import (
	"context"
	"path/filepath"
	"time"

	"github.com/tierflow/tierflow/internal/pgcluster"
	"github.com/tierflow/tierflow/internal/supervise"
	"github.com/tierflow/tierflow/internal/temporalfull"
)

// Start-up bounds: the server's first start on an empty schema takes the longest.
const (
	temporalStartWait = 3 * time.Minute
	namespaceWait     = 2 * time.Minute
	uiStartWait       = time.Minute
	temporalGrace     = 30 * time.Second
	uiGrace           = 10 * time.Second
)

// startDatabase starts PostgreSQL, creates the three databases and brings
// Temporal's two to the newest schema of the pinned server (a no-op when they are).
func (t *Topology) startDatabase(ctx context.Context, sqlTool string) error {
	t.logf("starting PostgreSQL (data %s)", t.Postgres.dir)
	if err := t.Postgres.Start(ctx); err != nil {
		return err
	}
	dbs := []string{TemporalDB, VisibilityDB, TierflowDB}
	if t.Record != nil {
		dbs = dbs[:2]
		t.logf("starting PostgreSQL for Tierflow's record (data %s)", t.Record.dir)
		if err := t.Record.Start(ctx); err != nil {
			return err
		}
		if err := t.Record.EnsureDatabases(ctx, TierflowDB); err != nil {
			return err
		}
	}
	if err := t.Postgres.EnsureDatabases(ctx, dbs...); err != nil {
		return err
	}
	t.logf("schema: bringing %s and %s up to date", TemporalDB, VisibilityDB)
	return temporalfull.SetupSchemas(ctx, sqlTool, t.temporalPostgres())
}

func (t *Topology) temporalPostgres() temporalfull.Postgres {
	return temporalfull.Postgres{
		Port: t.Postgres.Port(), User: pgcluster.Superuser, Database: TemporalDB, VisibilityDatabase: VisibilityDB,
	}
}

// startTemporal writes the server's configuration, starts the server, registers
// the namespace and the search attributes, then starts the UI server.
func (t *Topology) startTemporal(ctx context.Context, bins temporalfull.Binaries, retention time.Duration) error {
	root := filepath.Join(t.DataDir, "temporal")
	cfg := temporalfull.ServerConfig{Ports: t.Ports.Temporal, Postgres: t.temporalPostgres()}
	if err := temporalfull.WriteServerConfig(root, cfg); err != nil {
		return err
	}
	frontend := t.FrontendAddress
	t.Temporal = supervise.New(supervise.Spec{
		Name: "temporal", Path: bins.Server, Args: temporalfull.ServerArgs(root), Env: temporalfull.ServerEnv(),
		LogFile: filepath.Join(t.LogDir, "temporal.log"), Grace: temporalGrace,
		Ready: func(ctx context.Context) error { return temporalfull.FrontendReady(ctx, frontend) },
	})
	t.logf("starting the Temporal server %s (frontend %s, config %s)", temporalfull.ServerVersion, frontend,
		filepath.Join(root, "config", temporalfull.ConfigEnv+".yaml"))
	if err := startWithin(ctx, t.Temporal, temporalStartWait); err != nil {
		return err
	}
	t.logf("registering namespace %s and the search attributes", Namespace)
	nsCtx, cancel := context.WithTimeout(ctx, namespaceWait)
	defer cancel()
	if err := temporalfull.Prepare(nsCtx, frontend, Namespace, retention); err != nil {
		return err
	}

	uiRoot := filepath.Join(t.DataDir, "ui")
	ui := temporalfull.UIConfig{TemporalAddress: frontend, Port: t.Ports.UI, DefaultNamespace: Namespace, CodecEndpoint: t.CodecURL}
	if err := temporalfull.WriteUIConfig(uiRoot, ui); err != nil {
		return err
	}
	uiURL := "http://" + loopback(t.Ports.UI) + "/"
	t.UI = supervise.New(supervise.Spec{
		Name: "temporal-ui", Path: bins.UIServer, Args: temporalfull.UIArgs(uiRoot), Env: temporalfull.ServerEnv(),
		LogFile: filepath.Join(t.LogDir, "temporal-ui.log"), Grace: uiGrace,
		Ready: supervise.HTTPReady(uiURL),
	})
	t.logf("starting the Temporal UI server %s (%s)", temporalfull.UIServerVersion, t.UIURL)
	return startWithin(ctx, t.UI, uiStartWait)
}

func startWithin(ctx context.Context, p *supervise.Process, d time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return p.Start(ctx)
}
