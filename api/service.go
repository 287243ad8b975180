package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/internal/egress"
	"github.com/tierflow/tierflow/simulate"
)

// OpenCommand is everything needed to start a case workflow.
type OpenCommand struct {
	CaseID   string
	Request  tierflow.OpenCaseRequest
	Policy   tierflow.Policy
	OpenedBy tierflow.Principal
	// Fingerprint is the hex sha256 of the request's canonical JSON; the workflow
	// keeps it (memo request_sha256) so a repeated open can be told from a different one.
	Fingerprint string
}

// CaseService is what the API asks of the case workflows (Temporal). Every error is a
// *tierflow.Error: CodeNotFound when the workflow does not exist (or its history
// expired), CodeConflict/CodeForbidden/CodeInvalid when the workflow's validator
// rejects a message, CodeUnavailable when Temporal or the workers cannot answer in time.
type CaseService interface {
	// Open starts the case workflow. created is false when a workflow with the same
	// ID already exists and was started with the same fingerprint; a different
	// fingerprint is CodeConflict.
	Open(ctx context.Context, cmd OpenCommand) (view tierflow.CaseView, created bool, err error)
	// Get returns the live case from the workflow's query.
	Get(ctx context.Context, caseID string) (tierflow.CaseView, error)
	// Decide applies one decision through the validated Update and returns the case after it.
	Decide(ctx context.Context, caseID string, d tierflow.Decision) (tierflow.CaseView, error)
	// CustomerEvent reports a customer event; it returns once the workflow applied it
	// (a rejection is an error like a decision's).
	CustomerEvent(ctx context.Context, caseID string, e tierflow.CustomerEvent) error
	// AnswerSurvey records the customer's survey answer.
	AnswerSurvey(ctx context.Context, caseID string, r tierflow.SurveyResponse) (tierflow.CaseView, error)
	// Ping reports whether Temporal answers.
	Ping(ctx context.Context) error
}

// PolicyRegistry finds the policies cases may pin, by name.
type PolicyRegistry interface {
	Policy(name string) (tierflow.Policy, bool)
}

// PolicyFunc adapts a function to PolicyRegistry.
type PolicyFunc func(name string) (tierflow.Policy, bool)

// Policy implements PolicyRegistry.
func (f PolicyFunc) Policy(name string) (tierflow.Policy, bool) { return f(name) }

// ReadyCheck is one dependency /readyz checks.
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

// Deps are the server's collaborators; main wires the real ones, tests hand-written fakes.
type Deps struct {
	Cases    CaseService
	Records  tierflow.CaseReader
	Policies PolicyRegistry
	// DefaultPolicy is used when an open request names none.
	DefaultPolicy string
	Auth          *Authenticator
	// SurveyKeys verify survey links, newest first (every key verifies), and the
	// approval links signed with keys derived from them.
	SurveyKeys [][]byte
	// ApprovalLinks records the single use of approval links (nil: no
	// /v1/approvals routes).
	ApprovalLinks ApprovalLinkStore
	// Mailbox, when set, is mounted at /dev/mailbox/ for authenticated principals
	// (dev only: never in production).
	Mailbox http.Handler
	// Codec, when set, serves the remote codec endpoint at /codec/ (operators only).
	Codec   *CodecEndpoint
	Ready   []ReadyCheck
	Logger  *slog.Logger
	Metrics *Metrics
	// Now is the clock (survey token expiry); time.Now when nil.
	Now func() time.Time
	// UpdateTimeout bounds a decision or survey Update; 10s when zero.
	UpdateTimeout time.Duration
	// RateLimits are the token buckets per principal and per client address; the
	// zero value limits nothing (main passes the configured ones).
	RateLimits RateLimits
	// Webhooks keeps the outbound webhook subscriptions (nil: no /v1/webhooks
	// routes); Egress judges their URLs (production: https and public addresses
	// only), resolving names with Resolver (nil: the system's).
	Webhooks tierflow.WebhookStore
	Egress   egress.Mode
	Resolver egress.Resolver
	// ReadyCacheTTL is how long /readyz answers from its last check, so that a flood
	// of probes does not become a flood of checks; zero checks on every call (main
	// passes readyCacheTTL).
	ReadyCacheTTL time.Duration
	// Connectors verify the CRMs' signed webhooks (connectors.go); the zero value
	// turns every connector off.
	Connectors Connectors
	// Simulation reads past cases for the policy simulator (simulate.go).
	Simulation simulate.Reader
	// CaseFinder lists cases in flight for a bulk policy migration (migrate.go);
	// nil answers 503 there.
	CaseFinder CaseFinder
	// Migrations runs the real bulk migrations as workflows (migrate_workflow.go);
	// nil answers 503 there.
	Migrations PolicyMigrations
}

// server holds the handlers' dependencies.
type server struct {
	Deps
	limits limiters
	ready  readyCache
}

func newServer(d Deps) *server {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.UpdateTimeout == 0 {
		d.UpdateTimeout = 10 * time.Second
	}
	if d.DefaultPolicy == "" {
		d.DefaultPolicy = "standard"
	}
	if d.Metrics == nil {
		d.Metrics = NewMetrics(prometheus.NewRegistry())
	}
	if d.Auth == nil {
		d.Auth = NewAuthenticator(nil)
	}
	return &server{Deps: d, limits: newLimiters(d.RateLimits)}
}
