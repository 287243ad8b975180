package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

func TestOpenCaseIsIdempotent(t *testing.T) {
	env := newTestEnv(t)
	body := openBody(nil)

	first := env.do(request{method: "POST", path: "/v1/cases", token: "dev-integration", body: body})
	created := caseOf(t, first, http.StatusCreated)
	assert.Equal(t, "zendesk-48213", created.ID)
	assert.Equal(t, "/v1/cases/zendesk-48213", first.Header().Get("Location"))
	assert.Equal(t, tierflow.StatusOpen, created.Status)
	assert.Equal(t, "ada@example.com", created.Customer.Email, "integrations see the email")
	require.Len(t, env.cases.opened, 1)
	cmd := env.cases.opened[0]
	assert.Equal(t, "dev:integration", cmd.OpenedBy.ID, "the opener is the token's principal")
	assert.Equal(t, "standard", cmd.Policy.Name)
	assert.Len(t, cmd.Fingerprint, 64)

	// The same request, formatted differently (same instant in another offset).
	again := openBody(func(m map[string]any) { m["opened_at"] = "2026-11-20T10:15:00+01:00" })
	second := env.do(request{method: "POST", path: "/v1/cases", token: "dev-integration", body: again})
	assert.Equal(t, http.StatusOK, second.Code, second.Body.String())
	assert.JSONEq(t, first.Body.String(), second.Body.String(), "a repeated open answers the same case")

	different := openBody(func(m map[string]any) { m["subject"] = "Another subject" })
	conflict := env.do(request{method: "POST", path: "/v1/cases", token: "dev-integration", body: different})
	p := problemOf(t, conflict, http.StatusConflict)
	assert.Contains(t, p.Detail, "different request")

	now, _ := env.cases.snapshot("zendesk-48213")
	assert.Equal(t, "Refund not received", now.Subject, "the conflicting request changed nothing")
	assert.Len(t, env.cases.opened, 1)
}

func TestOpenCaseDefaultsThePolicy(t *testing.T) {
	env := newTestEnv(t)
	rec := env.do(request{method: "POST", path: "/v1/cases", token: "dev-integration",
		body: openBody(func(m map[string]any) { delete(m, "policy") })})
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	assert.Equal(t, "standard", env.cases.opened[0].Policy.Name)
}

func TestOpenCaseOfAClosedCaseWhoseHistoryExpired(t *testing.T) {
	env := newTestEnv(t)
	closed := fullCase("zendesk-48213", 2, "billing")
	closed.Status = tierflow.StatusClosed
	closed.OpenedAt = testNow.Add(-45 * 60e9) // 09:15
	env.records.cases[closed.ID] = closed

	same := env.do(request{method: "POST", path: "/v1/cases", token: "dev-integration", body: openBody(nil)})
	v := caseOf(t, same, http.StatusOK)
	assert.Equal(t, tierflow.StatusClosed, v.Status)

	other := env.do(request{method: "POST", path: "/v1/cases", token: "dev-integration",
		body: openBody(func(m map[string]any) { m["priority"] = "low" })})
	problemOf(t, other, http.StatusConflict)
	assert.Empty(t, env.cases.opened, "no second workflow for a closed case")
}

