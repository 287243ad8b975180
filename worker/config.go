package main

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"

	"github.com/tierflow/tierflow/internal/temporalconn"

	"github.com/tierflow/tierflow/activities"
	"github.com/tierflow/tierflow/codec"
	"github.com/tierflow/tierflow/internal/secrets"
	"github.com/tierflow/tierflow/policyfile"
	"github.com/tierflow/tierflow/postgres"
)

// StopTimeout is how long a stopping worker lets in-flight activities finish before
// their contexts are cancelled. Kubernetes' terminationGracePeriodSeconds must be
// longer (deploy/k8s/worker.yaml uses 45s).
const StopTimeout = 20 * time.Second

// minSurveyKeyLen keeps survey links unforgeable (HMAC-SHA256 key material).
const minSurveyKeyLen = 16

// config is everything the worker reads from its environment, read once in main.
type config struct {
	// Temporal comes from the SDK's envconfig: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
	// TEMPORAL_API_KEY, TEMPORAL_TLS_*, or a profile in TEMPORAL_CONFIG_FILE.
	Temporal client.Options
	// DatabaseURL is the PostgreSQL DSN of the case records (DATABASE_URL).
	DatabaseURL string
	// DBLimits bound the PostgreSQL pool and every statement's run time
	// (TIERFLOW_DB_*, postgres.LimitsFromEnv).
	DBLimits postgres.Limits
	// SurveyKeys are the survey keys, newest first (TIERFLOW_SURVEY_KEYS, or
	// TIERFLOW_SURVEY_KEY as a list of one; the same list as the API's): the
	// first signs survey links.
	SurveyKeys [][]byte
	// PublicURL is the API's public base URL (TIERFLOW_PUBLIC_URL), for links in
	// emails: surveys, and the signed approve and reject links of approval requests.
	PublicURL string
	// TemporalUIURL is the Temporal UI's public base URL (TIERFLOW_TEMPORAL_UI_URL,
	// optional): staff emails link to the case's page there.
	TemporalUIURL string
	// MetricsAddr serves /metrics, /healthz and /readyz (TIERFLOW_METRICS_ADDR).
	MetricsAddr string
	// Pprof adds /debug/pprof/ to the metrics address (TIERFLOW_PPROF=1; off by
	// default; see internal/opsprof).
	Pprof bool
	// StopTimeout bounds the graceful stop (tests shorten it).
	StopTimeout time.Duration
	// Mail holds the mail settings (SENDGRID_API_KEY, TIERFLOW_MAIL_FROM, ...):
	// SendGrid when a key is set, else the dev mailbox, only with TIERFLOW_MAILBOX=true.
	Mail mailEnv
	// Mode says whether this is production (TIERFLOW_ENV), which refuses the dev
	// mailbox, dev and placeholder secrets and weak keys, and lists the
	// development-only settings run warns about.
	Mode secrets.Mode
	// CodecKeys encrypt every payload and failure the worker writes to Temporal
	// (TIERFLOW_CODEC_KEYS, the same list as the API's: id:base64key,..., newest
	// first encrypts, all decrypt); nil stores plaintext (development only).
	CodecKeys *codec.Keyring
	// MailerShards is how many Mailer workflows deliver the email outbox
	// (TIERFLOW_MAILER_SHARDS, default workflows.DefaultMailerShards).
	MailerShards int
	// OutboxRetention and WebhookRetention are how long delivered outbox batches
	// and settled webhook deliveries are kept (TIERFLOW_OUTBOX_RETENTION, default
	// 7 days; TIERFLOW_WEBHOOK_RETENTION, default 30 days).
	OutboxRetention  time.Duration
	WebhookRetention time.Duration
}

