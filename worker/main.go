// Command worker runs Tierflow's case workflows and their activities: it polls the
// tierflow-cases task queue of Temporal, keeps the case records in PostgreSQL
// (migrating the schema at start) and sends email through SendGrid, or keeps it
// in the dev mailbox.
//
// Configuration is read once from the environment (see config.go); logs are JSON
// on stderr; SDK metrics, /healthz and /readyz are served on TIERFLOW_METRICS_ADDR.
// SIGINT or SIGTERM stops polling and lets in-flight activities finish (up to
// StopTimeout) before the process exits.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel()}))
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		logger.Error("worker cannot start", "error", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, logger); err != nil {
		logger.Error("worker stopped with an error", "error", err)
		stop()
		os.Exit(1)
	}
	logger.Info("worker stopped")
}

// logLevel reads TIERFLOW_LOG_LEVEL (debug, info, warn, error); info by default.
func logLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(os.Getenv("TIERFLOW_LOG_LEVEL"))); err != nil {
		return slog.LevelInfo
	}
	return l
}
