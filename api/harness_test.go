package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// testNow is the server's clock in tests.
var testNow = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

var testSurveyKey = []byte("test-survey-key-0123456789")

var (
	openAPIOnce   sync.Once
	openAPIRouter routers.Router
	openAPIErr    error
)

// apiRouter loads openapi.yaml once: it must be a valid OpenAPI 3.1 document.
func apiRouter(t *testing.T) routers.Router {
	t.Helper()
	openAPIOnce.Do(func() {
		openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(openAPIDocument)
		if err != nil {
			openAPIErr = err
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			openAPIErr = err
			return
		}
		openAPIRouter, openAPIErr = legacy.NewRouter(doc)
	})
	require.NoError(t, openAPIErr, "openapi.yaml must load and validate")
	return openAPIRouter
}

// testEnv is a server over fakes.
type testEnv struct {
	t       *testing.T
	cases   *fakeCases
	records *fakeRecords
	srv     *server
	handler http.Handler
	ready   map[string]error
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	env := &testEnv{t: t, cases: newFakeCases(), records: newFakeRecords(), ready: map[string]error{}}
	policies := PolicyFunc(func(name string) (tierflow.Policy, bool) {
		switch name {
		case "standard", "fast":
			return tierflow.Policy{Name: name, Version: "2026-11-01"}, true
		}
		return tierflow.Policy{}, false
	})
	check := func(name string) ReadyCheck {
		return ReadyCheck{Name: name, Check: func(context.Context) error { return env.ready[name] }}
	}
	env.srv = newServer(Deps{
		Cases: env.cases, Records: env.records, Policies: policies, DefaultPolicy: "standard",
		Auth: NewAuthenticator(DevTokens()), SurveyKeys: [][]byte{testSurveyKey},
		Mailbox: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "mailbox "+r.URL.Path)
		}),
		Ready: []ReadyCheck{check("temporal"), check("postgres")},
		Now:   func() time.Time { return testNow },
	})
	env.handler = env.srv.routes()
	return env
}

// request describes one call.
type request struct {
	method, path string
	token        string // bearer token; "" sends none
	contentType  string // defaults to application/json when body is set
	body         string
	header       map[string]string
}

// do serves r and checks the response against openapi.yaml (status documented, headers
// and body matching the schema) whenever the document has the route.
func (e *testEnv) do(r request) *httptest.ResponseRecorder {
	e.t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req := httptest.NewRequest(r.method, r.path, body)
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	} else if r.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	assert.NotEmpty(e.t, rec.Header().Get("X-Request-Id"), "every response has X-Request-Id")
	e.validate(req, rec)
	return rec
}

func (e *testEnv) validate(req *http.Request, rec *httptest.ResponseRecorder) {
	e.t.Helper()
	assert.NoError(e.t, validateAgainstDocument(e.t, req, rec),
		"%s %s -> %d does not match openapi.yaml; body: %s", req.Method, req.URL.Path, rec.Code, rec.Body.String())
}

// validateAgainstDocument checks a response against openapi.yaml; nil for paths the
// document does not describe.
func validateAgainstDocument(t *testing.T, req *http.Request, rec *httptest.ResponseRecorder) error {
	t.Helper()
	probe := httptest.NewRequest(req.Method, req.URL.String(), nil)
	probe.Header = req.Header.Clone()
	route, params, err := apiRouter(t).FindRoute(probe)
	var routeErr *routers.RouteError
	if errors.As(err, &routeErr) {
		return nil // not an API operation (unknown path, dev mailbox, wrong method)
	}
	require.NoError(t, err)
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route},
		Status:                 rec.Code,
		Header:                 rec.Header(),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	input.SetBodyBytes(rec.Body.Bytes())
	return openapi3filter.ValidateResponse(context.Background(), input)
}

// problemOf decodes a problem+json answer with the expected status.
func problemOf(t *testing.T, rec *httptest.ResponseRecorder, status int) problem {
	t.Helper()
	require.Equal(t, status, rec.Code, "body: %s", rec.Body.String())
	require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	var p problem
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	assert.Equal(t, status, p.Status)
	assert.NotEmpty(t, p.Title)
	assert.NotEmpty(t, p.Type)
	if status == http.StatusServiceUnavailable {
		assert.Equal(t, "5", rec.Header().Get("Retry-After"))
	}
	return p
}

func fieldsOf(p problem) []string {
	var out []string
	for _, f := range p.Errors {
		out = append(out, f.Field)
	}
	return out
}

