package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// Authorization gaps (issue 9, item 6): each test is an attack that succeeded
// before and now fails.

// zendeskToken belongs to an integration scoped to the zendesk source; hubspot-7
// is another CRM's case, hubspot-404 a case that does not exist.
const zendeskToken = "zendesk-crm-token"

func scopedEnv(t *testing.T) *testEnv {
	t.Helper()
	env := newTestEnv(t)
	entries := append(DevTokens(), TokenEntry{TokenSHA256: HashToken(zendeskToken), ID: "crm:zendesk",
		Name: "Zendesk connector", Role: tierflow.RoleIntegration, AllowedSources: []string{"zendesk"}})
	env.srv.Auth = NewAuthenticator(entries)
	env.handler = env.srv.routes()
	for _, id := range []string{"zendesk-1", "hubspot-7"} {
		c := fullCase(id, 1, "billing")
		env.cases.put(c)
		env.records.cases[id] = c
	}
	env.records.page = tierflow.CasePage{Cases: []tierflow.CaseView{fullCase("hubspot-7", 1, ""), fullCase("zendesk-1", 1, "")}}
	return env
}

func TestSecurityScopedIntegrationCannotOpenAnotherSourcesCase(t *testing.T) {
	env := scopedEnv(t)
	hubspot := openBody(func(m map[string]any) { m["source"], m["external_id"] = "hubspot", "8812" })
	p := problemOf(t, env.do(request{method: "POST", path: "/v1/cases", token: zendeskToken, body: hubspot}), http.StatusForbidden)
	assert.Contains(t, p.Detail, `source "hubspot"`)
	assert.Empty(t, env.cases.opened, "no workflow was started for hubspot")

	caseOf(t, env.do(request{method: "POST", path: "/v1/cases", token: zendeskToken, body: openBody(nil)}), http.StatusCreated)
	// An unscoped integration keeps the behaviour before scoping: every source.
	other := openBody(func(m map[string]any) { m["source"], m["external_id"] = "hubspot", "9001" })
	caseOf(t, env.do(request{method: "POST", path: "/v1/cases", token: "dev-integration", body: other}), http.StatusCreated)
}

func TestSecurityScopedIntegrationCannotReadAnotherSourcesCase(t *testing.T) {
	env := scopedEnv(t)
	for _, path := range []string{"/v1/cases/hubspot-7", "/v1/cases/hubspot-7/events"} {
		existing := problemOf(t, env.do(request{method: "GET", path: path, token: zendeskToken}), http.StatusNotFound)
		unknownPath := strings.Replace(path, "hubspot-7", "hubspot-404", 1)
		unknown := problemOf(t, env.do(request{method: "GET", path: unknownPath, token: zendeskToken}), http.StatusNotFound)
		assert.Equal(t, unknown, problemWithID(existing, "hubspot-7", "hubspot-404"),
			"%s: another source's case answers exactly like a case that does not exist", path)
		ownUnknown := problemOf(t, env.do(request{method: "GET", path: strings.Replace(path, "hubspot-7", "zendesk-404", 1),
			token: zendeskToken}), http.StatusNotFound)
		assert.Equal(t, ownUnknown.Type, existing.Type, "the same problem as an unknown case of its own source")
		assert.Equal(t, ownUnknown.Title, existing.Title)
	}
	caseOf(t, env.do(request{method: "GET", path: "/v1/cases/zendesk-1", token: zendeskToken}), http.StatusOK)
	caseOf(t, env.do(request{method: "GET", path: "/v1/cases/hubspot-7", token: "dev-viewer"}), http.StatusOK)
}

// problemWithID is p with the case id from replaced by to (the detail and the
// instance name it).
func problemWithID(p problem, from, to string) problem {
	p.Detail = strings.ReplaceAll(p.Detail, from, to)
	p.Instance = strings.ReplaceAll(p.Instance, from, to)
	return p
}

