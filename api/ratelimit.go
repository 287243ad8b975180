package main

import (
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/tierflow/tierflow"
)

// Rate is one token bucket: PerSecond requests a second on average, Burst at once.
// A zero PerSecond limits nothing.
type Rate struct {
	PerSecond float64
	Burst     int
}

// Unlimited reports whether the rate lets everything through.
func (r Rate) Unlimited() bool { return r.PerSecond <= 0 }

// RateLimits are the API's token buckets. The zero value limits nothing (the unit
// tests' servers); main passes the configured ones (defaults in ratelimit_config.go).
type RateLimits struct {
	// Principal limits the requests of each authenticated principal.
	Principal Rate
	// Survey limits the survey endpoints (public: the signed token is the
	// credential) per client address, forged tokens included.
	Survey Rate
	// AuthFailures limits failed authentications per client address: once its bucket
	// is empty the address gets 429 before its token is even looked at.
	AuthFailures Rate
	// MaxKeys bounds the principals or addresses each bucket set remembers
	// (defaultRateLimitKeys when zero).
	MaxKeys int
	// TrustedProxies are the proxies whose X-Forwarded-For names the client
	// (clientaddr.go); empty: the peer address is the client.
	TrustedProxies []netip.Prefix
}

// codeRateLimited is the problem code of a 429.
const codeRateLimited tierflow.Code = "rate_limited"

func init() { codeStatus[codeRateLimited] = http.StatusTooManyRequests }

// limiters are the server's bucket sets; a nil set limits nothing.
type limiters struct {
	principal, survey, authFailures *keyedLimiter
}

func newLimiters(l RateLimits) limiters {
	return limiters{
		principal:    newKeyedLimiter("principal", l.Principal, l.MaxKeys),
		survey:       newKeyedLimiter("survey", l.Survey, l.MaxKeys),
		authFailures: newKeyedLimiter("auth_failures", l.AuthFailures, l.MaxKeys),
	}
}

// rateLimited answers a request over its limit: Retry-After in whole seconds (at
// least 1) and a problem the one mapping function turns into a 429.
func (s *server) rateLimited(w http.ResponseWriter, l *keyedLimiter, wait time.Duration) error {
	seconds := max(1, int(math.Ceil(wait.Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(seconds))
	s.Metrics.RateLimited(l.name)
	return &tierflow.Error{Code: codeRateLimited, Message: fmt.Sprintf("too many requests; retry in %d seconds", seconds)}
}

// throttle spends one token of key's bucket in l; over the limit it returns the 429
// error (Retry-After already set on w).
func (s *server) throttle(w http.ResponseWriter, l *keyedLimiter, key string) error {
	if wait := l.take(key, s.Now()); wait > 0 {
		return s.rateLimited(w, l, wait)
	}
	return nil
}

// defaultRateLimitKeys bounds each bucket set when RateLimits.MaxKeys is zero.
const defaultRateLimitKeys = 10_000

// keyedLimiter holds one token bucket per key (a principal ID or a client address)
// in bounded memory. Buckets live in two generations: a bucket used since the last
// rotation is in current, one unused since then in previous. A rotation (when
// current reaches half of maxKeys, or idle after the last one) drops previous, so
// at most maxKeys buckets exist and a bucket unused for 2*idle is gone. idle is at
// least the time a bucket takes to refill, so a time-based drop forgets nothing; a
// size-based one (a flood of new addresses) may give an old key a fresh bucket.
type keyedLimiter struct {
	name    string
	limit   rate.Limit
	burst   int
	maxKeys int
	idle    time.Duration

	mu        sync.Mutex
	current   map[string]*rate.Limiter
	previous  map[string]*rate.Limiter
	rotatedAt time.Time
}

// newKeyedLimiter returns nil for an unlimited rate.
func newKeyedLimiter(name string, r Rate, maxKeys int) *keyedLimiter {
	if r.Unlimited() {
		return nil
	}
	if maxKeys <= 0 {
		maxKeys = defaultRateLimitKeys
	}
	burst := max(1, r.Burst)
	refill := time.Duration(float64(burst) / r.PerSecond * float64(time.Second))
	return &keyedLimiter{
		name: name, limit: rate.Limit(r.PerSecond), burst: burst, maxKeys: max(2, maxKeys),
		idle:    max(refill, time.Minute),
		current: map[string]*rate.Limiter{}, previous: map[string]*rate.Limiter{},
	}
}

// take spends one token of key's bucket at now: zero when there was one, else how
// long until there is (nothing is spent then).
func (k *keyedLimiter) take(key string, now time.Time) time.Duration {
	if k == nil {
		return 0
	}
	lim := k.bucket(key, now, true)
	res := lim.ReserveN(now, 1)
	if wait := res.DelayFrom(now); wait > 0 {
		res.CancelAt(now)
		return wait
	}
	return 0
}

// wait is how long until key's bucket has a token at now, spending nothing and
// remembering no new key: zero when it has one.
func (k *keyedLimiter) wait(key string, now time.Time) time.Duration {
	if k == nil {
		return 0
	}
	lim := k.bucket(key, now, false)
	if lim == nil {
		return 0
	}
	tokens := lim.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / float64(k.limit) * float64(time.Second))
}

// bucket finds key's bucket, moving it to the current generation; create makes a
// full one when there is none.
func (k *keyedLimiter) bucket(key string, now time.Time, create bool) *rate.Limiter {
	k.mu.Lock()
	defer k.mu.Unlock()
	if now.Sub(k.rotatedAt) >= k.idle {
		k.rotate(now)
	}
	if lim, ok := k.current[key]; ok {
		return lim
	}
	lim, ok := k.previous[key]
	if ok {
		delete(k.previous, key)
	} else if !create {
		return nil
	} else {
		lim = rate.NewLimiter(k.limit, k.burst)
	}
	if len(k.current) >= k.maxKeys/2 {
		k.rotate(now)
	}
	k.current[key] = lim
	return lim
}

func (k *keyedLimiter) rotate(now time.Time) {
	k.previous, k.current, k.rotatedAt = k.current, make(map[string]*rate.Limiter, len(k.current)), now
}

// size is the number of buckets held.
func (k *keyedLimiter) size() int {
	if k == nil {
		return 0
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.current) + len(k.previous)
}
