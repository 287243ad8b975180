// Package stack runs the whole product on this machine for the end-to-end test and
// the benchmarks: a throwaway PostgreSQL, an in-memory Temporal dev server, and the
// worker and API mains built from source and run as child processes, with the dev
// tokens and the dev mailbox, and payloads encrypted as in production (a fresh
// codec key per stack). When asked, the standalone Temporal UI server runs in front
// of it, wired to the API's codec endpoint. Start brings it up in dependency order
// and Stop takes it down in reverse.
package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/tierflow/tierflow/codec"
	"github.com/tierflow/tierflow/internal/pgcluster"
	"github.com/tierflow/tierflow/internal/supervise"
	"github.com/tierflow/tierflow/internal/temporaldev"
	"github.com/tierflow/tierflow/postgres"
)

// RaisedRateLimits set the API's rate limits (api/ratelimit_config.go) far above
// what a bench or a drill sends; each burst is two seconds' worth.
var RaisedRateLimits = map[string]string{
	"TIERFLOW_RATE_LIMIT_PRINCIPAL":     "100000",
	"TIERFLOW_RATE_LIMIT_SURVEY":        "100000",
	"TIERFLOW_RATE_LIMIT_AUTH_FAILURES": "100000",
}

// DefaultSurveyKey signs survey links when Options.SurveyKey is empty.
const DefaultSurveyKey = "stack-survey-key-only-for-local-runs"

// Stop graces: the worker lets in-flight activities finish (worker.StopTimeout is 20s).
const (
	workerGrace = 30 * time.Second
	apiGrace    = 20 * time.Second
)

// Options configure Start.
type Options struct {
	// UI starts the Temporal Web UI (the pinned standalone UI server, bin/
	// temporal-ui-server) on a free port, with the API's codec endpoint.
	UI bool
	// SurveyKey signs survey links (the worker and the API share it).
	SurveyKey string
	// Env is added to the worker's and the API's environment, for example
	// TIERFLOW_POLICY_FILES or TIERFLOW_LOG_LEVEL.
	Env map[string]string
	// Logf receives progress lines; nil discards them.
	Logf func(format string, args ...any)
	// StartTemporal, when set, starts the Temporal server the stack runs on instead
	// of the in-memory dev server: it is called once PostgreSQL is up (with the
	// stack's cluster, where it may create databases of its own) and must return a
	// server whose namespace is ready for the product (on error, having stopped
	// whatever it started).
	StartTemporal func(ctx context.Context, pg *pgcluster.Cluster) (TemporalServer, error)
	// CodecKeys is TIERFLOW_CODEC_KEYS of the worker and the API; empty means a
	// fresh random key.
	CodecKeys string
	// PostgresSettings are postgresql.conf lines for the stack's cluster
	// (pgcluster.Options.Settings).
	PostgresSettings []string
}

// TemporalServer is the Temporal server a stack runs on: *temporaldev.Server, or
// what Options.StartTemporal returns.
type TemporalServer interface {
	HostPort() string
	Namespace() string
	// Dial connects a client to the namespace; nil logger drops the SDK's logging.
	Dial(ctx context.Context, logger sdklog.Logger) (client.Client, error)
	Stop() error
}

// Stack is the running product.
type Stack struct {
	Root   string // module root
	APIURL string // http://127.0.0.1:<port>
	UIURL  string // Temporal Web UI base URL (http://localhost:<port>), empty without Options.UI
	// CodecURL is the API's codec endpoint as the UI calls it,
	// http://localhost:<API port>/codec (same site as the UI, so the session
	// cookie set at CodecURL/login goes with the UI's calls).
	CodecURL  string
	DSN       string // the case records' database
	SurveyKey string
	CodecKeys string          // TIERFLOW_CODEC_KEYS of the worker and the API
	Codec     *codec.Keyring  // the same keys
	Store     *postgres.Store // the case records (and the dev mailbox)
	// Temporal is a client of the server's namespace with the product's codec, so
	// it reads payloads as the worker and the API do; RawTemporal shares its
	// connection without the codec: it sees what Temporal stores.
	Temporal    client.Client
	RawTemporal client.Client
	Server      *temporaldev.Server // the dev server; nil with Options.StartTemporal
	Worker      *Process
	API         *Process
	UI          *supervise.Process // nil without Options.UI
	// WorkerMetricsURL is the worker's Prometheus scrape URL (http://<addr>/metrics).
	WorkerMetricsURL string
	// APIMetricsURL is the API's (a new address at each RestartAPI).
	APIMetricsURL string

	binDir     string
	env        []string // the children's shared environment
	uiDir      string   // the UI server's configuration and log
	apiAddr    string
	pg         *pgcluster.Cluster
	pgSettings []string       // Options.PostgresSettings
	server     TemporalServer // Server, or the one Options.StartTemporal started
	logf       func(string, ...any)
}

