package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/sendgrid"
)

// mailEnv is the snapshot of the mail settings taken at start, handed to
// sendgrid.FromEnv once the store (the dev mailbox's storage) is open.
type mailEnv map[string]string

// EnvMailbox must be "true" for the worker to keep email in the dev mailbox when no
// SendGrid key is set; the dev runner and the test stacks set it. Without it (and
// without a key) the worker refuses to start: real customers' email must never end
// up in a table by accident.
const EnvMailbox = "TIERFLOW_MAILBOX"

var mailEnvKeys = []string{
	sendgrid.EnvAPIKey, sendgrid.EnvSandbox, sendgrid.EnvBaseURL, sendgrid.EnvTemplates,
	sendgrid.EnvFrom, sendgrid.EnvReplyTo, sendgrid.EnvTimeout, EnvMailbox,
}

func loadMailEnv(getenv func(string) string) mailEnv {
	m := mailEnv{}
	for _, k := range mailEnvKeys {
		m[k] = getenv(k)
	}
	return m
}

func (m mailEnv) get(key string) string { return m[key] }

// check refuses a worker that would keep email in the dev mailbox without being
// told to: no SendGrid key needs TIERFLOW_MAILBOX=true.
func (m mailEnv) check() error {
	mailbox, err := strconv.ParseBool(or(strings.TrimSpace(m.get(EnvMailbox)), "false"))
	if err != nil {
		return fmt.Errorf("%s must be true or false, got %q", EnvMailbox, m.get(EnvMailbox))
	}
	if strings.TrimSpace(m.get(sendgrid.EnvAPIKey)) == "" && !mailbox {
		return errors.New(sendgrid.EnvAPIKey + " is not set: set it to send email, or set " + EnvMailbox +
			"=true to keep every message in the dev mailbox instead (development and tests only)")
	}
	return nil
}

// newMailer is SendGrid when SENDGRID_API_KEY is set, else (with TIERFLOW_MAILBOX=true
// only) the dev mailbox that keeps every message in PostgreSQL (viewable through the
// API's /dev/mailbox/).
func newMailer(env mailEnv, mailbox tierflow.Mailbox, logger *slog.Logger) (tierflow.Mailer, error) {
	if err := env.check(); err != nil {
		return nil, fmt.Errorf("mail settings: %w", err)
	}
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
