package client

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tierflow/tierflow"
)

// OpenCase opens (escalates) a case. created is true when this call created it (201)
// and false when a case with the same source and external_id and an identical body
// already existed (200). A different body for an existing case is a conflict
// (IsConflict). The call is retried safely: the server deduplicates it.
func (c *Client) OpenCase(ctx context.Context, req tierflow.OpenCaseRequest) (view tierflow.CaseView, created bool, err error) {
	body, err := json.Marshal(req)
	if err != nil {
		return view, false, fmt.Errorf("open case: encode request: %w", err)
	}
	status, err := c.do(ctx, call{op: "open case", method: http.MethodPost, path: "/cases", body: body, idempotent: true}, &view)
	if err != nil {
		return tierflow.CaseView{}, false, err
	}
	return view, status == http.StatusCreated, nil
}

// GetCase returns the live case.
func (c *Client) GetCase(ctx context.Context, caseID string) (view tierflow.CaseView, err error) {
	path, err := casePath(caseID, "")
	if err != nil {
		return view, fmt.Errorf("get case: %w", err)
	}
	_, err = c.do(ctx, call{op: "get case", method: http.MethodGet, path: path, idempotent: true}, &view)
	return view, err
}

// ListCases returns one page of cases matching f; pass page.NextCursor as f.Cursor
// for the next one, or use Cases to walk them all.
func (c *Client) ListCases(ctx context.Context, f tierflow.CaseFilter) (page tierflow.CasePage, err error) {
	_, err = c.do(ctx, call{op: "list cases", method: http.MethodGet, path: "/cases", query: filterQuery(f), idempotent: true}, &page)
	return page, err
}

// Cases walks every case matching f, following the cursors page by page. It stops
// at the first error, which it yields.
func (c *Client) Cases(ctx context.Context, f tierflow.CaseFilter) iter.Seq2[tierflow.CaseView, error] {
	return func(yield func(tierflow.CaseView, error) bool) {
		for {
			page, err := c.ListCases(ctx, f)
			if err != nil {
				yield(tierflow.CaseView{}, err)
				return
			}
			for _, v := range page.Cases {
				if !yield(v, nil) {
					return
				}
			}
			if page.NextCursor == "" || page.NextCursor == f.Cursor {
				return
			}
			f.Cursor = page.NextCursor
		}
	}
}

// Decide applies one decision as the token's principal and returns the updated case.
// The server sets the actor from the token, so d.Actor must be empty. When
// d.DecisionID is empty the client sets a random one, so that a retried call is
// applied once; set your own (NewDecisionID) to make your own retries safe too.
func (c *Client) Decide(ctx context.Context, caseID string, d tierflow.Decision) (view tierflow.CaseView, err error) {
	path, err := casePath(caseID, "/decisions")
	if err != nil {
		return view, fmt.Errorf("decide: %w", err)
	}
	if d.Actor.ID != "" || d.Actor.Role != "" || d.Actor.Name != "" {
		return view, errors.New("decide: the actor comes from the token; leave Decision.Actor empty")
	}
	if d.DecisionID == "" {
		d.DecisionID = NewDecisionID()
	}
	body, err := decisionBody(d)
	if err != nil {
		return view, fmt.Errorf("decide: encode request: %w", err)
	}
	_, err = c.do(ctx, call{op: "decide " + string(d.Action), method: http.MethodPost, path: path, body: body, idempotent: true}, &view)
	return view, err
}

// NewDecisionID returns a random decision ID ("dec-" and 26 base32 characters).
func NewDecisionID() string { return "dec-" + rand.Text() }

// decisionBody encodes d without its actor: the API rejects a body that names one.
// Going through a map keeps every field Decision gains later.
func decisionBody(d tierflow.Decision) ([]byte, error) {
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, err
	}
	delete(fields, "actor")
	delete(fields, "policy_snapshot") // migrate_policy: the server attaches the named policy
	return json.Marshal(fields)
}

// customerEventBody is what the API accepts: the server sets the time and the
// relaying principal itself.
type customerEventBody struct {
	Kind    tierflow.CustomerEventKind `json:"kind"`
	EventID string                     `json:"event_id,omitempty"`
	Message string                     `json:"message,omitempty"`
}

