// Package postgres keeps the durable record of cases in PostgreSQL: the append-only
// event log, the current-state projection used by lists and reports, survey answers,
// the notification ledger that makes every email go out at most once, the staff
// directory and the dev mailbox.
//
// Temporal history expires after the namespace's retention period; this record does
// not. Every write is safe to repeat: events are keyed by (case, seq), the projection
// only moves forward, ledger keys are unique.
//
// Errors are *tierflow.Error, classified from the SQLSTATE of the failure (a refused
// value is CodeInvalid, a lost connection CodeUnavailable).
package postgres

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tierflow/tierflow"
)

// Compile-time checks that Store implements the domain's ports.
var (
	_ tierflow.Store   = (*Store)(nil)
	_ tierflow.Mailbox = (*Store)(nil)
)

// Store is the PostgreSQL implementation of tierflow.Store and tierflow.Mailbox.
// It is safe for concurrent use.
type Store struct {
	pool   *pgxpool.Pool
	logger *slog.Logger
}

// Open prepares a connection pool for dsn (a postgres:// URL or key=value string)
// with DefaultLimits. It does not connect: Ping or Migrate do, so a process can
// start while the database is briefly down.
func Open(ctx context.Context, dsn string, logger *slog.Logger) (*Store, error) {
	return OpenWithLimits(ctx, dsn, DefaultLimits(), logger)
}

// OpenWithLimits is Open with the pool limits and statement timeout of limits
// (LimitsFromEnv reads them; the zero Limits is DefaultLimits); they replace the
// DSN's pool_* and statement_timeout.
func OpenWithLimits(ctx context.Context, dsn string, limits Limits, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if limits == (Limits{}) {
		limits = DefaultLimits()
	}
	if err := limits.Validate(); err != nil {
		return nil, &tierflow.Error{Code: tierflow.CodeInvalid, Message: "invalid database limits", Err: err}
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The parse error may echo the DSN, password included: keep it out of Message.
		return nil, &tierflow.Error{Code: tierflow.CodeInvalid, Message: "invalid database URL", Err: err}
	}
	limits.apply(cfg)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open pool: %w", mapError(err))
	}
	return &Store{pool: pool, logger: logger}, nil
}

// NewFromPool wraps an existing pool (the caller keeps ownership of its lifetime
// unless it calls Close).
func NewFromPool(pool *pgxpool.Pool, logger *slog.Logger) *Store {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Store{pool: pool, logger: logger}
}

// Pool exposes the connection pool (for health checks and tools).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close closes every connection of the pool.
func (s *Store) Close() { s.pool.Close() }

// Ping checks that the database answers; CodeUnavailable when it does not.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping database: %w", mapError(err))
	}
	return nil
}