func TestSecurityScopedIntegrationListsOnlyItsSources(t *testing.T) {
	env := scopedEnv(t)
	ids := func(token, query string) []string {
		t.Helper()
		rec := env.do(request{method: "GET", path: "/v1/cases" + query, token: token})
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var page struct {
			Cases []tierflow.CaseView `json:"cases"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &page))
		out := []string{}
		for _, c := range page.Cases {
			out = append(out, c.ID)
		}
		return out
	}
	assert.Equal(t, []string{"zendesk-1"}, ids(zendeskToken, ""), "hubspot's cases are left out")
	assert.Equal(t, []string{"zendesk-1"}, ids(zendeskToken, "?source=zendesk"))
	env.records.lastFilter = nil
	assert.Equal(t, []string{}, ids(zendeskToken, "?source=hubspot"), "asking for another source finds nothing")
	assert.Nil(t, env.records.lastFilter, "and reads nothing")
	assert.Equal(t, []string{"hubspot-7", "zendesk-1"}, ids("dev-integration", ""), "an unscoped integration lists every source")
	assert.Equal(t, []string{"hubspot-7", "zendesk-1"}, ids("dev-supervisor", ""), "staff are not scoped by source")
}

func TestSecurityScopedIntegrationCannotWithdrawOrReplyToAnotherSourcesCase(t *testing.T) {
	env := scopedEnv(t)
	for _, kind := range []string{"withdrawn", "reply", "requested_supervisor", "external_complaint"} {
		body := `{"kind": "` + kind + `", "event_id": "ev-` + kind + `", "message": "not yours"}`
		existing := problemOf(t, env.do(request{method: "POST", path: "/v1/cases/hubspot-7/customer-events",
			token: zendeskToken, body: body}), http.StatusNotFound)
		unknown := problemOf(t, env.do(request{method: "POST", path: "/v1/cases/hubspot-404/customer-events",
			token: zendeskToken, body: body}), http.StatusNotFound)
		assert.Equal(t, unknown, problemWithID(existing, "hubspot-7", "hubspot-404"), kind)
	}
	assert.Empty(t, env.cases.events, "no event reached another CRM's case")

	rec := env.do(request{method: "POST", path: "/v1/cases/zendesk-1/customer-events", token: zendeskToken,
		body: `{"kind": "reply", "event_id": "ev-own"}`})
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	require.Len(t, env.cases.events, 1)
	assert.Equal(t, "crm:zendesk", env.cases.events[0].Source.ID)
}

func TestSecurityTokenScopesAndDepartmentsAreValidatedAtLoad(t *testing.T) {
	hash := HashToken("t")
	entry := func(fields string) string {
		return `[{"token_sha256": "` + hash + `", "id": "p-1", ` + fields + `}]`
	}
	for name, tt := range map[string]struct{ doc, want string }{
		"agent without departments":      {entry(`"role": "agent"`), "departments"},
		"specialist without departments": {entry(`"role": "specialist", "departments": []`), "departments"},
		"a blank department":             {entry(`"role": "specialist", "departments": [" "]`), "departments"},
		"sources on a staff token":       {entry(`"role": "supervisor", "allowed_sources": ["zendesk"]`), "allowed_sources"},
		"a source with a space":          {entry(`"role": "integration", "allowed_sources": ["zen desk"]`), "allowed_sources"},
		"an over-long source":            {entry(`"role": "integration", "allowed_sources": ["` + strings.Repeat("s", 65) + `"]`), "allowed_sources"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseTokens([]byte(tt.doc))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	for _, doc := range []string{
		entry(`"role": "supervisor"`), entry(`"role": "executive"`), entry(`"role": "viewer"`),
		entry(`"role": "integration", "allowed_sources": ["zendesk", "help-scout.eu"]`),
		entry(`"role": "agent", "departments": ["billing"]`),
	} {
		entries, err := ParseTokens([]byte(doc))
		require.NoError(t, err, doc)
		require.Len(t, entries, 1)
	}
	for _, e := range DevTokens() {
		assert.NoError(t, e.validate(), "dev token %s", e.Name)
	}

	// The API refuses to start with such a token file.
	env := map[string]string{"DATABASE_URL": "x", "TIERFLOW_SURVEY_KEY": "0123456789abcdef",
		"TIERFLOW_TOKENS": "- {token_sha256: " + hash + ", id: a-1, role: agent}\n"}
	_, err := loadConfig(func(k string) string { return env[k] })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "TIERFLOW_TOKENS")
	assert.Contains(t, err.Error(), "needs departments")
}

// A principal without departments (a token file from before the rule) reaches
// the workflow as it is: the API invents no department for it, and the
// workflow's validator refuses it on a department's case at its tier
// (workflows.TestSecurityDepartmentlessAgentServesNoDepartment); the refusal is a 403.
func TestSecurityPrincipalWithoutDepartmentsServesNoDepartment(t *testing.T) {
	env := newTestEnv(t)
	// Principals as a token file written before the rule would have made them
	// (NewAuthenticator does not validate; ParseTokens now refuses them).
	env.srv.Auth = NewAuthenticator([]TokenEntry{
		{TokenSHA256: HashToken("agent-none"), ID: "a-none", Role: tierflow.RoleAgent},
	})
	env.handler = env.srv.routes()
	env.cases.put(fullCase("zendesk-1", 1, "billing"))

	refusal := tierflow.Errorf(tierflow.CodeForbidden, "the actor does not serve the billing department that handles the case")
	env.cases.fail("decide", refusal)
	p := problemOf(t, env.do(request{method: "POST", path: "/v1/cases/zendesk-1/decisions", token: "agent-none",
		body: `{"action": "acknowledge"}`}), http.StatusForbidden)
	assert.Contains(t, p.Detail, "billing")

	env.cases.fail("decide", nil)
	caseOf(t, env.do(request{method: "POST", path: "/v1/cases/zendesk-1/decisions", token: "agent-none",
		body: `{"action": "note", "text": "x"}`}), http.StatusOK)
	require.Len(t, env.cases.decisions, 1)
	assert.Empty(t, env.cases.decisions[0].Actor.Departments, "no department invented for the actor")
}

// rotationEnv verifies survey links with a rotated key list: the newest key first,
// the previous one kept for links already sent.
func rotationEnv(t *testing.T, keys ...[]byte) *testEnv {
	t.Helper()
	env, _ := surveyEnv(t)
	env.srv.SurveyKeys = keys
	env.handler = env.srv.routes()
	return env
}

func TestSecuritySurveyKeyRotation(t *testing.T) {
	newest, previous, removed := []byte("survey-key-newest-0123456789"), []byte("survey-key-previous-0123456789"),
		[]byte("survey-key-removed-0123456789")
	env := rotationEnv(t, newest, previous)
	expires := testNow.Add(24 * time.Hour)
	for name, key := range map[string][]byte{"the newest key": newest, "the previous key": previous} {
		rec := env.do(request{method: "GET", path: surveyPath(key, "zendesk-1", expires)})
		assert.Equal(t, http.StatusOK, rec.Code, "a link signed with %s verifies", name)
	}
	rec := env.do(request{method: "GET", path: surveyPath(removed, "zendesk-1", expires)})
	assert.Equal(t, http.StatusNotFound, rec.Code, "a link signed with a removed key fails")
	assert.NotContains(t, rec.Body.String(), "<form")
	problemOf(t, env.do(request{method: "POST", path: surveyPath(removed, "zendesk-1", expires),
		body: `{"score": 5, "resolved": true}`}), http.StatusNotFound)
	assert.Empty(t, env.cases.surveys)

	rec = env.do(request{method: "POST", path: surveyPath(previous, "zendesk-1", expires), body: `{"score": 5, "resolved": true}`})
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
}

func TestSecurityOldRoundSurveyLinkShowsNoForm(t *testing.T) {
	env, _ := surveyEnv(t)
	c, _ := env.cases.snapshot("zendesk-1")
	c.Reopens, c.Survey.Round = 1, 2 // reopened once; the second survey is out
	env.cases.put(c)
	expires := testNow.Add(24 * time.Hour)

	old := env.do(request{method: "GET", path: roundSurveyPath(testSurveyKey, "zendesk-1", 1, expires)})
	assert.Equal(t, http.StatusGone, old.Code, "the first survey's link, after the reopen")
	assert.NotContains(t, old.Body.String(), "<form")

	current := roundSurveyPath(testSurveyKey, "zendesk-1", 2, expires)
	assert.Equal(t, http.StatusOK, env.do(request{method: "GET", path: current}).Code)
	form := url.Values{"score": {"4"}, "resolved": {"yes"}}.Encode()
	rec := env.do(request{method: "POST", path: current, contentType: "application/x-www-form-urlencoded", body: form})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Len(t, env.cases.surveys, 1)
	assert.Equal(t, 2, env.cases.surveys[0].Round, "the answer names its round; the workflow takes it only for that survey")
}
