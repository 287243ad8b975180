package secrets

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

// randomKey is the base64 of n random bytes, as `openssl rand -base64 n` prints.
func randomKey(t *testing.T, n int) string {
	return base64.StdEncoding.EncodeToString(randomBytes(t, n))
}

// productionEnv is a configuration production accepts, for either process.
func productionEnv(t *testing.T) map[string]string {
	return map[string]string{
		EnvVar:               "production",
		"DATABASE_URL":       "postgres://tierflow:s3cret@db.internal:5432/tierflow?sslmode=require",
		EnvSurveyKeys:        randomKey(t, 32) + "," + hex.EncodeToString(randomBytes(t, 32)),
		EnvCodecKeys:         "prod-2:" + randomKey(t, 32) + ",prod-1:" + randomKey(t, 32),
		EnvTokens:            `[{"token_sha256":"` + TokenSHA256("a-real-token-from-the-vault") + `","id":"crm","role":"integration"}]`,
		EnvSendGridAPIKey:    "SG.a-real-key",
		"TIERFLOW_MAIL_FROM": "Support <support@example.com>",
	}
}

func check(env map[string]string, p Process) (Mode, error) {
	return CheckProduction(func(k string) string { return env[k] }, p)
}

func TestCheckProductionAcceptsAGoodConfiguration(t *testing.T) {
	for _, p := range []Process{ProcessAPI, ProcessWorker} {
		mode, err := check(productionEnv(t), p)
		require.NoError(t, err, p)
		assert.True(t, mode.Production, p)
		assert.Empty(t, mode.DevSettings, p)
	}
	env := productionEnv(t)
	delete(env, EnvSurveyKeys)
	env[EnvSurveyKey] = randomKey(t, 48)
	_, err := check(env, ProcessAPI)
	assert.NoError(t, err, "the single TIERFLOW_SURVEY_KEY is a one-key list")
}

// Each case is a setting that production refuses, alone in an otherwise good
// configuration; want is the refusal's message.
func TestCheckProductionRefuses(t *testing.T) {
	devTokenFile := filepath.Join(t.TempDir(), "tokens.yaml")
	require.NoError(t, os.WriteFile(devTokenFile, []byte("- token_sha256: "+strings.ToUpper(TokenSHA256("dev-supervisor"))+"\n  id: boss\n  role: supervisor\n"), 0o600))
	devTokenEntry, err := json.Marshal([]map[string]string{{"token_sha256": TokenSHA256("dev-agent"), "id": "alex", "role": "agent"}})
	require.NoError(t, err)
	_, devCodecKey, _ := strings.Cut(DevCodecKeys, ":")

	tests := []struct {
		name    string
		process Process
		change  map[string]string // "" deletes
		want    string
	}{
		{"dev tokens", ProcessAPI, map[string]string{EnvDevTokens: "true"}, "refuses TIERFLOW_DEV_TOKENS=true"},
		{"a dev token's hash inline", ProcessAPI, map[string]string{EnvTokens: string(devTokenEntry)}, `refuses the documented dev token "dev-agent"`},
		{"a dev token's hash in the file", ProcessAPI, map[string]string{EnvTokensFile: devTokenFile}, `refuses the documented dev token "dev-supervisor"`},
		{"the dev mailbox (api)", ProcessAPI, map[string]string{EnvMailbox: "true"}, "refuses TIERFLOW_MAILBOX=true (the dev mailbox"},
		{"the dev mailbox (worker)", ProcessWorker, map[string]string{EnvMailbox: "TRUE"}, "refuses TIERFLOW_MAILBOX=true (without a SendGrid key, email is kept"},
		{"the dev survey key", ProcessWorker, map[string]string{EnvSurveyKeys: DevSurveyKey}, "TIERFLOW_SURVEY_KEYS (key 1 of 1) is a documented development key"},
		{"the dev survey key, single", ProcessAPI, map[string]string{EnvSurveyKeys: "", EnvSurveyKey: DevSurveyKey}, "TIERFLOW_SURVEY_KEY is a documented development key"},
		{"the dev codec keys", ProcessAPI, map[string]string{EnvCodecKeys: DevCodecKeys}, `TIERFLOW_CODEC_KEYS key "dev-1" is a documented development key`},
		{"the dev codec key under another id", ProcessWorker, map[string]string{EnvCodecKeys: "prod-1:" + devCodecKey}, `TIERFLOW_CODEC_KEYS key "prod-1" is a documented development key`},
		{"the dev Zendesk secret", ProcessAPI, map[string]string{EnvZendeskSecret: DevZendeskSecret}, "refuses TIERFLOW_ZENDESK_SECRET holding the documented dev secret"},
		{"placeholder SendGrid key", ProcessWorker, map[string]string{EnvSendGridAPIKey: "SG.CHANGE-ME"}, "SENDGRID_API_KEY still holds the example file's CHANGE-ME placeholder"},
		{"placeholder DSN", ProcessAPI, map[string]string{"DATABASE_URL": "postgres://tierflow:CHANGE-ME@db:5432/tierflow"}, "DATABASE_URL still holds the example file's CHANGE-ME placeholder"},
		{"placeholder tokens", ProcessAPI, map[string]string{EnvTokens: `[{"token_sha256":"CHANGE-ME","id":"crm","role":"integration"}]`}, "TIERFLOW_TOKENS still holds"},
		{"placeholder Temporal API key", ProcessWorker, map[string]string{"TEMPORAL_API_KEY": "CHANGE-ME"}, "TEMPORAL_API_KEY still holds"},
		{"placeholder survey key", ProcessAPI, map[string]string{EnvSurveyKeys: "CHANGE-ME-to-32-random-bytes-hex"}, "TIERFLOW_SURVEY_KEYS (key 1 of 1) still holds the example file's CHANGE-ME placeholder"},
		{"placeholder codec keys", ProcessWorker, map[string]string{EnvCodecKeys: "CHANGE-ME"}, "TIERFLOW_CODEC_KEYS still holds the example file's CHANGE-ME placeholder"},
		{"a short survey key", ProcessWorker, map[string]string{EnvSurveyKeys: randomKey(t, 32) + "," + randomKey(t, 16)}, "TIERFLOW_SURVEY_KEYS (key 2 of 2) holds 16 bytes"},
		{"a passphrase survey key", ProcessAPI, map[string]string{EnvSurveyKeys: "", EnvSurveyKey: "our support team's survey key!"}, "TIERFLOW_SURVEY_KEY must be the hex or base64 encoding of 32 random bytes"},
		{"no survey key", ProcessAPI, map[string]string{EnvSurveyKeys: ""}, "TIERFLOW_SURVEY_KEYS is required"},
		{"a short codec key", ProcessAPI, map[string]string{EnvCodecKeys: "prod-1:" + randomKey(t, 24)}, `TIERFLOW_CODEC_KEYS key "prod-1" holds 24 bytes`},
		{"a codec key without id", ProcessWorker, map[string]string{EnvCodecKeys: randomKey(t, 32)}, "TIERFLOW_CODEC_KEYS item 1 must be keyid:base64key"},
		{"no codec keys", ProcessWorker, map[string]string{EnvCodecKeys: ""}, "TIERFLOW_CODEC_KEYS is required"},
		{"no SendGrid key", ProcessWorker, map[string]string{EnvSendGridAPIKey: ""}, "SENDGRID_API_KEY is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := productionEnv(t)
			for k, v := range tt.change {
				env[k] = v
			}
			_, err := check(env, tt.process)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "TIERFLOW_ENV=production: ")
			assert.Contains(t, err.Error(), tt.want)
			assert.Len(t, strings.Split(err.Error(), "\n"), 1, "one refusal: %v", err)

			env[EnvVar] = "development"
			_, err = check(env, tt.process)
			assert.NoError(t, err, "outside production nothing is refused")
		})
	}
}

