package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/tierflow/tierflow/internal/pgcluster"
	"github.com/tierflow/tierflow/postgres"
)

// TestRunServesAndStopsGracefully starts the API as main does, over a real
// PostgreSQL and Temporal dev server, and stops it by cancelling its context.
func TestRunServesAndStopsGracefully(t *testing.T) {
	temporalServer := sharedDevServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cluster, err := pgcluster.Start(ctx, pgcluster.Options{})
	require.NoError(t, err, "PostgreSQL server binaries are needed: "+pgcluster.InstallHint)
	t.Cleanup(func() { assert.NoError(t, cluster.Stop()) })
	dsn := pgcluster.NewTestDatabase(t, cluster)
	store, err := postgres.Open(ctx, dsn, nil)
	require.NoError(t, err)
	require.NoError(t, store.Migrate(ctx))
	store.Close()

	type addrs struct{ api, metrics net.Addr }
	listening := make(chan addrs, 1)
	cfg := config{
		Addr: "127.0.0.1:0", MetricsAddr: "127.0.0.1:0", DatabaseURL: dsn,
		Temporal:      client.Options{HostPort: temporalServer.HostPort(), Namespace: temporalServer.Namespace()},
		DefaultPolicy: "standard", SurveyKeys: [][]byte{testSurveyKey}, Tokens: DevTokens(), Mailbox: true,
		ShutdownTimeout: 5 * time.Second,
		OnListen:        func(api, metrics net.Addr) { listening <- addrs{api, metrics} },
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(runCtx, cfg, slog.New(slog.DiscardHandler)) }()
	var at addrs
	select {
	case at = <-listening:
	case err := <-done:
		t.Fatalf("run stopped early: %v", err)
	}
	base := "http://" + at.api.String()

	get := func(url, token string) (int, string) {
		req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	status, body := get(base+"/readyz", "")
	require.Equal(t, http.StatusOK, status, body)
	assert.JSONEq(t, `{"status": "ok", "checks": {"temporal": "ok", "postgres": "ok"}}`, body)

	status, body = get(base+"/v1/cases?limit=5", "dev-viewer")
	require.Equal(t, http.StatusOK, status, body)
	var page map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &page))
	assert.Equal(t, []any{}, page["cases"])

	status, _ = get(base+"/v1/cases/zendesk-nothing", "dev-agent")
	assert.Equal(t, http.StatusNotFound, status, "neither Temporal nor PostgreSQL knows the case")

	status, _ = get(base+"/dev/mailbox/", "")
	assert.Equal(t, http.StatusUnauthorized, status, "the dev mailbox needs a token")
	status, _ = get(base+"/dev/mailbox/", "dev-viewer")
	assert.Equal(t, http.StatusOK, status)

	status, _ = get(base+"/metrics", "")
	assert.Equal(t, http.StatusNotFound, status, "metrics are not on the public port")
	status, body = get("http://"+at.metrics.String()+"/metrics", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `route="GET /readyz",status="200"`)
	assert.Contains(t, body, "\ngo_goroutines ", "the Go runtime collector is registered")
	assert.Contains(t, body, "\nprocess_resident_memory_bytes ", "the process collector is registered")

	stop()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop after its context ended")
	}
	_, err = net.DialTimeout("tcp", at.api.String(), time.Second)
	assert.Error(t, err, "the listener is closed")
}

func TestRunFailsClearly(t *testing.T) {
	base := config{Addr: "127.0.0.1:0", DatabaseURL: "postgres://127.0.0.1:1/x", DefaultPolicy: "standard",
		SurveyKeys: [][]byte{testSurveyKey}, Tokens: DevTokens(), ShutdownTimeout: time.Second}
	ctx := context.Background()

	bad := base
	bad.DatabaseURL = "::not a dsn::"
	assert.ErrorContains(t, run(ctx, bad, slog.New(slog.DiscardHandler)), "open database")

	bad = base
	bad.DefaultPolicy = "lenient"
	assert.ErrorContains(t, run(ctx, bad, slog.New(slog.DiscardHandler)), `default policy "lenient"`)

	bad = base
	bad.PolicyFiles = []string{"does-not-exist.yaml"}
	assert.ErrorContains(t, run(ctx, bad, slog.New(slog.DiscardHandler)), "load policies")

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	bad = base
	bad.Addr = taken.Addr().String()
	assert.ErrorContains(t, run(ctx, bad, slog.New(slog.DiscardHandler)), "TIERFLOW_API_ADDR")
}
