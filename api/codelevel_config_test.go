package main

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow/workflows"
)

// New cases start at this code's level unless TIERFLOW_CASE_CODE_LEVEL asks for a
// lower one (a rolling upgrade from workers without code levels sets 0); a level
// this code does not know, or anything but a number, stops the start.
func TestCaseCodeLevelSetting(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == envCaseCodeLevel {
				return v
			}
			return ""
		}
	}
	for v, want := range map[string]int{"": workflows.CurrentCode, "0": 0, "2": 2, strconv.Itoa(workflows.CurrentCode): workflows.CurrentCode} {
		level, err := loadCaseCodeLevel(env(v))
		require.NoError(t, err, v)
		assert.Equal(t, want, level, v)
	}
	for _, v := range []string{"-1", strconv.Itoa(workflows.CurrentCode + 1), "current", "1.5", " 0"} {
		_, err := loadCaseCodeLevel(env(v))
		require.Error(t, err, v)
		assert.Contains(t, err.Error(), envCaseCodeLevel, v)
		assert.Contains(t, err.Error(), "from 0 to "+strconv.Itoa(workflows.CurrentCode), v)
	}

	// loadConfig reports it with the other problems, and passes the level on.
	base := map[string]string{"DATABASE_URL": "postgres://127.0.0.1:1/x", "TIERFLOW_SURVEY_KEYS": "a-test-survey-key-0123456789",
		"TIERFLOW_DEV_TOKENS": "true"}
	getenv := func(extra map[string]string) func(string) string {
		return func(k string) string {
			if v, ok := extra[k]; ok {
				return v
			}
			return base[k]
		}
	}
	cfg, err := loadConfig(getenv(nil))
	require.NoError(t, err)
	assert.Equal(t, workflows.CurrentCode, cfg.CaseCodeLevel)
	cfg, err = loadConfig(getenv(map[string]string{envCaseCodeLevel: "0"}))
	require.NoError(t, err)
	assert.Equal(t, 0, cfg.CaseCodeLevel)
	_, err = loadConfig(getenv(map[string]string{envCaseCodeLevel: "9"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), envCaseCodeLevel)
}
