package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow/activities"
	"github.com/tierflow/tierflow/policyfile"
	"github.com/tierflow/tierflow/postgres"
)

func TestLoadConfig(t *testing.T) {
	valid := map[string]string{
		"DATABASE_URL":        "postgres://tierflow@db:5432/tierflow",
		"TIERFLOW_SURVEY_KEY": "0123456789abcdef-survey",
		"TIERFLOW_PUBLIC_URL": "https://support.example.com/",
		"SENDGRID_API_KEY":    "SG.key",
		"TIERFLOW_MAIL_FROM":  "Support <support@example.com>",
	}
	tests := []struct {
		name    string
		change  map[string]string
		wantErr []string // substrings; empty means no error
		check   func(t *testing.T, cfg config)
	}{
		{
			name: "valid with defaults",
			check: func(t *testing.T, cfg config) {
				assert.Equal(t, "postgres://tierflow@db:5432/tierflow", cfg.DatabaseURL)
				assert.Equal(t, [][]byte{[]byte("0123456789abcdef-survey")}, cfg.SurveyKeys, "TIERFLOW_SURVEY_KEY is a list of one")
				assert.Equal(t, "https://support.example.com", cfg.PublicURL, "trailing slash trimmed")
				assert.Equal(t, ":9090", cfg.MetricsAddr)
				assert.False(t, cfg.Pprof, "no profiles unless TIERFLOW_PPROF asks")
				assert.Equal(t, StopTimeout, cfg.StopTimeout)
				assert.Equal(t, 7*24*time.Hour, cfg.OutboxRetention)
				assert.Equal(t, 30*24*time.Hour, cfg.WebhookRetention)
				assert.Equal(t, "SG.key", cfg.Mail.get("SENDGRID_API_KEY"))
				assert.Equal(t, "Support <support@example.com>", cfg.Mail.get("TIERFLOW_MAIL_FROM"))
			},
		},
		{
			name:   "Temporal UI URL for staff emails",
			change: map[string]string{"TIERFLOW_TEMPORAL_UI_URL": "https://temporal.example.com/"},
			check: func(t *testing.T, cfg config) {
				assert.Equal(t, "https://temporal.example.com", cfg.TemporalUIURL, "trailing slash trimmed")
			},
		},
		{
			name:    "retentions are durations of an hour or more",
			change:  map[string]string{"TIERFLOW_OUTBOX_RETENTION": "7d", "TIERFLOW_WEBHOOK_RETENTION": "10m"},
			wantErr: []string{"TIERFLOW_OUTBOX_RETENTION must be a duration", "TIERFLOW_WEBHOOK_RETENTION must be a duration"},
		},
		{
			name:    "Temporal UI URL must be absolute",
			change:  map[string]string{"TIERFLOW_TEMPORAL_UI_URL": "temporal.example.com"},
			wantErr: []string{"TIERFLOW_TEMPORAL_UI_URL must be an absolute http(s) URL"},
		},
		{
			name:   "rotated survey keys: the newest first signs",
			change: map[string]string{"TIERFLOW_SURVEY_KEYS": "new-survey-key-0123456789, 0123456789abcdef-survey"},
			check: func(t *testing.T, cfg config) {
				assert.Equal(t, [][]byte{[]byte("new-survey-key-0123456789"), []byte("0123456789abcdef-survey")}, cfg.SurveyKeys)
			},
		},
		{
			name:   "metrics address",
			change: map[string]string{"TIERFLOW_METRICS_ADDR": "127.0.0.1:9999"},
			check:  func(t *testing.T, cfg config) { assert.Equal(t, "127.0.0.1:9999", cfg.MetricsAddr) },
		},
		{
			name:   "pprof on the ops address",
			change: map[string]string{"TIERFLOW_PPROF": "1"},
			check:  func(t *testing.T, cfg config) { assert.True(t, cfg.Pprof) },
		},
		{
			name:    "bad pprof setting",
			change:  map[string]string{"TIERFLOW_PPROF": "yes please"},
			wantErr: []string{"TIERFLOW_PPROF"},
		},
		{
			name:   "database limits",
			change: map[string]string{"TIERFLOW_DB_MAX_CONNS": "25", "TIERFLOW_DB_STATEMENT_TIMEOUT": "off"},
			check: func(t *testing.T, cfg config) {
				assert.Equal(t, int32(25), cfg.DBLimits.MaxConns)
				assert.Zero(t, cfg.DBLimits.StatementTimeout)
				assert.Equal(t, postgres.DefaultLimits().MaxConnLifetime, cfg.DBLimits.MaxConnLifetime)
			},
		},
		{
			name:    "bad database limits",
			change:  map[string]string{"TIERFLOW_DB_MAX_CONNS": "0", "TIERFLOW_DB_STATEMENT_TIMEOUT": "soon"},
			wantErr: []string{"TIERFLOW_DB_MAX_CONNS", "TIERFLOW_DB_STATEMENT_TIMEOUT"},
		},
		{
			name:    "every problem at once",
			change:  map[string]string{"DATABASE_URL": "", "TIERFLOW_SURVEY_KEY": "short", "TIERFLOW_PUBLIC_URL": ""},
			wantErr: []string{"DATABASE_URL is not set", "TIERFLOW_SURVEY_KEY must be at least 16", "TIERFLOW_PUBLIC_URL must be an absolute URL"},
		},
		{
			name:    "broken policy file",
			change:  map[string]string{"TIERFLOW_POLICY_FILES": brokenPolicyFile(t)},
			wantErr: []string{"TIERFLOW_POLICY_FILES", "warning_ratio"},
		},
		{
			name:    "missing policy file",
			change:  map[string]string{"TIERFLOW_POLICY_FILES": filepath.Join(t.TempDir(), "nope.yaml")},
			wantErr: []string{"TIERFLOW_POLICY_FILES", "nope.yaml"},
		},
		{
			name:    "no SendGrid key and no explicit mailbox",
			change:  map[string]string{"SENDGRID_API_KEY": ""},
			wantErr: []string{"SENDGRID_API_KEY is not set", "TIERFLOW_MAILBOX=true"},
		},
		{
			name:    "no SendGrid key and the mailbox switched off",
			change:  map[string]string{"SENDGRID_API_KEY": "", "TIERFLOW_MAILBOX": "false"},
			wantErr: []string{"SENDGRID_API_KEY is not set"},
		},
		{
			name:    "a mailbox switch that is not a boolean",
			change:  map[string]string{"SENDGRID_API_KEY": "", "TIERFLOW_MAILBOX": "yes please"},
			wantErr: []string{"TIERFLOW_MAILBOX"},
		},
		{
			name:   "no SendGrid key and the mailbox asked for",
			change: map[string]string{"SENDGRID_API_KEY": "", "TIERFLOW_MAILBOX": "true"},
			check:  func(t *testing.T, cfg config) { assert.Equal(t, "true", cfg.Mail.get("TIERFLOW_MAILBOX")) },
		},
		{
			name:   "codec keys, newest first",
			change: map[string]string{"TIERFLOW_CODEC_KEYS": "k2:" + strings.Repeat("A", 43) + "=,k1:" + strings.Repeat("B", 43) + "="},
			check: func(t *testing.T, cfg config) {
				require.NotNil(t, cfg.CodecKeys)
				assert.Equal(t, []string{"k2", "k1"}, cfg.CodecKeys.KeyIDs())
			},
		},
		{
			name:   "no codec keys: plaintext (development)",
			change: map[string]string{"TIERFLOW_CODEC_KEYS": ""},
			check:  func(t *testing.T, cfg config) { assert.Nil(t, cfg.CodecKeys) },
		},
		{
			name:    "a codec key that is not AES-256",
			change:  map[string]string{"TIERFLOW_CODEC_KEYS": "k1:c2hvcnQ="},
			wantErr: []string{"TIERFLOW_CODEC_KEYS", "5 bytes; AES-256 needs exactly 32"},
		},
		{
			name:    "relative public URL",
			change:  map[string]string{"TIERFLOW_PUBLIC_URL": "support.example.com"},
			wantErr: []string{"TIERFLOW_PUBLIC_URL"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range valid {
				env[k] = v
			}
			for k, v := range tt.change {
				env[k] = v
			}
			cfg, err := loadConfig(func(k string) string { return env[k] })
			if len(tt.wantErr) > 0 {
				require.Error(t, err)
				for _, want := range tt.wantErr {
					assert.Contains(t, err.Error(), want)
				}
				return
			}
			require.NoError(t, err)
			tt.check(t, cfg)
		})
	}
}

