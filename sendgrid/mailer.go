// Package sendgrid sends Tierflow's emails: Mailer over SendGrid's v3 Mail Send API
// (github.com/sendgrid/sendgrid-go), DevMailbox that keeps them in a persisted
// mailbox instead, and the embedded templates both render.
package sendgrid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	sg "github.com/sendgrid/sendgrid-go"
	"github.com/sendgrid/sendgrid-go/helpers/mail"

	"github.com/tierflow/tierflow"
)

// DefaultBaseURL is SendGrid's global API host.
const DefaultBaseURL = "https://api.sendgrid.com"

// DefaultTimeout bounds one request to SendGrid. It must stay well below the notify
// activities' start-to-close timeout (30 s at the time of writing), so that a slow
// provider ends in an error the attempt can still record, not in the attempt's own
// timeout with the ledger left "sending".
const DefaultTimeout = 10 * time.Second

// MaxTimeout is the longest request timeout FromEnv accepts.
const MaxTimeout = time.Minute

// DefaultRetryAfter is the wait after a 429 or 5xx that gives no Retry-After.
const DefaultRetryAfter = 30 * time.Second

// Config configures the SendGrid Mailer.
type Config struct {
	APIKey  string
	BaseURL string // default DefaultBaseURL; tests point it at a fake
	From    tierflow.Address
	ReplyTo *tierflow.Address
	// SandboxMode asks SendGrid to validate without delivering.
	SandboxMode bool
	// TemplateIDs names a SendGrid dynamic template per kind, used instead of the
	// embedded templates (the template gets the message data as
	// dynamic_template_data).
	TemplateIDs map[tierflow.MessageKind]string
	// Categories are added to every message, besides "tierflow" and the kind.
	Categories []string
	// Timeout bounds one request (default DefaultTimeout; the caller's context may
	// end it sooner).
	Timeout time.Duration
}

// Mailer implements tierflow.Mailer over SendGrid.
type Mailer struct {
	cfg    Config
	render *Renderer
}

var _ tierflow.Mailer = (*Mailer)(nil)

// NewMailer checks cfg and returns a Mailer.
func NewMailer(cfg Config) (*Mailer, error) {
	if cfg.APIKey == "" {
		return nil, errors.New("sendgrid: an API key is required")
	}
	if cfg.From.Email == "" {
		return nil, errors.New("sendgrid: a from address is required")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	r, err := NewRenderer(nil)
	if err != nil {
		return nil, err
	}
	return &Mailer{cfg: cfg, render: r}, nil
}

// Send renders e and posts it to /v3/mail/send. It returns SendGrid's X-Message-Id.
// Errors are *tierflow.Error: CodeRejected for a permanent refusal (a 4xx other
// than 429, or a message that cannot be built), CodeUnavailable otherwise; the
// latter also carries RetryAfter and says through OutcomeUnknown whether the
// request may have reached SendGrid (then it must not be resent blindly).
func (m *Mailer) Send(ctx context.Context, e tierflow.Email) (string, error) {
	msg, err := m.build(e)
	if err != nil {
		return "", err
	}
	req := sg.GetRequest(m.cfg.APIKey, "/v3/mail/send", m.cfg.BaseURL)
	req.Method = http.MethodPost
	req.Body = mail.GetRequestBody(msg)

	// The trace tells a failure before the request left (nothing sent: safe to
	// retry) from one after (SendGrid may have the message: outcome unknown).
	var written atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { written.Store(true) }}
	ctx, cancel := context.WithTimeout(httptrace.WithClientTrace(ctx, trace), m.cfg.Timeout)
	defer cancel()
	res, err := sg.MakeRequestWithContext(ctx, req)
	if err != nil {
		return "", &SendError{
			Err: &tierflow.Error{Code: tierflow.CodeUnavailable,
				Message: "email provider unreachable", Err: err},
			After:   DefaultRetryAfter,
			Unknown: written.Load(),
		}
	}
	return classify(res.StatusCode, http.Header(res.Headers), res.Body, time.Now())
}

// build turns e into a v3 mail. Only opaque identifiers go into custom_args and
// categories: they are visible in SendGrid's activity feed and webhooks.
func (m *Mailer) build(e tierflow.Email) (*mail.SGMailV3, error) {
	if len(e.To) == 0 {
		return nil, tierflow.Errorf(tierflow.CodeRejected, "email %s has no recipients", e.Kind)
	}
	msg := mail.NewV3Mail()
	msg.SetFrom(mail.NewEmail(m.cfg.From.Name, m.cfg.From.Email))
	if m.cfg.ReplyTo != nil && m.cfg.ReplyTo.Email != "" {
		msg.SetReplyTo(mail.NewEmail(m.cfg.ReplyTo.Name, m.cfg.ReplyTo.Email))
	}
	p := mail.NewPersonalization()
	for _, to := range e.To {
		p.AddTos(mail.NewEmail(to.Name, to.Email))
	}
	p.SetCustomArg("case_id", e.CaseID)
	p.SetCustomArg("message_key", e.Key)
	p.SetCustomArg("kind", string(e.Kind))
	msg.AddPersonalizations(p)
	msg.AddCategories(categories(m.cfg.Categories, e.Kind)...)

	if id := m.cfg.TemplateIDs[e.Kind]; id != "" {
		msg.SetTemplateID(id)
		data, err := templateData(e)
		if err != nil {
			return nil, err
		}
		p.DynamicTemplateData = data
	} else {
		subject, text, html, err := m.render.Render(e)
		if err != nil {
			return nil, tierflow.Errorf(tierflow.CodeRejected, "render %s: %v", e.Kind, err)
		}
		msg.Subject = subject
		msg.AddContent(mail.NewContent("text/plain", text), mail.NewContent("text/html", html))
	}
	if m.cfg.SandboxMode {
		msg.SetMailSettings(mail.NewMailSettings().SetSandboxMode(mail.NewSetting(true)))
	}
	return msg, nil
}

// categories: "tierflow", the configured ones and the kind; unique, at most 10.
func categories(extra []string, kind tierflow.MessageKind) []string {
	var out []string
	for _, c := range append(append([]string{"tierflow"}, extra...), string(kind)) {
		if c != "" && !slices.Contains(out, c) && len(out) < 10 {
			out = append(out, c)
		}
	}
	return out
}

// templateData is the message data as a dynamic template sees it (the JSON field
// names of tierflow.MessageData, plus kind).
func templateData(e tierflow.Email) (map[string]any, error) {
	b, err := json.Marshal(e.Data)
	if err != nil {
		return nil, fmt.Errorf("encode template data: %w", err)
	}
	var data map[string]any
	if err := json.Unmarshal(b, &data); err != nil {
		return nil, fmt.Errorf("decode template data: %w", err)
	}
	data["kind"] = string(e.Kind)
	return data, nil
}
