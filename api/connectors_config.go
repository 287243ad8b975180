package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/internal/secrets"
	"github.com/tierflow/tierflow/internal/stdwebhook"
)

// Settings of the inbound connectors.
const (
	envZendeskSecret      = secrets.EnvZendeskSecret // Zendesk's signing secret of the webhook
	envZendeskDepartments = "TIERFLOW_ZENDESK_DEPARTMENTS"
	envConnectorSecrets   = "TIERFLOW_CONNECTOR_SECRETS"
)

// minZendeskSecretLen is the least production takes for the Zendesk secret
// (Zendesk generates 44-character ones).
const minZendeskSecretLen = 24

// Connectors configures the inbound connectors (connectors.go).
type Connectors struct {
	// ZendeskSecret verifies POST /v1/connectors/zendesk; empty: the connector is
	// off (404).
	ZendeskSecret []byte
	// ZendeskDepartments are the departments a Zendesk group may name (the policy
	// has no list of departments; the staff directory serves these).
	ZendeskDepartments []string
	// Generic holds each source's Standard Webhooks secrets for POST
	// /v1/connectors/generic/{source}; a source listed twice has two secrets, both
	// verifying, for a rotation.
	Generic map[string][]stdwebhook.Secret
}

// loadConnectors reads the connectors' settings. In production a connector secret
// must be at least 32 random bytes, not a documented dev value nor a placeholder
// (secrets.CheckProductionKey), and the Zendesk secret at least 24 characters
// (secrets.CheckProduction already refuses its dev value and placeholders).
func loadConnectors(getenv func(string) string, production bool) (Connectors, []error) {
	var problems []error
	c := Connectors{Generic: map[string][]stdwebhook.Secret{}}
	if v := strings.TrimSpace(getenv(envZendeskSecret)); v != "" {
		if production && len(v) < minZendeskSecretLen {
			problems = append(problems, fmt.Errorf("%s=production: %s is shorter than %d characters; use the signing secret Zendesk shows for the webhook",
				secrets.EnvVar, envZendeskSecret, minZendeskSecretLen))
		}
		c.ZendeskSecret = []byte(v)
	}
	for _, d := range secrets.SplitList(getenv(envZendeskDepartments)) {
		if !validDepartment(d) {
			problems = append(problems, fmt.Errorf("%s: %q is not a department name (a-z 0-9 _ -)", envZendeskDepartments, d))
			continue
		}
		c.ZendeskDepartments = append(c.ZendeskDepartments, d)
	}
	raw := getenv(envConnectorSecrets)
	if production && secrets.IsPlaceholder(raw) {
		problems = append(problems, fmt.Errorf("%s=production: %s still holds the example file's %s placeholder",
			secrets.EnvVar, envConnectorSecrets, secrets.PlaceholderMarker))
		return c, problems
	}
	for i, item := range secrets.SplitList(raw) {
		source, text, ok := strings.Cut(item, ":")
		source = strings.TrimSpace(source)
		if !ok || !tierflow.ValidSource(source) {
			problems = append(problems, fmt.Errorf("%s item %d must be source:whsec_<base64> with a source of 1-64 characters of A-Z a-z 0-9 . _ -",
				envConnectorSecrets, i+1))
			continue
		}
		name := fmt.Sprintf("%s secret of source %q", envConnectorSecrets, source)
		if production {
			if err := secrets.CheckProductionKey(name, strings.TrimPrefix(strings.TrimSpace(text), stdwebhook.SecretPrefix)); err != nil {
				problems = append(problems, fmt.Errorf("%s=production: %w", secrets.EnvVar, err))
				continue
			}
		}
		secret, err := stdwebhook.ParseSecret(text)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", name, err))
			continue
		}
		c.Generic[source] = append(c.Generic[source], secret)
	}
	return c, problems
}

// validDepartment applies the open request's rule for a department name.
func validDepartment(d string) bool {
	var e *tierflow.Error
	if !errors.As((tierflow.OpenCaseRequest{Department: d}).Validate(), &e) {
		return true
	}
	for _, f := range e.Fields {
		if f.Field == "department" {
			return false
		}
	}
	return true
}
