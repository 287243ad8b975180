package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow/internal/secrets"
)

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func TestChildEnv(t *testing.T) {
	base := []string{
		"PATH=/usr/bin", "TEMPORAL_ADDRESS=cloud.example:7233", "TEMPORAL_API_KEY=secret",
		"TEMPORAL_PROFILE=prod", "DATABASE_URL=postgres://elsewhere", "TIERFLOW_PUBLIC_URL=",
	}
	tests := []struct {
		name     string
		opts     options
		sendgrid string
		userKey  string
		userEnv  []string
		check    func(t *testing.T, env map[string]string)
	}{
		{
			name: "defaults",
			check: func(t *testing.T, env map[string]string) {
				assert.Equal(t, "/usr/bin", env["PATH"])
				assert.Equal(t, "127.0.0.1:7233", env["TEMPORAL_ADDRESS"])
				assert.Equal(t, "default", env["TEMPORAL_NAMESPACE"])
				assert.NotContains(t, env, "TEMPORAL_API_KEY", "a personal Temporal profile must not leak in")
				assert.NotContains(t, env, "TEMPORAL_PROFILE")
				assert.Equal(t, "postgres://dev", env["DATABASE_URL"])
				assert.Equal(t, "true", env["TIERFLOW_DEV_TOKENS"])
				assert.Equal(t, secrets.DevSurveyKey, env["TIERFLOW_SURVEY_KEY"])
				assert.Equal(t, "http://localhost:8080", env["TIERFLOW_PUBLIC_URL"], "an empty value is replaced")
				assert.Equal(t, "true", env["TIERFLOW_MAILBOX"])
				assert.NotContains(t, env, "TIERFLOW_DEFAULT_POLICY")
				assert.Equal(t, secrets.DevCodecKeys, env["TIERFLOW_CODEC_KEYS"], "payloads are encrypted by default")
				assert.Equal(t, "http://localhost:8233,http://127.0.0.1:8233", env["TIERFLOW_CODEC_CORS_ORIGINS"])
				assert.Equal(t, "http://localhost:8233", env["TIERFLOW_TEMPORAL_UI_URL"], "staff emails link to the dev Temporal UI")
				assert.Equal(t, secrets.DevZendeskSecret, env["TIERFLOW_ZENDESK_SECRET"], "make dev serves the Zendesk connector")
				assert.Equal(t, "billing,technical,shipping", env["TIERFLOW_ZENDESK_DEPARTMENTS"])
			},
		},
		{
			name:    "the user's codec keys",
			userEnv: []string{"TIERFLOW_CODEC_KEYS=mine:" + strings.Repeat("A", 43) + "="},
			check: func(t *testing.T, env map[string]string) {
				assert.Equal(t, "mine:"+strings.Repeat("A", 43)+"=", env["TIERFLOW_CODEC_KEYS"])
			},
		},
		{
			name: "fast policy",
			opts: options{Fast: true},
			check: func(t *testing.T, env map[string]string) {
				assert.Equal(t, "fast", env["TIERFLOW_DEFAULT_POLICY"])
			},
		},
		{
			name:     "real email and the user's survey key",
			sendgrid: "SG.key",
			userKey:  "my-own-survey-key-0123",
			check: func(t *testing.T, env map[string]string) {
				assert.NotContains(t, env, "TIERFLOW_MAILBOX")
				assert.Equal(t, "my-own-survey-key-0123", env["TIERFLOW_SURVEY_KEY"])
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SENDGRID_API_KEY", tt.sendgrid)
			in := base
			if tt.userKey != "" {
				in = append(append([]string{}, base...), "TIERFLOW_SURVEY_KEY="+tt.userKey)
			}
			in = append(append([]string{}, in...), tt.userEnv...)
			env := childEnv(in, "127.0.0.1:7233", "postgres://dev", "http://localhost:8080", tt.opts)
			keys := map[string]int{}
			for _, kv := range env {
				k, _, _ := strings.Cut(kv, "=")
				keys[k]++
			}
			for k, n := range keys {
				assert.Equal(t, 1, n, "%s set %d times", k, n)
			}
			tt.check(t, envMap(env))
		})
	}
}

func TestChildStopIsGracefulThenForced(t *testing.T) {
	con := &console{out: &lockedBuffer{}}
	sh, err := exec.LookPath("sh")
	require.NoError(t, err)

	graceful, err := startChildArgs(con, "graceful", sh, []string{"-c", "trap 'exit 0' INT; while :; do sleep 0.1; done"}, os.Environ())
	require.NoError(t, err)
	time.Sleep(200 * time.Millisecond) // let the shell install its trap
	assert.True(t, graceful.stop(5*time.Second), "exits on SIGINT")
	assert.NoError(t, graceful.err)

	stubborn, err := startChildArgs(con, "stubborn", sh, []string{"-c", "trap '' INT; while :; do sleep 0.1; done"}, os.Environ())
	require.NoError(t, err)
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	assert.False(t, stubborn.stop(500*time.Millisecond), "killed after the grace period")
	assert.Less(t, time.Since(start), 5*time.Second)
	select {
	case <-stubborn.exited:
	default:
		t.Fatal("stop returned before the process exited")
	}
}

func TestConsolePrefixesWholeLines(t *testing.T) {
	out := &lockedBuffer{}
	con := &console{out: out}
	_, _ = lineWriter{con: con, prefix: "migrate"}.Write([]byte("one\ntwo\n"))
	con.printf("worker", "three")
	assert.Equal(t, "migrate  | one\nmigrate  | two\nworker   | three\n", out.String())
}

func TestBannerSaysWhereEverythingIs(t *testing.T) {
	info := bannerInfo{
		Root: "/repo", DataDir: "/repo/.tierflow", PublicURL: "http://localhost:8080",
		UIURL: "http://localhost:8233", TemporalHostPort: "127.0.0.1:7233",
		DSN: "postgres://postgres@127.0.0.1:5555/tierflow", OwnPostgres: true, Mailbox: true,
		WorkerMetrics: "127.0.0.1:9090", APIMetrics: "127.0.0.1:9091",
		CodecURL: "http://localhost:8080/codec", CodecKeys: "the documented dev key dev-1",
	}
	b := banner(info)
	for _, want := range []string{
		"http://localhost:8080/codec/login", "--codec-endpoint http://localhost:8080/codec",
		"--codec-auth 'Bearer dev-supervisor'", "dev key dev-1",
		"http://localhost:8080", "http://localhost:8080/openapi.yaml", "http://localhost:8233",
		"http://localhost:8080/dev/mailbox/", "postgres://postgres@127.0.0.1:5555/tierflow",
		"dev-integration", "dev-agent", "dev-specialist", "dev-supervisor", "dev-executive", "dev-viewer",
		"make dev-fast", "curl -s http://localhost:8080/v1/cases", ".tierflow/",
		"dev-viewer as the password", "dev:agent", "TIERFLOW_ENV=production refuses them",
	} {
		assert.Contains(t, b, want)
	}
	info.Fast, info.Mailbox, info.OwnPostgres = true, false, false
	b = banner(info)
	assert.Contains(t, b, "fast (the demo policy")
	assert.Contains(t, b, "SendGrid")
	assert.Contains(t, b, "DATABASE_URL (given)")
	assert.NotContains(t, b, "5555", "a given DATABASE_URL (with its password) is not printed")
}

func TestIsPostgresIgnoresOtherProcesses(t *testing.T) {
	assert.False(t, isPostgres(os.Getpid()), "the test binary is not a postgres server")
}
