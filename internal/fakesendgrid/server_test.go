package fakesendgrid

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const key = "SG.test-key"

const validBody = `{
  "from": {"email": "support@example.com", "name": "Support"},
  "personalizations": [{"to": [{"email": "ada@example.org"}], "custom_args": {"case_id": "zendesk-1"}}],
  "subject": "Your case was escalated",
  "content": [{"type": "text/plain", "value": "Hello"}, {"type": "text/html", "value": "<p>Hello</p>"}],
  "categories": ["tierflow", "escalated"]
}`

type answer struct {
	status int
	header http.Header
	errors []struct {
		Field   *string `json:"field"`
		Message string  `json:"message"`
	}
}

func post(t *testing.T, s *Server, apiKey, body string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/v3/mail/send", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+apiKey)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	a := answer{status: res.StatusCode, header: res.Header}
	if res.StatusCode != http.StatusAccepted {
		var out struct {
			Errors []struct {
				Field   *string `json:"field"`
				Message string  `json:"message"`
			} `json:"errors"`
		}
		require.NoError(t, json.NewDecoder(res.Body).Decode(&out), "error answers are SendGrid-shaped JSON")
		a.errors = out.Errors
	}
	return a
}

func TestSpecIsAValidOpenAPIDocument(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(sendMailSpec)
	require.NoError(t, err)
	assert.True(t, doc.IsOpenAPI31OrLater())
	assert.NoError(t, doc.Validate(context.Background()))
}

func TestValidBodyIsAcceptedAndRecorded(t *testing.T) {
	s := New(t, key)
	a := post(t, s, key, validBody)
	require.Equal(t, http.StatusAccepted, a.status, "errors: %+v", a.errors)
	id := a.header.Get("X-Message-Id")
	assert.NotEmpty(t, id)

	got := s.Accepted()
	require.Len(t, got, 1)
	assert.Equal(t, id, got[0].ID)
	assert.Equal(t, []string{"ada@example.org"}, got[0].Mail.Recipients())
	assert.Equal(t, "Hello", got[0].Mail.Part("text/plain"))
	assert.Equal(t, "zendesk-1", got[0].Mail.Personalizations[0].CustomArgs["case_id"])

	second := post(t, s, key, validBody)
	assert.NotEqual(t, id, second.header.Get("X-Message-Id"), "message ids are unique")
	assert.Equal(t, 2, s.Requests())
}

func TestInvalidBodiesAreRejected(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"missing from", strings.Replace(validBody, `"from": {"email": "support@example.com", "name": "Support"},`, "", 1), "from"},
		{"empty personalizations", strings.Replace(validBody, `[{"to": [{"email": "ada@example.org"}], "custom_args": {"case_id": "zendesk-1"}}]`, "[]", 1), "personalizations"},
		{"personalization without to", strings.Replace(validBody, `"to": [{"email": "ada@example.org"}], `, "", 1), "to"},
		{"invalid recipient address", strings.Replace(validBody, "ada@example.org", "ada@@example", 1), "email"},
		{"no subject", strings.Replace(validBody, `"subject": "Your case was escalated",`, "", 1), "subject"},
		{"empty content value", strings.Replace(validBody, `"value": "Hello"`, `"value": ""`, 1), "value"},
		{"html before text", strings.Replace(validBody, `[{"type": "text/plain", "value": "Hello"}, {"type": "text/html", "value": "<p>Hello</p>"}]`, `[{"type": "text/html", "value": "<p>Hello</p>"}, {"type": "text/plain", "value": "Hello"}]`, 1), "text/plain"},
		{"custom arg not a string", strings.Replace(validBody, `"case_id": "zendesk-1"`, `"case_id": 7`, 1), "custom_args"},
		{"not json", `{"from":`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t, key)
			a := post(t, s, key, tt.body)
			assert.Equal(t, http.StatusBadRequest, a.status)
			require.NotEmpty(t, a.errors)
			if tt.want != "" {
				found := false
				for _, e := range a.errors {
					if strings.Contains(e.Message, tt.want) || (e.Field != nil && strings.Contains(*e.Field, tt.want)) {
						found = true
					}
				}
				assert.True(t, found, "an error mentions %q: %+v", tt.want, a.errors)
			}
			assert.Empty(t, s.Accepted(), "nothing recorded")
		})
	}
}

func TestWrongKeyIsUnauthorized(t *testing.T) {
	s := New(t, key)
	a := post(t, s, "SG.other", validBody)
	assert.Equal(t, http.StatusUnauthorized, a.status)
	require.Len(t, a.errors, 1)
	assert.Contains(t, a.errors[0].Message, "authorization grant")
	assert.Empty(t, s.Accepted())
}

func TestScriptedFaults(t *testing.T) {
	s := New(t, key)
	s.FailNext(1, Fault{Status: http.StatusTooManyRequests, RetryAfter: 7 * time.Second})
	s.FailNext(1, Fault{Status: http.StatusInternalServerError})
	s.FailNext(1, Fault{Status: http.StatusBadRequest, Message: "The from address does not match a verified Sender Identity."})

	a := post(t, s, key, validBody)
	assert.Equal(t, http.StatusTooManyRequests, a.status)
	assert.Equal(t, "7", a.header.Get("Retry-After"))
	assert.Equal(t, http.StatusInternalServerError, post(t, s, key, validBody).status)
	bad := post(t, s, key, validBody)
	assert.Equal(t, http.StatusBadRequest, bad.status)
	assert.Contains(t, bad.errors[0].Message, "verified Sender Identity")
	assert.Empty(t, s.Accepted(), "failed requests record nothing")

	assert.Equal(t, http.StatusAccepted, post(t, s, key, validBody).status, "faults are used up")
	assert.Len(t, s.Accepted(), 1)
}

func TestAcceptThenDropRecordsButNeverAnswers(t *testing.T) {
	s := New(t, key)
	s.FailNext(1, Fault{Mode: AcceptThenDrop})
	req, err := http.NewRequest(http.MethodPost, s.URL+"/v3/mail/send", strings.NewReader(validBody))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	_, err = http.DefaultClient.Do(req)
	assert.Error(t, err, "the caller sees a network error")
	assert.Len(t, s.Accepted(), 1, "but the provider has the message")
}

func TestAcceptThenHoldWaitsForTheCaller(t *testing.T) {
	s := New(t, key)
	s.FailNext(1, Fault{Mode: AcceptThenHold})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/v3/mail/send", strings.NewReader(validBody))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	errc := make(chan error, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		errc <- err
	}()

	wait, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	require.NoError(t, s.WaitAccepted(wait, 1))
	select {
	case err := <-errc:
		t.Fatalf("the request returned before the caller went away: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	cancel() // the caller "dies"
	assert.Error(t, <-errc)
	assert.Len(t, s.Accepted(), 1)
}
