// Package prodlocal runs the production topology on this machine from source
// (`make prod-local`, and the fault drills): the full Temporal server on
// PostgreSQL with its Web UI, two workers and two API processes, and Tierflow's own
// database on the same PostgreSQL cluster. Every process has a handle that can be
// stopped, killed and started again; all data and logs live under one folder.
package prodlocal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tierflow/tierflow/internal/supervise"
	"github.com/tierflow/tierflow/internal/temporalfull"
)

// Namespace is the Temporal namespace the product uses.
const Namespace = "default"

// Databases on the cluster.
const (
	TemporalDB   = "temporal"
	VisibilityDB = "temporal_visibility"
	TierflowDB   = "tierflow"
)

// Ports of everything, on 127.0.0.1. Process i (from 0) of a kind listens on the
// kind's base port + i.
type Ports struct {
	Temporal      temporalfull.Ports
	UI            int
	Postgres      int // 0: a free port, chosen at start
	API           int // API 1 on 8080, API 2 on 8081
	APIMetrics    int
	WorkerMetrics int
}

// DefaultPorts: Temporal on its usual ports, its UI on 8233, the APIs on 8080 and
// 8081, the workers' probes and metrics on 9101 and 9102, the APIs' on 9111 and 9112.
func DefaultPorts() Ports {
	return Ports{
		Temporal: temporalfull.DefaultPorts(), UI: 8233,
		API: 8080, APIMetrics: 9111, WorkerMetrics: 9101,
	}
}

// Options configure Start.
type Options struct {
	Root    string // module root (worker and API are built from it)
	DataDir string // data and logs; empty: <Root>/.tierflow/prod-local
	BinDir  string // the pinned Temporal binaries; empty: <Root>/bin
	// BuildDir receives the worker and API binaries; empty: BinDir.
	BuildDir string
	Ports    Ports // zero value: DefaultPorts
	Workers  int   // default 2
	APIs     int   // default 2
	// Fast makes the demo policy (clocks in seconds) the APIs' default.
	Fast bool
	// Env adds KEY=VALUE settings to the workers' and APIs' environment (after
	// the topology's own), e.g. SENDGRID_API_KEY and SENDGRID_BASE_URL to send
	// email to a fake SendGrid in drills.
	Env []string
	// SeparateRecordDB puts Tierflow's database on a PostgreSQL cluster of its
	// own (Topology.Record), so that a drill can stop it while Temporal's keeps
	// running, as in production where they are separate servers.
	SeparateRecordDB bool
	// Retention of closed workflows in the namespace (default 7 days).
	Retention time.Duration
	// Logf receives progress lines; nil discards them.
	Logf func(format string, args ...any)
}

// Topology is the running production topology.
type Topology struct {
	Postgres *Postgres
	// Record is the cluster of Tierflow's database when Options.SeparateRecordDB
	// is set (nil otherwise: it is then on Postgres).
	Record   *Postgres
	Temporal *supervise.Process
	UI       *supervise.Process
	Workers  []*supervise.Process
	APIs     []*supervise.Process

	DataDir, LogDir  string
	FrontendAddress  string // Temporal's gRPC frontend
	UIURL            string
	APIURLs          []string // http://localhost:<port>, in the order of APIs
	WorkerMetrics    []string // host:port of each worker's /metrics, /healthz, /readyz
	APIMetrics       []string
	TemporalMetrics  string // host:port of the server's Prometheus /metrics
	Ports            Ports
	SurveyKey        string
	CodecKeys        string // TIERFLOW_CODEC_KEYS of the workers and the APIs
	CodecURL         string // API 1's codec endpoint, which the UI calls
	Mailbox          bool   // email kept in the dev mailbox (no SENDGRID_API_KEY)
	Fast             bool
	StartupDurations map[string]time.Duration // by phase, for the banner

	logf func(string, ...any)
}

// Start brings everything up in dependency order and returns once every process
// answers its readiness check. On error, what was started is stopped again.
func Start(ctx context.Context, opts Options) (t *Topology, err error) {
	opts, err = opts.withDefaults()
	if err != nil {
		return nil, err
	}
	bins, err := temporalfull.Find(opts.BinDir)
	if err != nil {
		return nil, err
	}
	t = newTopology(opts)
	defer func() {
		if err != nil {
			if stopErr := t.Stop(); stopErr != nil {
				t.logf("stop after a failed start: %v", stopErr)
			}
			t = nil
		}
	}()
	if err := os.MkdirAll(t.LogDir, 0o755); err != nil {
		return t, fmt.Errorf("create the log folder: %w", err)
	}
	if t.SurveyKey, err = surveyKey(t.DataDir); err != nil {
		return t, err
	}
	if t.CodecKeys, err = codecKeys(t.DataDir); err != nil {
		return t, err
	}

	phase := time.Now()
	built := make(chan error, 1)
	go func() { built <- buildProduct(ctx, opts.Root, opts.BuildDir) }()
	if err := t.startDatabase(ctx, bins.SQLTool); err != nil {
		<-built
		return t, err
	}
	if err := <-built; err != nil {
		return t, err
	}
	t.StartupDurations["postgres, schemas and build"] = time.Since(phase)

	phase = time.Now()
	if err := t.startTemporal(ctx, bins, opts.Retention); err != nil {
		return t, err
	}
	t.StartupDurations["temporal server, namespace and UI"] = time.Since(phase)

	phase = time.Now()
	t.defineProduct(opts)
	if err := t.startProduct(ctx); err != nil {
		return t, err
	}
	t.StartupDurations["workers and APIs"] = time.Since(phase)
	return t, nil
}

