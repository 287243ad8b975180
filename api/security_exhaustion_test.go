package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Resource exhaustion (issue 9, item 5): each test is an attack that grew the API's
// memory or load before and is now refused or absorbed.

// fakeClock is a settable clock for the token buckets and the readiness cache.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// guardedEnv is the test server with limits, a settable clock and a registry of
// its own.
type guardedEnv struct {
	*testEnv
	clock    *fakeClock
	registry *prometheus.Registry
}

func newGuardedEnv(t *testing.T, limits RateLimits) *guardedEnv {
	t.Helper()
	return guard(newTestEnv(t), limits)
}

// guard rebuilds env's server with limits, a settable clock and a registry.
func guard(env *testEnv, limits RateLimits) *guardedEnv {
	g := &guardedEnv{testEnv: env, clock: &fakeClock{now: testNow}, registry: prometheus.NewRegistry()}
	d := env.srv.Deps
	d.RateLimits, d.Now, d.Metrics = limits, g.clock.Now, NewMetrics(g.registry)
	env.srv = newServer(d)
	env.handler = env.srv.routes()
	return g
}

// call serves one request from the client address remote (host:port) and checks the
// answer against openapi.yaml.
func (g *guardedEnv) call(method, path, token, remote string, header map[string]string) *httptest.ResponseRecorder {
	g.t.Helper()
	req, rec := g.serve(method, path, token, remote, header)
	g.validate(req, rec)
	return rec
}

// serve is call without the document check (floods of thousands of requests).
func (g *guardedEnv) serve(method, path, token, remote string, header map[string]string) (*http.Request, *httptest.ResponseRecorder) {
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(`{"score": 4, "resolved": true}`)
	}
	req := httptest.NewRequest(method, path, body)
	req.RemoteAddr = remote
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	g.handler.ServeHTTP(rec, req)
	return req, rec
}

// requireRateLimited checks a 429 problem with a Retry-After of retryAfter seconds.
func requireRateLimited(t *testing.T, rec *httptest.ResponseRecorder, retryAfter string) {
	t.Helper()
	p := problemOf(t, rec, http.StatusTooManyRequests)
	assert.Equal(t, "https://tierflow.dev/problems/rate_limited", p.Type)
	assert.Equal(t, retryAfter, rec.Header().Get("Retry-After"))
}

// seriesOf gathers the label sets of one metric family.
func seriesOf(t *testing.T, reg *prometheus.Registry, family string) []map[string]string {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	var out []map[string]string
	for _, f := range families {
		if f.GetName() != family {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			out = append(out, labels)
		}
	}
	return out
}

// 50 made-up methods (and 50 made-up paths) used to make 50 new series each; now
// every label value is one the server chose.
func TestSecurityMetricMethodFloodAddsNoSeries(t *testing.T) {
	g := newGuardedEnv(t, RateLimits{})
	g.call("GET", "/healthz", "", "192.0.2.1:1000", nil)
	before := len(seriesOf(t, g.registry, "tierflow_api_requests_total"))

	for i := range 50 {
		g.call(fmt.Sprintf("FLOOD%02d", i), "/v1/cases", "dev-viewer", "192.0.2.1:1000", nil)
		g.call(fmt.Sprintf("BREW%02d", i), fmt.Sprintf("/coffee-%d/pot", i), "", "192.0.2.1:1000", nil)
		g.call("GET", fmt.Sprintf("/v1/cases/zendesk-%d/%d", i, i), "dev-viewer", "192.0.2.1:1000", nil)
	}

	series := seriesOf(t, g.registry, "tierflow_api_requests_total")
	assert.LessOrEqual(t, len(series)-before, 3, "at most one series per (other method, route, status) combination")
	for _, s := range series {
		assert.Contains(t, []string{"GET", "POST", "other"}, s["method"])
		assert.NotContains(t, s["route"], "coffee", "no client path is a route label")
		assert.NotContains(t, s["route"], "zendesk-", "no client path is a route label")
	}
	for _, s := range seriesOf(t, g.registry, "tierflow_api_request_duration_seconds") {
		assert.NotContains(t, s["method"], "FLOOD")
	}
}

// One principal bursting over its limit gets 429 with Retry-After and problem+json,
// from any address; another principal is not affected; the bucket refills.
func TestSecurityPrincipalBurstGets429(t *testing.T) {
	g := newGuardedEnv(t, RateLimits{Principal: Rate{PerSecond: 1, Burst: 5}})
	for i := range 5 {
		rec := g.call("GET", "/v1/cases", "dev-viewer", "192.0.2.1:1000", nil)
		require.Equal(t, http.StatusOK, rec.Code, "request %d is within the burst", i+1)
	}
	requireRateLimited(t, g.call("GET", "/v1/cases", "dev-viewer", "192.0.2.1:1000", nil), "1")
	requireRateLimited(t, g.call("GET", "/v1/cases", "dev-viewer", "198.51.100.7:2000", nil), "1")

	rec := g.call("GET", "/v1/cases", "dev-supervisor", "192.0.2.1:1000", nil)
	assert.Equal(t, http.StatusOK, rec.Code, "another principal on the same address has a bucket of its own")

	g.clock.Advance(time.Second)
	assert.Equal(t, http.StatusOK, g.call("GET", "/v1/cases", "dev-viewer", "192.0.2.1:1000", nil).Code,
		"one token refilled after a second")
	requireRateLimited(t, g.call("GET", "/v1/cases", "dev-viewer", "192.0.2.1:1000", nil), "1")
}

