package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// fakeApprovalLinks is a hand-written ApprovalLinkStore with the store's rules:
// one row per (case, approval, tier), claims fenced by their time.
type fakeApprovalLinks struct {
	mu     sync.Mutex
	rows   map[string]tierflow.ApprovalLinkUse
	writes int
}

func linkKey(caseID, approvalID string, tier tierflow.Tier) string {
	return caseID + "/" + approvalID + "/" + tier.String()
}

func (f *fakeApprovalLinks) ClaimApprovalLink(_ context.Context, l tierflow.ApprovalLink, now time.Time, stale time.Duration) (tierflow.ApprovalLinkUse, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := linkKey(l.CaseID, l.ApprovalID, l.Tier)
	if cur, ok := f.rows[k]; ok && (cur.State == tierflow.ApprovalLinkUsed || !cur.ClaimedAt.Before(now.Add(-stale))) {
		return cur, false, nil
	}
	f.writes++
	use := tierflow.ApprovalLinkUse{CaseID: l.CaseID, ApprovalID: l.ApprovalID, Tier: l.Tier, Decision: l.Decision,
		State: tierflow.ApprovalLinkClaimed, ClaimedAt: now}
	f.rows[k] = use
	return use, true, nil
}

func (f *fakeApprovalLinks) ApprovalLinkUse(_ context.Context, l tierflow.ApprovalLink) (tierflow.ApprovalLinkUse, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	use, ok := f.rows[linkKey(l.CaseID, l.ApprovalID, l.Tier)]
	return use, ok, nil
}

func (f *fakeApprovalLinks) SettleApprovalLink(_ context.Context, c tierflow.ApprovalLinkUse, used bool, _ time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := linkKey(c.CaseID, c.ApprovalID, c.Tier)
	cur, ok := f.rows[k]
	if !ok || cur.State != tierflow.ApprovalLinkClaimed || !cur.ClaimedAt.Equal(c.ClaimedAt) {
		return tierflow.Errorf(tierflow.CodeConflict, "taken over")
	}
	f.writes++
	if used {
		cur.State = tierflow.ApprovalLinkUsed
		f.rows[k] = cur
	} else {
		delete(f.rows, k)
	}
	return nil
}

// approvalCase is a case waiting for tier 3 to approve 400.00 EUR.
func approvalCase() tierflow.CaseView {
	return tierflow.CaseView{ID: "zendesk-7", Source: "zendesk", ExternalID: "7", Subject: "Charged twice",
		Status: tierflow.StatusAwaitingApproval, Tier: tierflow.TierSpecialist, Department: "billing",
		PendingApproval: &tierflow.Approval{ID: "apr-5", Compensation: "comp-5", AmountCents: 40000, Currency: "EUR",
			Description: "refund of the double charge", RequestedBy: "spec-1", RequiredTier: tierflow.TierSupervisor,
			RequestedAt: testNow.Add(-time.Hour), ExpiresAt: testNow.Add(3 * time.Hour)}}
}

func approvalEnv(t *testing.T) (*testEnv, *fakeApprovalLinks) {
	t.Helper()
	env := newTestEnv(t)
	links := &fakeApprovalLinks{rows: map[string]tierflow.ApprovalLinkUse{}}
	env.srv.ApprovalLinks = links
	env.handler = env.srv.routes()
	env.cases.put(approvalCase())
	return env, links
}

// approvalPath is the link the approval email of approvalCase carries.
func approvalPath(key []byte, decision tierflow.Action, mutate func(*tierflow.ApprovalLink)) string {
	l := tierflow.ApprovalLink{CaseID: "zendesk-7", ApprovalID: "apr-5", Tier: tierflow.TierSupervisor, Department: "billing",
		Decision: decision, Expires: testNow.Add(3 * time.Hour)}
	if mutate != nil {
		mutate(&l)
	}
	return "/v1/approvals/" + tierflow.SignApprovalToken(key, l)
}

func postApproval(env *testEnv, path string, decision tierflow.Action, comment string) *httpResponse {
	form := url.Values{"decision": {string(decision)}, "comment": {comment}}.Encode()
	rec := env.do(request{method: "POST", path: path, contentType: "application/x-www-form-urlencoded", body: form})
	return &httpResponse{code: rec.Code, body: rec.Body.String(), contentType: rec.Header().Get("Content-Type")}
}

