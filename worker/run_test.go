package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/sdk/client"

	"github.com/tierflow/tierflow/internal/pgcluster"
	"github.com/tierflow/tierflow/internal/temporaldev"
	"github.com/tierflow/tierflow/postgres"
	"github.com/tierflow/tierflow/workflows"
)

var (
	cluster   *pgcluster.Cluster
	devServer *temporaldev.Server
)

// TestMain starts one PostgreSQL cluster and one Temporal dev server for the
// package; a missing binary fails the run with how to install it.
func TestMain(m *testing.M) {
	c, stopPG := pgcluster.MustStartForTests()
	cluster = c
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	s, err := temporaldev.Start(ctx, temporaldev.Options{UIPort: temporaldev.UIDisabled})
	cancel()
	if err != nil {
		stopPG()
		fmt.Fprintf(os.Stderr, "FAIL: cannot start a Temporal dev server for the tests: %v\n", err)
		os.Exit(1)
	}
	devServer = s
	code := m.Run()
	if err := s.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	stopPG()
	os.Exit(code)
}

func testConfig(t *testing.T) config {
	return config{
		Temporal:     client.Options{HostPort: devServer.HostPort(), Namespace: devServer.Namespace()},
		DatabaseURL:  pgcluster.NewTestDatabase(t, cluster),
		SurveyKeys:   [][]byte{[]byte("test-survey-key-0123456789")},
		PublicURL:    "http://localhost:8080",
		MetricsAddr:  freeAddr(t),
		StopTimeout:  3 * time.Second,
		Mail:         mailEnv{EnvMailbox: "true"},
		MailerShards: 2,
	}
}

func TestRunPollsTheTaskQueueAndStopsOnCancel(t *testing.T) {
	cfg := testConfig(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, testLogger(t)) }()

	c, err := devServer.Dial(context.Background(), nil)
	require.NoError(t, err)
	defer c.Close()
	for _, typ := range []enums.TaskQueueType{enums.TASK_QUEUE_TYPE_WORKFLOW, enums.TASK_QUEUE_TYPE_ACTIVITY} {
		require.Eventually(t, func() bool { return len(pollers(t, c, typ)) > 0 }, 30*time.Second, 100*time.Millisecond,
			"no %s poller on %s", typ, workflows.TaskQueue)
	}

	assert.Equal(t, http.StatusOK, get(t, "http://"+cfg.MetricsAddr+"/healthz").StatusCode)
	require.Eventually(t, func() bool {
		return get(t, "http://"+cfg.MetricsAddr+"/readyz").StatusCode == http.StatusOK
	}, 10*time.Second, 100*time.Millisecond, "/readyz never answered 200")
	metrics := get(t, "http://"+cfg.MetricsAddr+"/metrics")
	body, err := io.ReadAll(metrics.Body)
	require.NoError(t, err)
	assert.Contains(t, string(body), "temporal_worker_start", "SDK metrics are exported")
	assert.Contains(t, string(body), "go_memstats_heap_inuse_bytes", "process memory is exported")

	// Every worker starts the mailers (or finds them running): one per shard.
	for shard := range cfg.MailerShards {
		desc, err := c.DescribeWorkflowExecution(context.Background(), workflows.MailerWorkflowID(shard), "")
		require.NoError(t, err, "mailer of shard %d", shard)
		assert.Equal(t, enums.WORKFLOW_EXECUTION_STATUS_RUNNING, desc.GetWorkflowExecutionInfo().GetStatus())
	}
	require.Eventually(t, func() bool {
		body, err := io.ReadAll(get(t, "http://"+cfg.MetricsAddr+"/metrics").Body)
		return err == nil && strings.Contains(string(body), "tierflow_outbox_depth")
	}, 15*time.Second, 250*time.Millisecond, "the outbox depth is exported")

	store, err := postgres.Open(context.Background(), cfg.DatabaseURL, nil)
	require.NoError(t, err)
	defer store.Close()
	version, err := store.SchemaVersion(context.Background())
	require.NoError(t, err)
	assert.Positive(t, version, "run migrates the database")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(cfg.StopTimeout + 5*time.Second):
		t.Fatal("run did not return within the stop timeout after cancel")
	}
	_, err = net.DialTimeout("tcp", cfg.MetricsAddr, time.Second)
	assert.Error(t, err, "the metrics listener is closed after run returns")
}

func TestRunFailsClearly(t *testing.T) {
	tests := []struct {
		name    string
		change  func(cfg *config)
		wantErr string
	}{
		{
			name:    "temporal unreachable",
			change:  func(cfg *config) { cfg.Temporal.HostPort = closedAddr(t) },
			wantErr: "cannot reach Temporal at " + "127.0.0.1:",
		},
		{
			name: "database unreachable",
			change: func(cfg *config) {
				cfg.DatabaseURL = "postgres://postgres@" + closedAddr(t) + "/tierflow?sslmode=disable"
			},
			wantErr: "cannot reach the database (DATABASE_URL)",
		},
		{
			name:    "bad mail settings",
			change:  func(cfg *config) { cfg.Mail = mailEnv{"SENDGRID_API_KEY": "SG.x"} },
			wantErr: "mail settings:",
		},
		{
			name:    "no SendGrid key and no explicit mailbox",
			change:  func(cfg *config) { cfg.Mail = mailEnv{} },
			wantErr: "TIERFLOW_MAILBOX=true",
		},
		{
			name: "metrics address taken",
			change: func(cfg *config) {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				require.NoError(t, err)
				t.Cleanup(func() { l.Close() })
				cfg.MetricsAddr = l.Addr().String()
			},
			wantErr: "TIERFLOW_METRICS_ADDR",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			tt.change(&cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := run(ctx, cfg, testLogger(t))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			t.Log(err)
		})
	}
}

func pollers(t *testing.T, c client.Client, typ enums.TaskQueueType) []*taskqueue.PollerInfo {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := c.DescribeTaskQueue(ctx, workflows.TaskQueue, typ)
	require.NoError(t, err)
	return resp.GetPollers()
}

func get(t *testing.T, url string) *http.Response {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// freeAddr is a 127.0.0.1 address nothing listens on at the moment.
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// closedAddr refuses connections (a port just released).
func closedAddr(t *testing.T) string { return freeAddr(t) }

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
