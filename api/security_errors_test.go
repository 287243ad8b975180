package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/workflows"
)

// Error leakage (issue 9, item 7): text that is not Tierflow's own (another
// library's ApplicationError, PostgreSQL's messages naming constraints and tables,
// a wrapped internal error) never reaches a client; the server logs it with the
// request id. Tierflow's own codes still answer with their status and message.

// secretText appears in every injected cause; no response body may hold any of it.
var secretText = []string{"s3cr3t", "cases_pkey", "public.cases", "/srv/tierflow", "pq:", "goroutine"}

// syncBuffer is a log sink safe for concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// loggedEnv is the test server with its log kept in a buffer.
func loggedEnv(t *testing.T) (*testEnv, *syncBuffer) {
	t.Helper()
	env := newTestEnv(t)
	logs := &syncBuffer{}
	d := env.srv.Deps
	d.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	env.srv = newServer(d)
	env.handler = env.srv.routes()
	return env, logs
}

// assertNoSecret checks that no injected text reached the client.
func assertNoSecret(t *testing.T, body string) {
	t.Helper()
	for _, s := range secretText {
		assert.NotContains(t, body, s)
	}
}

// assertLoggedWithRequestID checks that the server log holds the cause under the
// response's request id.
func assertLoggedWithRequestID(t *testing.T, logs *syncBuffer, requestID, cause string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var entry map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &entry))
		if entry["request_id"] == requestID && strings.Contains(fmt.Sprint(entry["error"], entry["cause"]), cause) {
			return
		}
	}
	t.Errorf("no log line with request_id %s holds %q; log:\n%s", requestID, cause, logs.String())
}

func TestSecurityForeignApplicationErrorTextNeverReachesTheClient(t *testing.T) {
	for name, appErr := range map[string]error{
		"another library's type": temporal.NewApplicationError("pq: s3cr3t password for role tierflow at /srv/tierflow/x.go:12", "PgError"),
		"untyped":                temporal.NewApplicationError("s3cr3t: index out of range\ngoroutine 7 [running]", ""),
		"panic":                  temporal.NewApplicationError("s3cr3t runtime error", "PanicError"),
		"unknown tierflow code": temporal.NewApplicationErrorWithOptions("s3cr3t", workflows.RejectionTypePrefix+"internal",
			temporal.ApplicationErrorOptions{Details: []any{"s3cr3t message", []tierflow.FieldError{{Field: "s3cr3t", Message: "s3cr3t"}}}}),
		"looks like ours but is not": temporal.NewApplicationError("s3cr3t is not allowed", "tierflow-ish"),
	} {
		t.Run(name, func(t *testing.T) {
			env, logs := loggedEnv(t)
			env.cases.put(fullCase("zendesk-1", 1, "billing"))
			env.cases.fail("decide", caseError("zendesk-1", fmt.Errorf("update workflow: %w", appErr)))
			rec := decideAsAgent(env)
			p := problemOf(t, rec, http.StatusInternalServerError)
			assert.Equal(t, "an internal error occurred; quote the request id when reporting it", p.Detail)
			assert.Empty(t, p.Errors, "no field errors from a foreign error")
			assertNoSecret(t, rec.Body.String())
			assertLoggedWithRequestID(t, logs, rec.Header().Get("X-Request-Id"), "s3cr3t")
		})
	}
}

func TestSecurityPostgresMessagesNeverReachTheClient(t *testing.T) {
	pgErr := &pgconn.PgError{Severity: "ERROR", Code: "23505", TableName: "public.cases", ConstraintName: "cases_pkey",
		Message: `duplicate key value violates unique constraint "cases_pkey"`, Detail: "Key (id)=(s3cr3t) already exists."}
	for name, err := range map[string]error{
		"raw":     pgErr,
		"wrapped": fmt.Errorf("list cases: %w", pgErr),
		// A mapped error: its fixed message is shown, the cause never.
		"mapped": &tierflow.Error{Code: tierflow.CodeUnavailable, Message: "database busy, retry", Err: pgErr},
	} {
		t.Run(name, func(t *testing.T) {
			env, logs := loggedEnv(t)
			env.records.err = err
			rec := env.do(request{method: "GET", path: "/v1/cases", token: "dev-viewer"})
			assert.GreaterOrEqual(t, rec.Code, 400)
			assertNoSecret(t, rec.Body.String())
			assert.NotContains(t, rec.Body.String(), "duplicate key")
			assertLoggedWithRequestID(t, logs, rec.Header().Get("X-Request-Id"), "cases_pkey")
		})
	}
}