type httpResponse struct {
	code              int
	body, contentType string
}

func TestApprovalLinkPageShowsTheRequestAndChangesNothing(t *testing.T) {
	env, links := approvalEnv(t)
	path := approvalPath(testSurveyKey, tierflow.ActionApprove, nil)
	for range 2 { // a link preview opening it too
		rec := env.do(request{method: "GET", path: path})
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		body := rec.Body.String()
		assert.Contains(t, body, "400.00 EUR")
		assert.Contains(t, body, "refund of the double charge")
		assert.Contains(t, body, "spec-1", "who proposed it")
		assert.Contains(t, body, `name="comment"`)
		assert.Contains(t, body, `<form method="post" action="`+path+`">`, "the form posts the token back")
		assert.Contains(t, body, `name="decision" value="approve"`)
		assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	}
	assert.Empty(t, env.cases.decisions, "GET decides nothing")
	assert.Zero(t, links.writes, "GET writes nothing")
}

func TestApprovalLinkDecidesOnceAsTheTiersApprover(t *testing.T) {
	env, links := approvalEnv(t)
	path := approvalPath(testSurveyKey, tierflow.ActionApprove, nil)
	res := postApproval(env, path, tierflow.ActionApprove, "  ok, Grace (sup)  ")
	require.Equal(t, http.StatusOK, res.code, res.body)
	assert.Contains(t, res.body, "Approved")
	require.Len(t, env.cases.decisions, 1)
	d := env.cases.decisions[0]
	assert.Equal(t, tierflow.ActionApprove, d.Action)
	assert.Equal(t, "apr-5", d.ApprovalID)
	assert.Equal(t, "ok, Grace (sup)", d.Note)
	assert.Equal(t, "email-link:apr-5:tier-3", d.DecisionID)
	assert.Equal(t, tierflow.Principal{ID: "email-link:tier-3", Name: "Tier 3 (supervisor) approver, by the approval email's link",
		Role: tierflow.RoleSupervisor, Tier: tierflow.TierSupervisor, Departments: []string{"billing"}}, d.Actor,
		"the identity comes from the link's binding")

	again := postApproval(env, path, tierflow.ActionApprove, "again")
	assert.Equal(t, http.StatusConflict, again.code)
	assert.Contains(t, again.body, "already decided")
	reject := postApproval(env, approvalPath(testSurveyKey, tierflow.ActionReject, nil), tierflow.ActionReject, "")
	assert.Equal(t, http.StatusConflict, reject.code, "the other link of the same email is spent too")
	page := env.do(request{method: "GET", path: path})
	assert.Equal(t, http.StatusConflict, page.Code)
	assert.Len(t, env.cases.decisions, 1, "one decision")
	use, found, _ := links.ApprovalLinkUse(context.Background(), tierflow.ApprovalLink{CaseID: "zendesk-7", ApprovalID: "apr-5", Tier: 3})
	require.True(t, found)
	assert.Equal(t, tierflow.ApprovalLinkUsed, use.State)
}

