package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// The whole `make dev` stack on free ports and a temporary data folder: it comes
// up, answers, stops everything on cancel (Ctrl-C), and a second run finds the
// first one's data.
func TestRunStartsEverythingStopsCleanlyAndKeepsData(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	t.Setenv("SENDGRID_API_KEY", "")
	opts := options{DataDir: traversableTempDir(t), BinDir: t.TempDir(), Ports: ports{
		Temporal: freePort(t), TemporalUI: freePort(t), API: freePort(t),
		WorkerMetrics: freePort(t), APIMetrics: freePort(t),
		// Chosen with the others: the dev server's own random pick once took the
		// API's metrics port before the API bound it.
		TemporalMetrics: freePort(t),
	}}
	out := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dev runner output:\n%s", out.String())
		}
	})

	first, stop := startRun(t, opts, out)
	for _, u := range []string{first.PublicURL + "/healthz", first.UIURL + "/", "http://" + first.WorkerMetrics + "/readyz"} {
		assert.Equal(t, http.StatusOK, status(t, u), u)
	}
	assert.Contains(t, first.DSN, "/tierflow?")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{HostPort: first.TemporalHostPort})
	require.NoError(t, err)
	marker, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "dev-marker", TaskQueue: "nobody-polls"}, "Marker")
	require.NoError(t, err)
	c.Close()
	conn, err := pgx.Connect(ctx, first.DSN)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "CREATE TABLE dev_marker (v int); INSERT INTO dev_marker VALUES (7)")
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))

	stop()
	pgAddr := hostPort(t, first.DSN)
	for _, addr := range []string{pgAddr, first.TemporalHostPort, loopback(opts.Ports.API), first.WorkerMetrics, first.APIMetrics} {
		_, err := net.DialTimeout("tcp", addr, time.Second)
		assert.Error(t, err, "%s still listens after the runner stopped", addr)
	}
	_, err = os.Stat(filepath.Join(opts.DataDir, "dev.pid"))
	assert.ErrorIs(t, err, os.ErrNotExist, "the lock is released")

	second, stop := startRun(t, opts, out)
	defer stop()
	c, err = client.DialContext(ctx, client.Options{HostPort: second.TemporalHostPort})
	require.NoError(t, err)
	defer c.Close()
	desc, err := c.DescribeWorkflowExecution(ctx, "dev-marker", "")
	require.NoError(t, err, "the workflow of the first run is still there")
	assert.Equal(t, marker.GetRunID(), desc.GetWorkflowExecutionInfo().GetExecution().GetRunId())
	assert.Equal(t, enums.WORKFLOW_EXECUTION_STATUS_RUNNING, desc.GetWorkflowExecutionInfo().GetStatus())
	conn, err = pgx.Connect(ctx, second.DSN)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var v int
	require.NoError(t, conn.QueryRow(ctx, "SELECT v FROM dev_marker").Scan(&v), "the database of the first run is still there")
	assert.Equal(t, 7, v)
}

// startRun runs the dev runner until it is ready; stop cancels it (Ctrl-C) and
// waits for run to return without error.
func startRun(t *testing.T, opts options, out *lockedBuffer) (bannerInfo, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan bannerInfo, 1)
	opts.OnReady = func(info bannerInfo) { ready <- info }
	done := make(chan error, 1)
	go func() { done <- run(ctx, &console{out: out}, opts) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				assert.NoError(t, err, "run after cancel")
			case <-time.After(90 * time.Second):
				t.Error("run did not return within 90s of cancel")
			}
		})
	}
	select {
	case info := <-ready:
		return info, stop
	case err := <-done:
		cancel()
		t.Fatalf("run ended before it was ready: %v", err)
	case <-time.After(4 * time.Minute):
		stop()
		t.Fatal("the stack was not ready within 4 minutes")
	}
	return bannerInfo{}, stop
}

func status(t *testing.T, u string) int {
	resp, err := http.Get(u)
	if !assert.NoError(t, err) {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func hostPort(t *testing.T, dsn string) string {
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	return u.Host
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// traversableTempDir is a temporary directory the postgres user can reach when
// the tests run as root (initdb then runs as postgres).
func traversableTempDir(t *testing.T) string {
	dir := t.TempDir()
	if os.Geteuid() == 0 {
		for p := dir; p != os.TempDir() && p != "/"; p = filepath.Dir(p) {
			require.NoError(t, os.Chmod(p, 0o755))
		}
	}
	return filepath.Join(dir, "data")
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