func TestSecurityWrappedInternalErrorsNeverReachTheClient(t *testing.T) {
	env, logs := loggedEnv(t)
	internal := fmt.Errorf("decode case zendesk-1: %w", errors.New("json: s3cr3t field of /srv/tierflow/view.go"))
	env.cases.fail("get", internal)
	env.records.err = internal
	rec := env.do(request{method: "GET", path: "/v1/cases/zendesk-1", token: "dev-agent"})
	problemOf(t, rec, http.StatusInternalServerError)
	assertNoSecret(t, rec.Body.String())
	assertLoggedWithRequestID(t, logs, rec.Header().Get("X-Request-Id"), "s3cr3t")

	// An internal tierflow.Error shows neither its message nor its fields.
	env.cases.fail("get", &tierflow.Error{Code: tierflow.CodeInternal, Message: "s3cr3t state",
		Fields: []tierflow.FieldError{{Field: "s3cr3t", Message: "s3cr3t"}}})
	rec = env.do(request{method: "GET", path: "/v1/cases/zendesk-1", token: "dev-agent"})
	p := problemOf(t, rec, http.StatusInternalServerError)
	assert.Empty(t, p.Errors)
	assertNoSecret(t, rec.Body.String())
}

// The survey page and the survey form's answers are HTML for customers: a foreign
// failure shows a fixed sentence there too.
func TestSecuritySurveyPagesShowNoInternalText(t *testing.T) {
	env, path := surveyEnv(t)
	env.cases.fail("survey", caseError("zendesk-1",
		temporal.NewApplicationError("s3cr3t: relation public.cases does not exist", "PgError")))
	rec := env.do(request{method: "POST", path: path, contentType: "application/x-www-form-urlencoded", body: "score=4&resolved=yes"})
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Contains(t, rec.Header().Get("Content-Type"), "text/html")
	assertNoSecret(t, rec.Body.String())

	rec = env.do(request{method: "POST", path: path, body: `{"score": 4, "resolved": true}`})
	problemOf(t, rec, http.StatusInternalServerError)
	assertNoSecret(t, rec.Body.String())
}

// Tierflow's own rejections keep their status, message and field errors, whether
// they follow the workflow's convention ("tierflow.<code>") or carry a bare code.
func TestSecurityOwnCodesStillMapToTheirStatus(t *testing.T) {
	fields := []tierflow.FieldError{{Field: "explanation", Message: "is required at tier 3+"}}
	own := func(code tierflow.Code, convention bool) error {
		if !convention {
			return temporal.NewApplicationError("bare type message", string(code), fields)
		}
		return fmt.Errorf("update: %w", temporal.NewApplicationErrorWithOptions("full text", workflows.RejectionTypePrefix+string(code),
			temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{"the workflow's message", fields}}))
	}
	for code, status := range map[tierflow.Code]int{
		tierflow.CodeForbidden: http.StatusForbidden, tierflow.CodeConflict: http.StatusConflict,
		tierflow.CodeInvalid: http.StatusUnprocessableEntity, tierflow.CodeUnavailable: http.StatusServiceUnavailable,
		tierflow.CodeGone: http.StatusGone,
	} {
		for _, convention := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/convention=%v", code, convention), func(t *testing.T) {
				env, path := surveyEnv(t)
				env.cases.put(fullCase("zendesk-2", 1, "billing"))
				var rec *httptest.ResponseRecorder
				if code == tierflow.CodeGone { // decisions never answer 410; surveys do
					env.cases.fail("survey", caseError("zendesk-1", own(code, convention)))
					rec = env.do(request{method: "POST", path: path, body: `{"score": 4, "resolved": true}`})
				} else {
					env.cases.fail("decide", caseError("zendesk-2", own(code, convention)))
					rec = env.do(request{method: "POST", path: "/v1/cases/zendesk-2/decisions", token: "dev-agent",
						body: `{"action": "acknowledge"}`})
				}
				p := problemOf(t, rec, status)
				if convention {
					assert.Equal(t, "the workflow's message", p.Detail)
				} else {
					assert.Equal(t, "bare type message", p.Detail)
				}
				assert.Equal(t, fields, p.Errors)
			})
		}
	}
}

func decideAsAgent(env *testEnv) *httptest.ResponseRecorder {
	return env.do(request{method: "POST", path: "/v1/cases/zendesk-1/decisions", token: "dev-agent",
		body: `{"action": "acknowledge"}`})
}
