// Command api is Tierflow's HTTP API: CRMs open cases and relay customer events,
// staff decide, dashboards read, customers answer surveys. Every case is a Temporal
// workflow; lists, timelines and reports come from PostgreSQL.
//
// Configuration (environment, read once at start):
//
//	TIERFLOW_API_ADDR        listen address of the API (default :8080)
//	TIERFLOW_METRICS_ADDR    listen address of GET /metrics, kept off the public port
//	                         (default :9091; "off" disables it)
//	TIERFLOW_PPROF           1 adds /debug/pprof/ to the metrics listener (default off)
//	DATABASE_URL             PostgreSQL DSN of the case records (required)
//	TEMPORAL_*               Temporal client settings, read by the SDK's envconfig
//	                         (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, profiles)
//	TIERFLOW_TEMPORAL_GRPC_COMPRESSION  none (default) or gzip: compression of requests to Temporal
//	TIERFLOW_POLICY_FILES    comma-separated policy files (default: the embedded policies)
//	TIERFLOW_DEFAULT_POLICY  policy of open requests that name none (default standard)
//	TIERFLOW_SURVEY_KEYS     comma-separated survey link keys, newest first (required, 16+ chars
//	                         each; the worker signs with the first, the API verifies with all)
//	TIERFLOW_SURVEY_KEY      the single survey key of earlier releases (a list of one)
//	TIERFLOW_PUBLIC_URL      public base URL of the API (informational)
//	TIERFLOW_TOKENS_FILE     JSON or YAML list of {token_sha256, id, name, role, tier, departments,
//	                         allowed_sources} (agents and specialists need departments;
//	                         allowed_sources scopes an integration to its CRM sources)
//	TIERFLOW_TOKENS          the same list inline
//	TIERFLOW_DEV_TOKENS      true adds the documented dev tokens (dev-integration, dev-agent,
//	                         dev-specialist, dev-supervisor, dev-executive, dev-viewer), whose
//	                         principals are dev:integration, dev:agent, ... (never the token)
//	TIERFLOW_MAILBOX         true mounts the dev mailbox at /dev/mailbox/ (authenticated: a bearer
//	                         token, or in a browser HTTP Basic with the token as the password)
//	TIERFLOW_ENV             production refuses dev tokens, the dev mailbox, the documented dev
//	                         keys, placeholders and weak keys (secrets.CheckProduction); outside
//	                         production every development-only setting logs a loud warning
//	TIERFLOW_CODEC_KEYS      payload encryption keys shared with the worker: id:base64key,...
//	                         (AES-256, newest first encrypts, all decrypt; see codec/);
//	                         they also serve Temporal's remote codec protocol at /codec/
//	TIERFLOW_CODEC_CORS_ORIGINS  Temporal UI origins that may call /codec/ from a browser
//	                         (comma-separated, e.g. https://temporal.example.com)
//	TIERFLOW_ZENDESK_SECRET  the signing secret of the Zendesk webhook; turns on
//	                         POST /v1/connectors/zendesk (dev: dev-zendesk-secret)
//	TIERFLOW_ZENDESK_DEPARTMENTS  departments a Zendesk group may name (comma-separated)
//	TIERFLOW_CONNECTOR_SECRETS    Standard Webhooks secrets of POST /v1/connectors/generic/{source}:
//	                         source:whsec_<base64>,... (a source listed twice: both verify)
//	TIERFLOW_CASE_CODE_LEVEL  the code level new cases start at (workflows.CaseInput.Code;
//	                         0 to workflows.CurrentCode, default CurrentCode): 0 while workers
//	                         from a release without code levels roll (deploy/RUNBOOK.md §5)
//
// Rate limits (token buckets; 429 with Retry-After and problem+json over them). Each
// takes requests a second ("off": none); its _BURST (default: 2 seconds' worth, at
// least 10) the requests allowed at once:
//
//	TIERFLOW_RATE_LIMIT_PRINCIPAL      per authenticated principal (default 50, burst 100)
//	TIERFLOW_RATE_LIMIT_SURVEY         survey endpoints, per client address (default 1, burst 10)
//	TIERFLOW_RATE_LIMIT_AUTH_FAILURES  failed authentications (401) per client address; over
//	                                   it the address gets 429 before its token is checked
//	                                   (default 0.2, burst 10)
//	TIERFLOW_RATE_LIMIT_KEYS           principals or addresses each limit remembers (default 10000)
//	TIERFLOW_TRUSTED_PROXIES           comma-separated CIDR blocks or addresses of the reverse
//	                                   proxies whose X-Forwarded-For names the client; unset:
//	                                   the connection's peer is the client (the header is ignored)
//
// PostgreSQL pool (postgres.LimitsFromEnv): TIERFLOW_DB_MAX_CONNS (10), TIERFLOW_DB_MIN_CONNS
// (0), TIERFLOW_DB_MAX_CONN_LIFETIME (30m), TIERFLOW_DB_MAX_CONN_IDLE_TIME (5m),
// TIERFLOW_DB_HEALTH_CHECK_PERIOD (30s), TIERFLOW_DB_STATEMENT_TIMEOUT (30s; "off").
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"

	"github.com/tierflow/tierflow/internal/temporalconn"

	"github.com/tierflow/tierflow/codec"
	"github.com/tierflow/tierflow/internal/secrets"
	"github.com/tierflow/tierflow/policyfile"
	"github.com/tierflow/tierflow/postgres"
)