// loadConfig reads the environment through getenv (the Temporal settings through
// envconfig, from the process environment) and reports every problem at once.
func loadConfig(getenv func(string) string) (config, error) {
	var problems []error
	temporal, err := envconfig.LoadDefaultClientOptions()
	if err != nil {
		problems = append(problems, fmt.Errorf("temporal client settings: %w", err))
	}
	cfg := config{
		Temporal:    temporal,
		DatabaseURL: getenv("DATABASE_URL"),
		PublicURL:   strings.TrimRight(getenv("TIERFLOW_PUBLIC_URL"), "/"),
		// Staff emails link to the case in the Temporal UI when set.
		TemporalUIURL: strings.TrimRight(getenv("TIERFLOW_TEMPORAL_UI_URL"), "/"),
		MetricsAddr:   or(getenv("TIERFLOW_METRICS_ADDR"), ":9090"),
		StopTimeout:   StopTimeout,
	}
	if cfg.DatabaseURL == "" {
		problems = append(problems, errors.New("DATABASE_URL is not set (the PostgreSQL DSN of the case records)"))
	}
	if cfg.SurveyKeys, err = secrets.SurveyKeys(getenv, minSurveyKeyLen); err != nil {
		problems = append(problems, err)
	}
	if u, err := url.Parse(cfg.PublicURL); cfg.PublicURL == "" || err != nil || u.Scheme == "" || u.Host == "" {
		problems = append(problems, fmt.Errorf("TIERFLOW_PUBLIC_URL must be an absolute URL such as https://support.example.com, got %q", cfg.PublicURL))
	}
	if u, err := url.Parse(cfg.TemporalUIURL); cfg.TemporalUIURL != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
		problems = append(problems, fmt.Errorf("TIERFLOW_TEMPORAL_UI_URL must be an absolute http(s) URL such as https://temporal.example.com, got %q", cfg.TemporalUIURL))
	}
	// The policy travels in each case's workflow input, so the worker uses no policy
	// file; it still refuses to start with a broken one, so that a bad deploy of the
	// shared configuration stops here as well as at the API.
	if _, err := policyfile.LoadRegistry(policyfile.SplitPaths(getenv("TIERFLOW_POLICY_FILES"))...); err != nil {
		problems = append(problems, fmt.Errorf("TIERFLOW_POLICY_FILES: %w", err))
	}
	if cfg.Temporal.ConnectionOptions.GrpcCompression, err = temporalconn.Compression(getenv); err != nil {
		problems = append(problems, err)
	}
	if cfg.DBLimits, err = postgres.LimitsFromEnv(getenv); err != nil {
		problems = append(problems, err)
	}
	cfg.Mail = loadMailEnv(getenv)
	if err := cfg.Mail.check(); err != nil {
		problems = append(problems, err)
	}
	mode, err := secrets.CheckProduction(getenv, secrets.ProcessWorker)
	if err != nil {
		problems = append(problems, err)
	}
	cfg.Mode = mode
	if cfg.CodecKeys, err = codec.LoadKeyring(getenv); err != nil {
		problems = append(problems, err)
	}
	if cfg.MailerShards, err = mailerShards(getenv); err != nil {
		problems = append(problems, err)
	}
	if cfg.OutboxRetention, err = retentionFromEnv(getenv, "TIERFLOW_OUTBOX_RETENTION", activities.DefaultOutboxRetention); err != nil {
		problems = append(problems, err)
	}
	if cfg.WebhookRetention, err = retentionFromEnv(getenv, "TIERFLOW_WEBHOOK_RETENTION", activities.DefaultWebhookRetention); err != nil {
		problems = append(problems, err)
	}
	if v := getenv("TIERFLOW_PPROF"); v != "" {
		if cfg.Pprof, err = strconv.ParseBool(v); err != nil {
			problems = append(problems, fmt.Errorf("TIERFLOW_PPROF must be 1 or 0 (true or false), got %q", v))
		}
	}
	if err := errors.Join(problems...); err != nil {
		return config{}, fmt.Errorf("configuration: %w", err)
	}
	return cfg, nil
}

// temporalTarget describes where the client points, for error messages.
func (c config) temporalTarget() string {
	hostPort := c.Temporal.HostPort
	if hostPort == "" {
		hostPort = client.DefaultHostPort
	}
	ns := c.Temporal.Namespace
	if ns == "" {
		ns = client.DefaultNamespace
	}
	return hostPort + " (namespace " + ns + ")"
}

func or(v, fallback string) string {
	if v == "" {
		return fallback
	}
	return v
}
