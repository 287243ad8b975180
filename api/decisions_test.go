package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

func TestDecideActsAsTheCaller(t *testing.T) {
	env := newTestEnv(t)
	env.cases.put(fullCase("zendesk-1", 2, "billing"))

	rec := env.do(request{method: "POST", path: "/v1/cases/zendesk-1/decisions", token: "dev-specialist",
		body: `{"action": "acknowledge", "decision_id": "d-1"}`})
	v := caseOf(t, rec, http.StatusOK)
	assert.Equal(t, tierflow.StatusInProgress, v.Status)
	require.NotNil(t, v.Assignee)
	assert.Equal(t, "dev:specialist", *v.Assignee)
	require.Len(t, env.cases.decisions, 1)
	d := env.cases.decisions[0]
	assert.Equal(t, "d-1", d.DecisionID)
	assert.Equal(t, tierflow.Principal{ID: "dev:specialist", Name: "Dev specialist", Role: tierflow.RoleSpecialist,
		Tier: 2, Departments: []string{"billing", "technical"}}, d.Actor)
}

// A decision is one round trip to its workflow: the Update, which the workflow
// validates against the live case. The API reads nothing first (it once ran a
// pre-check Query, a second round trip).
func TestDecideSendsOnlyTheUpdate(t *testing.T) {
	env := newTestEnv(t)
	env.cases.put(fullCase("zendesk-1", 2, "billing"))
	rec := env.do(request{method: "POST", path: "/v1/cases/zendesk-1/decisions", token: "dev-specialist",
		body: `{"action": "acknowledge", "decision_id": "d-1"}`})
	v := caseOf(t, rec, http.StatusOK)
	assert.Equal(t, tierflow.StatusInProgress, v.Status)
	require.Len(t, env.cases.decisions, 1)
	assert.Zero(t, env.cases.queries, "no query of the case before the Update")
}

func TestDecideEscalateCarriesItsFields(t *testing.T) {
	env := newTestEnv(t)
	env.cases.put(fullCase("zendesk-1", 1, ""))
	rec := env.do(request{method: "POST", path: "/v1/cases/zendesk-1/decisions", token: "dev-agent",
		body: `{"action": "escalate", "mode": "functional", "department": "billing", "reason": "refund", "summary": "charge settled twice"}`})
	caseOf(t, rec, http.StatusOK)
	require.Len(t, env.cases.decisions, 1)
	d := env.cases.decisions[0]
	assert.Equal(t, tierflow.EscalationFunctional, d.Mode)
	assert.Equal(t, "billing", d.Department)
	assert.Equal(t, "charge settled twice", d.Summary)
}

// Who may decide on this case (tier, department, authority) is the workflow's
// rule, answered by its Update's validator (e2e: TestEndToEndDecisionRulesComeFromTheWorkflow;
// workflows: validate.go's tests); the API only lets deciding roles in and maps
// the workflow's refusals (TestDecideMapsWorkflowAnswers).
func TestDecideRouteRules(t *testing.T) {
	tests := []struct {
		name   string
		token  string
		body   string
		status int
	}{
		{"agent", "dev-agent", `{"action": "note", "text": "called the customer"}`, http.StatusOK},
		{"supervisor", "dev-supervisor", `{"action": "close", "reason": "duplicate"}`, http.StatusOK},
		{"viewer", "dev-viewer", `{"action": "note", "text": "x"}`, http.StatusForbidden},
		{"integration", "dev-integration", `{"action": "note", "text": "x"}`, http.StatusForbidden},
		{"no token", "", `{"action": "note", "text": "x"}`, http.StatusUnauthorized},
		{"unknown token", "dev-nobody", `{"action": "note", "text": "x"}`, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			env.cases.put(fullCase("zendesk-1", 1, ""))
			rec := env.do(request{method: "POST", path: "/v1/cases/zendesk-1/decisions", token: tc.token, body: tc.body})
			if tc.status == http.StatusOK {
				caseOf(t, rec, http.StatusOK)
				assert.Len(t, env.cases.decisions, 1)
				return
			}
			problemOf(t, rec, tc.status)
			assert.Empty(t, env.cases.decisions, "the case is unchanged")
		})
	}
}

func TestDecideRejectsBadInput(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		fields      []string
	}{
		{"actor in the body", "", `{"action": "acknowledge", "actor": {"id": "boss", "role": "executive", "tier": 4}}`, http.StatusBadRequest, []string{"actor"}},
		{"malformed JSON", "", `{"action": `, http.StatusBadRequest, nil},
		{"wrong type", "", `{"action": "propose_compensation", "amount_cents": "lots"}`, http.StatusBadRequest, []string{"amount_cents"}},
		{"trailing data", "", `{"action": "acknowledge"} {"action": "close"}`, http.StatusBadRequest, nil},
		{"not JSON", "text/plain", `{"action": "acknowledge"}`, http.StatusUnsupportedMediaType, nil},
		{"too large", "", `{"action": "note", "text": "` + strings.Repeat("x", maxBodyBytes) + `"}`, http.StatusRequestEntityTooLarge, nil},
		{"unknown action", "", `{"action": "shrug"}`, http.StatusUnprocessableEntity, []string{"action"}},
		{"escalate without summary", "", `{"action": "escalate", "mode": "hierarchical", "reason": "slow"}`, http.StatusUnprocessableEntity, []string{"summary"}},
		{"compensation without amount", "", `{"action": "propose_compensation", "currency": "eur", "description": "refund"}`, http.StatusUnprocessableEntity, []string{"amount_cents", "currency"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			env.cases.put(fullCase("zendesk-1", 1, ""))
			rec := env.do(request{method: "POST", path: "/v1/cases/zendesk-1/decisions", token: "dev-executive",
				contentType: tc.contentType, body: tc.body})
			p := problemOf(t, rec, tc.status)
			assert.Subset(t, fieldsOf(p), tc.fields)
			assert.Empty(t, env.cases.decisions, "the case is unchanged")
		})
	}
}

