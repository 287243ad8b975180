package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/tierflow/tierflow/codec"
	"github.com/tierflow/tierflow/internal/egress"
	"github.com/tierflow/tierflow/internal/opsprof"
	"github.com/tierflow/tierflow/internal/updateauth"
	"github.com/tierflow/tierflow/postgres"
)

// run serves the API until ctx ends, then stops gracefully: it stops accepting
// connections and lets requests in flight finish within cfg.ShutdownTimeout.
func run(ctx context.Context, cfg config, logger *slog.Logger) error {
	cfg.Mode.WarnDevSettings(logger)
	store, err := postgres.OpenWithLimits(ctx, cfg.DatabaseURL, cfg.DBLimits, logger.With(slog.String("component", "postgres")))
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer store.Close()

	policies, err := loadPolicies(cfg.PolicyFiles)
	if err != nil {
		return fmt.Errorf("load policies: %w", err)
	}
	if _, ok := policies.Policy(cfg.DefaultPolicy); !ok {
		return fmt.Errorf("the default policy %q is not among the loaded policies", cfg.DefaultPolicy)
	}

	opts := cfg.Temporal
	opts.Logger = sdklog.NewStructuredLogger(logger.With(slog.String("component", "temporal")))
	// Payloads and failures are encrypted with TIERFLOW_CODEC_KEYS (codec/).
	codec.ConfigureClient(&opts, cfg.CodecKeys)
	// Every Update is signed: the worker refuses Updates that do not come from the API.
	updateSigner, err := updateauth.NewSigner(cfg.SurveyKeys)
	if err != nil {
		return fmt.Errorf("update signing key: %w", err)
	}
	opts.Interceptors = append(opts.Interceptors, updateauth.ClientInterceptor(updateSigner))
	// A lazy client connects on first use, so the API starts (and /readyz says why it
	// is not ready) while Temporal restarts.
	tc, err := client.NewLazyClient(opts)
	if err != nil {
		return fmt.Errorf("temporal client: %w", err)
	}
	defer tc.Close()
	cases := newTemporalCases(tc, opts.DataConverter, store, logger)
	cases.codeLevel = cfg.CaseCodeLevel

	deps := Deps{
		Cases: cases, Records: store, Simulation: store, Policies: policies, DefaultPolicy: cfg.DefaultPolicy,
		Auth: NewAuthenticator(cfg.Tokens), SurveyKeys: cfg.SurveyKeys, Logger: logger,
		Ready:   []ReadyCheck{{Name: "temporal", Check: cases.Ping}, {Name: "postgres", Check: store.Ping}},
		Metrics: NewMetrics(newProcessRegistry()),
	}
	deps.RateLimits, deps.ReadyCacheTTL = cfg.RateLimits, readyCacheTTL
	deps.Connectors = cfg.Connectors
	deps.CaseFinder = cases // bulk policy migration (migrate.go)
	deps.Migrations = cases
	deps.Mailbox = devMailbox(cfg, store)
	deps.ApprovalLinks = store // the single use of approval links (approvals.go)
	// Outbound webhooks: secrets sealed with keys derived from the codec keys.
	if deps.Webhooks, err = store.Webhooks(cfg.CodecKeys); err != nil {
		return fmt.Errorf("webhook store: %w", err)
	}
	deps.Egress = egress.Mode{Production: cfg.Mode.Production}
	if cfg.CodecKeys != nil {
		deps.Codec = NewCodecEndpoint(cfg.CodecKeys, cfg.CodecOrigins)
	}
	srv := newServer(deps)
	return serve(ctx, cfg, srv, logger)
}

// serve runs the API (and metrics) listeners until ctx ends.
func serve(ctx context.Context, cfg config, srv *server, logger *slog.Logger) error {
	apiLn, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (TIERFLOW_API_ADDR): %w", cfg.Addr, err)
	}
	servers := []*http.Server{newHTTPServer(srv.routes(), logger)}
	listeners := []net.Listener{apiLn}
	var metricsAddr net.Addr
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			_ = apiLn.Close()
			return fmt.Errorf("listen on %s (TIERFLOW_METRICS_ADDR): %w", cfg.MetricsAddr, err)
		}
		metrics := srv.metricsHandler()
		if cfg.Pprof {
			metrics = opsprof.Wrap(metrics)
		}
		servers = append(servers, newHTTPServer(metrics, logger))
		listeners = append(listeners, mln)
		metricsAddr = mln.Addr()
	}
	logger.Info("tierflow API listening", slog.String("addr", apiLn.Addr().String()),
		slog.String("public_url", cfg.PublicURL), slog.Any("metrics_addr", metricsAddr),
		slog.Int("tokens", len(cfg.Tokens)), slog.Bool("dev_mailbox", srv.Mailbox != nil),
		slog.Bool("codec_endpoint", srv.Codec != nil), slog.Any("codec_cors_origins", cfg.CodecOrigins))
	if cfg.OnListen != nil {
		cfg.OnListen(apiLn.Addr(), metricsAddr)
	}

	errc := make(chan error, len(servers))
	for i, s := range servers {
		go func() { errc <- s.Serve(listeners[i]) }()
	}
	select {
	case err := <-errc:
		for _, s := range servers {
			_ = s.Close()
		}
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("tierflow API stopping")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	var errs []error
	for _, s := range servers {
		if err := s.Shutdown(shutdownCtx); err != nil {
			errs = append(errs, err)
		}
	}
	for range servers {
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("tierflow API stopped")
	return nil
}

func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}
