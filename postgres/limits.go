package postgres

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Limits bound what one process may take from PostgreSQL: how many connections its
// pool holds and for how long, and how long the server lets one statement run.
// A runaway query (a report over years of cases, a lock wait) is cancelled by the
// server at StatementTimeout instead of holding a connection until the pool is
// exhausted.
type Limits struct {
	// MaxConns caps the pool; callers beyond it wait for a free connection.
	MaxConns int32
	// MinConns connections are kept open even when idle (0: connect on demand).
	MinConns int32
	// MaxConnLifetime closes a connection this long after it was opened.
	MaxConnLifetime time.Duration
	// MaxConnIdleTime closes a connection idle this long (down to MinConns).
	MaxConnIdleTime time.Duration
	// HealthCheckPeriod is how often idle connections are checked.
	HealthCheckPeriod time.Duration
	// StatementTimeout is every session's statement_timeout (millisecond precision);
	// 0 disables it. Migrate lifts it for its own session (DDL and its lock wait).
	StatementTimeout time.Duration
}

// DefaultLimits suit one API or worker process against a PostgreSQL with the default
// max_connections (100): two APIs and two workers hold at most 40 connections.
func DefaultLimits() Limits {
	return Limits{
		MaxConns:          10,
		MinConns:          0,
		MaxConnLifetime:   30 * time.Minute,
		MaxConnIdleTime:   5 * time.Minute,
		HealthCheckPeriod: 30 * time.Second,
		StatementTimeout:  30 * time.Second,
	}
}

// The environment variables LimitsFromEnv reads.
const (
	EnvMaxConns          = "TIERFLOW_DB_MAX_CONNS"
	EnvMinConns          = "TIERFLOW_DB_MIN_CONNS"
	EnvMaxConnLifetime   = "TIERFLOW_DB_MAX_CONN_LIFETIME"
	EnvMaxConnIdleTime   = "TIERFLOW_DB_MAX_CONN_IDLE_TIME"
	EnvHealthCheckPeriod = "TIERFLOW_DB_HEALTH_CHECK_PERIOD"
	EnvStatementTimeout  = "TIERFLOW_DB_STATEMENT_TIMEOUT"
)

// LimitsFromEnv reads the TIERFLOW_DB_* variables through getenv over DefaultLimits:
// counts are integers, durations Go durations ("30s", "5m"); the statement timeout
// also takes "0" or "off". They replace any pool_* or statement_timeout parameter of
// DATABASE_URL. Every problem is reported at once.
func LimitsFromEnv(getenv func(string) string) (Limits, error) {
	l := DefaultLimits()
	var problems []error
	count := func(name string, dst *int32) {
		if v := getenv(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil {
				problems = append(problems, fmt.Errorf("%s must be an integer, got %q", name, v))
				return
			}
			*dst = int32(n)
		}
	}
	duration := func(name string, dst *time.Duration, offAllowed bool) {
		v := getenv(name)
		if v == "" {
			return
		}
		if offAllowed && (v == "off" || v == "0") {
			*dst = 0
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s must be a duration such as 30s, got %q", name, v))
			return
		}
		*dst = d
	}
	count(EnvMaxConns, &l.MaxConns)
	count(EnvMinConns, &l.MinConns)
	duration(EnvMaxConnLifetime, &l.MaxConnLifetime, false)
	duration(EnvMaxConnIdleTime, &l.MaxConnIdleTime, false)
	duration(EnvHealthCheckPeriod, &l.HealthCheckPeriod, false)
	duration(EnvStatementTimeout, &l.StatementTimeout, true)
	if err := l.Validate(); err != nil {
		problems = append(problems, err)
	}
	if err := errors.Join(problems...); err != nil {
		return Limits{}, err
	}
	return l, nil
}

// Validate reports limits the pool cannot run with.
func (l Limits) Validate() error {
	var problems []string
	if l.MaxConns < 1 {
		problems = append(problems, fmt.Sprintf("%s must be at least 1, got %d", EnvMaxConns, l.MaxConns))
	}
	if l.MinConns < 0 || l.MinConns > l.MaxConns {
		problems = append(problems, fmt.Sprintf("%s must be between 0 and %s (%d), got %d", EnvMinConns, EnvMaxConns, l.MaxConns, l.MinConns))
	}
	for _, d := range []struct {
		name  string
		value time.Duration
	}{{EnvMaxConnLifetime, l.MaxConnLifetime}, {EnvMaxConnIdleTime, l.MaxConnIdleTime}, {EnvHealthCheckPeriod, l.HealthCheckPeriod}} {
		if d.value <= 0 {
			problems = append(problems, fmt.Sprintf("%s must be positive, got %s", d.name, d.value))
		}
	}
	if l.StatementTimeout < 0 || (l.StatementTimeout > 0 && l.StatementTimeout < time.Millisecond) {
		problems = append(problems, fmt.Sprintf("%s must be off or at least 1ms, got %s", EnvStatementTimeout, l.StatementTimeout))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// apply sets the limits on a parsed pool configuration. statement_timeout travels as
// a startup parameter, so every connection of the pool has it from its first
// statement and RESET returns to it.
func (l Limits) apply(cfg *pgxpool.Config) {
	cfg.MaxConns = l.MaxConns
	cfg.MinConns = l.MinConns
	cfg.MaxConnLifetime = l.MaxConnLifetime
	cfg.MaxConnIdleTime = l.MaxConnIdleTime
	cfg.HealthCheckPeriod = l.HealthCheckPeriod
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(l.StatementTimeout.Milliseconds(), 10)
}
