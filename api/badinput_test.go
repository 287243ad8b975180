package main

import (
	"maps"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tierflow/tierflow"
)

// The columns of the bad-input matrix: every way a request can be wrong that api.md
// gives a status for.
const (
	colMalformed    = "malformed JSON"
	colUnknownField = "unknown field"
	colWrongType    = "wrong type"
	colOversized    = "oversized body"
	colContentType  = "wrong content type"
	colNoToken      = "missing token"
	colBadToken     = "bad token"
	colWrongRole    = "wrong role"
	colOtherTier    = "other tier or department"
	colUnknownCase  = "unknown case"
	colInvalid      = "invalid values"
	colConflict     = "conflict"
	colForged       = "forged survey token"
	colExpired      = "expired survey token"
	colDependency   = "dependency down"
)

var badInputColumns = []string{colMalformed, colUnknownField, colWrongType, colOversized, colContentType,
	colNoToken, colBadToken, colWrongRole, colOtherTier, colUnknownCase, colInvalid, colConflict,
	colForged, colExpired, colDependency}

// The rows: every operation of api.md with input a caller controls.
const (
	epOpen        = "POST /v1/cases"
	epList        = "GET /v1/cases"
	epGet         = "GET /v1/cases/{id}"
	epDecide      = "POST /v1/cases/{id}/decisions"
	epCustomer    = "POST /v1/cases/{id}/customer-events"
	epEvents      = "GET /v1/cases/{id}/events"
	epKPIs        = "GET /v1/reports/kpis"
	epSurveyPage  = "GET /v1/surveys/{token}"
	epSurveyPost  = "POST /v1/surveys/{token}"
	epReadyz      = "GET /readyz"
	seededCaseID  = "zendesk-1"
	kpiPeriod     = "from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z"
	validDecision = `{"action": "acknowledge"}`
)

var badInputEndpoints = []string{epOpen, epList, epGet, epDecide, epCustomer, epEvents, epKPIs,
	epSurveyPage, epSurveyPost, epReadyz}

// notApplicable explains each empty cell of the matrix.
var notApplicable = map[string]map[string]string{
	epOpen: {
		colOtherTier: "integration principals have no tier or department", colUnknownCase: "it creates the case",
		colForged: "bearer auth", colExpired: "bearer auth",
	},
	epList: {
		colMalformed: "no body", colOversized: "no body", colContentType: "no body",
		colWrongRole: "every role may list", colOtherTier: "every role may list", colUnknownCase: "no case in the path",
		colConflict: "read only", colForged: "bearer auth", colExpired: "bearer auth",
	},
	epGet: {
		colMalformed: "no body", colUnknownField: "no body or query", colWrongType: "no body or query",
		colOversized: "no body", colContentType: "no body", colWrongRole: "every role may read (viewers without email)",
		colOtherTier: "every role may read", colConflict: "read only", colForged: "bearer auth", colExpired: "bearer auth",
	},
	epDecide: {colForged: "bearer auth", colExpired: "bearer auth"},
	epCustomer: {
		colOtherTier: "integration principals have no tier or department",
		colForged:    "bearer auth", colExpired: "bearer auth",
	},
	epEvents: {
		colMalformed: "no body", colUnknownField: "no body or query", colWrongType: "no body or query",
		colOversized: "no body", colContentType: "no body", colWrongRole: "every role may read",
		colOtherTier: "every role may read", colConflict: "read only", colForged: "bearer auth", colExpired: "bearer auth",
	},
	epKPIs: {
		colMalformed: "no body", colOversized: "no body", colContentType: "no body",
		colOtherTier: "reports span all tiers", colUnknownCase: "no case in the path", colConflict: "read only",
		colForged: "bearer auth", colExpired: "bearer auth",
	},
	epSurveyPage: {
		colMalformed: "no body", colUnknownField: "no body", colWrongType: "no body", colOversized: "no body",
		colContentType: "no body", colNoToken: "public: the signed token is the credential",
		colBadToken: "public (see forged)", colWrongRole: "public", colOtherTier: "public", colInvalid: "no input",
		colUnknownCase: "the signed token names the case", colDependency: "the page renders without the case's heading",
	},
	epSurveyPost: {
		colNoToken: "public: the signed token is the credential", colBadToken: "public (see forged)",
		colWrongRole: "public", colOtherTier: "public",
	},
	epReadyz: {
		colMalformed: "no input", colUnknownField: "no input", colWrongType: "no input", colOversized: "no input",
		colContentType: "no input", colNoToken: "public", colBadToken: "public", colWrongRole: "public",
		colOtherTier: "public", colUnknownCase: "no case", colInvalid: "no input", colConflict: "read only",
		colForged: "public", colExpired: "public",
	},
}

