package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tierflow/tierflow/internal/procgroup"
	"github.com/tierflow/tierflow/internal/temporaldev"
)

// Where everything listens by default. The API and the probes stay on the loopback
// interface: the dev tokens are documented, so they must not be reachable from the
// network.
const (
	defaultTemporalPort      = 7233
	defaultTemporalUIPort    = 8233
	defaultAPIPort           = 8080
	defaultWorkerMetricsPort = 9090
	defaultAPIMetricsPort    = 9091
	databaseName             = "tierflow"
)

// Grace periods of the children: the worker lets in-flight activities finish for
// up to 20s (its StopTimeout), the API drains requests for up to 15s.
const (
	workerGrace = 30 * time.Second
	apiGrace    = 20 * time.Second
	uiGrace     = 10 * time.Second
	startWait   = 90 * time.Second
)

type options struct {
	Fast  bool // TIERFLOW_DEFAULT_POLICY=fast for the API
	Reset bool // delete the data folder first
	// DataDir keeps Temporal's SQLite file and the PostgreSQL cluster; empty
	// means <repo>/.tierflow.
	DataDir string
	// BinDir receives the worker and API binaries; empty means <repo>/bin.
	BinDir string
	Ports  ports
	// OnReady, when set, is told where everything is once it all runs (tests).
	OnReady func(bannerInfo)
}

// ports of the stack; zero values take the defaults.
type ports struct {
	Temporal, TemporalUI, API, WorkerMetrics, APIMetrics int
	// TemporalMetrics is the dev server's /metrics port; 0: the CLI picks one.
	TemporalMetrics int
}

func (p ports) withDefaults() ports {
	def := func(v, d int) int {
		if v == 0 {
			return d
		}
		return v
	}
	return ports{
		Temporal:      def(p.Temporal, defaultTemporalPort),
		TemporalUI:    def(p.TemporalUI, defaultTemporalUIPort),
		API:           def(p.API, defaultAPIPort),
		WorkerMetrics: def(p.WorkerMetrics, defaultWorkerMetricsPort),
		APIMetrics:    def(p.APIMetrics, defaultAPIMetricsPort),
		// The dev server's metrics stay on a port of its choosing unless set.
		TemporalMetrics: p.TemporalMetrics,
	}
}

