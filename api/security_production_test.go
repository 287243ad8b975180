package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow/internal/secrets"
)

// The attacks: a production API started with a setting copied from the README or
// the example files (the dev tokens, the dev mailbox, a documented dev key, a
// CHANGE-ME placeholder, a short key) lets anyone in. Now TIERFLOW_ENV=production
// refuses to start with any of them.

// randomKey is the base64 of n random bytes, as `openssl rand -base64 n` prints.
func randomKey(t *testing.T, n int) string {
	t.Helper()
	key, err := secrets.RandomKey(n)
	require.NoError(t, err)
	return key
}

// productionAPIEnv is an API configuration production accepts.
func productionAPIEnv(t *testing.T) map[string]string {
	t.Helper()
	return map[string]string{
		"TIERFLOW_ENV":        "production",
		"DATABASE_URL":        "postgres://tierflow:s3cret@db.internal:5432/tierflow?sslmode=require",
		"TIERFLOW_SURVEY_KEY": randomKey(t, 32),
		"TIERFLOW_CODEC_KEYS": "prod-1:" + randomKey(t, 32),
		"TIERFLOW_TOKENS":     `[{"token_sha256": "` + HashToken("a-token-from-the-vault") + `", "id": "crm", "role": "integration"}]`,
		"TIERFLOW_PUBLIC_URL": "https://support.example.com",
	}
}

func TestSecurityProductionAcceptsAGoodConfiguration(t *testing.T) {
	env := productionAPIEnv(t)
	cfg, err := loadConfig(func(k string) string { return env[k] })
	require.NoError(t, err)
	assert.True(t, cfg.Mode.Production)
	assert.Empty(t, cfg.Mode.DevSettings)
	assert.False(t, cfg.Mailbox)
	require.Len(t, cfg.Tokens, 1)
	assert.Equal(t, "crm", cfg.Tokens[0].ID)
}

func TestSecurityProductionRefuses(t *testing.T) {
	devTokenFile := filepath.Join(t.TempDir(), "tokens.yaml")
	require.NoError(t, os.WriteFile(devTokenFile,
		[]byte("- {token_sha256: "+HashToken("dev-integration")+", id: crm, role: integration}\n"), 0o600))
	withDevToken := `[{"token_sha256": "` + HashToken("a-token-from-the-vault") + `", "id": "crm", "role": "integration"},
		{"token_sha256": "` + HashToken("dev-executive") + `", "id": "boss", "role": "executive"}]`

	tests := []struct {
		name   string
		change map[string]string
		want   string
	}{
		{"the dev tokens", map[string]string{"TIERFLOW_DEV_TOKENS": "true"}, "refuses TIERFLOW_DEV_TOKENS=true"},
		{"a dev token configured inline", map[string]string{"TIERFLOW_TOKENS": withDevToken}, `refuses the documented dev token "dev-executive"`},
		{"a dev token in the tokens file", map[string]string{"TIERFLOW_TOKENS": "", "TIERFLOW_TOKENS_FILE": devTokenFile}, `refuses the documented dev token "dev-integration"`},
		{"the dev mailbox", map[string]string{"TIERFLOW_MAILBOX": "true"}, "refuses TIERFLOW_MAILBOX=true"},
		{"the dev survey key", map[string]string{"TIERFLOW_SURVEY_KEY": secrets.DevSurveyKey}, "TIERFLOW_SURVEY_KEY is a documented development key"},
		{"the dev survey key among the keys", map[string]string{"TIERFLOW_SURVEY_KEYS": randomKey(t, 32) + "," + secrets.DevSurveyKey},
			"TIERFLOW_SURVEY_KEYS (key 2 of 2) is a documented development key"},
		{"the dev codec keys", map[string]string{"TIERFLOW_CODEC_KEYS": secrets.DevCodecKeys}, `TIERFLOW_CODEC_KEYS key "dev-1" is a documented development key`},
		{"the dev Zendesk secret", map[string]string{"TIERFLOW_ZENDESK_SECRET": secrets.DevZendeskSecret}, "refuses TIERFLOW_ZENDESK_SECRET holding the documented dev secret"},
		{"a placeholder database URL", map[string]string{"DATABASE_URL": "postgres://tierflow:CHANGE-ME@db.internal:5432/tierflow"}, "DATABASE_URL still holds the example file's CHANGE-ME placeholder"},
		{"placeholder tokens", map[string]string{"TIERFLOW_TOKENS": `[{"token_sha256":"CHANGE-ME","id":"crm","role":"integration"}]`}, "TIERFLOW_TOKENS still holds the example file's CHANGE-ME placeholder"},
		{"a placeholder survey key", map[string]string{"TIERFLOW_SURVEY_KEY": "CHANGE-ME-to-32-random-bytes-hex"}, "TIERFLOW_SURVEY_KEY still holds the example file's CHANGE-ME placeholder"},
		{"a placeholder codec key", map[string]string{"TIERFLOW_CODEC_KEYS": "prod-1:CHANGE-ME"}, "TIERFLOW_CODEC_KEYS still holds the example file's CHANGE-ME placeholder"},
		{"a placeholder Zendesk secret", map[string]string{"TIERFLOW_ZENDESK_SECRET": "CHANGE-ME"}, "TIERFLOW_ZENDESK_SECRET still holds"},
		{"a placeholder Temporal API key", map[string]string{"TEMPORAL_API_KEY": "CHANGE-ME"}, "TEMPORAL_API_KEY still holds"},
		{"a survey key of 16 bytes", map[string]string{"TIERFLOW_SURVEY_KEY": randomKey(t, 16)}, "TIERFLOW_SURVEY_KEY holds 16 bytes; production needs at least 32 random bytes"},
		{"a survey passphrase", map[string]string{"TIERFLOW_SURVEY_KEY": "the support team's survey passphrase"}, "TIERFLOW_SURVEY_KEY must be the hex or base64 encoding of 32 random bytes"},
		{"a codec key of 16 bytes", map[string]string{"TIERFLOW_CODEC_KEYS": "prod-1:" + randomKey(t, 16)}, `TIERFLOW_CODEC_KEYS key "prod-1" holds 16 bytes`},
		{"no codec keys", map[string]string{"TIERFLOW_CODEC_KEYS": ""}, "TIERFLOW_CODEC_KEYS is required"},
		{"a mode that is not one", map[string]string{"TIERFLOW_ENV": "prod"}, `TIERFLOW_ENV must be "production" or "development", got "prod"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := productionAPIEnv(t)
			for k, v := range tt.change {
				env[k] = v
			}
			_, err := loadConfig(func(k string) string { return env[k] })
			require.Error(t, err, "the API refuses to start")
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// Outside production the API starts with development settings, and says so loudly
// before anything else.
func TestSecurityDevSettingsAreWarnedAtStart(t *testing.T) {
	env := map[string]string{
		"DATABASE_URL": "::not a dsn::", "TIERFLOW_SURVEY_KEY": secrets.DevSurveyKey,
		"TIERFLOW_DEV_TOKENS": "true", "TIERFLOW_MAILBOX": "true", "TIERFLOW_PUBLIC_URL": "http://localhost:8080",
	}
	cfg, err := loadConfig(func(k string) string { return env[k] })
	require.NoError(t, err)
	require.False(t, cfg.Mode.Production)
	var logs bytes.Buffer
	err = run(context.Background(), cfg, slog.New(slog.NewJSONHandler(&logs, nil)))
	require.ErrorContains(t, err, "open database", "the test stops run at its first dependency")
	var warned []string
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(line, `"dev_only":true`) {
			assert.Contains(t, line, `"level":"WARN"`)
			assert.Contains(t, line, "DEVELOPMENT-ONLY SETTING IN USE")
			warned = append(warned, line)
		}
	}
	require.Len(t, warned, 4, logs.String())
	for i, setting := range []string{"TIERFLOW_MAILBOX=true", "TIERFLOW_SURVEY_KEY holding the documented dev survey key",
		"TIERFLOW_DEV_TOKENS=true", "no TIERFLOW_CODEC_KEYS"} {
		assert.Contains(t, warned[i], `"setting":"`+setting+`"`)
	}
}

// A dev principal's ID is not its token: tokens never reach the access log (nor
// the audit events, which name the principal).
func TestSecurityAccessLogHoldsNoDevToken(t *testing.T) {
	env := newTestEnv(t)
	var logs bytes.Buffer
	env.srv.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	env.handler = env.srv.routes()
	for _, token := range secrets.DevTokens {
		env.do(request{method: "GET", path: "/v1/cases?limit=1", token: token})
	}
	out := logs.String()
	for _, token := range secrets.DevTokens {
		assert.NotContains(t, out, token)
		assert.Contains(t, out, `"principal_id":"`+DevPrincipalID(token)+`"`)
	}
	assert.Contains(t, out, `"principal_id":"dev:agent"`)
}