// badInput is one cell of the matrix.
type badInput struct {
	endpoint, column, name string
	req                    request
	// setup breaks something (a dependency, the case's state) before the request.
	setup  func(env *testEnv)
	status int
	// fields must all appear in the problem's errors[].
	fields []string
	// html: the answer is a page for a customer, not a problem (the survey page).
	html bool
}

// idRefused makes the dependencies fail as Temporal does for an id it refuses (an
// internal error), so only the API's own id check can answer 404.
func idRefused(env *testEnv) {
	env.cases.fail("get", &tierflow.Error{Code: tierflow.CodeInternal, Err: assert.AnError})
	env.records.err = &tierflow.Error{Code: tierflow.CodeInternal, Err: assert.AnError}
}

// answered marks the seeded case's survey answered.
func answered(env *testEnv) {
	c, _ := env.cases.snapshot(seededCaseID)
	c.Survey = &tierflow.SurveyState{Status: "answered", Score: 5}
	env.seed(c)
}

// seed puts a case in both the workflow fake and the record.
func (e *testEnv) seed(c tierflow.CaseView) {
	e.cases.put(c)
	e.records.mu.Lock()
	defer e.records.mu.Unlock()
	e.records.cases[c.ID] = c
}

// fakeState is everything a request could change in the fakes.
type fakeState struct {
	Cases, Records                            map[string]tierflow.CaseView
	Fingerprints                              map[string]string
	Opened, Decisions, CustomerEvents, Survey int
	Events                                    map[string][]tierflow.CaseEvent
}

func (e *testEnv) state() fakeState {
	e.cases.mu.Lock()
	s := fakeState{Cases: maps.Clone(e.cases.cases), Fingerprints: maps.Clone(e.cases.fingerprints),
		Opened: len(e.cases.opened), Decisions: len(e.cases.decisions), CustomerEvents: len(e.cases.events),
		Survey: len(e.cases.surveys)}
	e.cases.mu.Unlock()
	e.records.mu.Lock()
	defer e.records.mu.Unlock()
	s.Records, s.Events = maps.Clone(e.records.cases), maps.Clone(e.records.events)
	return s
}

// TestBadInputEveryEndpoint is the bad-input matrix of api.md: each applicable cell
// gets its documented status, a problem+json body (an HTML page on the survey page)
// with type, title, status and detail (errors[] naming the fields where there are
// some), X-Request-Id, and leaves every case unchanged.
func TestBadInputEveryEndpoint(t *testing.T) {
	covered := map[string]map[string]bool{}
	for _, tc := range badInputCases() {
		if covered[tc.endpoint] == nil {
			covered[tc.endpoint] = map[string]bool{}
		}
		covered[tc.endpoint][tc.column] = true
		name := tc.endpoint + "/" + tc.column
		if tc.name != "" {
			name += "/" + tc.name
		}
		t.Run(name, func(t *testing.T) {
			env := newTestEnv(t)
			seeded := fullCase(seededCaseID, 2, "billing")
			seeded.Survey = &tierflow.SurveyState{Status: "sent"}
			env.seed(seeded)
			env.records.events[seededCaseID] = []tierflow.CaseEvent{{CaseID: seededCaseID, Seq: 1,
				Type: tierflow.EventOpened, At: testNow, Actor: tierflow.SystemActor, Tier: 1, Status: tierflow.StatusOpen}}
			if tc.setup != nil {
				tc.setup(env)
			}
			before := env.state()

			rec := env.do(tc.req)

			assert.NotEmpty(t, rec.Header().Get("X-Request-Id"))
			if tc.html {
				assert.Equal(t, tc.status, rec.Code, rec.Body.String())
				assert.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
				assert.NotContains(t, rec.Body.String(), "<form", "no form to fill in")
			} else {
				p := problemOf(t, rec, tc.status)
				assert.NotEmpty(t, p.Detail, "every problem explains itself")
				assert.Subset(t, fieldsOf(p), tc.fields, "errors[] names the fields")
				if tc.status == http.StatusUnprocessableEntity {
					assert.NotEmpty(t, p.Errors, "a validation problem lists its fields")
				}
				if tc.status == http.StatusUnauthorized {
					assert.Equal(t, `Bearer realm="tierflow"`, rec.Header().Get("WWW-Authenticate"))
				}
				assert.NotContains(t, rec.Body.String(), "/v1/surveys/", "no survey token is echoed")
			}
			assert.Equal(t, before, env.state(), "nothing changed")
		})
	}

	// The matrix is complete: each cell is covered or says why it does not apply.
	for _, ep := range badInputEndpoints {
		for _, col := range badInputColumns {
			reason, na := notApplicable[ep][col]
			switch {
			case covered[ep][col] && na:
				t.Errorf("%s x %s is covered but marked not applicable (%s)", ep, col, reason)
			case !covered[ep][col] && !na:
				t.Errorf("%s x %s: no test and no reason why it does not apply", ep, col)
			}
		}
	}
}