// minSurveyKeyLen keeps survey links unforgeable.
const minSurveyKeyLen = 16

// config is the API's configuration.
type config struct {
	Addr          string
	MetricsAddr   string // "" disables the metrics listener
	DatabaseURL   string
	Temporal      client.Options
	PolicyFiles   []string
	DefaultPolicy string
	SurveyKeys    [][]byte // newest first; all verify
	PublicURL     string
	Tokens        []TokenEntry
	Mailbox       bool
	// Mode says whether this is production and lists the development-only
	// settings run warns about.
	Mode secrets.Mode
	// RateLimits are the token buckets per principal and per client address.
	RateLimits RateLimits
	// DBLimits bound the PostgreSQL pool and every statement's run time.
	DBLimits postgres.Limits
	// CodecKeys encrypt payloads (nil: plaintext, development only); CodecOrigins
	// may call the codec endpoint from a browser.
	CodecKeys    *codec.Keyring
	CodecOrigins []string
	// Connectors verify the CRMs' signed webhooks.
	Connectors Connectors
	// CaseCodeLevel is the code level new cases start at (TIERFLOW_CASE_CODE_LEVEL;
	// loadConfig defaults it to workflows.CurrentCode).
	CaseCodeLevel int
	// ShutdownTimeout bounds the graceful stop.
	ShutdownTimeout time.Duration
	// Pprof adds /debug/pprof/ to the metrics listener (TIERFLOW_PPROF=1; off
	// by default; see internal/opsprof).
	Pprof bool
	// OnListen, when set, is told the bound addresses (tests use port 0).
	OnListen func(api, metrics net.Addr)
}

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		logger.Error("cannot start the API", slog.String("error", err.Error()))
		os.Exit(2)
	}
	if err := run(ctx, cfg, logger); err != nil {
		logger.Error("the API stopped with an error", slog.String("error", err.Error()))
		os.Exit(1)
	}
}

