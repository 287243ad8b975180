package sendgrid

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/internal/fakesendgrid"
)

const apiKey = "SG.unit-test"

func newFakeMailer(t *testing.T, mutate ...func(*Config)) (*Mailer, *fakesendgrid.Server) {
	t.Helper()
	fake := fakesendgrid.New(t, apiKey)
	cfg := Config{
		APIKey: apiKey, BaseURL: fake.URL,
		From:    tierflow.Address{Email: "support@example.com", Name: "Example Support"},
		ReplyTo: &tierflow.Address{Email: "help@example.com"},
	}
	for _, f := range mutate {
		f(&cfg)
	}
	m, err := NewMailer(cfg)
	require.NoError(t, err)
	return m, fake
}

func TestMailerSendsAValidMessage(t *testing.T) {
	m, fake := newFakeMailer(t, func(c *Config) { c.SandboxMode = true; c.Categories = []string{"eu"} })
	e := sample(tierflow.MsgEscalated)

	id, err := m.Send(context.Background(), e)
	require.NoError(t, err)

	got := fake.Accepted()
	require.Len(t, got, 1)
	msg := got[0].Mail
	assert.Equal(t, got[0].ID, id, "the provider id is SendGrid's X-Message-Id")
	assert.Equal(t, "support@example.com", msg.From.Email)
	assert.Equal(t, "help@example.com", msg.ReplyTo.Email)
	assert.Equal(t, []string{"ada@example.org"}, msg.Recipients())
	assert.Equal(t, "Your case ZD-4711 has been escalated to our Billing team", msg.Subject)
	require.Len(t, msg.Content, 2)
	assert.Equal(t, "text/plain", msg.Content[0].Type)
	assert.Contains(t, msg.Part("text/html"), "<!DOCTYPE html>")
	assert.True(t, msg.Sandbox())
	assert.Equal(t, []string{"tierflow", "eu", "escalated"}, msg.Categories)
	args := msg.Personalizations[0].CustomArgs
	assert.Equal(t, map[string]string{"case_id": "zendesk-4711", "message_key": e.Key, "kind": "escalated"}, args)
	for _, v := range append(msg.Categories, args["case_id"], args["message_key"], args["kind"]) {
		assert.NotContains(t, v, "@", "no address in provider metadata")
		assert.NotContains(t, v, "Ada", "no name in provider metadata")
	}
	assert.Equal(t, "Bearer "+apiKey, got[0].Header.Get("Authorization"))
}

func TestMailerUsesDynamicTemplates(t *testing.T) {
	m, fake := newFakeMailer(t, func(c *Config) {
		c.TemplateIDs = map[tierflow.MessageKind]string{tierflow.MsgSurvey: "d-survey"}
	})
	_, err := m.Send(context.Background(), sample(tierflow.MsgSurvey))
	require.NoError(t, err)
	got := fake.Accepted()
	require.Len(t, got, 1)
	assert.Equal(t, "d-survey", got[0].Mail.TemplateID)
	assert.Empty(t, got[0].Mail.Content)
	data := got[0].Mail.Personalizations[0].DynamicTemplateData
	assert.Equal(t, "https://support.example.com/v1/surveys/tok", data["survey_url"])
	assert.Equal(t, "survey", data["kind"])
}

func TestMailerClassifiesFailures(t *testing.T) {
	tests := []struct {
		name        string
		fault       *fakesendgrid.Fault
		mutate      func(*tierflow.Email)
		key         string
		wantCode    tierflow.Code
		wantAfter   time.Duration
		wantUnknown bool
		wantMessage string
	}{
		{name: "429 waits as told", fault: &fakesendgrid.Fault{Status: 429, RetryAfter: 7 * time.Second},
			wantCode: tierflow.CodeUnavailable, wantAfter: 7 * time.Second, wantMessage: "too many requests"},
		{name: "503 with Retry-After was not accepted", fault: &fakesendgrid.Fault{Status: 503, RetryAfter: 9 * time.Second},
			wantCode: tierflow.CodeUnavailable, wantAfter: 9 * time.Second},
		{name: "408 was not read to the end", fault: &fakesendgrid.Fault{Status: 408},
			wantCode: tierflow.CodeUnavailable, wantAfter: DefaultRetryAfter},
		{name: "500 may have queued it", fault: &fakesendgrid.Fault{Status: 500},
			wantCode: tierflow.CodeUnavailable, wantAfter: DefaultRetryAfter, wantUnknown: true},
		{name: "502 from a gateway may hide an accepted message", fault: &fakesendgrid.Fault{Status: 502},
			wantCode: tierflow.CodeUnavailable, wantAfter: DefaultRetryAfter, wantUnknown: true},
		{name: "504 from a gateway may hide an accepted message", fault: &fakesendgrid.Fault{Status: 504},
			wantCode: tierflow.CodeUnavailable, wantAfter: DefaultRetryAfter, wantUnknown: true},
		{name: "503 without Retry-After may have queued it", fault: &fakesendgrid.Fault{Status: 503},
			wantCode: tierflow.CodeUnavailable, wantAfter: DefaultRetryAfter, wantUnknown: true},
		{name: "401 is permanent", fault: &fakesendgrid.Fault{Status: 401}, wantCode: tierflow.CodeRejected},
		{name: "403 is permanent", fault: &fakesendgrid.Fault{Status: 403}, wantCode: tierflow.CodeRejected},
		{name: "413 is permanent", fault: &fakesendgrid.Fault{Status: 413}, wantCode: tierflow.CodeRejected},
		{name: "400 is permanent", fault: &fakesendgrid.Fault{Status: 400, Message: "The from address does not match a verified Sender Identity."},
			wantCode: tierflow.CodeRejected, wantMessage: "verified Sender Identity"},
		{name: "an address the provider refuses", mutate: func(e *tierflow.Email) { e.To[0].Email = "ada(at)example" },
			wantCode: tierflow.CodeRejected, wantMessage: "valid address"},
		{name: "a wrong key", key: "SG.wrong", wantCode: tierflow.CodeRejected, wantMessage: "authorization grant"},
		{name: "no recipients", mutate: func(e *tierflow.Email) { e.To = nil }, wantCode: tierflow.CodeRejected, wantMessage: "no recipients"},
		{name: "accepted but the answer was lost", fault: &fakesendgrid.Fault{Mode: fakesendgrid.AcceptThenDrop},
			wantCode: tierflow.CodeUnavailable, wantAfter: DefaultRetryAfter, wantUnknown: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, fake := newFakeMailer(t)
			if tt.key != "" {
				m.cfg.APIKey = tt.key
			}
			if tt.fault != nil {
				fake.FailNext(1, *tt.fault)
			}
			e := sample(tierflow.MsgEscalated)
			if tt.mutate != nil {
				tt.mutate(&e)
			}
			_, err := m.Send(context.Background(), e)
			require.Error(t, err)
			assert.Equal(t, tt.wantCode, tierflow.ErrorCode(err), err.Error())
			assert.Contains(t, err.Error(), tt.wantMessage)
			var ra tierflow.RetryAfterError
			if tt.wantAfter > 0 {
				require.True(t, errors.As(err, &ra), "unavailable errors say when to retry")
				assert.Equal(t, tt.wantAfter, ra.RetryAfter())
				var se *SendError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, tt.wantUnknown, se.OutcomeUnknown())
			} else {
				assert.False(t, errors.As(err, &ra))
			}
		})
	}
}