// Guessing tokens from one address: after the burst of failures the address gets
// 429 before its token is looked at (a valid one included); another address still
// authenticates; failures refill at the configured rate.
func TestSecurityRepeatedAuthFailuresFromOneAddressAreLimited(t *testing.T) {
	g := newGuardedEnv(t, RateLimits{AuthFailures: Rate{PerSecond: 0.1, Burst: 3}})
	const attacker, bystander = "203.0.113.9:4000", "198.51.100.7:2000"
	for i := range 3 {
		rec := g.call("GET", "/v1/cases", fmt.Sprintf("guess-%d", i), attacker, nil)
		require.Equal(t, http.StatusUnauthorized, rec.Code)
	}
	requireRateLimited(t, g.call("GET", "/v1/cases", "guess-4", attacker, nil), "10")
	requireRateLimited(t, g.call("GET", "/v1/cases", "", attacker, nil), "10")
	requireRateLimited(t, g.call("GET", "/v1/cases", "dev-viewer", attacker, nil), "10")

	assert.Equal(t, http.StatusOK, g.call("GET", "/v1/cases", "dev-viewer", bystander, nil).Code)
	assert.Equal(t, http.StatusUnauthorized, g.call("GET", "/v1/cases", "typo", bystander, nil).Code)

	g.clock.Advance(10 * time.Second)
	assert.Equal(t, http.StatusUnauthorized, g.call("GET", "/v1/cases", "guess-5", attacker, nil).Code,
		"one failure refilled after 10s")
	requireRateLimited(t, g.call("GET", "/v1/cases", "guess-6", attacker, nil), "10")
	assert.Zero(t, g.srv.limits.principal.size(), "no principal limit configured: nothing remembered")
}

// The survey endpoints are public: one address hammering them (a token
// enumeration, a reload loop) is limited, as a page and as JSON, before any token is
// checked or any case looked up; another address is not affected.
func TestSecuritySurveyEndpointsAreLimitedPerAddress(t *testing.T) {
	env, valid := surveyEnv(t)
	g := guard(env, RateLimits{Survey: Rate{PerSecond: 1, Burst: 3}})
	const attacker, customer = "203.0.113.9:4000", "198.51.100.7:2000"
	for i := range 3 {
		rec := g.call("GET", fmt.Sprintf("/v1/surveys/forged-%d", i), "", attacker, nil)
		require.Equal(t, http.StatusNotFound, rec.Code)
	}
	page := g.call("GET", valid, "", attacker, nil)
	assert.Equal(t, http.StatusTooManyRequests, page.Code)
	assert.Equal(t, "1", page.Header().Get("Retry-After"))
	assert.Contains(t, page.Header().Get("Content-Type"), "text/html", "a customer's browser gets a page")
	assert.Contains(t, page.Body.String(), "Too many requests")
	requireRateLimited(t, g.call("POST", valid, "", attacker, nil), "1")
	_, calls := g.cases.snapshot("zendesk-1")
	assert.Zero(t, calls, "the limited answer never reached the case workflow")

	rec := g.call("POST", valid, "", customer, nil)
	assert.Equal(t, http.StatusOK, rec.Code, "another address answers: %s", rec.Body.String())
	_, calls = g.cases.snapshot("zendesk-1")
	assert.Equal(t, 1, calls)
}

// X-Forwarded-For is believed only from a trusted proxy: a direct client cannot
// pick a fresh bucket by sending one, while behind the proxy each real client gets
// its own and a spoofed left-hand entry is ignored.
func TestSecurityForwardedForNeedsATrustedProxy(t *testing.T) {
	direct := newGuardedEnv(t, RateLimits{AuthFailures: Rate{PerSecond: 0.1, Burst: 2}})
	for i := range 2 {
		direct.call("GET", "/v1/cases", "bad", "203.0.113.9:4000", map[string]string{"X-Forwarded-For": fmt.Sprintf("10.9.9.%d", i)})
	}
	requireRateLimited(t, direct.call("GET", "/v1/cases", "bad", "203.0.113.9:4000",
		map[string]string{"X-Forwarded-For": "10.9.9.99"}), "10")

	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	proxied := newGuardedEnv(t, RateLimits{AuthFailures: Rate{PerSecond: 0.1, Burst: 2}, TrustedProxies: proxies})
	const proxy = "10.0.0.2:3000"
	for range 2 {
		proxied.call("GET", "/v1/cases", "bad", proxy, map[string]string{"X-Forwarded-For": "6.6.6.6, 203.0.113.9, 10.0.0.1"})
	}
	requireRateLimited(t, proxied.call("GET", "/v1/cases", "bad", proxy,
		map[string]string{"X-Forwarded-For": "7.7.7.7, 203.0.113.9"}), "10")
	assert.Equal(t, http.StatusUnauthorized, proxied.call("GET", "/v1/cases", "bad", proxy,
		map[string]string{"X-Forwarded-For": "198.51.100.7"}).Code, "another client behind the proxy")
}

