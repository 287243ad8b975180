package main

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/sendgrid"
)

// mailEnv is the snapshot of the mail settings taken at start, handed to
// sendgrid.FromEnv once the store (the dev mailbox's storage) is open.
type mailEnv map[string]string

var mailEnvKeys = []string{
	sendgrid.EnvAPIKey, sendgrid.EnvSandbox, sendgrid.EnvBaseURL, sendgrid.EnvTemplates,
	sendgrid.EnvFrom, sendgrid.EnvReplyTo, sendgrid.EnvTimeout,
}

func loadMailEnv(getenv func(string) string) mailEnv {
	m := mailEnv{}
	for _, k := range mailEnvKeys {
		m[k] = getenv(k)
	}
	return m
}

func (m mailEnv) get(key string) string { return m[key] }

// newMailer is SendGrid when SENDGRID_API_KEY is set, else the dev mailbox that
// keeps every message in PostgreSQL (viewable through the API's /dev/mailbox/).
func newMailer(env mailEnv, mailbox tierflow.Mailbox, logger *slog.Logger) (tierflow.Mailer, error) {
	mailer, description, err := sendgrid.FromEnv(env.get, mailbox)
	if err != nil {
		return nil, fmt.Errorf("mail settings: %w", err)
	}
	if strings.TrimSpace(env.get(sendgrid.EnvAPIKey)) == "" {
		logger.Warn("email goes to the dev mailbox: set "+sendgrid.EnvAPIKey+" to send it", "mailer", description)
	} else {
		logger.Info("mailer ready", "mailer", description)
	}
	return mailer, nil
}
