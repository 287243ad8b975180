package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tierflow/tierflow/internal/pgcluster"
	"github.com/tierflow/tierflow/internal/temporaldev"
	"github.com/tierflow/tierflow/postgres"
)

// surveyKey signs the survey links of the test's stack (worker and API share it).
const surveyKey = "e2e-survey-key-only-for-this-test"

// stack is the running product: PostgreSQL, a Temporal dev server with its UI, the
// worker and the API, all started by the test and stopped when it ends.
type stack struct {
	Root     string          // module root
	APIURL   string          // http://127.0.0.1:<port>
	UIURL    string          // Temporal Web UI base URL
	Store    *postgres.Store // the case records, to read the dev mailbox
	Temporal client.Client   // the dev server's default namespace
	Worker   *child
	API      *child
	temporal *temporaldev.Server
}

// startStack starts everything in dependency order; the slow independent parts
// (building the mains, PostgreSQL, Temporal) run side by side. When the test fails,
// the cleanup prints the children's logs.
func startStack(t *testing.T) *stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	root, err := temporaldev.ModuleRoot()
	if err != nil {
		t.Fatalf("find the module root: %v", err)
	}
	s := &stack{Root: root}

	binDir := t.TempDir()
	built := make(chan error, 1)
	go func() { built <- buildMains(ctx, root, binDir) }()

	type pgResult struct {
		cluster *pgcluster.Cluster
		err     error
	}
	pgc := make(chan pgResult, 1)
	go func() {
		c, err := pgcluster.Start(ctx, pgcluster.Options{})
		pgc <- pgResult{c, err}
	}()

	start := time.Now()
	srv, err := temporaldev.Start(ctx, temporaldev.Options{Port: 0, UIPort: 0})
	pg := <-pgc
	buildErr := <-built
	if pg.cluster != nil {
		t.Cleanup(func() {
			if err := pg.cluster.Stop(); err != nil {
				t.Logf("stop PostgreSQL: %v", err)
			}
		})
	}
	if srv != nil {
		t.Cleanup(func() {
			if err := srv.Stop(); err != nil {
				t.Logf("stop Temporal: %v", err)
			}
		})
	}
	if err != nil {
		t.Fatalf("start the Temporal dev server with its UI: %v", err)
	}
	if pg.err != nil {
		t.Fatalf("start PostgreSQL (%s): %v", pgcluster.InstallHint, pg.err)
	}
	if buildErr != nil {
		t.Fatalf("build the worker and API: %v", buildErr)
	}
	t.Logf("PostgreSQL, Temporal (UI %s) and the build ready in %s", srv.UIURL(), time.Since(start).Round(time.Millisecond))
	s.temporal, s.UIURL = srv, srv.UIURL()

	const dbName = "tierflow"
	if err := pg.cluster.CreateDatabase(ctx, dbName); err != nil {
		t.Fatalf("create database: %v", err)
	}
	dsn := pg.cluster.DSN(dbName)
	s.Store = openStore(ctx, t, dsn)
	if s.Temporal, err = srv.Dial(ctx, nil); err != nil {
		t.Fatalf("dial Temporal: %v", err)
	}
	t.Cleanup(s.Temporal.Close)

	apiAddr := freeAddr(t)
	s.APIURL = "http://" + apiAddr
	env := childEnv(map[string]string{
		"DATABASE_URL":        dsn,
		"TEMPORAL_ADDRESS":    srv.HostPort(),
		"TEMPORAL_NAMESPACE":  srv.Namespace(),
		"TIERFLOW_DEV_TOKENS": "true",
		"TIERFLOW_MAILBOX":    "true",
		"TIERFLOW_SURVEY_KEY": surveyKey,
		"TIERFLOW_PUBLIC_URL": s.APIURL,
	})

	workerMetrics := freeAddr(t)
	s.Worker = startChild(t, "worker", filepath.Join(binDir, "worker"),
		append(env, "TIERFLOW_METRICS_ADDR="+workerMetrics), 30*time.Second)
	t.Cleanup(func() { s.dumpLogsOnFailure(t) }) // runs before the children stop
	if err := s.Worker.waitReady(ctx, "http://"+workerMetrics+"/readyz"); err != nil {
		t.Fatalf("worker: %v", err)
	}
	// The worker migrated the schema; the dev staff directory lets assignment work.
	if err := s.Store.SeedDevStaff(ctx); err != nil {
		t.Fatalf("seed the dev staff: %v", err)
	}
	s.API = startChild(t, "api", filepath.Join(binDir, "api"),
		append(env, "TIERFLOW_API_ADDR="+apiAddr, "TIERFLOW_METRICS_ADDR="+freeAddr(t)), 20*time.Second)
	if err := s.API.waitReady(ctx, s.APIURL+"/readyz"); err != nil {
		t.Fatalf("api: %v", err)
	}
	t.Logf("stack ready in %s: API %s, Temporal UI %s", time.Since(start).Round(time.Millisecond), s.APIURL, s.UIURL)
	return s
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

func openStore(ctx context.Context, t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	store, err := postgres.Open(ctx, dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("open the case records: %v", err)
	}
	t.Cleanup(store.Close)
	return store
}

// childEnv is the test process's environment without any setting the product
// reads (so that nothing leaks in from the developer's shell), plus set.
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

// dumpLogsOnFailure prints the tail of every child's output when the test failed.
func (s *stack) dumpLogsOnFailure(t *testing.T) {
	if !t.Failed() {
		return
	}
	for _, c := range []*child{s.Worker, s.API} {
		if c != nil {
			t.Logf("----- %s output (tail) -----\n%s", c.name, c.tail(150))
		}
	}
}