func (o Options) withDefaults() (Options, error) {
	if o.Root == "" {
		return o, errors.New("prodlocal: Options.Root (the module root) is required")
	}
	if o.DataDir == "" {
		o.DataDir = filepath.Join(o.Root, ".tierflow", "prod-local")
	}
	if o.BinDir == "" {
		o.BinDir = filepath.Join(o.Root, "bin")
	}
	if o.BuildDir == "" {
		o.BuildDir = o.BinDir
	}
	if o.Ports == (Ports{}) {
		o.Ports = DefaultPorts()
	}
	if o.Workers == 0 {
		o.Workers = 2
	}
	if o.APIs == 0 {
		o.APIs = 2
	}
	if o.Retention == 0 {
		o.Retention = temporalfull.DefaultRetention
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	var err error
	if o.DataDir, err = filepath.Abs(o.DataDir); err != nil {
		return o, fmt.Errorf("data folder: %w", err)
	}
	return o, nil
}

func newTopology(o Options) *Topology {
	t := &Topology{
		DataDir: o.DataDir, LogDir: filepath.Join(o.DataDir, "logs"), Ports: o.Ports, Fast: o.Fast,
		FrontendAddress:  o.Ports.Temporal.FrontendAddress(),
		UIURL:            "http://localhost:" + strconv.Itoa(o.Ports.UI),
		Mailbox:          envValue(append(os.Environ(), o.Env...), "SENDGRID_API_KEY") == "",
		StartupDurations: map[string]time.Duration{},
		logf:             o.Logf,
	}
	if o.Ports.Temporal.Metrics != 0 {
		t.TemporalMetrics = loopback(o.Ports.Temporal.Metrics)
	}
	for i := range o.Workers {
		t.WorkerMetrics = append(t.WorkerMetrics, loopback(o.Ports.WorkerMetrics+i))
	}
	for i := range o.APIs {
		t.APIURLs = append(t.APIURLs, "http://localhost:"+strconv.Itoa(o.Ports.API+i))
		t.APIMetrics = append(t.APIMetrics, loopback(o.Ports.APIMetrics+i))
	}
	t.CodecURL = t.APIURLs[0] + "/codec"
	t.Postgres = NewPostgres(filepath.Join(o.DataDir, "pg"), o.Ports.Postgres, o.Logf)
	if o.SeparateRecordDB {
		t.Record = NewPostgres(filepath.Join(o.DataDir, "pg-record"), 0, o.Logf)
	}
	return t
}

// Processes lists every supervised process in start order (PostgreSQL is not one:
// pg_ctl runs it as a daemon).
func (t *Topology) Processes() []*supervise.Process {
	var ps []*supervise.Process
	for _, p := range []*supervise.Process{t.Temporal, t.UI} {
		if p != nil {
			ps = append(ps, p)
		}
	}
	ps = append(ps, t.Workers...)
	return append(ps, t.APIs...)
}

// Stop stops everything in reverse start order: the APIs, the workers, the UI, the
// Temporal server, PostgreSQL. It returns every problem met; calling it twice is
// harmless.
func (t *Topology) Stop() error {
	var errs []error
	ps := t.Processes()
	for i := len(ps) - 1; i >= 0; i-- {
		if !ps[i].Running() {
			continue
		}
		begin := time.Now()
		t.logf("stopping %s (pid %d)", ps[i].Name(), ps[i].Pid())
		if err := ps[i].Stop(); err != nil {
			errs = append(errs, err)
			continue
		}
		t.logf("stopped %s (%s)", ps[i].Name(), time.Since(begin).Round(time.Millisecond))
	}
	for _, pg := range []*Postgres{t.Record, t.Postgres} {
		if pg == nil || !pg.Running() {
			continue
		}
		begin := time.Now()
		t.logf("stopping PostgreSQL (%s)", pg.dir)
		if err := pg.Stop(); err != nil {
			errs = append(errs, err)
		} else {
			t.logf("stopped PostgreSQL (%s)", time.Since(begin).Round(time.Millisecond))
		}
	}
	return errors.Join(errs...)
}

// DSN is the URL of Tierflow's database.
func (t *Topology) DSN() string {
	if t.Record != nil {
		return t.Record.DSN(TierflowDB)
	}
	return t.Postgres.DSN(TierflowDB)
}

// envValue is the value of the last name=... in env ("" when absent).
func envValue(env []string, name string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}

func loopback(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }
