package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow/internal/secrets"
)

// The attacks: a production worker started with a setting copied from the README
// or the example files signs survey links with a public key, encrypts history with
// a public key, keeps real customers' email in the dev mailbox, or sends with a
// placeholder. Now TIERFLOW_ENV=production refuses to start with any of them.

// randomKey is the base64 of n random bytes, as `openssl rand -base64 n` prints.
func randomKey(t *testing.T, n int) string {
	t.Helper()
	key, err := secrets.RandomKey(n)
	require.NoError(t, err)
	return key
}

// productionWorkerEnv is a worker configuration production accepts.
func productionWorkerEnv(t *testing.T) map[string]string {
	t.Helper()
	return map[string]string{
		"TIERFLOW_ENV":        "production",
		"DATABASE_URL":        "postgres://tierflow:s3cret@db.internal:5432/tierflow?sslmode=require",
		"TIERFLOW_SURVEY_KEY": randomKey(t, 32),
		"TIERFLOW_CODEC_KEYS": "prod-2:" + randomKey(t, 32) + ",prod-1:" + randomKey(t, 32),
		"TIERFLOW_PUBLIC_URL": "https://support.example.com",
		"SENDGRID_API_KEY":    "SG.a-key-from-the-vault",
		"TIERFLOW_MAIL_FROM":  "Support <support@example.com>",
	}
}

func TestSecurityProductionAcceptsAGoodConfiguration(t *testing.T) {
	env := productionWorkerEnv(t)
	cfg, err := loadConfig(func(k string) string { return env[k] })
	require.NoError(t, err)
	assert.True(t, cfg.Mode.Production)
	assert.Empty(t, cfg.Mode.DevSettings)
	assert.Equal(t, "SG.a-key-from-the-vault", cfg.Mail.get("SENDGRID_API_KEY"))
}

func TestSecurityProductionRefuses(t *testing.T) {
	_, devCodecKey, _ := strings.Cut(secrets.DevCodecKeys, ":")
	tests := []struct {
		name   string
		change map[string]string
		want   string
	}{
		{"the dev mailbox", map[string]string{"TIERFLOW_MAILBOX": "true"}, "refuses TIERFLOW_MAILBOX=true"},
		{"no SendGrid key", map[string]string{"SENDGRID_API_KEY": ""}, "TIERFLOW_ENV=production: SENDGRID_API_KEY is required"},
		{"no SendGrid key, the mailbox instead", map[string]string{"SENDGRID_API_KEY": "", "TIERFLOW_MAILBOX": "true"}, "SENDGRID_API_KEY is required"},
		{"a placeholder SendGrid key", map[string]string{"SENDGRID_API_KEY": "SG.CHANGE-ME"}, "SENDGRID_API_KEY still holds the example file's CHANGE-ME placeholder"},
		{"a placeholder database URL", map[string]string{"DATABASE_URL": "postgres://tierflow:CHANGE-ME@db.internal:5432/tierflow"}, "DATABASE_URL still holds the example file's CHANGE-ME placeholder"},
		{"a placeholder Temporal API key", map[string]string{"TEMPORAL_API_KEY": "CHANGE-ME"}, "TEMPORAL_API_KEY still holds"},
		{"the dev survey key", map[string]string{"TIERFLOW_SURVEY_KEY": secrets.DevSurveyKey}, "TIERFLOW_SURVEY_KEY is a documented development key"},
		{"the dev survey key among the keys", map[string]string{"TIERFLOW_SURVEY_KEYS": secrets.DevSurveyKey + "," + randomKey(t, 32)},
			"TIERFLOW_SURVEY_KEYS (key 1 of 2) is a documented development key"},
		{"a placeholder survey key", map[string]string{"TIERFLOW_SURVEY_KEY": "CHANGE-ME-to-32-random-bytes-hex"}, "TIERFLOW_SURVEY_KEY still holds the example file's CHANGE-ME placeholder"},
		{"a survey key of 20 bytes", map[string]string{"TIERFLOW_SURVEY_KEY": randomKey(t, 20)}, "TIERFLOW_SURVEY_KEY holds 20 bytes; production needs at least 32 random bytes"},
		{"the dev codec keys", map[string]string{"TIERFLOW_CODEC_KEYS": secrets.DevCodecKeys}, `TIERFLOW_CODEC_KEYS key "dev-1" is a documented development key`},
		{"the dev codec key renamed", map[string]string{"TIERFLOW_CODEC_KEYS": "prod-3:" + devCodecKey}, `TIERFLOW_CODEC_KEYS key "prod-3" is a documented development key`},
		{"a placeholder codec key", map[string]string{"TIERFLOW_CODEC_KEYS": "prod-1:CHANGE-ME"}, "TIERFLOW_CODEC_KEYS still holds the example file's CHANGE-ME placeholder"},
		{"an old codec key of 16 bytes", map[string]string{"TIERFLOW_CODEC_KEYS": "prod-2:" + randomKey(t, 32) + ",prod-1:" + randomKey(t, 16)},
			`TIERFLOW_CODEC_KEYS key "prod-1" holds 16 bytes`},
		{"no codec keys", map[string]string{"TIERFLOW_CODEC_KEYS": ""}, "TIERFLOW_CODEC_KEYS is required"},
		{"a mode that is not one", map[string]string{"TIERFLOW_ENV": "staging"}, `TIERFLOW_ENV must be "production" or "development", got "staging"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := productionWorkerEnv(t)
			for k, v := range tt.change {
				env[k] = v
			}
			_, err := loadConfig(func(k string) string { return env[k] })
			require.Error(t, err, "the worker refuses to start")
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// Outside production the worker starts with development settings, and says so
// loudly before anything else.
func TestSecurityDevSettingsAreWarnedAtStart(t *testing.T) {
	env := map[string]string{
		"DATABASE_URL": "postgres://postgres@127.0.0.1:1/tierflow", "TIERFLOW_SURVEY_KEY": secrets.DevSurveyKey,
		"TIERFLOW_PUBLIC_URL": "http://localhost:8080", "TIERFLOW_MAILBOX": "true",
		"TIERFLOW_CODEC_KEYS": secrets.DevCodecKeys,
	}
	cfg, err := loadConfig(func(k string) string { return env[k] })
	require.NoError(t, err)
	require.False(t, cfg.Mode.Production)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	cfg.MetricsAddr = taken.Addr().String() // stops run at its first step

	var logs bytes.Buffer
	err = run(context.Background(), cfg, slog.New(slog.NewJSONHandler(&logs, nil)))
	require.ErrorContains(t, err, "TIERFLOW_METRICS_ADDR")
	var warned []string
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(line, `"dev_only":true`) {
			assert.Contains(t, line, `"level":"WARN"`)
			assert.Contains(t, line, "DEVELOPMENT-ONLY SETTING IN USE")
			warned = append(warned, line)
		}
	}
	require.Len(t, warned, 3, logs.String())
	for i, setting := range []string{"TIERFLOW_MAILBOX=true", "TIERFLOW_SURVEY_KEY holding the documented dev survey key",
		"TIERFLOW_CODEC_KEYS holding the documented dev codec key"} {
		assert.Contains(t, warned[i], `"setting":"`+setting+`"`)
	}
}