// Start builds the worker and API, starts PostgreSQL and Temporal side by side,
// then the worker (which migrates the schema), seeds the dev staff directory and
// starts the API; it returns once both answer /readyz. On error everything already
// started is stopped again.
func Start(ctx context.Context, opts Options) (s *Stack, err error) {
	root, err := temporaldev.ModuleRoot()
	if err != nil {
		return nil, fmt.Errorf("find the module root: %w", err)
	}
	s = &Stack{Root: root, SurveyKey: opts.SurveyKey, CodecKeys: opts.CodecKeys, logf: opts.Logf,
		pgSettings: opts.PostgresSettings}
	if s.SurveyKey == "" {
		s.SurveyKey = DefaultSurveyKey
	}
	if s.CodecKeys == "" {
		if s.CodecKeys, err = NewCodecKeys("stack"); err != nil {
			return nil, err
		}
	}
	if s.Codec, err = codec.ParseKeyring(s.CodecKeys); err != nil {
		return nil, err
	}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	defer func() {
		if err != nil {
			if stopErr := s.Stop(); stopErr != nil {
				s.logf("stack: stop after a failed start: %v", stopErr)
			}
			s = nil
		}
	}()
	if s.binDir, err = os.MkdirTemp("", "tierflow-stack-bin-"); err != nil {
		return s, fmt.Errorf("make a build directory: %w", err)
	}
	start := time.Now()
	if err := s.startInfrastructure(ctx, opts.StartTemporal); err != nil {
		return s, err
	}
	s.logf("stack: PostgreSQL, Temporal and the build ready in %s", time.Since(start).Round(time.Millisecond))
	if err := s.startProduct(ctx, opts.UI, opts.Env); err != nil {
		return s, err
	}
	s.logf("stack: ready in %s: API %s, Temporal %s %s", time.Since(start).Round(time.Millisecond),
		s.APIURL, s.server.HostPort(), s.UIURL)
	return s, nil
}

// startInfrastructure builds the mains and starts PostgreSQL and Temporal, the
// three slow parts, side by side (a Temporal server of startTemporal's after
// PostgreSQL), then opens the store and the Temporal clients.
func (s *Stack) startInfrastructure(ctx context.Context, startTemporal func(context.Context, *pgcluster.Cluster) (TemporalServer, error)) error {
	built := make(chan error, 1)
	go func() { built <- buildMains(ctx, s.Root, s.binDir) }()
	pgc := make(chan pgResult, 1)
	go func() {
		c, err := pgcluster.Start(ctx, pgcluster.Options{Settings: s.pgSettings})
		pgc <- pgResult{c, err}
	}()
	if startTemporal != nil {
		return s.startOwnTemporal(ctx, startTemporal, pgc, built)
	}
	srv, err := temporaldev.Start(ctx, temporaldev.Options{Port: 0, UIPort: temporaldev.UIDisabled})
	pg := <-pgc
	buildErr := <-built
	s.pg, s.Server = pg.cluster, srv
	if srv != nil {
		s.server = srv
	}
	if err != nil {
		return fmt.Errorf("start the Temporal dev server: %w", err)
	}
	if pg.err != nil {
		return fmt.Errorf("start PostgreSQL (%s): %w", pgcluster.InstallHint, pg.err)
	}
	if buildErr != nil {
		return fmt.Errorf("build the worker and API: %w", buildErr)
	}
	return s.openClients(ctx)
}