func TestApprovalLinkRefusalsChangeNothing(t *testing.T) {
	otherKey := []byte("another-key-that-signs-nothing-here")
	approve := approvalPath(testSurveyKey, tierflow.ActionApprove, nil)
	token := strings.TrimPrefix(approve, "/v1/approvals/")
	payload, mac, _ := strings.Cut(token, ".")
	tests := []struct {
		name     string
		path     string
		decision tierflow.Action
		setup    func(*testEnv)
		status   int
		says     string
	}{
		{name: "forged signature", path: "/v1/approvals/" + payload + "." + strings.Repeat("A", len(mac)), status: http.StatusNotFound, says: "not valid"},
		{name: "signed with an unknown key", path: approvalPath(otherKey, tierflow.ActionApprove, nil), status: http.StatusNotFound},
		{name: "garbage", path: "/v1/approvals/abc", status: http.StatusNotFound},
		{name: "expired", path: approvalPath(testSurveyKey, tierflow.ActionApprove, func(l *tierflow.ApprovalLink) { l.Expires = testNow }),
			status: http.StatusGone, says: "expired"},
		{name: "after the request climbed a tier", path: approvalPath(testSurveyKey, tierflow.ActionApprove, func(l *tierflow.ApprovalLink) { l.Tier = tierflow.TierSpecialist }),
			status: http.StatusGone, says: "moved to tier 3"},
		{name: "after the case moved to another department", path: approvalPath(testSurveyKey, tierflow.ActionApprove, func(l *tierflow.ApprovalLink) { l.Department = "shipping" }),
			status: http.StatusGone, says: "moved to another department"},
		{name: "another approval", path: approvalPath(testSurveyKey, tierflow.ActionApprove, func(l *tierflow.ApprovalLink) { l.ApprovalID = "apr-2" }),
			status: http.StatusConflict, says: "no longer waiting"},
		{name: "case closed", path: approve, status: http.StatusConflict, setup: func(e *testEnv) {
			c := approvalCase()
			e.records.cases[c.ID] = c
			delete(e.cases.cases, c.ID)
		}, says: "closed"},
		{name: "Temporal unavailable", path: approve, status: http.StatusServiceUnavailable, setup: func(e *testEnv) {
			e.cases.fail("get", tierflow.Errorf(tierflow.CodeUnavailable, "temporal down"))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, method := range []string{"GET", "POST"} {
				env, links := approvalEnv(t)
				if tc.setup != nil {
					tc.setup(env)
				}
				var code int
				var body string
				if method == "GET" {
					rec := env.do(request{method: "GET", path: tc.path})
					code, body = rec.Code, rec.Body.String()
				} else {
					res := postApproval(env, tc.path, tierflow.ActionApprove, "")
					code, body = res.code, res.body
				}
				assert.Equal(t, tc.status, code, "%s: %s", method, body)
				assert.Contains(t, body, tc.says, method)
				assert.Contains(t, body, "<!doctype html>", "%s: a page a person reads", method)
				if tc.status < http.StatusInternalServerError {
					assert.Contains(t, body, "Nothing was changed", method)
				}
				assert.Empty(t, env.cases.decisions, method)
				assert.Zero(t, links.writes, method)
			}
		})
	}
}

// A tier-2 request went to the case's department's specialists: its link decides
// as a specialist of that department, which the case's department rule admits
// (a specialist without departments serves none).
func TestApprovalLinkAtTier2DecidesAsTheDepartmentsSpecialist(t *testing.T) {
	env, _ := approvalEnv(t)
	c := approvalCase()
	c.PendingApproval.AmountCents, c.PendingApproval.RequiredTier = 12000, tierflow.TierSpecialist
	env.cases.put(c)
	path := approvalPath(testSurveyKey, tierflow.ActionApprove, func(l *tierflow.ApprovalLink) { l.Tier = tierflow.TierSpecialist })
	res := postApproval(env, path, tierflow.ActionApprove, "")
	require.Equal(t, http.StatusOK, res.code, res.body)
	require.Len(t, env.cases.decisions, 1)
	actor := env.cases.decisions[0].Actor
	assert.Equal(t, "email-link:tier-2", actor.ID)
	assert.Equal(t, tierflow.RoleSpecialist, actor.Role)
	assert.Equal(t, []string{"billing"}, actor.Departments, "the department the email went to")
	assert.True(t, actor.InDepartment(c.Department), "the link's approver serves the case's department")
}

func TestApprovalLinkFormMustConfirmTheLinksDecision(t *testing.T) {
	env, links := approvalEnv(t)
	path := approvalPath(testSurveyKey, tierflow.ActionApprove, nil)
	res := postApproval(env, path, tierflow.ActionReject, "flip it")
	assert.Equal(t, http.StatusUnprocessableEntity, res.code, res.body)
	assert.Contains(t, res.body, "can only approve")
	rec := env.do(request{method: "POST", path: path, body: `{"decision":"approve"}`})
	assert.Equal(t, http.StatusUnsupportedMediaType, rec.Code)
	long := postApproval(env, path, tierflow.ActionApprove, strings.Repeat("x", tierflow.MaxTextLen+1))
	assert.Equal(t, http.StatusUnprocessableEntity, long.code)
	assert.Empty(t, env.cases.decisions)
	assert.Zero(t, links.writes)

	ok := postApproval(env, path, tierflow.ActionApprove, "")
	assert.Equal(t, http.StatusOK, ok.code, "the link still works after refused forms: %s", ok.body)
}

