package tierflow

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"90s", 90 * time.Second},
		{"15m", 15 * time.Minute},
		{"4h", 4 * time.Hour},
		{"3d", 72 * time.Hour},
		{"1d12h", 36 * time.Hour},
		{"1.5d", 36 * time.Hour},
		{"1h30m", 90 * time.Minute},
		{"500ms", 500 * time.Millisecond},
		{"0", 0},
		{"0s", 0},
		{"-2h", -2 * time.Hour},
		{"14d", 14 * Day},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

func TestParseDurationErrors(t *testing.T) {
	tests := []struct{ in, wantErr string }{
		{"", "empty duration"},
		{"4", "missing unit"},
		{"4x", "unknown unit \"x\""},
		{"h", "expected a number"},
		{"1..5h", "bad number"},
		{"4 h", "without spaces"},
		{"200000000d", "too long"},
	}
	for _, tt := range tests {
		_, err := ParseDuration(tt.in)
		require.Error(t, err, tt.in)
		assert.Contains(t, err.Error(), tt.wantErr, tt.in)
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{90 * time.Second, "1m30s"},
		{4 * time.Hour, "4h"},
		{36 * time.Hour, "1d12h"},
		{30 * Day, "30d"},
		{1500 * time.Millisecond, "1s500ms"},
		{time.Microsecond + time.Nanosecond, "1us1ns"},
		{-2 * time.Hour, "-2h"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, FormatDuration(tt.in))
		back, err := ParseDuration(tt.want)
		require.NoError(t, err)
		assert.Equal(t, tt.in, back, "round trip of %s", tt.want)
	}
	for _, d := range []time.Duration{math.MaxInt64, math.MinInt64, 1} {
		back, err := ParseDuration(FormatDuration(d))
		require.NoError(t, err, FormatDuration(d))
		assert.Equal(t, d, back)
	}
	assert.Equal(t, "1d12h", Duration{36 * time.Hour}.String())
}

func TestDurationJSON(t *testing.T) {
	var v struct {
		A Duration  `json:"a"`
		B Duration  `json:"b"`
		C *Duration `json:"c"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"a": "1d12h", "b": 90, "c": null}`), &v))
	assert.Equal(t, 36*time.Hour, v.A.Duration)
	assert.Equal(t, 90*time.Second, v.B.Duration)
	assert.Nil(t, v.C)

	out, err := json.Marshal(v)
	require.NoError(t, err)
	assert.JSONEq(t, `{"a": "1d12h", "b": "1m30s", "c": null}`, string(out))

	for _, bad := range []string{`{"a": "3 days"}`, `{"a": true}`, `{"a": 1e300}`, `{"a": [1]}`} {
		err := json.Unmarshal([]byte(bad), &v)
		assert.Error(t, err, bad)
	}
	err = json.Unmarshal([]byte(`{"a": "3y"}`), &v)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `invalid duration "3y": unknown unit "y"`)
}
