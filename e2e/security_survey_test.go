package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// TestSecurityReplayedSurveyLinkAfterReopen (issue 9, item 6): a survey link is
// bound to its survey round. The customer gets a survey link, writes back instead
// of answering (the case reopens), the case is resolved again and a second survey
// goes out: the first link, replayed, answers nothing (410, page and JSON) and
// the second survey stays open for the second link, which is recorded.
func TestSecurityReplayedSurveyLinkAfterReopen(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	begin := time.Now()
	s := startStack(t)
	f := &flow{ctx: ctx, stack: s, api: newAPI(s.APIURL), started: begin}

	f.openFastCase(t, "E2E-SURVEY-ROUND")
	f.api.mustDecide(ctx, t, tokAgent, f.caseID, map[string]any{"action": "acknowledge", "decision_id": "round-ack"})
	v := f.api.mustDecide(ctx, t, tokAgent, f.caseID, map[string]any{
		"action": "resolve", "decision_id": "round-resolve-1", "resolution": "We refunded the second charge."})
	require.Equal(t, tierflow.StatusResolved, v.Status)

	firstMail := f.waitForMail(t, tierflow.MsgSurvey, 30*time.Second) // fast: 5s after the resolution
	oldLink := surveyPathOf(t, s.APIURL, f.mailText(t, firstMail.ID))

	// The customer writes back instead of answering: the case reopens at its tier
	// and the first survey is cancelled; the agent resolves it again.
	f.api.do(ctx, t, tokIntegration, http.MethodPost, "/v1/cases/"+url.PathEscape(f.caseID)+"/customer-events",
		map[string]any{"kind": "reply", "event_id": "round-reply", "message": "The refund has not arrived."}).
		expect(t, http.StatusAccepted, "the customer's reply")
	v = f.api.getCase(ctx, t, tokSupervisor, f.caseID)
	require.Equal(t, tierflow.StatusInProgress, v.Status, "the reply reopened the case")
	require.Equal(t, 1, v.Reopens)
	v = f.api.mustDecide(ctx, t, tokAgent, f.caseID, map[string]any{
		"action": "resolve", "decision_id": "round-resolve-2", "resolution": "The bank confirmed the refund."})
	require.Equal(t, tierflow.StatusResolved, v.Status)

	secondMail := f.waitForMailAfter(t, tierflow.MsgSurvey, firstMail.ID, 30*time.Second)
	newLink := surveyPathOf(t, s.APIURL, f.mailText(t, secondMail.ID))
	require.NotEqual(t, oldLink, newLink, "each survey round has its own link")
	waitForSurveySent(ctx, t, f, 2)

	// The attack: the first survey's link, replayed on the second survey.
	page := f.api.do(ctx, t, "", http.MethodGet, oldLink, nil).expect(t, http.StatusGone, "the old link's page")
	assert.NotContains(t, string(page.Body), "<form", "no form for an earlier round's link")
	f.api.do(ctx, t, "", http.MethodPost, oldLink, map[string]any{"score": 5, "resolved": true, "comment": "replayed"}).
		expect(t, http.StatusGone, "an answer through the old link")
	v = f.api.getCase(ctx, t, tokSupervisor, f.caseID)
	require.NotNil(t, v.Survey)
	assert.Equal(t, tierflow.SurveySent, v.Survey.Status, "the second survey still waits for its own answer")
	assert.Zero(t, v.Survey.Score)

	f.api.do(ctx, t, "", http.MethodGet, newLink, nil).expect(t, http.StatusOK, "the current link's page")
	f.api.do(ctx, t, "", http.MethodPost, newLink, map[string]any{"score": 4, "resolved": true, "comment": "thanks"}).
		expect(t, http.StatusOK, "the answer through the current link")
	v = f.api.getCase(ctx, t, tokSupervisor, f.caseID)
	require.NotNil(t, v.Survey)
	assert.Equal(t, tierflow.SurveyAnswered, v.Survey.Status)
	assert.Equal(t, 4, v.Survey.Score)
	assert.Equal(t, "thanks", v.Survey.Comment, "the recorded answer is the current link's")
	assert.Equal(t, tierflow.StatusClosed, v.Status)
	t.Logf("passed in %s", time.Since(begin).Round(time.Millisecond))
}

// surveyPathOf is the API path of the survey link in an email's text.
func surveyPathOf(t *testing.T, apiURL, text string) string {
	t.Helper()
	link := surveyLink(text)
	require.True(t, strings.HasPrefix(link, apiURL+"/v1/surveys/"), "survey link %q points at the API", link)
	return strings.TrimPrefix(link, apiURL)
}

// waitForSurveySent waits until the case's survey of round is out.
func waitForSurveySent(ctx context.Context, t *testing.T, f *flow, round int) {
	t.Helper()
	wait, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	poll(wait, t, "the survey of the second round to be sent", 300*time.Millisecond, func() (bool, string) {
		v := f.api.getCase(ctx, t, tokSupervisor, f.caseID)
		if v.Survey == nil {
			return false, "no survey"
		}
		return v.Survey.Status == tierflow.SurveySent && v.Survey.Round == round,
			fmt.Sprintf("%s, round %d", v.Survey.Status, v.Survey.Round)
	})
}
