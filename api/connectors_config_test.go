package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow/internal/secrets"
	"github.com/tierflow/tierflow/internal/stdwebhook"
)

func TestConnectorSettingsAreRead(t *testing.T) {
	acme, err := stdwebhook.NewSecret()
	require.NoError(t, err)
	rotated, err := stdwebhook.NewSecret()
	require.NoError(t, err)
	env := productionAPIEnv(t)
	env["TIERFLOW_ZENDESK_SECRET"] = "dGhpc19pc19hX3plbmRlc2tfc2lnbmluZ19zZWNyZXQ="
	env["TIERFLOW_ZENDESK_DEPARTMENTS"] = "billing, technical"
	env["TIERFLOW_CONNECTOR_SECRETS"] = "acme:" + acme.String() + ", acme:" + rotated.String()
	cfg, err := loadConfig(func(k string) string { return env[k] })
	require.NoError(t, err)
	assert.Equal(t, []byte("dGhpc19pc19hX3plbmRlc2tfc2lnbmluZ19zZWNyZXQ="), cfg.Connectors.ZendeskSecret)
	assert.Equal(t, []string{"billing", "technical"}, cfg.Connectors.ZendeskDepartments)
	assert.Equal(t, []stdwebhook.Secret{acme, rotated}, cfg.Connectors.Generic["acme"], "a source listed twice verifies with both")
}

// `make dev`'s setting: the documented dev secret, allowed (and warned about) outside production.
func TestConnectorDevSecretOutsideProduction(t *testing.T) {
	env := productionAPIEnv(t)
	env["TIERFLOW_ENV"] = "development"
	env["TIERFLOW_ZENDESK_SECRET"] = secrets.DevZendeskSecret
	cfg, err := loadConfig(func(k string) string { return env[k] })
	require.NoError(t, err)
	assert.Equal(t, []byte(secrets.DevZendeskSecret), cfg.Connectors.ZendeskSecret)
	var warned []string
	for _, d := range cfg.Mode.DevSettings {
		warned = append(warned, d.Setting)
	}
	assert.Contains(t, warned, "TIERFLOW_ZENDESK_SECRET holding the documented dev secret")
}

func TestConnectorSettingsRefused(t *testing.T) {
	short, err := secrets.RandomKey(24) // enough for the specification, not for production
	require.NoError(t, err)
	tests := []struct {
		name       string
		production bool
		change     map[string]string
		want       string
	}{
		{"a short Zendesk secret", true, map[string]string{"TIERFLOW_ZENDESK_SECRET": "zendesk123"}, "TIERFLOW_ZENDESK_SECRET is shorter than 24 characters"},
		{"a placeholder connector secret", true, map[string]string{"TIERFLOW_CONNECTOR_SECRETS": "acme:whsec_CHANGE-ME"}, "TIERFLOW_CONNECTOR_SECRETS still holds the example file's CHANGE-ME placeholder"},
		{"a short connector secret", true, map[string]string{"TIERFLOW_CONNECTOR_SECRETS": "acme:whsec_" + short}, `secret of source "acme" holds 24 bytes`},
		{"a non-random connector secret", true, map[string]string{"TIERFLOW_CONNECTOR_SECRETS": "acme:whsec_YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE="}, "is not random"},
		{"a connector secret without a source", false, map[string]string{"TIERFLOW_CONNECTOR_SECRETS": "whsec_" + short}, "item 1 must be source:whsec_<base64>"},
		{"a connector secret that is not base64", false, map[string]string{"TIERFLOW_CONNECTOR_SECRETS": "acme:whsec_not-base64!"}, `secret of source "acme"`},
		{"a department that is not a name", false, map[string]string{"TIERFLOW_ZENDESK_DEPARTMENTS": "Billing Team"}, `"Billing Team" is not a department name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := productionAPIEnv(t)
			if !tt.production {
				env["TIERFLOW_ENV"] = "development"
			}
			for k, v := range tt.change {
				env[k] = v
			}
			_, err := loadConfig(func(k string) string { return env[k] })
			require.Error(t, err, "the API refuses to start")
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