func TestDecideMapsWorkflowAnswers(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
	}{
		{"not allowed in this state", tierflow.Errorf(tierflow.CodeConflict, "the case is resolved"), http.StatusConflict},
		{"lacks authority", tierflow.Errorf(tierflow.CodeForbidden, "tier 2 may not approve 300.00 EUR"), http.StatusForbidden},
		{"missing explanation", &tierflow.Error{Code: tierflow.CodeInvalid, Message: "invalid decision",
			Fields: []tierflow.FieldError{{Field: "explanation", Message: "is required at tier 3+"}}}, http.StatusUnprocessableEntity},
		{"no worker in time", tierflow.Errorf(tierflow.CodeUnavailable, "the case did not answer in time"), http.StatusServiceUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			before := fullCase("zendesk-1", 3, "billing")
			env.cases.put(before)
			env.cases.fail("decide", tc.err)
			rec := env.do(request{method: "POST", path: "/v1/cases/zendesk-1/decisions", token: "dev-executive",
				body: `{"action": "resolve", "resolution": "refunded"}`})
			p := problemOf(t, rec, tc.status)
			assert.Equal(t, tierflow.ErrorCode(tc.err) == tierflow.CodeInvalid, len(p.Errors) > 0)
			after, _ := env.cases.snapshot("zendesk-1")
			assert.Equal(t, before, after, "the case is unchanged")
		})
	}
}

func TestDecideOnUnknownAndClosedCases(t *testing.T) {
	env := newTestEnv(t)
	body := `{"action": "note", "text": "hello"}`
	problemOf(t, env.do(request{method: "POST", path: "/v1/cases/zendesk-404/decisions", token: "dev-agent", body: body}), http.StatusNotFound)

	// The workflow is gone (history expired) but the record remains: the case is closed.
	closed := fullCase("zendesk-old", 1, "")
	closed.Status = tierflow.StatusClosed
	env.records.cases[closed.ID] = closed
	p := problemOf(t, env.do(request{method: "POST", path: "/v1/cases/zendesk-old/decisions", token: "dev-agent", body: body}), http.StatusConflict)
	assert.Contains(t, p.Detail, "closed")

	env.cases.fail("decide", tierflow.Errorf(tierflow.CodeUnavailable, "Temporal is unavailable"))
	problemOf(t, env.do(request{method: "POST", path: "/v1/cases/zendesk-old/decisions", token: "dev-agent", body: body}), http.StatusServiceUnavailable)
	assert.Empty(t, env.cases.decisions)
}

func TestCustomerEvents(t *testing.T) {
	env := newTestEnv(t)
	env.cases.put(fullCase("zendesk-1", 1, ""))
	rec := env.do(request{method: "POST", path: "/v1/cases/zendesk-1/customer-events", token: "dev-integration",
		body: `{"kind": "requested_supervisor", "event_id": "comment-7", "message": "I want a manager"}`})
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"status": "accepted", "case_id": "zendesk-1"}`, rec.Body.String())
	require.Len(t, env.cases.events, 1)
	ev := env.cases.events[0]
	assert.Equal(t, tierflow.CustomerRequestedSupervisor, ev.Kind)
	assert.Equal(t, "dev:integration", ev.Source.ID, "the relaying principal is the caller")
	assert.Equal(t, testNow, ev.At)
}

func TestCustomerEventsRejectBadInput(t *testing.T) {
	tests := []struct {
		name, token, contentType, body string
		status                         int
	}{
		{"wrong role", "dev-supervisor", "", `{"kind": "reply"}`, http.StatusForbidden},
		{"no token", "", "", `{"kind": "reply"}`, http.StatusUnauthorized},
		{"unknown kind", "dev-integration", "", `{"kind": "complained"}`, http.StatusUnprocessableEntity},
		{"source in the body", "dev-integration", "", `{"kind": "reply", "source": {"id": "x"}}`, http.StatusBadRequest},
		{"wrong type", "dev-integration", "", `{"kind": 7}`, http.StatusBadRequest},
		{"not JSON", "dev-integration", "text/plain", `{"kind": "reply"}`, http.StatusUnsupportedMediaType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			env.cases.put(fullCase("zendesk-1", 1, ""))
			problemOf(t, env.do(request{method: "POST", path: "/v1/cases/zendesk-1/customer-events", token: tc.token,
				contentType: tc.contentType, body: tc.body}), tc.status)
			assert.Empty(t, env.cases.events)
		})
	}
	env := newTestEnv(t)
	problemOf(t, env.do(request{method: "POST", path: "/v1/cases/zendesk-9/customer-events", token: "dev-integration",
		body: `{"kind": "reply"}`}), http.StatusNotFound)
	env.cases.put(fullCase("zendesk-1", 1, ""))
	env.cases.fail("event", tierflow.Errorf(tierflow.CodeUnavailable, "no worker"))
	problemOf(t, env.do(request{method: "POST", path: "/v1/cases/zendesk-1/customer-events", token: "dev-integration",
		body: `{"kind": "reply"}`}), http.StatusServiceUnavailable)
}