func TestCheckProductionReportsEveryProblemAtOnce(t *testing.T) {
	env := map[string]string{EnvVar: "production", EnvMailbox: "true", EnvSurveyKey: DevSurveyKey,
		EnvSendGridAPIKey: "", "DATABASE_URL": "postgres://u:CHANGE-ME@db/t"}
	_, err := check(env, ProcessWorker)
	require.Error(t, err)
	for _, want := range []string{"TIERFLOW_MAILBOX=true", "TIERFLOW_SURVEY_KEY is a documented development key",
		"TIERFLOW_CODEC_KEYS is required", "SENDGRID_API_KEY is required", "DATABASE_URL still holds"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Len(t, strings.Split(err.Error(), "\n"), 5, "each problem once: %v", err)
}

func TestCheckProductionRefusesAnUnknownMode(t *testing.T) {
	_, err := check(map[string]string{EnvVar: "prod"}, ProcessAPI)
	require.ErrorContains(t, err, `TIERFLOW_ENV must be "production" or "development", got "prod"`)
}

func TestDevSettingsAreWarnedOutsideProduction(t *testing.T) {
	env := map[string]string{EnvDevTokens: "true", EnvMailbox: "true", EnvSurveyKey: DevSurveyKey,
		EnvCodecKeys: DevCodecKeys, EnvZendeskSecret: DevZendeskSecret,
		EnvTokens: `[{"token_sha256":"` + TokenSHA256("dev-viewer") + `","id":"v","role":"viewer"}]`}
	mode, err := check(env, ProcessAPI)
	require.NoError(t, err)
	assert.False(t, mode.Production)
	var logs bytes.Buffer
	mode.WarnDevSettings(slog.New(slog.NewJSONHandler(&logs, nil)))
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	require.Len(t, lines, 6, logs.String())
	for i, setting := range []string{"TIERFLOW_MAILBOX=true", "TIERFLOW_SURVEY_KEY holding the documented dev survey key",
		"TIERFLOW_CODEC_KEYS holding the documented dev codec key", "TIERFLOW_DEV_TOKENS=true",
		`the documented dev token \"dev-viewer\"`, "TIERFLOW_ZENDESK_SECRET holding the documented dev secret"} {
		assert.Contains(t, lines[i], `"level":"WARN"`)
		assert.Contains(t, lines[i], "DEVELOPMENT-ONLY SETTING IN USE: "+setting)
		assert.Contains(t, lines[i], `"dev_only":true`)
		assert.Contains(t, lines[i], "TIERFLOW_ENV=production refuses it")
	}

	mode, err = check(map[string]string{EnvMailbox: "true", EnvSendGridAPIKey: ""}, ProcessWorker)
	require.NoError(t, err)
	require.Len(t, mode.DevSettings, 2)
	assert.Equal(t, "TIERFLOW_MAILBOX=true", mode.DevSettings[0].Setting)
	assert.Contains(t, mode.DevSettings[0].Why, "email is kept in the dev mailbox instead of being sent")
	assert.Equal(t, "no TIERFLOW_CODEC_KEYS", mode.DevSettings[1].Setting, "payloads go unencrypted")

	mode, err = check(map[string]string{EnvCodecKeys: "k1:" + randomKey(t, 32), EnvSurveyKey: "a-key-of-our-own-0123"}, ProcessAPI)
	require.NoError(t, err)
	assert.Empty(t, mode.DevSettings, "no dev-only setting, no warning")
}