// loadConfig reads the environment through getenv and reports every problem at once.
func loadConfig(getenv func(string) string) (config, error) {
	var problems []error
	temporal, err := envconfig.LoadDefaultClientOptions()
	if err != nil {
		problems = append(problems, fmt.Errorf("temporal client settings: %w", err))
	}
	cfg := config{
		Addr:            or(getenv("TIERFLOW_API_ADDR"), ":8080"),
		MetricsAddr:     or(getenv("TIERFLOW_METRICS_ADDR"), ":9091"),
		DatabaseURL:     getenv("DATABASE_URL"),
		Temporal:        temporal,
		DefaultPolicy:   or(getenv("TIERFLOW_DEFAULT_POLICY"), "standard"),
		PublicURL:       strings.TrimRight(getenv("TIERFLOW_PUBLIC_URL"), "/"),
		ShutdownTimeout: 15 * time.Second,
	}
	if cfg.Temporal.ConnectionOptions.GrpcCompression, err = temporalconn.Compression(getenv); err != nil {
		problems = append(problems, err)
	}
	if cfg.MetricsAddr == "off" {
		cfg.MetricsAddr = ""
	}
	if v := getenv("TIERFLOW_PPROF"); v != "" {
		if cfg.Pprof, err = strconv.ParseBool(v); err != nil {
			problems = append(problems, fmt.Errorf("TIERFLOW_PPROF must be 1 or 0 (true or false), got %q", v))
		}
	}
	cfg.PolicyFiles = policyfile.SplitPaths(getenv("TIERFLOW_POLICY_FILES"))
	if cfg.DatabaseURL == "" {
		problems = append(problems, errors.New("DATABASE_URL is not set (the PostgreSQL DSN of the case records)"))
	}
	if cfg.SurveyKeys, err = secrets.SurveyKeys(getenv, minSurveyKeyLen); err != nil {
		problems = append(problems, err)
	}
	if cfg.PublicURL != "" {
		if u, err := url.Parse(cfg.PublicURL); err != nil || u.Scheme == "" || u.Host == "" {
			problems = append(problems, fmt.Errorf("TIERFLOW_PUBLIC_URL must be an absolute URL, got %q", cfg.PublicURL))
		}
	}
	flag := func(name string) bool {
		v := getenv(name)
		b, err := strconv.ParseBool(or(v, "false"))
		if err != nil {
			problems = append(problems, fmt.Errorf("%s must be true or false, got %q", name, v))
		}
		return b
	}
	cfg.Mailbox = flag("TIERFLOW_MAILBOX")
	if path := getenv("TIERFLOW_TOKENS_FILE"); path != "" {
		tokens, err := LoadTokensFile(path)
		if err != nil {
			problems = append(problems, fmt.Errorf("TIERFLOW_TOKENS_FILE: %w", err))
		}
		cfg.Tokens = append(cfg.Tokens, tokens...)
	}
	if inline := getenv("TIERFLOW_TOKENS"); inline != "" {
		tokens, err := ParseTokens([]byte(inline))
		if err != nil {
			problems = append(problems, fmt.Errorf("TIERFLOW_TOKENS: %w", err))
		}
		cfg.Tokens = append(cfg.Tokens, tokens...)
	}
	if flag("TIERFLOW_DEV_TOKENS") {
		cfg.Tokens = append(cfg.Tokens, DevTokens()...)
	}
	if len(cfg.Tokens) == 0 && getenv("TIERFLOW_TOKENS_FILE") == "" && getenv("TIERFLOW_TOKENS") == "" {
		problems = append(problems, errors.New("no API tokens: set TIERFLOW_TOKENS_FILE or TIERFLOW_TOKENS (or TIERFLOW_DEV_TOKENS=true in development)"))
	}
	mode, err := secrets.CheckProduction(getenv, secrets.ProcessAPI)
	if err != nil {
		problems = append(problems, err)
	}
	cfg.Mode = mode
	production, _ := secrets.Production(getenv) // an invalid mode is reported above
	connectors, connectorProblems := loadConnectors(getenv, production)
	cfg.Connectors = connectors
	problems = append(problems, connectorProblems...)
	if cfg.CaseCodeLevel, err = loadCaseCodeLevel(getenv); err != nil {
		problems = append(problems, err)
	}
	limits, limitProblems := loadRateLimits(getenv)
	cfg.RateLimits = limits
	problems = append(problems, limitProblems...)
	if cfg.DBLimits, err = postgres.LimitsFromEnv(getenv); err != nil {
		problems = append(problems, err)
	}
	// Payload encryption (codec/) and the UI origins of its endpoint.
	if cfg.CodecKeys, err = codec.LoadKeyring(getenv); err != nil {
		problems = append(problems, err)
	}
	if cfg.CodecOrigins, err = codec.ParseOrigins(getenv("TIERFLOW_CODEC_CORS_ORIGINS")); err != nil {
		problems = append(problems, fmt.Errorf("TIERFLOW_CODEC_CORS_ORIGINS: %w", err))
	}
	if len(cfg.CodecOrigins) > 0 && getenv(codec.EnvKeys) == "" {
		problems = append(problems, errors.New("TIERFLOW_CODEC_CORS_ORIGINS is set but TIERFLOW_CODEC_KEYS is not: there is no codec endpoint to call"))
	}
	if err := errors.Join(problems...); err != nil {
		return config{}, fmt.Errorf("configuration: %w", err)
	}
	return cfg, nil
}

func or(v, fallback string) string {
	if v == "" {
		return fallback
	}
	return v
}