func TestOpenCaseRejectsBadInput(t *testing.T) {
	valid := openBody(nil)
	tests := []struct {
		name        string
		token       string
		contentType string
		body        string
		status      int
		fields      []string
	}{
		{name: "no token", body: valid, status: http.StatusUnauthorized},
		{name: "unknown token", token: "not-a-token", body: valid, status: http.StatusUnauthorized},
		{name: "wrong role", token: "dev-agent", body: valid, status: http.StatusForbidden},
		{name: "viewer", token: "dev-viewer", body: valid, status: http.StatusForbidden},
		{name: "malformed JSON", token: "dev-integration", body: `{"source": "zendesk",`, status: http.StatusBadRequest},
		{name: "not an object", token: "dev-integration", body: `[1,2]`, status: http.StatusBadRequest},
		{name: "unknown field", token: "dev-integration",
			body: openBody(func(m map[string]any) { m["actor"] = "x" }), status: http.StatusBadRequest, fields: []string{"actor"}},
		{name: "wrong type", token: "dev-integration",
			body: openBody(func(m map[string]any) { m["start_tier"] = "two" }), status: http.StatusBadRequest, fields: []string{"start_tier"}},
		{name: "bad time", token: "dev-integration",
			body: openBody(func(m map[string]any) { m["opened_at"] = "yesterday" }), status: http.StatusBadRequest},
		{name: "trailing data", token: "dev-integration", body: valid + `{}`, status: http.StatusBadRequest},
		{name: "empty body", token: "dev-integration", contentType: "application/json", status: http.StatusBadRequest},
		{name: "too large", token: "dev-integration",
			body: openBody(func(m map[string]any) { m["description"] = strings.Repeat("x", maxBodyBytes) }), status: http.StatusRequestEntityTooLarge},
		{name: "not JSON", token: "dev-integration", contentType: "text/plain", body: valid, status: http.StatusUnsupportedMediaType},
		{name: "form", token: "dev-integration", contentType: "application/x-www-form-urlencoded", body: "source=x", status: http.StatusUnsupportedMediaType},
		{name: "invalid fields", token: "dev-integration",
			body: openBody(func(m map[string]any) {
				m["source"] = "zen desk"
				m["priority"] = "whenever"
				m["customer"] = map[string]any{"id": "C-1", "email": "not-an-email"}
			}), status: http.StatusUnprocessableEntity, fields: []string{"source", "customer.email", "priority"}},
		{name: "opened in the future", token: "dev-integration",
			body: openBody(func(m map[string]any) { m["opened_at"] = "2027-01-01T00:00:00Z" }), status: http.StatusUnprocessableEntity, fields: []string{"opened_at"}},
		{name: "unknown policy", token: "dev-integration",
			body: openBody(func(m map[string]any) { m["policy"] = "lenient" }), status: http.StatusUnprocessableEntity, fields: []string{"policy"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			rec := env.do(request{method: "POST", path: "/v1/cases", token: tc.token, contentType: tc.contentType, body: tc.body})
			p := problemOf(t, rec, tc.status)
			for _, f := range tc.fields {
				assert.Contains(t, fieldsOf(p), f)
			}
			assert.Empty(t, env.cases.opened, "nothing was started")
			if tc.status == http.StatusUnauthorized {
				assert.Equal(t, `Bearer realm="tierflow"`, rec.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

func TestOpenCaseWhenTemporalIsDown(t *testing.T) {
	env := newTestEnv(t)
	env.cases.fail("open", tierflow.Errorf(tierflow.CodeUnavailable, "Temporal is unavailable; retry later"))
	rec := env.do(request{method: "POST", path: "/v1/cases", token: "dev-integration", body: openBody(nil)})
	problemOf(t, rec, http.StatusServiceUnavailable)
}

func TestInternalErrorsAreNotShown(t *testing.T) {
	env := newTestEnv(t)
	env.cases.fail("get", &tierflow.Error{Code: tierflow.CodeInternal, Err: assert.AnError})
	rec := env.do(request{method: "GET", path: "/v1/cases/zendesk-1", token: "dev-agent"})
	p := problemOf(t, rec, http.StatusInternalServerError)
	assert.NotContains(t, rec.Body.String(), assert.AnError.Error())
	assert.Contains(t, p.Detail, "request id")
}

func TestGetCase(t *testing.T) {
	env := newTestEnv(t)
	env.cases.put(fullCase("zendesk-48213", 2, "billing"))

	for _, token := range []string{"dev-agent", "dev-integration", "dev-supervisor"} {
		rec := env.do(request{method: "GET", path: "/v1/cases/zendesk-48213", token: token})
		v := caseOf(t, rec, http.StatusOK)
		assert.Equal(t, "ada@example.com", v.Customer.Email, token)
	}

	rec := env.do(request{method: "GET", path: "/v1/cases/zendesk-48213", token: "dev-viewer"})
	v := caseOf(t, rec, http.StatusOK)
	assert.Equal(t, "Ada Lovelace", v.Customer.Name)
	assert.NotContains(t, rec.Body.String(), "ada@example.com", "viewers do not see the customer's email")
	assert.NotContains(t, rec.Body.String(), `"email"`)
}

func TestGetCaseFallsBackToTheRecord(t *testing.T) {
	env := newTestEnv(t)
	old := fullCase("zendesk-1", 1, "")
	old.Status = tierflow.StatusClosed
	env.records.cases[old.ID] = old

	v := caseOf(t, env.do(request{method: "GET", path: "/v1/cases/zendesk-1", token: "dev-agent"}), http.StatusOK)
	assert.Equal(t, tierflow.StatusClosed, v.Status)

	problemOf(t, env.do(request{method: "GET", path: "/v1/cases/zendesk-2", token: "dev-agent"}), http.StatusNotFound)
	problemOf(t, env.do(request{method: "GET", path: "/v1/cases/zendesk-2"}), http.StatusUnauthorized)

	// No worker, or Temporal down: the case is still read, from its record, and
	// the answer says so.
	live := fullCase("zendesk-3", 2, "billing")
	env.records.cases[live.ID] = live
	env.cases.fail("get", tierflow.Errorf(tierflow.CodeUnavailable, "the case did not answer in time (no worker is processing it)"))
	rec := env.do(request{method: "GET", path: "/v1/cases/zendesk-3", token: "dev-agent"})
	v = caseOf(t, rec, http.StatusOK)
	assert.Equal(t, live.Seq, v.Seq)
	assert.Equal(t, "record", rec.Header().Get("X-Tierflow-Source"), "the answer says it is the record, maybe behind")
	// With the record unreachable too, 503 and Retry-After.
	env.records.err = tierflow.Errorf(tierflow.CodeUnavailable, "database unavailable")
	rec = env.do(request{method: "GET", path: "/v1/cases/zendesk-3", token: "dev-agent"})
	problemOf(t, rec, http.StatusServiceUnavailable)
	assert.NotEmpty(t, rec.Header().Get("Retry-After"))
}

// The record says a survey is scheduled until the case's next step records it
// sent; the outbox sends it at its send time, so the API shows it sent from then
// on, from the record as from the list.
func TestCaseFromTheRecordShowsTheSurveySentAfterItsSendTime(t *testing.T) {
	env := newTestEnv(t)
	sendAt, later := testNow.Add(-time.Minute), testNow.Add(time.Minute)
	due, notYet := fullCase("zendesk-1", 1, ""), fullCase("zendesk-2", 1, "")
	due.Status, notYet.Status = tierflow.StatusResolved, tierflow.StatusResolved
	due.Survey = &tierflow.SurveyState{Status: tierflow.SurveyScheduled, Round: 1, SendAt: &sendAt}
	notYet.Survey = &tierflow.SurveyState{Status: tierflow.SurveyScheduled, Round: 1, SendAt: &later}
	surveySend := func(at time.Time) tierflow.Deadlines {
		return tierflow.Deadlines{SurveySendAt: &at, Explanations: []tierflow.Deadline{
			{Clock: tierflow.ClockSurveySend, At: at, Explanation: "survey send"}}}
	}
	due.Deadlines, notYet.Deadlines = surveySend(sendAt), surveySend(later)
	noSurveySend := func(v tierflow.CaseView) {
		t.Helper()
		assert.Nil(t, v.Deadlines.SurveySendAt, "the send time has passed")
		for _, d := range v.Deadlines.Explanations {
			assert.NotEqual(t, tierflow.ClockSurveySend, d.Clock, "no survey send explanation")
		}
	}
	env.records.cases[due.ID], env.records.cases[notYet.ID] = due, notYet
	env.cases.fail("get", tierflow.Errorf(tierflow.CodeNotFound, "no workflow"))

	v := caseOf(t, env.do(request{method: "GET", path: "/v1/cases/zendesk-1", token: "dev-agent"}), http.StatusOK)
	require.NotNil(t, v.Survey)
	assert.Equal(t, tierflow.SurveySent, v.Survey.Status)
	require.NotNil(t, v.Survey.SentAt)
	assert.Equal(t, sendAt, v.Survey.SentAt.UTC())
	noSurveySend(v)
	v = caseOf(t, env.do(request{method: "GET", path: "/v1/cases/zendesk-2", token: "dev-agent"}), http.StatusOK)
	assert.Equal(t, tierflow.SurveyScheduled, v.Survey.Status)
	assert.Nil(t, v.Survey.SentAt)
	require.NotNil(t, v.Deadlines.SurveySendAt, "not sent yet: its send is still a deadline")
	assert.Equal(t, later, v.Deadlines.SurveySendAt.UTC())
	require.Len(t, v.Deadlines.Explanations, 1)
	assert.Equal(t, tierflow.SurveyScheduled, env.records.cases[due.ID].Survey.Status, "the record is not changed")

	env.records.page = tierflow.CasePage{Cases: []tierflow.CaseView{due, notYet}}
	rec := env.do(request{method: "GET", path: "/v1/cases", token: "dev-supervisor"})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var page tierflow.CasePage
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &page))
	require.Len(t, page.Cases, 2)
	assert.Equal(t, tierflow.SurveySent, page.Cases[0].Survey.Status)
	noSurveySend(page.Cases[0])
	assert.Equal(t, tierflow.SurveyScheduled, page.Cases[1].Survey.Status)
	assert.NotNil(t, page.Cases[1].Deadlines.SurveySendAt)
}

func TestListCases(t *testing.T) {
	env := newTestEnv(t)
	env.records.page = tierflow.CasePage{Cases: []tierflow.CaseView{fullCase("zendesk-1", 1, ""), fullCase("zendesk-2", 3, "billing")}, NextCursor: "opaque"}

	rec := env.do(request{method: "GET", token: "dev-supervisor",
		path: "/v1/cases?status=in_progress&tier=3&priority=high&department=billing&assignee=sup-1&breached=true&source=zendesk&limit=200&cursor=abc"})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var page tierflow.CasePage
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &page))
	assert.Len(t, page.Cases, 2)
	assert.Equal(t, "opaque", page.NextCursor)
	f := env.records.lastFilter
	require.NotNil(t, f)
	require.NotNil(t, f.Breached)
	assert.Equal(t, tierflow.CaseFilter{Status: tierflow.StatusInProgress, Tier: 3, Priority: tierflow.PriorityHigh,
		Department: "billing", Assignee: "sup-1", Source: "zendesk", Breached: f.Breached, Limit: 200, Cursor: "abc"}, *f)
	assert.True(t, *f.Breached)

	rec = env.do(request{method: "GET", path: "/v1/cases", token: "dev-viewer"})
	require.Equal(t, http.StatusOK, rec.Code)
	assert.NotContains(t, rec.Body.String(), "ada@example.com")
	assert.Equal(t, defaultListLimit, env.records.lastFilter.Limit)

	env.records.page = tierflow.CasePage{}
	rec = env.do(request{method: "GET", path: "/v1/cases", token: "dev-agent"})
	assert.JSONEq(t, `{"cases": []}`, rec.Body.String())
}

func TestListCasesRejectsBadFilters(t *testing.T) {
	tests := map[string][]string{
		"/v1/cases?status=lost":            {"status"},
		"/v1/cases?tier=5":                 {"tier"},
		"/v1/cases?tier=two":               {"tier"},
		"/v1/cases?priority=asap":          {"priority"},
		"/v1/cases?breached=maybe":         {"breached"},
		"/v1/cases?limit=201":              {"limit"},
		"/v1/cases?limit=0":                {"limit"},
		"/v1/cases?colour=red":             {"colour"},
		"/v1/cases?status=open&status=new": {"status"},
	}
	for path, fields := range tests {
		t.Run(path, func(t *testing.T) {
			env := newTestEnv(t)
			p := problemOf(t, env.do(request{method: "GET", path: path, token: "dev-agent"}), http.StatusUnprocessableEntity)
			assert.Subset(t, fieldsOf(p), fields)
			assert.Nil(t, env.records.lastFilter, "the store was not asked")
		})
	}
}

func TestCaseEvents(t *testing.T) {
	env := newTestEnv(t)
	env.records.events["zendesk-1"] = []tierflow.CaseEvent{
		{CaseID: "zendesk-1", Seq: 1, Type: tierflow.EventOpened, At: testNow, Actor: tierflow.Principal{ID: "dev-integration", Role: tierflow.RoleIntegration}, Tier: 1, Status: tierflow.StatusOpen},
		{CaseID: "zendesk-1", Seq: 2, Type: tierflow.EventEscalated, At: testNow, Actor: tierflow.SystemActor, Tier: 2, FromTier: 1,
			Status: tierflow.StatusOpen, Department: "billing", Reason: "breach", Summary: "tried", CustomerMessage: "we escalated",
			Details: map[string]string{"mode": "automatic"}},
	}
	rec := env.do(request{method: "GET", path: "/v1/cases/zendesk-1/events", token: "dev-viewer"})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var out struct{ Events []tierflow.CaseEvent }
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
	require.Len(t, out.Events, 2)
	assert.Equal(t, int64(1), out.Events[0].Seq, "oldest first")

	problemOf(t, env.do(request{method: "GET", path: "/v1/cases/zendesk-9/events", token: "dev-agent"}), http.StatusNotFound)

	// A case that exists but whose timeline is not recorded yet (the records answer
	// not found, as the store does) answers an empty list; when Temporal cannot
	// say whether it exists, 503.
	env.cases.put(fullCase("zendesk-3", 1, ""))
	rec = env.do(request{method: "GET", path: "/v1/cases/zendesk-3/events", token: "dev-agent"})
	assert.JSONEq(t, `{"events": []}`, rec.Body.String())
	env.cases.fail("get", tierflow.Errorf(tierflow.CodeUnavailable, "Temporal is unavailable; retry later"))
	problemOf(t, env.do(request{method: "GET", path: "/v1/cases/zendesk-3/events", token: "dev-agent"}), http.StatusServiceUnavailable)
	env.cases.fail("get", nil)

	env.records.err = tierflow.Errorf(tierflow.CodeUnavailable, "database unavailable")
	problemOf(t, env.do(request{method: "GET", path: "/v1/cases/zendesk-1/events", token: "dev-agent"}), http.StatusServiceUnavailable)
}
