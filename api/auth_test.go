package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/postgres"
)

func TestParseTokensJSONAndYAML(t *testing.T) {
	hash := HashToken("s3cret-token")
	yamlDoc := "- token_sha256: " + hash + "\n  id: sup-1\n  name: Grace\n  role: supervisor\n  departments: [billing]\n"
	jsonDoc := `[{"token_sha256": "` + hash + `", "id": "sup-1", "name": "Grace", "role": "supervisor", "departments": ["billing"]}]`
	for name, doc := range map[string]string{"yaml": yamlDoc, "json": jsonDoc} {
		t.Run(name, func(t *testing.T) {
			entries, err := ParseTokens([]byte(doc))
			require.NoError(t, err)
			a := NewAuthenticator(entries)
			p, ok := a.Authenticate("s3cret-token")
			require.True(t, ok)
			assert.Equal(t, tierflow.Principal{ID: "sup-1", Name: "Grace", Role: tierflow.RoleSupervisor, Tier: 3,
				Departments: []string{"billing"}}, p, "the tier follows the role")
			_, ok = a.Authenticate("s3cret-token ")
			assert.False(t, ok)
			_, ok = a.Authenticate(hash)
			assert.False(t, ok, "the hash is not a token")
			_, ok = a.Authenticate("")
			assert.False(t, ok)
		})
	}
}

func TestParseTokensRejectsBadEntries(t *testing.T) {
	hash := HashToken("x")
	tests := map[string]string{
		"plain token":    `[{"token_sha256": "x", "id": "a", "role": "agent"}]`,
		"no id":          `[{"token_sha256": "` + hash + `", "role": "agent"}]`,
		"unknown role":   `[{"token_sha256": "` + hash + `", "id": "a", "role": "admin"}]`,
		"system role":    `[{"token_sha256": "` + hash + `", "id": "a", "role": "system"}]`,
		"tier mismatch":  `[{"token_sha256": "` + hash + `", "id": "a", "role": "agent", "tier": 3, "departments": ["billing"]}]`,
		"unknown field":  `[{"token_sha256": "` + hash + `", "id": "a", "role": "agent", "token": "x"}]`,
		"duplicate hash": `[{"token_sha256": "` + hash + `", "id": "a", "role": "viewer"}, {"token_sha256": "` + hash + `", "id": "b", "role": "viewer"}]`,
		"not a list":     `{"id": "a"}`,
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := ParseTokens([]byte(doc))
			assert.Error(t, err)
		})
	}
}

func TestDevTokens(t *testing.T) {
	a := NewAuthenticator(DevTokens())
	want := map[string]tierflow.Principal{
		"dev-integration": {Role: tierflow.RoleIntegration},
		"dev-agent":       {Role: tierflow.RoleAgent, Tier: 1, Departments: []string{"billing", "technical", "shipping"}},
		"dev-specialist":  {Role: tierflow.RoleSpecialist, Tier: 2, Departments: []string{"billing", "technical"}},
		"dev-supervisor":  {Role: tierflow.RoleSupervisor, Tier: 3},
		"dev-executive":   {Role: tierflow.RoleExecutive, Tier: 4},
		"dev-viewer":      {Role: tierflow.RoleViewer},
	}
	for token, w := range want {
		p, ok := a.Authenticate(token)
		require.True(t, ok, token)
		assert.Equal(t, "dev:"+strings.TrimPrefix(token, "dev-"), p.ID, "a dev principal's id is not its token")
		assert.NotContains(t, p.ID, token)
		assert.Equal(t, w.Role, p.Role, token)
		assert.Equal(t, w.Tier, p.Tier, token)
		assert.Equal(t, w.Departments, p.Departments, token)
	}
}

