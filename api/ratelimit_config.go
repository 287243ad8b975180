package main

import (
	"fmt"
	"math"
	"strconv"
)

// Default rate limits. A principal is a program or a person behind one token: 50
// requests a second is far above a CRM's or a dashboard's steady load, and stops a
// runaway loop before it fills Temporal's queues. The survey endpoints serve one
// customer two requests (the page and the answer); one a second per address, in
// bursts of 10, leaves room for a shared (NAT) address and stops enumeration of
// tokens. Failed authentications: 10 in a row, then one every 5 seconds per address.
var (
	defaultPrincipalRate   = Rate{PerSecond: 50, Burst: defaultBurst(50)}
	defaultSurveyRate      = Rate{PerSecond: 1, Burst: defaultBurst(1)}
	defaultAuthFailureRate = Rate{PerSecond: 0.2, Burst: defaultBurst(0.2)}
)

// minDefaultBurst is the smallest burst a rate gets when its _BURST is not set.
const minDefaultBurst = 10

// defaultBurst is two seconds' worth of the rate, at least minDefaultBurst: raising
// only a rate (the tests and the bench do) raises its burst along with it.
func defaultBurst(perSecond float64) int {
	return max(minDefaultBurst, int(math.Ceil(2*perSecond)))
}

// The environment variables of the rate limits (documented in main.go).
const (
	envRateLimitPrincipal    = "TIERFLOW_RATE_LIMIT_PRINCIPAL"
	envRateLimitSurvey       = "TIERFLOW_RATE_LIMIT_SURVEY"
	envRateLimitAuthFailures = "TIERFLOW_RATE_LIMIT_AUTH_FAILURES"
	envRateLimitKeys         = "TIERFLOW_RATE_LIMIT_KEYS"
	envTrustedProxies        = "TIERFLOW_TRUSTED_PROXIES"
)

// loadRateLimits reads the rate limits: each TIERFLOW_RATE_LIMIT_<NAME> is requests
// a second (a decimal; "off" limits nothing) and TIERFLOW_RATE_LIMIT_<NAME>_BURST
// its burst (defaultBurst of the rate when unset).
func loadRateLimits(getenv func(string) string) (RateLimits, []error) {
	var problems []error
	readRate := func(name string, def Rate) Rate {
		v := getenv(name)
		r := def
		switch v {
		case "":
		case "off":
			return Rate{}
		default:
			perSecond, err := strconv.ParseFloat(v, 64)
			if err != nil || perSecond <= 0 || math.IsInf(perSecond, 0) || math.IsNaN(perSecond) {
				problems = append(problems, fmt.Errorf("%s must be requests a second above 0 (such as 50 or 0.5) or off, got %q", name, v))
				return def
			}
			r = Rate{PerSecond: perSecond, Burst: defaultBurst(perSecond)}
		}
		if b := getenv(name + "_BURST"); b != "" {
			burst, err := strconv.Atoi(b)
			if err != nil || burst < 1 {
				problems = append(problems, fmt.Errorf("%s_BURST must be a whole number of requests, at least 1, got %q", name, b))
				return r
			}
			r.Burst = burst
		}
		return r
	}
	limits := RateLimits{
		Principal:    readRate(envRateLimitPrincipal, defaultPrincipalRate),
		Survey:       readRate(envRateLimitSurvey, defaultSurveyRate),
		AuthFailures: readRate(envRateLimitAuthFailures, defaultAuthFailureRate),
		MaxKeys:      defaultRateLimitKeys,
	}
	if v := getenv(envRateLimitKeys); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 {
			problems = append(problems, fmt.Errorf("%s must be a whole number, at least 2, got %q", envRateLimitKeys, v))
		} else {
			limits.MaxKeys = n
		}
	}
	proxies, err := parseTrustedProxies(getenv(envTrustedProxies))
	if err != nil {
		problems = append(problems, fmt.Errorf("%s: %w", envTrustedProxies, err))
	}
	limits.TrustedProxies = proxies
	return limits, problems
}