// startOwnTemporal is startInfrastructure's second half with startTemporal: the
// server starts once PostgreSQL is up, while the build goes on.
func (s *Stack) startOwnTemporal(ctx context.Context, startTemporal func(context.Context, *pgcluster.Cluster) (TemporalServer, error),
	pgc <-chan pgResult, built <-chan error) error {
	pg := <-pgc
	s.pg = pg.cluster
	if pg.err != nil {
		<-built
		return fmt.Errorf("start PostgreSQL (%s): %w", pgcluster.InstallHint, pg.err)
	}
	srv, err := startTemporal(ctx, s.pg)
	buildErr := <-built
	if err != nil {
		return fmt.Errorf("start the Temporal server: %w", err)
	}
	s.server = srv
	if buildErr != nil {
		return fmt.Errorf("build the worker and API: %w", buildErr)
	}
	return s.openClients(ctx)
}

// openClients creates the product's database and opens the store and the Temporal
// clients.
func (s *Stack) openClients(ctx context.Context) error {
	var err error
	const dbName = "tierflow"
	if err := s.pg.CreateDatabase(ctx, dbName); err != nil {
		return fmt.Errorf("create the database: %w", err)
	}
	s.DSN = s.pg.DSN(dbName)
	if s.Store, err = postgres.Open(ctx, s.DSN, slog.New(slog.DiscardHandler)); err != nil {
		return fmt.Errorf("open the case records: %w", err)
	}
	if s.RawTemporal, err = s.server.Dial(ctx, nil); err != nil {
		return fmt.Errorf("dial Temporal: %w", err)
	}
	opts := client.Options{Namespace: s.server.Namespace(), Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))}
	codec.ConfigureClient(&opts, s.Codec)
	if s.Temporal, err = client.NewClientFromExistingWithContext(ctx, s.RawTemporal, opts); err != nil {
		return fmt.Errorf("a Temporal client with the codec: %w", err)
	}
	return nil
}

// startProduct starts the worker, seeds the staff directory, starts the API and,
// with ui, the Temporal UI.
func (s *Stack) startProduct(ctx context.Context, ui bool, extra map[string]string) error {
	addr, err := FreeAddr()
	if err != nil {
		return err
	}
	s.apiAddr, s.APIURL = addr, "http://"+addr
	s.CodecURL = "http://localhost:" + portOf(addr) + "/codec"
	set := map[string]string{
		"TIERFLOW_CODEC_KEYS": s.CodecKeys,
		"DATABASE_URL":        s.DSN,
		"TEMPORAL_ADDRESS":    s.server.HostPort(),
		"TEMPORAL_NAMESPACE":  s.server.Namespace(),
		"TIERFLOW_DEV_TOKENS": "true",
		"TIERFLOW_MAILBOX":    "true",
		"TIERFLOW_SURVEY_KEY": s.SurveyKey,
		"TIERFLOW_PUBLIC_URL": s.APIURL,
	}
	// The bench and the end-to-end tests send bursts from one token and one address:
	// the API's rate limits are raised far above what they send (still on, so the
	// limiter's path is measured). Options.Env may set them again.
	for k, v := range RaisedRateLimits {
		set[k] = v
	}
	var uiPort string
	if ui {
		uiAddr, err := FreeAddr()
		if err != nil {
			return err
		}
		uiPort = portOf(uiAddr)
		s.UIURL = "http://localhost:" + uiPort
		set["TIERFLOW_CODEC_CORS_ORIGINS"] = s.UIURL + ",http://127.0.0.1:" + uiPort
		set["TIERFLOW_TEMPORAL_UI_URL"] = s.UIURL // staff emails link to the case's page there
	}
	for k, v := range extra {
		set[k] = v
	}
	s.env = childEnv(set)

	if err := retryBind(func() error { return s.startWorker(ctx) }); err != nil {
		return err
	}
	// The worker migrated the schema; the dev staff directory lets assignment work.
	if err := s.Store.SeedDevStaff(ctx); err != nil {
		return fmt.Errorf("seed the dev staff: %w", err)
	}
	if err := s.startAPI(ctx, nil); err != nil {
		return err
	}
	if ui {
		return s.startUI(ctx, uiPort)
	}
	return nil
}

