package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Production defaults: every limit is on, bursts are two seconds' worth or at least
// 10, and each setting can be raised or turned off (the test stacks raise them).
func TestRateLimitSettings(t *testing.T) {
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	limits, problems := loadRateLimits(env(nil))
	require.Empty(t, problems)
	assert.Equal(t, Rate{PerSecond: 50, Burst: 100}, limits.Principal)
	assert.Equal(t, Rate{PerSecond: 1, Burst: 10}, limits.Survey)
	assert.Equal(t, Rate{PerSecond: 0.2, Burst: 10}, limits.AuthFailures)
	assert.Equal(t, defaultRateLimitKeys, limits.MaxKeys)
	assert.Empty(t, limits.TrustedProxies)

	limits, problems = loadRateLimits(env(map[string]string{
		envRateLimitPrincipal: "10000", envRateLimitSurvey: "off", envRateLimitAuthFailures: "0.5",
		envRateLimitAuthFailures + "_BURST": "3", envRateLimitKeys: "500", envTrustedProxies: "10.0.0.0/8",
	}))
	require.Empty(t, problems)
	assert.Equal(t, Rate{PerSecond: 10000, Burst: 20000}, limits.Principal)
	assert.True(t, limits.Survey.Unlimited())
	assert.Equal(t, Rate{PerSecond: 0.5, Burst: 3}, limits.AuthFailures)
	assert.Equal(t, 500, limits.MaxKeys)
	assert.Len(t, limits.TrustedProxies, 1)

	_, problems = loadRateLimits(env(map[string]string{
		envRateLimitPrincipal: "0", envRateLimitSurvey + "_BURST": "-1", envRateLimitKeys: "lots", envTrustedProxies: "proxy",
	}))
	assert.Len(t, problems, 4)
}
