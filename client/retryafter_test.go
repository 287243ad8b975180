package client

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{" 120 ", 2 * time.Minute},
		{"-4", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, parseRetryAfter(tt.header, now), "header %q", tt.header)
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	p := retryPolicy{attempts: 10, base: 100 * time.Millisecond, max: time.Second, maxRetryAfter: 5 * time.Second}
	netErr := &networkError{errors.New("connection reset")}
	for attempt, bounds := range map[int][2]time.Duration{
		1: {50 * time.Millisecond, 100 * time.Millisecond},
		2: {100 * time.Millisecond, 200 * time.Millisecond},
		3: {200 * time.Millisecond, 400 * time.Millisecond},
		9: {500 * time.Millisecond, time.Second},
	} {
		w := p.wait(attempt, netErr)
		assert.GreaterOrEqual(t, w, bounds[0], "attempt %d", attempt)
		assert.LessOrEqual(t, w, bounds[1], "attempt %d", attempt)
	}
	assert.Equal(t, 3*time.Second, p.wait(1, &APIError{Status: 503, retryAfter: 3 * time.Second}))
	assert.Equal(t, 5*time.Second, p.wait(1, &APIError{Status: 503, retryAfter: time.Hour}), "Retry-After is capped")
}