func TestTemporalTargetNamesTheDefaults(t *testing.T) {
	var cfg config
	assert.Equal(t, "localhost:7233 (namespace default)", cfg.temporalTarget())
	cfg.Temporal.HostPort, cfg.Temporal.Namespace = "temporal:7233", "prod"
	assert.Equal(t, "temporal:7233 (namespace prod)", cfg.temporalTarget())
}

// brokenPolicyFile writes the default policy with an impossible warning ratio.
func brokenPolicyFile(t *testing.T) string {
	t.Helper()
	data := strings.Replace(string(policyfile.DefaultYAML()), "warning_ratio: 0.75", "warning_ratio: 7.5", 1)
	require.NotEqual(t, string(policyfile.DefaultYAML()), data, "the default policy sets warning_ratio: 0.75")
	path := filepath.Join(t.TempDir(), "broken.yaml")
	require.NoError(t, os.WriteFile(path, []byte(data), 0o600))
	return path
}

func TestLoadConfigRetention(t *testing.T) {
	for v, want := range map[string]time.Duration{"": 7 * 24 * time.Hour, "1h": time.Hour, "720h": 720 * time.Hour} {
		d, err := retentionFromEnv(func(string) string { return v }, "TIERFLOW_OUTBOX_RETENTION", activities.DefaultOutboxRetention)
		require.NoError(t, err, v)
		assert.Equal(t, want, d, v)
	}
	for _, v := range []string{"7d", "59m", "-1h", "0"} {
		_, err := retentionFromEnv(func(string) string { return v }, "TIERFLOW_WEBHOOK_RETENTION", activities.DefaultWebhookRetention)
		assert.ErrorContains(t, err, "TIERFLOW_WEBHOOK_RETENTION must be a duration of at least 1h0m0s", v)
	}
}

func TestMailerShards(t *testing.T) {
	for v, want := range map[string]int{"": 2, "1": 1, "8": 8} {
		n, err := mailerShards(func(string) string { return v })
		require.NoError(t, err, v)
		assert.Equal(t, want, n, v)
	}
	for _, v := range []string{"0", "-1", "two", "65"} {
		_, err := mailerShards(func(string) string { return v })
		assert.ErrorContains(t, err, "TIERFLOW_MAILER_SHARDS", v)
	}
}
