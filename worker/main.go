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
	"runtime/debug"
	"syscall"
)

func main() {
	setGCPercent(os.Getenv)
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

// defaultGCPercent is the worker's garbage collection target (GOGC) unless the
// environment sets GOGC. Most of a worker's live heap is its cache of running
// cases (about 37 KiB each), which every collection scans again: at Go's
// default of 100 the collector
// took 17% of the worker's CPU in the bench's storm of 5,000 escalations (issue
// 10). At 200 it runs half as often; the heap may grow to three times the live
// heap instead of two before a collection (the bench reports the worker's
// memory per cached case).
const defaultGCPercent = 200

// setGCPercent applies defaultGCPercent when GOGC is not set (the runtime has
// read GOGC, or GOMEMLIMIT, itself); it returns the target in force.
func setGCPercent(getenv func(string) string) int {
	if getenv("GOGC") != "" {
		current := debug.SetGCPercent(100)
		debug.SetGCPercent(current)
		return current
	}
	debug.SetGCPercent(defaultGCPercent)
	return defaultGCPercent
}