func loopback(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// run starts everything, prints where it is, and waits for ctx (Ctrl-C) or for a
// component to fail; everything started so far is stopped, in reverse order,
// before it returns.
func run(ctx context.Context, con *console, opts options) (err error) {
	root, err := temporaldev.ModuleRoot()
	if err != nil {
		return fmt.Errorf("run it from the repository (%w)", err)
	}
	dataDir := opts.DataDir
	if dataDir == "" {
		dataDir = filepath.Join(root, ".tierflow")
	}
	p := opts.Ports.withDefaults()
	publicURL := "http://localhost:" + strconv.Itoa(p.API)
	if opts.Reset {
		con.printf("dev", "deleting %s", dataDir)
		if err := os.RemoveAll(dataDir); err != nil {
			return fmt.Errorf("reset: %w", err)
		}
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	unlock, err := procgroup.LockDir(dataDir, "dev.pid", "dev runner") // two would fight over the ports and the SQLite file
	if err != nil {
		return err
	}
	defer unlock()

	var stack shutdownStack
	defer stack.unwind(con)

	cli, err := ensureTemporalCLI(ctx, con, root)
	if err != nil {
		return err
	}
	binDir := opts.BinDir
	if binDir == "" {
		binDir = filepath.Join(root, "bin")
	}
	uiServer, err := ensureUIServer(ctx, con, root)
	if err != nil {
		return err
	}
	bins, err := buildBinaries(ctx, con, root, binDir)
	if err != nil {
		return err
	}

	// The dev server's own UI cannot send the codec session cookie (it sets no
	// includeCredentials): the standalone UI server runs in front of it instead.
	con.printf("dev", "starting the Temporal dev server (gRPC :%d, data %s)", p.Temporal, rel(root, dataDir))
	srv, err := temporaldev.Start(ctx, temporaldev.Options{
		DBFile:      filepath.Join(dataDir, "temporal.db"),
		Port:        p.Temporal,
		UIPort:      temporaldev.UIDisabled,
		MetricsPort: p.TemporalMetrics,
		CLIPath:     cli,
		Logf:        con.logf("temporal"),
	})
	if err != nil {
		return fmt.Errorf("temporal dev server: %w (port %d must be free: is another Temporal server running?)", err, p.Temporal)
	}
	stack.push("Temporal dev server", srv.Stop)

	db, err := startPostgres(ctx, con, dataDir)
	if db.stop != nil {
		stack.push("PostgreSQL", db.stop)
	}
	if err != nil {
		return err
	}
	if err := prepareDatabase(ctx, con, db.dsn); err != nil {
		return err
	}

	env := childEnv(os.Environ(), srv.HostPort(), db.dsn, publicURL, opts)
	worker, err := startChild(con, "worker", bins.worker, withEnv(env, "TIERFLOW_METRICS_ADDR="+loopback(p.WorkerMetrics)))
	if err != nil {
		return err
	}
	stack.push("worker", stopper(worker, workerGrace))
	if err := waitReady(ctx, "http://"+loopback(p.WorkerMetrics)+"/readyz", worker); err != nil {
		return err
	}
	api, err := startChild(con, "api", bins.api, withEnv(env,
		"TIERFLOW_API_ADDR="+loopback(p.API), "TIERFLOW_METRICS_ADDR="+loopback(p.APIMetrics)))
	if err != nil {
		return err
	}
	stack.push("API", stopper(api, apiGrace))
	if err := waitReady(ctx, "http://"+loopback(p.API)+"/readyz", api); err != nil {
		return err
	}
	ui, uiURL, err := startUI(ctx, con, uiServer, dataDir, srv.HostPort(), p)
	if ui != nil {
		stack.push("Temporal UI", stopper(ui, uiGrace))
	}
	if err != nil {
		return err
	}

	info := bannerInfo{
		Root: root, DataDir: dataDir, PublicURL: publicURL, UIURL: uiURL, CodecURL: codecURL(p),
		CodecKeys:        codecKeysNote(env),
		TemporalHostPort: srv.HostPort(), DSN: db.dsn, OwnPostgres: db.own, Fast: opts.Fast,
		Mailbox: mailboxEnabled(), WorkerMetrics: loopback(p.WorkerMetrics), APIMetrics: loopback(p.APIMetrics),
	}
	con.raw(banner(info))
	if opts.OnReady != nil {
		opts.OnReady(info)
	}

	select {
	case <-ctx.Done():
		con.printf("dev", "stopping everything (Temporal UI, API, worker, PostgreSQL, Temporal)...")
		return nil
	case <-worker.exited:
		return fmt.Errorf("the worker exited unexpectedly (%v); see its log above", worker.err)
	case <-api.exited:
		return fmt.Errorf("the API exited unexpectedly (%v); see its log above", api.err)
	case <-ui.exited:
		return fmt.Errorf("the Temporal UI server exited unexpectedly (%v); see its log above", ui.err)
	case <-srv.Exited():
		return errors.New("the Temporal dev server exited unexpectedly; see its log above")
	}
}

func stopper(c *child, grace time.Duration) func() error {
	return func() error {
		if !c.stop(grace) {
			return fmt.Errorf("%s did not stop within %s and was killed", c.name, grace)
		}
		return nil
	}
}

// waitReady polls url until it answers 200, the child exits, or startWait passes.
func waitReady(ctx context.Context, url string, c *child) error {
	deadline := time.After(startWait)
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		if resp, err := hc.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.exited:
			return fmt.Errorf("the %s exited during start (%v); see its log above", c.name, c.err)
		case <-deadline:
			return fmt.Errorf("the %s was not ready after %s (%s)", c.name, startWait, url)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// shutdownStack stops what was started, last first.
type shutdownStack struct {
	names []string
	stops []func() error
}

func (s *shutdownStack) push(name string, stop func() error) {
	s.names = append(s.names, name)
	s.stops = append(s.stops, stop)
}

func (s *shutdownStack) unwind(con *console) {
	for i := len(s.stops) - 1; i >= 0; i-- {
		start := time.Now()
		con.printf("dev", "stopping %s", s.names[i])
		if err := s.stops[i](); err != nil {
			con.printf("dev", "stopping %s: %v", s.names[i], err)
			continue
		}
		con.printf("dev", "stopped %s (%s)", s.names[i], time.Since(start).Round(time.Millisecond))
	}
	s.names, s.stops = nil, nil
}

func rel(root, path string) string {
	if r, err := filepath.Rel(root, path); err == nil {
		return r
	}
	return path
}