// A flood of readiness probes reaches Temporal and PostgreSQL about once a second,
// however many arrive at once; a failure is cached too.
func TestSecurityReadinessFloodChecksDependenciesOncePerSecond(t *testing.T) {
	g := newGuardedEnv(t, RateLimits{})
	var temporalChecks, postgresChecks atomic.Int64
	var postgresDown atomic.Bool
	d := g.srv.Deps
	d.ReadyCacheTTL = readyCacheTTL
	d.Ready = []ReadyCheck{
		{Name: "temporal", Check: func(context.Context) error {
			temporalChecks.Add(1)
			time.Sleep(20 * time.Millisecond) // a real round trip: probes pile up behind it
			return nil
		}},
		{Name: "postgres", Check: func(context.Context) error {
			postgresChecks.Add(1)
			if postgresDown.Load() {
				return fmt.Errorf("connection refused")
			}
			return nil
		}},
	}
	g.srv = newServer(d)
	g.handler = g.srv.routes()

	probeAll := func(want int) {
		var wg sync.WaitGroup
		codes := make([]int, 100)
		for i := range codes {
			wg.Go(func() {
				req := httptest.NewRequest("GET", "/readyz", nil)
				rec := httptest.NewRecorder()
				g.handler.ServeHTTP(rec, req)
				codes[i] = rec.Code
			})
		}
		wg.Wait()
		for _, c := range codes {
			require.Equal(t, want, c)
		}
	}
	probeAll(http.StatusOK)
	assert.Equal(t, int64(1), temporalChecks.Load(), "100 concurrent probes, one check")
	assert.Equal(t, int64(1), postgresChecks.Load())

	g.clock.Advance(999 * time.Millisecond)
	postgresDown.Store(true)
	probeAll(http.StatusOK)
	assert.Equal(t, int64(1), postgresChecks.Load(), "still within the second")

	g.clock.Advance(time.Millisecond)
	probeAll(http.StatusServiceUnavailable)
	assert.Equal(t, int64(2), temporalChecks.Load(), "a second later: one new check")
	assert.Equal(t, int64(2), postgresChecks.Load(), "the failure is cached as well")
}

// The limiters cannot themselves be the exhaustion vector: a flood from many
// addresses keeps at most MaxKeys buckets, an IPv6 client hopping inside its /64
// gets one bucket, successful logins remember nothing, and idle buckets go.
func TestSecurityLimiterMemoryIsBounded(t *testing.T) {
	g := newGuardedEnv(t, RateLimits{
		Survey: Rate{PerSecond: 1, Burst: 2}, AuthFailures: Rate{PerSecond: 1, Burst: 2}, MaxKeys: 50,
	})
	for i := range 1000 {
		g.serve("GET", "/v1/surveys/forged", "", fmt.Sprintf("10.%d.%d.1:1000", i/250, i%250), nil)
		g.serve("GET", "/v1/cases", "dev-viewer", fmt.Sprintf("172.16.%d.%d:1000", i/250, i%250), nil)
		require.LessOrEqual(t, g.srv.limits.survey.size(), 50)
	}
	assert.Zero(t, g.srv.limits.authFailures.size(), "an address that never failed has no failure bucket")

	hopping := newGuardedEnv(t, RateLimits{Survey: Rate{PerSecond: 1, Burst: 2}})
	codes := map[int]int{}
	for i := range 20 {
		rec := hopping.call("GET", "/v1/surveys/forged", "", fmt.Sprintf("[2001:db8:1:2::%x]:1000", i+1), nil)
		codes[rec.Code]++
	}
	assert.Equal(t, map[int]int{http.StatusNotFound: 2, http.StatusTooManyRequests: 18}, codes)
	assert.Equal(t, 1, hopping.srv.limits.survey.size(), "one bucket for the /64")

	k := newKeyedLimiter("test", Rate{PerSecond: 1, Burst: 5}, 1000)
	for i := range 100 {
		k.take(fmt.Sprint(i), testNow)
	}
	require.Equal(t, 100, k.size())
	k.take("fresh", testNow.Add(k.idle))
	assert.Equal(t, 101, k.size(), "idle for one period: kept")
	k.take("fresh", testNow.Add(2*k.idle))
	assert.Equal(t, 1, k.size(), "idle for two periods: only the live key is left")
	assert.GreaterOrEqual(t, k.idle, 5*time.Second, "never dropped before its bucket has refilled")
}
