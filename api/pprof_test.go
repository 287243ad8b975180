package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The metrics listener serves the profiles only with TIERFLOW_PPROF; the public
// listener never does.
func TestMetricsListenerServesPprofOnlyWhenAsked(t *testing.T) {
	for _, withPprof := range []bool{false, true} {
		t.Run(map[bool]string{false: "off by default", true: "on with TIERFLOW_PPROF"}[withPprof], func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			type addrs struct{ api, metrics net.Addr }
			listening := make(chan addrs, 1)
			cfg := config{Addr: "127.0.0.1:0", MetricsAddr: "127.0.0.1:0", Pprof: withPprof, ShutdownTimeout: time.Second,
				OnListen: func(api, metrics net.Addr) { listening <- addrs{api, metrics} }}
			done := make(chan error, 1)
			go func() { done <- serve(ctx, cfg, newServer(Deps{}), slog.New(slog.DiscardHandler)) }()
			var at addrs
			select {
			case at = <-listening:
			case err := <-done:
				t.Fatalf("serve stopped early: %v", err)
			}
			metrics, public := "http://"+at.metrics.String(), "http://"+at.api.String()

			assert.Equal(t, http.StatusOK, statusOf(t, metrics+"/metrics"))
			assert.Equal(t, http.StatusNotFound, statusOf(t, public+"/debug/pprof/"), "never on the public port")
			if withPprof {
				assert.Equal(t, http.StatusOK, statusOf(t, metrics+"/debug/pprof/"))
				assert.Equal(t, http.StatusOK, statusOf(t, metrics+"/debug/pprof/heap"))
			} else {
				assert.Equal(t, http.StatusNotFound, statusOf(t, metrics+"/debug/pprof/"))
				assert.Equal(t, http.StatusNotFound, statusOf(t, metrics+"/debug/pprof/profile?seconds=1"))
			}
			cancel()
			require.NoError(t, <-done)
		})
	}
}

func statusOf(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res.StatusCode
}

func TestLoadConfigReadsTIERFLOW_PPROF(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "postgres://localhost/tierflow", "TIERFLOW_SURVEY_KEY": "0123456789abcdef",
		"TIERFLOW_DEV_TOKENS": "true"}
	load := func() (config, error) { return loadConfig(func(k string) string { return env[k] }) }
	cfg, err := load()
	require.NoError(t, err)
	assert.False(t, cfg.Pprof, "off by default")

	env["TIERFLOW_PPROF"] = "1"
	cfg, err = load()
	require.NoError(t, err)
	assert.True(t, cfg.Pprof)

	env["TIERFLOW_PPROF"] = "sometimes"
	_, err = load()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "TIERFLOW_PPROF")
}
