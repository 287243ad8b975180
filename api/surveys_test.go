package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// surveyPath is the path of a link to the case's first survey.
func surveyPath(key []byte, caseID string, expires time.Time) string {
	return roundSurveyPath(key, caseID, 1, expires)
}

func roundSurveyPath(key []byte, caseID string, round int, expires time.Time) string {
	return "/v1/surveys/" + tierflow.SignSurveyToken(key, tierflow.SurveyLink{CaseID: caseID, Round: round, Expires: expires})
}

// surveyEnv has a resolved case whose survey was sent.
func surveyEnv(t *testing.T) (*testEnv, string) {
	env := newTestEnv(t)
	c := fullCase("zendesk-1", 1, "")
	c.Status = tierflow.StatusResolved
	c.Survey = &tierflow.SurveyState{Status: "sent", Round: 1}
	env.cases.put(c)
	return env, surveyPath(testSurveyKey, "zendesk-1", testNow.Add(24*time.Hour))
}

func TestSurveyPageIsAPlainForm(t *testing.T) {
	env, path := surveyEnv(t)
	rec := env.do(request{method: "GET", path: path})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
	page := rec.Body.String()
	assert.Contains(t, page, `<form method="post" action="`+path+`">`)
	for _, score := range []string{"1", "2", "3", "4", "5"} {
		assert.Contains(t, page, `<input type="radio" name="score" value="`+score+`" required>`)
	}
	assert.Contains(t, page, `name="resolved" value="yes"`)
	assert.Contains(t, page, `name="resolved" value="no"`)
	assert.Contains(t, page, `<textarea id="comment" name="comment"`)
	assert.Contains(t, page, "Refund not received")
	assert.NotContains(t, page, "<script", "works without JavaScript")
	assert.NotContains(t, page, "ada@example.com")
}

func TestSurveyPageRefusesBadLinks(t *testing.T) {
	env, _ := surveyEnv(t)
	forged := surveyPath([]byte("another-key-0123456789"), "zendesk-1", testNow.Add(time.Hour))
	expired := surveyPath(testSurveyKey, "zendesk-1", testNow.Add(-time.Minute))
	for path, status := range map[string]int{
		forged:              http.StatusNotFound,
		"/v1/surveys/bogus": http.StatusNotFound,
		expired:             http.StatusGone,
	} {
		rec := env.do(request{method: "GET", path: path})
		assert.Equal(t, status, rec.Code, path)
		assert.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
		assert.NotContains(t, rec.Body.String(), "<form")
	}
}

func TestSurveyAnsweredByForm(t *testing.T) {
	env, path := surveyEnv(t)
	form := url.Values{"score": {"2"}, "resolved": {"no"}, "comment": {"  still broken  "}}.Encode()
	rec := env.do(request{method: "POST", path: path, contentType: "application/x-www-form-urlencoded", body: form})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), "Thank you")
	require.Len(t, env.cases.surveys, 1)
	assert.Equal(t, tierflow.SurveyResponse{Score: 2, Resolved: false, Comment: "still broken", Round: 1}, env.cases.surveys[0])

	again := env.do(request{method: "POST", path: path, contentType: "application/x-www-form-urlencoded", body: form})
	assert.Equal(t, http.StatusConflict, again.Code)
	assert.Contains(t, again.Body.String(), "already answered")
	assert.Len(t, env.cases.surveys, 1)

	page := env.do(request{method: "GET", path: path})
	assert.Equal(t, http.StatusConflict, page.Code, "the page says it was answered")

	c, _ := env.cases.snapshot("zendesk-1")
	c.Survey = &tierflow.SurveyState{Status: "expired"}
	env.cases.put(c)
	page = env.do(request{method: "GET", path: path})
	assert.Equal(t, http.StatusGone, page.Code, "the page says the survey expired")
}

