package client

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// DefaultUserAgent is sent unless WithUserAgent says otherwise.
const DefaultUserAgent = "tierflow-go-client/1"

// Client calls one Tierflow API with one bearer token. It is safe for concurrent use.
type Client struct {
	baseURL string
	// others are more replicas of the same API: a retry after no answer, a 502,
	// 503 or 504 goes to the next one (WithReplicas).
	others    []string
	token     string
	http      *http.Client
	userAgent string
	log       *slog.Logger
	retry     retryPolicy
}

// retryPolicy bounds how often and how long the client retries a safe call.
type retryPolicy struct {
	// attempts is the total number of tries (1 means no retry).
	attempts int
	// base is the first wait; each retry doubles it up to max.
	base, max time.Duration
	// maxRetryAfter caps how long a server's Retry-After can make the client wait.
	maxRetryAfter time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (transport, TLS, proxy). Its Timeout, if any,
// bounds each attempt; the context bounds the whole call including retries.
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) {
		if h != nil {
			c.http = h
		}
	}
}

// WithRetries sets how many times a safe call is retried after its first attempt
// (default 4; 0 disables retries).
func WithRetries(n int) Option {
	return func(c *Client) { c.retry.attempts = max(n, 0) + 1 }
}

// WithBackoff sets the first wait between retries and the cap of the exponential
// growth (defaults 200ms and 5s). A server's Retry-After wins when it is longer,
// up to maxRetryAfter (default 30s).
func WithBackoff(base, maxWait, maxRetryAfter time.Duration) Option {
	return func(c *Client) {
		if base > 0 {
			c.retry.base = base
		}
		if maxWait > 0 {
			c.retry.max = maxWait
		}
		if maxRetryAfter > 0 {
			c.retry.maxRetryAfter = maxRetryAfter
		}
	}
}

// WithUserAgent sets the User-Agent header, e.g. "acme-crm/2.3 tierflow-go-client/1".
func WithUserAgent(ua string) Option {
	return func(c *Client) {
		if ua != "" {
			c.userAgent = ua
		}
	}
}

// WithLogger sets the logger that records retries (at Warn) and calls (at Debug).
// The token is never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) {
		if l != nil {
			c.log = l
		}
	}
}

// New returns a client of the API at baseURL (e.g. "http://localhost:8080"; the
// "/v1" prefix is added by the client) that authenticates with token.
func New(baseURL, token string, opts ...Option) *Client {
	c := &Client{
		baseURL:   trimBase(baseURL),
		token:     token,
		http:      &http.Client{Timeout: 30 * time.Second},
		userAgent: DefaultUserAgent,
		log:       slog.New(slog.DiscardHandler),
		retry:     retryPolicy{attempts: 5, base: 200 * time.Millisecond, max: 5 * time.Second, maxRetryAfter: 30 * time.Second},
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// WithReplicas names more addresses of the same API (its other replicas). A
// call that may be retried (reads, opening a case, decisions with their
// decision_id) moves to the next address after no answer, a 502, a 503 or a
// 504, so a replica that dies mid-request costs a retry, not the call.
func WithReplicas(baseURLs ...string) Option {
	return func(c *Client) {
		for _, u := range baseURLs {
			c.others = append(c.others, trimBase(u))
		}
	}
}

func trimBase(u string) string { return strings.TrimSuffix(strings.TrimSuffix(u, "/"), "/v1") }

// endpoint is the address of attempt number attempt (from 1): the first one,
// then the replicas in turn.
func (c *Client) endpoint(attempt int) string {
	all := len(c.others) + 1
	if i := (attempt - 1) % all; i > 0 {
		return c.others[i-1]
	}
	return c.baseURL
}

// BaseURL returns the API's address without the version prefix.
func (c *Client) BaseURL() string { return c.baseURL }