// caseOf decodes a case answer.
func caseOf(t *testing.T, rec *httptest.ResponseRecorder, status int) tierflow.CaseView {
	t.Helper()
	require.Equal(t, status, rec.Code, "body: %s", rec.Body.String())
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	var v tierflow.CaseView
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v))
	return v
}

// openBody is a valid open request, changed by mutate.
func openBody(mutate func(m map[string]any)) string {
	m := map[string]any{
		"source": "zendesk", "external_id": "48213",
		"customer": map[string]any{"id": "C-991", "name": "Ada Lovelace", "email": "ada@example.com", "locale": "en"},
		"subject":  "Refund not received", "description": "Paid twice for order 7731.",
		"category": "billing", "priority": "high", "channel": "phone",
		"opened_at": "2026-11-20T09:15:00Z", "trigger": "unresolved", "department": "billing",
		"start_tier": nil, "frontline_summary": "Checked payment log.", "policy": "standard",
	}
	if mutate != nil {
		mutate(m)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// fullCase is a case with every field set, so that schema checks see them all.
func fullCase(id string, tier tierflow.Tier, dept string) tierflow.CaseView {
	src, ext, _ := tierflow.SplitCaseID(id)
	at := testNow.Add(-time.Hour)
	later := testNow.Add(4 * time.Hour)
	owner := "dev-agent"
	resolved := true
	return tierflow.CaseView{
		ID: id, Source: src, ExternalID: ext, Status: tierflow.StatusInProgress, Tier: tier, Department: dept,
		Assignee: &owner, Priority: tierflow.PriorityHigh, Category: "billing", Subject: "Refund not received",
		Trigger: tierflow.TriggerUnresolved, Channel: "phone",
		Customer: tierflow.Customer{ID: "C-991", Name: "Ada Lovelace", Email: "ada@example.com", Locale: "en", VIP: true},
		Policy:   tierflow.PolicyRef{Name: "standard", Version: "2026-11-01"}, OpenedAt: at, EscalatedAt: at,
		Deadlines: tierflow.Deadlines{AcknowledgeBy: &later, NextCustomerUpdateBy: &later, CloseTargetAt: &later,
			ApprovalBy: &later, AnswerBy: &later, CustomerReminderAt: &later, AutoResolveAt: &later, SurveySendAt: &later,
			SurveyReminderAt: &later, SurveyExpiresAt: &later,
			Explanations: []tierflow.Deadline{{Clock: tierflow.ClockAnswer, Tier: tier, At: later,
				WarnAt: &later, Start: at, Duration: tierflow.Duration{Duration: 4 * time.Hour}, Calendar: "24x7",
				PolicyVersion: "2026-11-01", Paused: tierflow.Duration{Duration: time.Hour},
				Detail: "1h to acknowledge plus 3h to resolve", Explanation: "4h of 24x7"}}},
		Breaches: []tierflow.Breach{{Clock: tierflow.ClockAcknowledge, Tier: 1, At: at},
			{Clock: tierflow.ClockResolve, Tier: 4, At: at, Repeats: 3, LastAt: &later}},
		PendingApproval: &tierflow.Approval{ID: "ap-1", Compensation: "co-1", AmountCents: 30000, Currency: "EUR",
			Description: "refund", RequestedBy: "dev-specialist", RequiredTier: 3, RequestedAt: at, ExpiresAt: later},
		Compensation: []tierflow.Compensation{{ID: "co-1", AmountCents: 30000, Currency: "EUR", Description: "refund",
			ProposedBy: "dev-specialist", ApprovedBy: "dev-supervisor", Status: "pending", At: at, DecidedAt: &at},
			{ID: "co-0", AmountCents: 100, Currency: "EUR", Description: "voucher", ProposedBy: "dev-agent",
				Status: tierflow.CompensationWithdrawn, At: at, DecidedAt: &at}},
		Survey: &tierflow.SurveyState{Status: "sent", SendAt: &at, SentAt: &at, ExpiresAt: &later, Score: 4,
			Resolved: &resolved, Comment: "ok", AnsweredAt: &at},
		Workflow:  tierflow.WorkflowRef{ID: "case-" + id, RunID: "run-1"},
		StartTier: 1, Escalations: 1, Reopens: 0, Resolution: "refunded", LastDecision: "escalate by dev-agent", Seq: 7,
	}
}