// SendCustomerEvent relays something the customer did (202 Accepted). ev.At and
// ev.Source are not sent: the server sets them. The call is retried only when
// ev.EventID is set (the server deduplicates by it); pass the CRM's own ID of the
// event (a comment ID, say).
func (c *Client) SendCustomerEvent(ctx context.Context, caseID string, ev tierflow.CustomerEvent) error {
	path, err := casePath(caseID, "/customer-events")
	if err != nil {
		return fmt.Errorf("send customer event: %w", err)
	}
	body, err := json.Marshal(customerEventBody{Kind: ev.Kind, EventID: ev.EventID, Message: ev.Message})
	if err != nil {
		return fmt.Errorf("send customer event: encode request: %w", err)
	}
	_, err = c.do(ctx, call{op: "send customer event " + string(ev.Kind), method: http.MethodPost, path: path,
		body: body, idempotent: ev.EventID != ""}, nil)
	return err
}

// CaseEvents returns the case's audit timeline, oldest first.
func (c *Client) CaseEvents(ctx context.Context, caseID string) ([]tierflow.CaseEvent, error) {
	path, err := casePath(caseID, "/events")
	if err != nil {
		return nil, fmt.Errorf("case events: %w", err)
	}
	var answer eventsAnswer
	_, err = c.do(ctx, call{op: "case events", method: http.MethodGet, path: path, idempotent: true}, &answer)
	return answer.events, err
}

// eventsAnswer accepts the timeline as a bare array or as {"events": [...]}.
type eventsAnswer struct{ events []tierflow.CaseEvent }

func (a *eventsAnswer) UnmarshalJSON(data []byte) error {
	if err := json.Unmarshal(data, &a.events); err == nil {
		return nil
	}
	var wrapped struct {
		Events []tierflow.CaseEvent `json:"events"`
	}
	if err := json.Unmarshal(data, &wrapped); err != nil {
		return err
	}
	a.events = wrapped.Events
	return nil
}

// KPIs returns the indicators of cases opened in [from, to), grouped by groupBy
// ("", "category", "department", "tier" or "priority").
func (c *Client) KPIs(ctx context.Context, from, to time.Time, groupBy string) (report tierflow.KPIReport, err error) {
	q := url.Values{"from": {from.UTC().Format(time.RFC3339)}, "to": {to.UTC().Format(time.RFC3339)}}
	if groupBy != "" {
		q.Set("group_by", groupBy)
	}
	_, err = c.do(ctx, call{op: "kpis", method: http.MethodGet, path: "/reports/kpis", query: q, idempotent: true}, &report)
	return report, err
}

// AnswerSurvey records the customer's answer to the survey of surveyToken, the last
// path segment of the link in the survey email (.../v1/surveys/{token}). The route is
// public (the signed token is the credential), so the client's bearer token is not
// sent. It is not retried: once an answer is recorded, another is a conflict
// (IsConflict); an expired survey is ErrGone and a bad token IsNotFound.
func (c *Client) AnswerSurvey(ctx context.Context, surveyToken string, r tierflow.SurveyResponse) error {
	if surveyToken == "" {
		return errors.New("answer survey: empty survey token")
	}
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("answer survey: encode request: %w", err)
	}
	_, err = c.do(ctx, call{op: "answer survey", method: http.MethodPost, path: "/surveys/" + url.PathEscape(surveyToken),
		body: body, public: true}, nil)
	return err
}

func casePath(caseID, suffix string) (string, error) {
	if caseID == "" {
		return "", errors.New("empty case id")
	}
	return "/cases/" + url.PathEscape(caseID) + suffix, nil
}

func filterQuery(f tierflow.CaseFilter) url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("status", string(f.Status))
	set("priority", string(f.Priority))
	set("department", f.Department)
	set("assignee", f.Assignee)
	set("source", f.Source)
	set("cursor", f.Cursor)
	if f.Tier != 0 {
		q.Set("tier", strconv.Itoa(int(f.Tier)))
	}
	if f.Breached != nil {
		q.Set("breached", strconv.FormatBool(*f.Breached))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	return q
}
