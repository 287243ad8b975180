package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/uber-go/tally/v4"
	"github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"

	"github.com/tierflow/tierflow/internal/opsprof"
)

// newMetrics returns the SDK's metrics handler reporting to a Prometheus registry
// of its own, the scrape handler, and a closer that flushes the scope.
func newMetrics() (client.MetricsHandler, http.Handler, io.Closer) {
	// A registry of our own: tests run several workers in one process.
	registry := prom.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reporter := prometheus.NewReporter(prometheus.Options{Registerer: registry, Gatherer: registry})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       prometheus.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
		// No prefix: the SDK's temporal_* names are what Temporal's dashboards expect.
	}, time.Second)
	scope = sdktally.NewPrometheusNamingScope(scope)
	return sdktally.NewMetricsHandler(scope), reporter.HTTPHandler(), closer
}

// readiness answers /readyz: the worker has started polling and its dependencies
// answer now.
type readiness struct {
	started atomic.Bool
	checks  []func(context.Context) error
}

func (r *readiness) check(ctx context.Context) error {
	if !r.started.Load() {
		return errors.New("worker not started")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	for _, check := range r.checks {
		if err := check(ctx); err != nil {
			return err
		}
	}
	return nil
}

// opsServer serves /metrics, /healthz (the process is alive) and /readyz on the
// metrics address, never on a public one; with TIERFLOW_PPROF, /debug/pprof/ too
// (see internal/opsprof for why it is off by default).
type opsServer struct {
	srv    *http.Server
	ln     net.Listener
	logger *slog.Logger
	done   chan struct{}
}

func startOpsServer(addr string, metrics http.Handler, ready *readiness, withPprof bool, logger *slog.Logger) (*opsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listener on %s (TIERFLOW_METRICS_ADDR): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := ready.check(r.Context()); err != nil {
			logger.Warn("not ready", "error", err)
			http.Error(w, "not ready\n", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	if withPprof {
		opsprof.Handle(mux)
		logger.Info("serving pprof profiles on the ops address", "path", "/debug/pprof/", "setting", "TIERFLOW_PPROF")
	}
	o := &opsServer{
		srv:    &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
		ln:     ln,
		logger: logger,
		done:   make(chan struct{}),
	}
	go func() {
		defer close(o.done)
		if err := o.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics server", "error", err)
		}
	}()
	logger.Info("serving metrics and probes", "addr", ln.Addr().String())
	return o, nil
}

// Addr is the address the server listens on (useful with port 0).
func (o *opsServer) Addr() string { return o.ln.Addr().String() }

func (o *opsServer) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = o.srv.Shutdown(ctx)
	<-o.done
}