func TestApprovalLinkRefusedByTheCaseStaysUsable(t *testing.T) {
	env, links := approvalEnv(t)
	path := approvalPath(testSurveyKey, tierflow.ActionReject, nil)
	env.cases.fail("decide", tierflow.Errorf(tierflow.CodeForbidden, "tier 3's authority (1000.00 EUR) does not cover the pending approval"))
	res := postApproval(env, path, tierflow.ActionReject, "")
	assert.Equal(t, http.StatusForbidden, res.code, res.body)
	assert.Contains(t, res.body, "does not cover")
	assert.Empty(t, links.rows, "the claim is released: the link changed nothing")

	env.cases.fail("decide", nil)
	ok := postApproval(env, path, tierflow.ActionReject, "no")
	require.Equal(t, http.StatusOK, ok.code, ok.body)
	assert.Contains(t, ok.body, "Rejected")
	require.Len(t, env.cases.decisions, 1)
	assert.Equal(t, tierflow.ActionReject, env.cases.decisions[0].Action)
}

func TestApprovalLinkSignedWithThePreviousKey(t *testing.T) {
	env, _ := approvalEnv(t)
	newest := []byte("the-newest-survey-key-0123456789")
	env.srv.SurveyKeys = [][]byte{newest, testSurveyKey}
	rec := env.do(request{method: "GET", path: approvalPath(testSurveyKey, tierflow.ActionApprove, nil)})
	assert.Equal(t, http.StatusOK, rec.Code, "links out before a rotation keep working")
}

func TestApprovalLinkWithAnUncertainOutcomeKeepsItsClaim(t *testing.T) {
	env, links := approvalEnv(t)
	path := approvalPath(testSurveyKey, tierflow.ActionApprove, nil)
	env.cases.fail("decide", tierflow.Errorf(tierflow.CodeUnavailable, "the update timed out"))
	res := postApproval(env, path, tierflow.ActionApprove, "")
	assert.Equal(t, http.StatusServiceUnavailable, res.code, res.body)
	assert.NotContains(t, res.body, "Nothing was changed", "the outcome is unknown")
	require.Len(t, links.rows, 1, "the decision may have been applied: the claim stays until it is stale")

	env.cases.fail("decide", nil)
	again := postApproval(env, path, tierflow.ActionApprove, "")
	assert.Equal(t, http.StatusConflict, again.code, "while the claim is fresh: %s", again.body)
	assert.Contains(t, again.body, "being applied")

	later := testNow.Add(time.Minute) // twice the default 10s Update timeout has passed
	env.srv.Now = func() time.Time { return later }
	retried := postApproval(env, path, tierflow.ActionApprove, "")
	require.Equal(t, http.StatusOK, retried.code, "a stale claim is taken over: %s", retried.body)
	require.Len(t, env.cases.decisions, 1)
	assert.Equal(t, "email-link:apr-5:tier-3", env.cases.decisions[0].DecisionID, "the same decision ID: applied at most once")
}

func TestApprovalLinkTokensAreNotLogged(t *testing.T) {
	env, _ := approvalEnv(t)
	var logs bytes.Buffer
	env.srv.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	env.handler = env.srv.routes()
	path := approvalPath(testSurveyKey, tierflow.ActionApprove, nil)
	env.do(request{method: "GET", path: path})
	require.Equal(t, http.StatusOK, postApproval(env, path, tierflow.ActionApprove, "").code)
	env.do(request{method: "GET", path: path + "x"}) // a refused one too
	out := logs.String()
	assert.Contains(t, out, `"path":"/v1/approvals/{token}"`)
	assert.Contains(t, out, "approval decided from its email link")
	assert.NotContains(t, out, strings.TrimPrefix(path, "/v1/approvals/")[:20], "approval tokens are not logged")
}
