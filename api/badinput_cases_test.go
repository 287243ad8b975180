package main

import (
	"net/http"
	"strings"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// badInputCases are the covered cells of the bad-input matrix (TestBadInputEveryEndpoint).
func badInputCases() []badInput {
	huge := strings.Repeat("x", maxBodyBytes)
	forged := surveyPath([]byte("forged-key-0123456789"), seededCaseID, testNow.Add(time.Hour))
	expired := surveyPath(testSurveyKey, seededCaseID, testNow.Add(-time.Minute))
	valid := surveyPath(testSurveyKey, seededCaseID, testNow.Add(24*time.Hour))
	unknownSurvey := surveyPath(testSurveyKey, "zendesk-404", testNow.Add(24*time.Hour))
	decide := func(token, body string) request {
		return request{method: "POST", path: "/v1/cases/" + seededCaseID + "/decisions", token: token, body: body}
	}
	event := func(token, body string) request {
		return request{method: "POST", path: "/v1/cases/" + seededCaseID + "/customer-events", token: token, body: body}
	}
	open := func(token, body string) request {
		return request{method: "POST", path: "/v1/cases", token: token, body: body}
	}
	get := func(token, path string) request { return request{method: "GET", path: path, token: token} }
	answer := func(path, body string) request { return request{method: "POST", path: path, body: body} }
	unavailable := tierflow.Errorf(tierflow.CodeUnavailable, "the case did not answer in time")
	dbDown := func(env *testEnv) {
		env.records.err = tierflow.Errorf(tierflow.CodeUnavailable, "database unavailable")
	}

	return []badInput{
		// POST /v1/cases
		{endpoint: epOpen, column: colMalformed, req: open("dev-integration", `{"source": "zendesk",`), status: 400},
		{endpoint: epOpen, column: colUnknownField, req: open("dev-integration", openBody(func(m map[string]any) { m["actor"] = "x" })),
			status: 400, fields: []string{"actor"}},
		{endpoint: epOpen, column: colWrongType, req: open("dev-integration", openBody(func(m map[string]any) { m["priority"] = 3 })),
			status: 400, fields: []string{"priority"}},
		{endpoint: epOpen, column: colOversized, req: open("dev-integration", openBody(func(m map[string]any) { m["description"] = huge })),
			status: 413},
		{endpoint: epOpen, column: colContentType, req: request{method: "POST", path: "/v1/cases", token: "dev-integration",
			contentType: "text/plain", body: openBody(nil)}, status: 415},
		{endpoint: epOpen, column: colNoToken, req: open("", openBody(nil)), status: 401},
		{endpoint: epOpen, column: colBadToken, req: open("forged-token", openBody(nil)), status: 401},
		{endpoint: epOpen, column: colWrongRole, req: open("dev-supervisor", openBody(nil)), status: 403},
		{endpoint: epOpen, column: colInvalid, req: open("dev-integration", openBody(func(m map[string]any) { m["trigger"] = "boredom" })),
			status: 422, fields: []string{"trigger"}},
		{endpoint: epOpen, column: colConflict, status: 409,
			setup: func(env *testEnv) {
				rec := env.do(open("dev-integration", openBody(nil)))
				require.Equal(env.t, http.StatusCreated, rec.Code, rec.Body.String())
			},
			req: open("dev-integration", openBody(func(m map[string]any) { m["subject"] = "Another subject" }))},
		{endpoint: epOpen, column: colDependency, setup: func(env *testEnv) { env.cases.fail("open", unavailable) },
			req: open("dev-integration", openBody(nil)), status: 503},

		// GET /v1/cases (query parameters stand in for the body's fields)
		{endpoint: epList, column: colUnknownField, name: "unknown filter", req: get("dev-agent", "/v1/cases?colour=red"),
			status: 422, fields: []string{"colour"}},
		{endpoint: epList, column: colWrongType, name: "tier not a number", req: get("dev-agent", "/v1/cases?tier=two"),
			status: 422, fields: []string{"tier"}},
		{endpoint: epList, column: colNoToken, req: get("", "/v1/cases"), status: 401},
		{endpoint: epList, column: colBadToken, req: get("forged-token", "/v1/cases"), status: 401},
		{endpoint: epList, column: colInvalid, name: "every filter wrong",
			req:    get("dev-agent", "/v1/cases?tier=9&status=lost&breached=maybe&limit=201&priority=asap"),
			status: 422, fields: []string{"tier", "status", "breached", "limit", "priority"}},
		{endpoint: epList, column: colInvalid, name: "limit below 1", req: get("dev-agent", "/v1/cases?limit=0"),
			status: 422, fields: []string{"limit"}},
		{endpoint: epList, column: colInvalid, name: "bad cursor", req: get("dev-agent", "/v1/cases?cursor=not-ours"),
			setup: func(env *testEnv) {
				env.records.err = &tierflow.Error{Code: tierflow.CodeInvalid, Message: "invalid list cursor",
					Fields: []tierflow.FieldError{{Field: "cursor", Message: "is not a cursor returned by this list"}}}
			}, status: 422, fields: []string{"cursor"}},
		{endpoint: epList, column: colDependency, setup: dbDown, req: get("dev-agent", "/v1/cases"), status: 503},

		// GET /v1/cases/{id}
		{endpoint: epGet, column: colNoToken, req: get("", "/v1/cases/"+seededCaseID), status: 401},
		{endpoint: epGet, column: colBadToken, req: get("forged-token", "/v1/cases/"+seededCaseID), status: 401},
		{endpoint: epGet, column: colUnknownCase, req: get("dev-agent", "/v1/cases/zendesk-404"), status: 404},
		{endpoint: epGet, column: colInvalid, name: "an id no case can have",
			setup: idRefused, req: get("dev-agent", "/v1/cases/"+strings.Repeat("a", 2000)), status: 404},
		// Temporal and the record both down (with the record up, the case is read from it).
		{endpoint: epGet, column: colDependency, setup: func(env *testEnv) {
			env.cases.fail("get", unavailable)
			env.records.err = unavailable
		},
			req: get("dev-agent", "/v1/cases/"+seededCaseID), status: 503},

		// POST /v1/cases/{id}/decisions
		{endpoint: epDecide, column: colMalformed, req: decide("dev-specialist", `{"action": `), status: 400},
		{endpoint: epDecide, column: colUnknownField, name: "actor in the body",
			req:    decide("dev-specialist", `{"action": "acknowledge", "actor": {"id": "boss", "role": "executive", "tier": 4}}`),
			status: 400, fields: []string{"actor"}},
		{endpoint: epDecide, column: colWrongType, req: decide("dev-specialist", `{"action": "propose_compensation", "amount_cents": "lots"}`),
			status: 400, fields: []string{"amount_cents"}},
		{endpoint: epDecide, column: colOversized, req: decide("dev-specialist", `{"action": "note", "text": "`+huge+`"}`), status: 413},
		{endpoint: epDecide, column: colContentType, req: request{method: "POST", path: "/v1/cases/" + seededCaseID + "/decisions",
			token: "dev-specialist", contentType: "application/xml", body: validDecision}, status: 415},
		{endpoint: epDecide, column: colNoToken, req: decide("", validDecision), status: 401},
		{endpoint: epDecide, column: colBadToken, req: decide("forged-token", validDecision), status: 401},
		{endpoint: epDecide, column: colWrongRole, req: decide("dev-viewer", `{"action": "note", "text": "x"}`), status: 403},
		// Tier and department are the workflow's validator's to check (the e2e
		// TestEndToEndDecisionRulesComeFromTheWorkflow); here its refusals' mapping.
		{endpoint: epDecide, column: colOtherTier, name: "validator: agent below the case's tier",
			setup: func(env *testEnv) {
				env.cases.fail("decide", tierflow.Errorf(tierflow.CodeForbidden, "an actor at tier 1 cannot decide for a tier 2 case"))
			},
			req: decide("dev-agent", validDecision), status: 403},
		{endpoint: epDecide, column: colOtherTier, name: "validator: specialist of another department",
			setup: func(env *testEnv) {
				env.seed(fullCase(seededCaseID, 2, "shipping"))
				env.cases.fail("decide", tierflow.Errorf(tierflow.CodeForbidden,
					"the actor does not serve the shipping department that handles the case"))
			},
			req: decide("dev-specialist", validDecision), status: 403},
		{endpoint: epDecide, column: colOtherTier, name: "validator: above the actor's authority",
			setup: func(env *testEnv) {
				env.cases.fail("decide", tierflow.Errorf(tierflow.CodeForbidden, "tier 2 may not approve 300.00 EUR"))
			},
			req: decide("dev-specialist", `{"action": "approve", "approval_id": "ap-1", "note": "ok"}`), status: 403},
		{endpoint: epDecide, column: colUnknownCase, req: request{method: "POST", path: "/v1/cases/zendesk-404/decisions",
			token: "dev-specialist", body: validDecision}, status: 404},
		{endpoint: epDecide, column: colInvalid, req: decide("dev-specialist", `{"action": "escalate", "mode": "sideways"}`),
			status: 422, fields: []string{"mode", "reason", "summary"}},
		{endpoint: epDecide, column: colInvalid, name: "validator: explanation missing",
			setup: func(env *testEnv) {
				env.cases.fail("decide", &tierflow.Error{Code: tierflow.CodeInvalid, Message: "invalid resolve decision",
					Fields: []tierflow.FieldError{{Field: "explanation", Message: "is required at tier 3+"}}})
			},
			req: decide("dev-specialist", `{"action": "resolve", "resolution": "refunded"}`), status: 422, fields: []string{"explanation"}},
		{endpoint: epDecide, column: colConflict, setup: func(env *testEnv) {
			env.cases.fail("decide", tierflow.Errorf(tierflow.CodeConflict, "the case must be acknowledged before it is resolved"))
		}, req: decide("dev-specialist", `{"action": "resolve", "resolution": "refunded"}`), status: 409},
		{endpoint: epDecide, column: colDependency, name: "no worker answers the update",
			setup: func(env *testEnv) { env.cases.fail("decide", unavailable) }, req: decide("dev-specialist", validDecision), status: 503},

		// POST /v1/cases/{id}/customer-events
		{endpoint: epCustomer, column: colMalformed, req: event("dev-integration", `{"kind": "reply"`), status: 400},
		{endpoint: epCustomer, column: colUnknownField, req: event("dev-integration", `{"kind": "reply", "source": {"id": "x"}}`),
			status: 400, fields: []string{"source"}},
		{endpoint: epCustomer, column: colWrongType, req: event("dev-integration", `{"kind": 7}`), status: 400, fields: []string{"kind"}},
		{endpoint: epCustomer, column: colOversized, req: event("dev-integration", `{"kind": "reply", "message": "`+huge+`"}`), status: 413},
		{endpoint: epCustomer, column: colContentType, req: request{method: "POST", path: "/v1/cases/" + seededCaseID + "/customer-events",
			token: "dev-integration", body: `{"kind": "reply"}`, contentType: "text/plain"}, status: 415},
		{endpoint: epCustomer, column: colNoToken, req: event("", `{"kind": "reply"}`), status: 401},
		{endpoint: epCustomer, column: colBadToken, req: event("forged-token", `{"kind": "reply"}`), status: 401},
		{endpoint: epCustomer, column: colWrongRole, req: event("dev-agent", `{"kind": "reply"}`), status: 403},
		{endpoint: epCustomer, column: colUnknownCase, req: request{method: "POST", path: "/v1/cases/zendesk-404/customer-events",
			token: "dev-integration", body: `{"kind": "reply"}`}, status: 404},
		{endpoint: epCustomer, column: colInvalid, req: event("dev-integration", `{"kind": "complained", "event_id": "has spaces"}`),
			status: 422, fields: []string{"kind", "event_id"}},
		{endpoint: epCustomer, column: colConflict, setup: func(env *testEnv) {
			env.cases.fail("event", tierflow.Errorf(tierflow.CodeConflict, "the case is closed"))
		}, req: event("dev-integration", `{"kind": "reply"}`), status: 409},
		{endpoint: epCustomer, column: colDependency, setup: func(env *testEnv) { env.cases.fail("event", unavailable) },
			req: event("dev-integration", `{"kind": "reply"}`), status: 503},

		// GET /v1/cases/{id}/events
		{endpoint: epEvents, column: colNoToken, req: get("", "/v1/cases/"+seededCaseID+"/events"), status: 401},
		{endpoint: epEvents, column: colBadToken, req: get("forged-token", "/v1/cases/"+seededCaseID+"/events"), status: 401},
		{endpoint: epEvents, column: colUnknownCase, req: get("dev-viewer", "/v1/cases/zendesk-404/events"), status: 404},
		{endpoint: epEvents, column: colInvalid, name: "an id no case can have",
			setup: idRefused, req: get("dev-viewer", "/v1/cases/no%20dash/events"), status: 404},
		{endpoint: epEvents, column: colDependency, name: "postgres down", setup: dbDown,
			req: get("dev-viewer", "/v1/cases/"+seededCaseID+"/events"), status: 503},
		{endpoint: epEvents, column: colDependency, name: "no record yet and Temporal down",
			setup: func(env *testEnv) { env.cases.fail("get", unavailable) },
			req:   get("dev-viewer", "/v1/cases/zendesk-2/events"), status: 503},

		// GET /v1/reports/kpis
		{endpoint: epKPIs, column: colUnknownField, name: "unknown parameter", req: get("dev-viewer", "/v1/reports/kpis?"+kpiPeriod+"&colour=red"),
			status: 422, fields: []string{"colour"}},
		{endpoint: epKPIs, column: colWrongType, name: "from not a time", req: get("dev-viewer", "/v1/reports/kpis?from=yesterday&to=2026-12-01T00:00:00Z"),
			status: 422, fields: []string{"from"}},
		{endpoint: epKPIs, column: colNoToken, req: get("", "/v1/reports/kpis?"+kpiPeriod), status: 401},
		{endpoint: epKPIs, column: colBadToken, req: get("forged-token", "/v1/reports/kpis?"+kpiPeriod), status: 401},
		{endpoint: epKPIs, column: colWrongRole, req: get("dev-specialist", "/v1/reports/kpis?"+kpiPeriod), status: 403},
		{endpoint: epKPIs, column: colInvalid, name: "to before from, bad group",
			req:    get("dev-viewer", "/v1/reports/kpis?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z&group_by=colour"),
			status: 422, fields: []string{"to", "group_by"}},
		{endpoint: epKPIs, column: colInvalid, name: "missing period", req: get("dev-viewer", "/v1/reports/kpis"),
			status: 422, fields: []string{"from", "to"}},
		{endpoint: epKPIs, column: colInvalid, name: "period over 400 days",
			req:    get("dev-viewer", "/v1/reports/kpis?from=2025-01-01T00:00:00Z&to=2026-12-01T00:00:00Z"),
			status: 422, fields: []string{"to"}},
		{endpoint: epKPIs, column: colInvalid, name: "from given twice",
			req:    get("dev-viewer", "/v1/reports/kpis?"+kpiPeriod+"&from=2026-10-01T00:00:00Z"),
			status: 422, fields: []string{"from"}},
		{endpoint: epKPIs, column: colDependency, setup: dbDown, req: get("dev-viewer", "/v1/reports/kpis?"+kpiPeriod), status: 503},

		// GET /v1/surveys/{token}: pages for a customer
		{endpoint: epSurveyPage, column: colForged, req: get("", forged), status: 404, html: true},
		{endpoint: epSurveyPage, column: colExpired, req: get("", expired), status: 410, html: true},
		{endpoint: epSurveyPage, column: colConflict, name: "already answered", setup: answered, req: get("", valid), status: 409, html: true},

		// POST /v1/surveys/{token} as JSON
		{endpoint: epSurveyPost, column: colMalformed, req: answer(valid, `{"score": 3,`), status: 400},
		{endpoint: epSurveyPost, column: colUnknownField, req: answer(valid, `{"score": 3, "resolved": true, "case": "x"}`),
			status: 400, fields: []string{"case"}},
		{endpoint: epSurveyPost, column: colWrongType, req: answer(valid, `{"score": "three", "resolved": true}`),
			status: 400, fields: []string{"score"}},
		{endpoint: epSurveyPost, column: colOversized, req: answer(valid, `{"score": 3, "resolved": true, "comment": "`+huge+`"}`), status: 413},
		{endpoint: epSurveyPost, column: colContentType, req: request{method: "POST", path: valid, contentType: "text/plain", body: "4 yes"},
			status: 415},
		{endpoint: epSurveyPost, column: colUnknownCase, name: "signed for a case that is gone", req: answer(unknownSurvey,
			`{"score": 4, "resolved": true}`), status: 410},
		{endpoint: epSurveyPost, column: colInvalid, req: answer(valid, `{"score": 9}`), status: 422, fields: []string{"score", "resolved"}},
		{endpoint: epSurveyPost, column: colConflict, setup: answered, req: answer(valid, `{"score": 4, "resolved": true}`), status: 409},
		{endpoint: epSurveyPost, column: colForged, req: answer(forged, `{"score": 4, "resolved": true}`), status: 404},
		{endpoint: epSurveyPost, column: colExpired, req: answer(expired, `{"score": 4, "resolved": true}`), status: 410},
		{endpoint: epSurveyPost, column: colDependency, setup: func(env *testEnv) { env.cases.fail("survey", unavailable) },
			req: answer(valid, `{"score": 4, "resolved": true}`), status: 503},

		// GET /readyz
		{endpoint: epReadyz, column: colDependency, setup: func(env *testEnv) { env.ready["temporal"] = assert.AnError },
			req: get("", "/readyz"), status: 503},
	}
}
