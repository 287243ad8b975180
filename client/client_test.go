package client_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/client"
)

func TestOpenCaseCreatedThenExisting(t *testing.T) {
	api := newFakeAPI(t)
	c := client.New(api.URL, "dev-integration")
	ctx := context.Background()

	view, created, err := c.OpenCase(ctx, testOpenRequest("48213"))
	require.NoError(t, err)
	assert.True(t, created)
	assert.Equal(t, "zendesk-48213", view.ID)
	assert.Equal(t, tierflow.StatusOpen, view.Status)

	again, created, err := c.OpenCase(ctx, testOpenRequest("48213"))
	require.NoError(t, err)
	assert.False(t, created, "an identical open is answered 200, not created")
	assert.Equal(t, view.ID, again.ID)

	changed := testOpenRequest("48213")
	changed.Subject = "Something else"
	_, _, err = c.OpenCase(ctx, changed)
	require.Error(t, err)
	assert.True(t, client.IsConflict(err), "got %v", err)
	assert.Equal(t, 3, api.attemptsOf("POST /v1/cases"), "a 409 is not retried")
}

func TestProblemDecoding(t *testing.T) {
	api := newFakeAPI(t)
	ctx := context.Background()

	invalid := testOpenRequest("bad id!")
	invalid.Priority = "whenever"
	_, _, err := client.New(api.URL, "dev-integration").OpenCase(ctx, invalid)
	require.Error(t, err)
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusUnprocessableEntity, apiErr.Status)
	assert.Equal(t, "Unprocessable Entity", apiErr.Title)
	assert.Equal(t, "https://tierflow.dev/problems/422", apiErr.Type)
	assert.Equal(t, "the case is invalid", apiErr.Detail)
	assert.Equal(t, []tierflow.FieldError{
		{Field: "external_id", Message: "must be 1-64 characters of [A-Za-z0-9._-]"},
		{Field: "priority", Message: "must be one of urgent, high, normal, low"},
	}, apiErr.Fields)
	assert.Equal(t, apiErr.Fields, client.FieldErrors(err))
	assert.NotEmpty(t, apiErr.RequestID, "X-Request-Id is kept")
	assert.True(t, client.IsInvalid(err))
	assert.False(t, client.IsNotFound(err))
	assert.Equal(t, tierflow.CodeInvalid, apiErr.Code())
	assert.Contains(t, err.Error(), "open case: tierflow api: 422 Unprocessable Entity: the case is invalid: external_id must be")
	assert.Equal(t, 1, api.attemptsOf("POST /v1/cases"), "a 422 is not retried")

	_, err = client.New(api.URL, "dev-agent").GetCase(ctx, "zendesk-404")
	assert.True(t, client.IsNotFound(err), "got %v", err)
	assert.ErrorIs(t, err, client.ErrNotFound)

	_, err = client.New(api.URL, "wrong-token").GetCase(ctx, "zendesk-1")
	assert.True(t, client.IsUnauthorized(err), "got %v", err)
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, tierflow.CodeUnauthorized, apiErr.Code())
}

func TestNonProblemErrorBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html>bad gateway</html>\nmore"))
	}))
	defer srv.Close()
	_, err := client.New(srv.URL, "t").GetCase(context.Background(), "x-1")
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusBadGateway, apiErr.Status)
	assert.Equal(t, "<html>bad gateway</html>", apiErr.Detail)
	assert.Equal(t, tierflow.CodeUnavailable, apiErr.Code())
}

func TestDecideSendsNoActorAndReturnsCase(t *testing.T) {
	api := newFakeAPI(t)
	ctx := context.Background()
	_, _, err := client.New(api.URL, "dev-integration").OpenCase(ctx, testOpenRequest("7"))
	require.NoError(t, err)

	agent := client.New(api.URL, "dev-agent")
	view, err := agent.Decide(ctx, "zendesk-7", tierflow.Decision{Action: tierflow.ActionAcknowledge})
	require.NoError(t, err)
	assert.Equal(t, tierflow.StatusInProgress, view.Status)

	bodies := api.bodiesOf("POST /v1/cases/zendesk-7/decisions")
	require.Len(t, bodies, 1)
	var sent map[string]any
	require.NoError(t, json.Unmarshal(bodies[0], &sent))
	assert.NotContains(t, sent, "actor")
	assert.Equal(t, "acknowledge", sent["action"])
	assert.Regexp(t, `^dec-[A-Z2-7]{26}$`, sent["decision_id"])

	_, err = agent.Decide(ctx, "zendesk-7", tierflow.Decision{Action: tierflow.ActionNote, Actor: tierflow.Principal{ID: "me"}})
	assert.ErrorContains(t, err, "actor comes from the token")
	_, err = agent.Decide(ctx, "", tierflow.Decision{Action: tierflow.ActionNote})
	assert.ErrorContains(t, err, "empty case id")
}

func TestSendCustomerEventBody(t *testing.T) {
	api := newFakeAPI(t)
	err := client.New(api.URL, "dev-integration").SendCustomerEvent(context.Background(), "zendesk-7", tierflow.CustomerEvent{
		Kind: tierflow.CustomerReply, EventID: "comment-1", Message: "Here is the receipt",
		At: time.Now(), Source: tierflow.Principal{ID: "crm"},
	})
	require.NoError(t, err)
	bodies := api.bodiesOf("POST /v1/cases/zendesk-7/customer-events")
	require.Len(t, bodies, 1)
	assert.JSONEq(t, `{"kind":"reply","event_id":"comment-1","message":"Here is the receipt"}`, string(bodies[0]))
}