func TestSurveyAnsweredByJSON(t *testing.T) {
	env, path := surveyEnv(t)
	rec := env.do(request{method: "POST", path: path, body: `{"score": 5, "resolved": true, "comment": "great"}`})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"status": "recorded"}`, rec.Body.String())
	require.Len(t, env.cases.surveys, 1)
	assert.Equal(t, tierflow.SurveyResponse{Score: 5, Resolved: true, Comment: "great", Round: 1}, env.cases.surveys[0])

	problemOf(t, env.do(request{method: "POST", path: path, body: `{"score": 5, "resolved": true}`}), http.StatusConflict)
}

func TestSurveyAnswerRejectsBadInput(t *testing.T) {
	valid := `{"score": 4, "resolved": true}`
	tests := []struct {
		name, contentType, body string
		path                    func(env *testEnv) string
		status                  int
		html                    bool
	}{
		{name: "forged JSON", body: valid, status: http.StatusNotFound,
			path: func(*testEnv) string {
				return surveyPath([]byte("forged-key-0123456789"), "zendesk-1", testNow.Add(time.Hour))
			}},
		{name: "expired JSON", body: valid, status: http.StatusGone,
			path: func(*testEnv) string { return surveyPath(testSurveyKey, "zendesk-1", testNow.Add(-time.Hour)) }},
		{name: "forged form", contentType: "application/x-www-form-urlencoded", body: "score=4&resolved=yes", status: http.StatusNotFound, html: true,
			path: func(*testEnv) string { return "/v1/surveys/abc.def" }},
		{name: "expired form", contentType: "application/x-www-form-urlencoded", body: "score=4&resolved=yes", status: http.StatusGone, html: true,
			path: func(*testEnv) string { return surveyPath(testSurveyKey, "zendesk-1", testNow.Add(-time.Hour)) }},
		{name: "score out of range", body: `{"score": 9, "resolved": true}`, status: http.StatusUnprocessableEntity},
		{name: "resolved missing", body: `{"score": 3}`, status: http.StatusUnprocessableEntity},
		{name: "incomplete form", contentType: "application/x-www-form-urlencoded", body: "comment=hi", status: http.StatusUnprocessableEntity, html: true},
		{name: "unknown field", body: `{"score": 3, "resolved": true, "case": "x"}`, status: http.StatusBadRequest},
		{name: "wrong type", body: `{"score": "three", "resolved": true}`, status: http.StatusBadRequest},
		{name: "malformed", body: `{"score": 3,`, status: http.StatusBadRequest},
		{name: "neither form nor JSON", contentType: "text/plain", body: "4 yes", status: http.StatusUnsupportedMediaType},
		{name: "too large", body: `{"score": 3, "resolved": true, "comment": "` + strings.Repeat("x", maxBodyBytes) + `"}`, status: http.StatusRequestEntityTooLarge},
		{name: "too large form", contentType: "application/x-www-form-urlencoded", body: "comment=" + strings.Repeat("x", maxBodyBytes+10),
			status: http.StatusRequestEntityTooLarge, html: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env, path := surveyEnv(t)
			if tc.path != nil {
				path = tc.path(env)
			}
			rec := env.do(request{method: "POST", path: path, contentType: tc.contentType, body: tc.body})
			if tc.html {
				assert.Equal(t, tc.status, rec.Code, rec.Body.String())
				assert.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
			} else {
				problemOf(t, rec, tc.status)
				assert.NotContains(t, rec.Body.String(), "/v1/surveys/", "the token is not echoed")
			}
			assert.Empty(t, env.cases.surveys, "nothing was recorded")
		})
	}
}

func TestSurveyAnswerWhenTheCaseIsUnavailable(t *testing.T) {
	env, path := surveyEnv(t)
	env.cases.fail("survey", tierflow.Errorf(tierflow.CodeUnavailable, "no worker"))
	problemOf(t, env.do(request{method: "POST", path: path, body: `{"score": 4, "resolved": true}`}), http.StatusServiceUnavailable)
	rec := env.do(request{method: "POST", path: path, contentType: "application/x-www-form-urlencoded", body: "score=4&resolved=yes"})
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "5", rec.Header().Get("Retry-After"))

	env.cases.fail("survey", tierflow.Errorf(tierflow.CodeGone, "the survey expired"))
	problemOf(t, env.do(request{method: "POST", path: path, body: `{"score": 4, "resolved": true}`}), http.StatusGone)
}

// Once an answer has closed the case its workflow is gone; a second answer is still
// told "already answered" (409) from the record, and a case closed without an
// answer says the survey is closed (410).
func TestSurveyAnswerAfterTheWorkflowEnded(t *testing.T) {
	env, path := surveyEnv(t)
	env.cases.fail("survey", tierflow.Errorf(tierflow.CodeNotFound, "workflow not found"))

	answered := fullCase("zendesk-1", 1, "")
	answered.Status = tierflow.StatusClosed
	answered.Survey = &tierflow.SurveyState{Status: "answered", Score: 5}
	env.records.mu.Lock()
	env.records.cases["zendesk-1"] = answered
	env.records.mu.Unlock()
	problemOf(t, env.do(request{method: "POST", path: path, body: `{"score": 1, "resolved": false}`}), http.StatusConflict)

	answered.Survey = &tierflow.SurveyState{Status: "expired"}
	env.records.mu.Lock()
	env.records.cases["zendesk-1"] = answered
	env.records.mu.Unlock()
	problemOf(t, env.do(request{method: "POST", path: path, body: `{"score": 1, "resolved": false}`}), http.StatusGone)
	assert.Empty(t, env.cases.surveys, "nothing was recorded")
}