func TestMailerProviderDownIsRetryableAndCertainlyNotSent(t *testing.T) {
	m, fake := newFakeMailer(t)
	fake.Close()
	_, err := m.Send(context.Background(), sample(tierflow.MsgEscalated))
	assert.Equal(t, tierflow.CodeUnavailable, tierflow.ErrorCode(err))
	var se *SendError
	require.ErrorAs(t, err, &se)
	assert.False(t, se.OutcomeUnknown(), "the request never left: safe to resend")
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		header http.Header
		want   time.Duration
	}{
		{http.Header{"Retry-After": {"12"}}, 12 * time.Second},
		{http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, 90 * time.Second},
		{http.Header{"X-Ratelimit-Reset": {"1795514460"}}, time.Unix(1795514460, 0).Sub(now)},
		{http.Header{"Retry-After": {"soon"}}, DefaultRetryAfter},
		{http.Header{"Retry-After": {"0"}}, time.Second},
		{http.Header{"Retry-After": {"86400"}}, time.Hour},
		{http.Header{}, DefaultRetryAfter},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, retryAfter(tt.header, now), tt.header)
	}
}

func TestProviderMessage(t *testing.T) {
	body := `{"errors":[{"field":"personalizations.0.to.0.email","message":"Does not contain a valid address."},{"field":null,"message":"second"}]}`
	assert.Equal(t, "personalizations.0.to.0.email: Does not contain a valid address.; second", providerMessage(body, 400))
	assert.Equal(t, "Bad Request", providerMessage("<html>", 400))
	assert.True(t, strings.HasSuffix(providerMessage(`{"errors":[{"message":"`+strings.Repeat("x", 600)+`"}]}`, 400), "..."))
}

// The notify activity runs with a 30 s start-to-close timeout: a mailer that waits as
// long never gets to record its outcome. The default leaves room for the claim and
// the ledger write; SENDGRID_TIMEOUT changes it.
func TestMailerTimeoutLeavesRoomInTheActivity(t *testing.T) {
	m, _ := newFakeMailer(t)
	assert.Equal(t, 10*time.Second, m.cfg.Timeout)

	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	base := map[string]string{EnvAPIKey: "k", EnvFrom: "a@example.com"}
	mailer, _, err := FromEnv(env(base), nil)
	require.NoError(t, err)
	assert.Equal(t, DefaultTimeout, mailer.(*Mailer).cfg.Timeout)
	base[EnvTimeout] = "4s"
	mailer, _, err = FromEnv(env(base), nil)
	require.NoError(t, err)
	assert.Equal(t, 4*time.Second, mailer.(*Mailer).cfg.Timeout)
	for _, bad := range []string{"soon", "0s", "-1s", "2m"} {
		base[EnvTimeout] = bad
		_, _, err = FromEnv(env(base), nil)
		assert.ErrorContains(t, err, EnvTimeout, bad)
	}
}

// A provider that takes the message and never answers: the mailer gives up after
// its own timeout, and says the outcome is unknown.
func TestMailerTimeoutAfterTheRequestLeftIsUnknown(t *testing.T) {
	m, fake := newFakeMailer(t, func(c *Config) { c.Timeout = 300 * time.Millisecond })
	fake.FailNext(1, fakesendgrid.Fault{Mode: fakesendgrid.AcceptThenHold})
	start := time.Now()
	_, err := m.Send(context.Background(), sample(tierflow.MsgEscalated))
	assert.Less(t, time.Since(start), 5*time.Second)
	var se *SendError
	require.ErrorAs(t, err, &se)
	assert.True(t, se.OutcomeUnknown())
}
