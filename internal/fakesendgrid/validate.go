package fakesendgrid

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// sendMailSpec is SendGrid's own OpenAPI 3.1 description of the Mail Send API
// (twilio/sendgrid-oai, MIT, see testdata/LICENSE).
//
//go:embed testdata/tsg_mail_v3.json
var sendMailSpec []byte

const sendPath = "/v3/mail/send"

// validator checks request bodies against the POST /v3/mail/send operation of the
// spec, then applies the rules the real service enforces that the schema cannot
// express (documented in SendGrid's Mail Send error reference).
type validator struct {
	route *routers.Route
}

func newValidator() (*validator, error) {
	doc, err := openapi3.NewLoader().LoadFromData(sendMailSpec)
	if err != nil {
		return nil, fmt.Errorf("load sendgrid spec: %w", err)
	}
	item := doc.Paths.Value(sendPath)
	if item == nil || item.Post == nil {
		return nil, fmt.Errorf("sendgrid spec has no POST %s", sendPath)
	}
	return &validator{route: &routers.Route{
		Spec: doc, Path: sendPath, PathItem: item, Method: http.MethodPost, Operation: item.Post,
	}}, nil
}

// fieldError is one problem, shaped like SendGrid's errors[] entries.
type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// validate checks r (whose body is body) and returns every problem found.
func (v *validator) validate(ctx context.Context, r *http.Request, body []byte) []fieldError {
	req := r.Clone(ctx)
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	input := &openapi3filter.RequestValidationInput{
		Request: req,
		Route:   v.route,
		Options: &openapi3filter.Options{
			// The server checks the bearer key itself, before validation.
			AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
			MultiError:          true,
			SkipSettingDefaults: true,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{
				openapi3.WithStringFormatValidator("email", emailFormat{}),
			},
		},
	}
	if err := openapi3filter.ValidateRequest(ctx, input); err != nil {
		return schemaErrors(err)
	}
	if errs := customArgRules(body); len(errs) > 0 {
		return errs
	}
	var m Mail
	if err := json.Unmarshal(body, &m); err != nil {
		return []fieldError{{Message: "Bad Request: " + err.Error()}}
	}
	return serviceRules(m)
}

// emailFormat is the "email" format: one bare address as RFC 5322 parses it, with a
// dotted domain (SendGrid answers "Does not contain a valid address." otherwise).
type emailFormat struct{}

func (emailFormat) Validate(value string) error {
	a, err := mail.ParseAddress(value)
	if err != nil || a.Address != value || a.Name != "" {
		return errors.New("does not contain a valid address")
	}
	_, domain, _ := strings.Cut(value, "@")
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return errors.New("does not contain a valid address")
	}
	return nil
}

func schemaErrors(err error) []fieldError {
	var me openapi3.MultiError
	if errors.As(err, &me) {
		out := make([]fieldError, 0, len(me))
		for _, e := range me {
			out = append(out, schemaErrors(e)...)
		}
		return out
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		return []fieldError{{Field: strings.Join(se.JSONPointer(), "."), Message: se.Reason}}
	}
	return []fieldError{{Message: err.Error()}}
}

// serviceRules are the Mail Send rules beyond the schema.
func serviceRules(m Mail) []fieldError {
	var errs []fieldError
	add := func(field, msg string) { errs = append(errs, fieldError{Field: field, Message: msg}) }
	if len(m.Personalizations) == 0 {
		add("personalizations", "The personalizations field is required and must have at least one personalization.")
	}
	templated := m.TemplateID != ""
	for i, p := range m.Personalizations {
		field := fmt.Sprintf("personalizations.%d", i)
		if len(p.To) == 0 {
			add(field+".to", "The to array is required for all personalization objects, and must have at least one email object with a valid email address.")
		}
		if !templated && p.Subject == "" && m.Subject == "" {
			add("subject", "The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.")
		}
	}
	if !templated && len(m.Content) == 0 {
		add("content", "Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block.")
	}
	seen := map[string]int{}
	for i, c := range m.Content {
		seen[c.Type] = i + 1
	}
	if t, h := seen["text/plain"], seen["text/html"]; t > 0 && h > 0 && t > h {
		add("content", "If present, text/plain content must be first, followed by text/html.")
	}
	return errs
}

// customArgRules: every custom_args value must be a string (the schema only says
// object).
func customArgRules(raw []byte) []fieldError {
	var body struct {
		Personalizations []struct {
			CustomArgs map[string]any `json:"custom_args"`
		} `json:"personalizations"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil
	}
	var errs []fieldError
	for i, p := range body.Personalizations {
		for k, v := range p.CustomArgs {
			if _, ok := v.(string); !ok {
				errs = append(errs, fieldError{
					Field:   fmt.Sprintf("personalizations.%d.custom_args.%s", i, k),
					Message: "Custom args values must be strings.",
				})
			}
		}
	}
	return errs
}