func TestListCasesQueryAndCursors(t *testing.T) {
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		page := tierflow.CasePage{Cases: []tierflow.CaseView{{ID: "a-1"}}, NextCursor: "c2"}
		if r.URL.Query().Get("cursor") == "c2" {
			page = tierflow.CasePage{Cases: []tierflow.CaseView{{ID: "a-2"}, {ID: "a-3"}}}
		}
		writeJSON(w, http.StatusOK, page)
	}))
	defer srv.Close()
	c := client.New(srv.URL+"/v1/", "dev-viewer")
	breached := true
	filter := tierflow.CaseFilter{Status: tierflow.StatusOpen, Tier: 3, Priority: tierflow.PriorityHigh,
		Department: "billing", Assignee: "sam", Source: "zendesk", Breached: &breached, Limit: 50}

	var ids []string
	for v, err := range c.Cases(context.Background(), filter) {
		require.NoError(t, err)
		ids = append(ids, v.ID)
	}
	assert.Equal(t, []string{"a-1", "a-2", "a-3"}, ids)
	require.Len(t, queries, 2)
	assert.Equal(t, "assignee=sam&breached=true&department=billing&limit=50&priority=high&source=zendesk&status=open&tier=3", queries[0])
	assert.Contains(t, queries[1], "cursor=c2")
}

func TestCaseEventsAcceptsBothShapes(t *testing.T) {
	for name, body := range map[string]string{
		"array":   `[{"case_id":"z-1","seq":1,"type":"opened"},{"case_id":"z-1","seq":2,"type":"acknowledged"}]`,
		"wrapped": `{"events":[{"case_id":"z-1","seq":1,"type":"opened"},{"case_id":"z-1","seq":2,"type":"acknowledged"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, "/v1/cases/z-1/events", r.URL.Path)
				_, _ = w.Write([]byte(body))
			}))
			defer srv.Close()
			events, err := client.New(srv.URL, "t").CaseEvents(context.Background(), "z-1")
			require.NoError(t, err)
			require.Len(t, events, 2)
			assert.Equal(t, tierflow.EventAcknowledged, events[1].Type)
		})
	}
}

func TestKPIsQuery(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/v1/reports/kpis", r.URL.Path)
		assert.Equal(t, "from=2026-11-01T00%3A00%3A00Z&group_by=tier&to=2026-12-01T00%3A00%3A00Z", r.URL.RawQuery)
		assert.Equal(t, "Bearer dev-supervisor", r.Header.Get("Authorization"))
		assert.Equal(t, "acme-crm/2", r.Header.Get("User-Agent"))
		writeJSON(w, http.StatusOK, tierflow.KPIReport{GroupBy: "tier", Total: tierflow.KPIs{CasesOpened: 12}})
	}))
	defer srv.Close()
	paris := time.FixedZone("CET", 3600)
	report, err := client.New(srv.URL, "dev-supervisor", client.WithUserAgent("acme-crm/2")).KPIs(context.Background(),
		time.Date(2026, 11, 1, 1, 0, 0, 0, paris), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), "tier")
	require.NoError(t, err)
	assert.Equal(t, 12, report.Total.CasesOpened)
}

func TestAnswerSurvey(t *testing.T) {
	api := newFakeAPI(t)
	ctx := context.Background()
	_, _, err := client.New(api.URL, "dev-integration").OpenCase(ctx, testOpenRequest("7"))
	require.NoError(t, err)
	// A client with a token does not send it: the survey route is public.
	c := client.New(api.URL, "dev-integration")
	answer := tierflow.SurveyResponse{Score: 5, Resolved: true, Comment: "quick and kind"}

	require.NoError(t, c.AnswerSurvey(ctx, "survey-zendesk-7", answer))
	key := "POST /v1/surveys/survey-zendesk-7"
	bodies := api.bodiesOf(key)
	require.Len(t, bodies, 1)
	assert.JSONEq(t, `{"score":5,"resolved":true,"comment":"quick and kind"}`, string(bodies[0]))
	assert.Equal(t, []string{""}, api.authorizationsOf(key), "no bearer token on the public route")

	err = c.AnswerSurvey(ctx, "survey-zendesk-7", answer)
	assert.True(t, client.IsConflict(err), "a second answer is a conflict, got %v", err)
	assert.ErrorContains(t, err, "answer survey: tierflow api: 409")

	// 503 is not retried: a repeat after an unseen success would be a conflict.
	api.failNext("POST /v1/surveys/survey-zendesk-8", failure{status: http.StatusServiceUnavailable})
	err = c.AnswerSurvey(ctx, "survey-zendesk-8", answer)
	assert.True(t, client.IsUnavailable(err), "got %v", err)
	assert.Equal(t, 1, api.attemptsOf("POST /v1/surveys/survey-zendesk-8"))

	err = client.New(api.URL, "").AnswerSurvey(ctx, "forged", answer)
	assert.True(t, client.IsNotFound(err), "got %v", err)
	assert.ErrorContains(t, client.New(api.URL, "").AnswerSurvey(ctx, "", answer), "empty survey token")
}
