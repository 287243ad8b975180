package sendgrid

import (
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/tierflow/tierflow"
)

// Environment variables read by FromEnv.
const (
	EnvAPIKey    = "SENDGRID_API_KEY"
	EnvSandbox   = "SENDGRID_SANDBOX"      // "true": SendGrid validates but delivers nothing
	EnvBaseURL   = "SENDGRID_BASE_URL"     // optional, e.g. https://api.eu.sendgrid.com
	EnvTemplates = "SENDGRID_TEMPLATE_IDS" // optional: "escalated=d-123,resolution=d-456"
	EnvFrom      = "TIERFLOW_MAIL_FROM"    // "Support <support@example.com>"
	EnvReplyTo   = "TIERFLOW_MAIL_REPLY_TO"
	EnvTimeout   = "SENDGRID_TIMEOUT" // optional: one request's timeout, e.g. "10s" (at most 1m)
)

// FromEnv picks the process's Mailer: SendGrid when SENDGRID_API_KEY is set (then
// TIERFLOW_MAIL_FROM is required), otherwise the DevMailbox saving into mb. The
// description says which one for the startup log (it never contains the key).
func FromEnv(getenv func(string) string, mb tierflow.Mailbox) (m tierflow.Mailer, description string, err error) {
	key := strings.TrimSpace(getenv(EnvAPIKey))
	if key == "" {
		dev, err := NewDevMailbox(mb)
		if err != nil {
			return nil, "", err
		}
		return dev, "dev mailbox (no " + EnvAPIKey + "): emails are kept, not sent", nil
	}
	cfg := Config{APIKey: key, BaseURL: getenv(EnvBaseURL)}
	from := getenv(EnvFrom)
	if from == "" {
		return nil, "", fmt.Errorf("%s is required with %s", EnvFrom, EnvAPIKey)
	}
	if cfg.From, err = parseAddress(EnvFrom, from); err != nil {
		return nil, "", err
	}
	if v := getenv(EnvReplyTo); v != "" {
		a, err := parseAddress(EnvReplyTo, v)
		if err != nil {
			return nil, "", err
		}
		cfg.ReplyTo = &a
	}
	if v := getenv(EnvSandbox); v != "" {
		if cfg.SandboxMode, err = strconv.ParseBool(v); err != nil {
			return nil, "", fmt.Errorf("%s: %w", EnvSandbox, err)
		}
	}
	if v := strings.TrimSpace(getenv(EnvTimeout)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > MaxTimeout {
			return nil, "", fmt.Errorf("%s: want a duration such as 10s, above 0 and at most %s, got %q", EnvTimeout, MaxTimeout, v)
		}
		cfg.Timeout = d
	}
	if cfg.TemplateIDs, err = parseTemplateIDs(getenv(EnvTemplates)); err != nil {
		return nil, "", err
	}
	mailer, err := NewMailer(cfg)
	if err != nil {
		return nil, "", err
	}
	description = "SendGrid at " + mailer.cfg.BaseURL
	if cfg.SandboxMode {
		description += " (sandbox mode: nothing is delivered)"
	}
	return mailer, description, nil
}

func parseAddress(name, v string) (tierflow.Address, error) {
	a, err := mail.ParseAddress(v)
	if err != nil {
		return tierflow.Address{}, fmt.Errorf("%s: %w", name, err)
	}
	return tierflow.Address{Email: a.Address, Name: a.Name}, nil
}

func parseTemplateIDs(v string) (map[tierflow.MessageKind]string, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	known := make(map[tierflow.MessageKind]bool, len(tierflow.MessageKinds))
	for _, k := range tierflow.MessageKinds {
		known[k] = true
	}
	out := make(map[tierflow.MessageKind]string)
	for _, pair := range strings.Split(v, ",") {
		kind, id, ok := strings.Cut(strings.TrimSpace(pair), "=")
		k := tierflow.MessageKind(strings.TrimSpace(kind))
		if !ok || !known[k] || strings.TrimSpace(id) == "" {
			return nil, errors.New(EnvTemplates + ": want kind=template-id pairs separated by commas, got " + strconv.Quote(pair))
		}
		out[k] = strings.TrimSpace(id)
	}
	return out, nil
}