// RestartAPI stops the API and starts it again on the same address with env added
// to its environment (for example another TIERFLOW_POLICY_FILES: the API reads its
// policies once, at start).
func (s *Stack) RestartAPI(ctx context.Context, env map[string]string) error {
	if err := s.API.Stop(apiGrace); err != nil {
		return fmt.Errorf("restart the API: %w", err)
	}
	return s.startAPI(ctx, env)
}

// retryBind runs start again (three times at most) while it fails because a
// port it was given was taken before the child bound it.
func retryBind(start func() error) error {
	for attempt := 1; ; attempt++ {
		err := start()
		if err == nil || attempt == 3 || !strings.Contains(err.Error(), "address already in use") {
			return err
		}
	}
}

func (s *Stack) startWorker(ctx context.Context) error {
	workerMetrics, err := FreeAddr()
	if err != nil {
		return err
	}
	if s.Worker, err = StartProcess("worker", filepath.Join(s.binDir, "worker"),
		append(s.env, "TIERFLOW_METRICS_ADDR="+workerMetrics)); err != nil {
		return err
	}
	if err := s.Worker.WaitReady(ctx, "http://"+workerMetrics+"/readyz"); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	s.WorkerMetricsURL = "http://" + workerMetrics + "/metrics"
	return nil
}

// startAPI starts the API on s.apiAddr (a fresh metrics address each attempt).
func (s *Stack) startAPI(ctx context.Context, env map[string]string) error {
	return retryBind(func() error { return s.startAPIOnce(ctx, env) })
}

func (s *Stack) startAPIOnce(ctx context.Context, env map[string]string) error {
	metrics, err := FreeAddr()
	if err != nil {
		return err
	}
	vars := append(append([]string(nil), s.env...), "TIERFLOW_API_ADDR="+s.apiAddr, "TIERFLOW_METRICS_ADDR="+metrics)
	for k, v := range env {
		vars = append(vars, k+"="+v)
	}
	if s.API, err = StartProcess("api", filepath.Join(s.binDir, "api"), vars); err != nil {
		return err
	}
	s.APIMetricsURL = "http://" + metrics + "/metrics"
	if err := s.API.WaitReady(ctx, s.APIURL+"/readyz"); err != nil {
		return fmt.Errorf("api: %w", err)
	}
	return nil
}

// Stop stops everything Start started, in reverse order, and removes the build and
// the database. It returns every problem met; calling it twice is harmless.
func (s *Stack) Stop() error {
	var errs []error
	if s.UI != nil {
		if s.UI.Running() {
			errs = append(errs, s.UI.Stop())
		}
		s.UI = nil
	}
	if s.API != nil {
		errs = append(errs, s.API.Stop(apiGrace))
	}
	if s.Worker != nil {
		errs = append(errs, s.Worker.Stop(workerGrace))
	}
	for _, c := range []*client.Client{&s.Temporal, &s.RawTemporal} {
		if *c != nil {
			(*c).Close()
			*c = nil
		}
	}
	if s.Store != nil {
		s.Store.Close()
		s.Store = nil
	}
	if s.server != nil {
		if err := s.server.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stop Temporal: %w", err))
		}
	}
	if s.pg != nil {
		if err := s.pg.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stop PostgreSQL: %w", err))
		}
	}
	for _, dir := range []*string{&s.binDir, &s.uiDir} {
		if *dir != "" {
			errs = append(errs, os.RemoveAll(*dir))
			*dir = ""
		}
	}
	return errors.Join(errs...)
}

type pgResult struct {
	cluster *pgcluster.Cluster
	err     error
}

// buildMains builds ./worker and ./api into dir.
func buildMains(ctx context.Context, root, dir string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", dir+string(filepath.Separator), "./worker", "./api")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build ./worker ./api: %w\n%s", err, out)
	}
	return nil
}

// childEnv is this process's environment without any setting the product reads
// (so that nothing leaks in from the developer's shell), plus set.
func childEnv(set map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "TEMPORAL_") || strings.HasPrefix(name, "TIERFLOW_") ||
			strings.HasPrefix(name, "SENDGRID_") || name == "DATABASE_URL" {
			continue
		}
		env = append(env, kv)
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	return env
}