// A deciding dev principal is its member of the dev staff directory (make dev seeds
// it), with the same role and tier.
func TestDevPrincipalsAreDevStaff(t *testing.T) {
	staff := map[string]tierflow.StaffMember{}
	for _, m := range postgres.DevStaff {
		staff[m.ID] = m
	}
	deciding := 0
	for _, e := range DevTokens() {
		if e.Role.DecidingTier() == 0 {
			continue
		}
		deciding++
		m, ok := staff[e.ID]
		if assert.True(t, ok, "%s is in postgres.DevStaff", e.ID) {
			assert.Equal(t, e.Role, m.Role, e.ID)
			assert.Equal(t, e.Tier, m.Tier, e.ID)
		}
	}
	assert.Equal(t, 4, deciding)
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.yaml")
	require.NoError(t, os.WriteFile(tokens, []byte("- {token_sha256: "+HashToken("t1")+", id: crm, role: integration}\n"), 0o600))
	env := map[string]string{
		"DATABASE_URL": "postgres://localhost/tierflow", "TIERFLOW_SURVEY_KEY": "0123456789abcdef",
		"TIERFLOW_TOKENS_FILE": tokens, "TIERFLOW_POLICY_FILES": "a.yaml, b.yaml", "TIERFLOW_METRICS_ADDR": "off",
		"TIERFLOW_MAILBOX": "true", "TIERFLOW_PUBLIC_URL": "https://support.example.com/",
	}
	cfg, err := loadConfig(func(k string) string { return env[k] })
	require.NoError(t, err)
	assert.Equal(t, ":8080", cfg.Addr)
	assert.Empty(t, cfg.MetricsAddr)
	assert.Equal(t, []string{"a.yaml", "b.yaml"}, cfg.PolicyFiles)
	assert.Equal(t, "standard", cfg.DefaultPolicy)
	assert.Equal(t, "https://support.example.com", cfg.PublicURL)
	assert.True(t, cfg.Mailbox)
	require.Len(t, cfg.Tokens, 1)

	env["TIERFLOW_DEV_TOKENS"] = "true"
	cfg, err = loadConfig(func(k string) string { return env[k] })
	require.NoError(t, err)
	assert.Len(t, cfg.Tokens, 7)

	_, err = loadConfig(func(k string) string { return map[string]string{"TIERFLOW_DEV_TOKENS": "maybe"}[k] })
	require.Error(t, err)
	for _, want := range []string{"DATABASE_URL", "TIERFLOW_SURVEY_KEY", "TIERFLOW_DEV_TOKENS", "no API tokens"} {
		assert.Contains(t, err.Error(), want)
	}

	_, err = loadConfig(func(k string) string {
		return map[string]string{"DATABASE_URL": "x", "TIERFLOW_SURVEY_KEY": "0123456789abcdef"}[k]
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no API tokens")
}

func TestBearerHeaderParsing(t *testing.T) {
	tests := []struct {
		header string
		status int
	}{
		{"Bearer dev-agent", http.StatusOK},
		{"bearer dev-agent", http.StatusOK}, // the scheme is case-insensitive (RFC 9110)
		{"BEARER  dev-agent ", http.StatusOK},
		{"Bearer", http.StatusUnauthorized},
		{"Bearer ", http.StatusUnauthorized},
		{"Basic ZGV2LWFnZW50Og==", http.StatusUnauthorized},
		{"dev-agent", http.StatusUnauthorized},
		{"Bearer dev-agent extra", http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.header, func(t *testing.T) {
			env := newTestEnv(t)
			rec := env.do(request{method: "GET", path: "/v1/cases", header: map[string]string{"Authorization": tc.header}})
			if tc.status == http.StatusOK {
				assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
				return
			}
			problemOf(t, rec, tc.status)
		})
	}
}

func TestEveryProblemHasADetail(t *testing.T) {
	for code := range codeStatus {
		p := problemFor(&tierflow.Error{Code: code})
		assert.NotEmpty(t, p.Detail, code)
		assert.Equal(t, codeStatus[code], p.Status, code)
	}
	assert.NotEmpty(t, problemFor(assert.AnError).Detail)
}
