package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/workflows"
)

// caseJSON is a case as the API writes it: the customer's email is omitted when the
// caller may not see it (viewers).
type caseJSON struct {
	tierflow.CaseView
	Customer customerJSON `json:"customer"`
}

type customerJSON struct {
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
	Email  string `json:"email,omitempty"`
	Locale string `json:"locale,omitempty"`
	VIP    bool   `json:"vip,omitempty"`
}

// presentCase prepares a case for principal p, as of now: a survey scheduled
// for a send time that has passed is shown sent, its send no longer a deadline
// (tierflow.CaseView.AsOf; the case records it at its next step, so the
// Postgres projection still says scheduled).
func presentCase(v tierflow.CaseView, p tierflow.Principal, now time.Time) caseJSON {
	v = v.AsOf(now)
	c := customerJSON(v.Customer)
	if p.Role == tierflow.RoleViewer {
		c.Email = ""
	}
	if v.Breaches == nil {
		v.Breaches = []tierflow.Breach{}
	}
	if v.Compensation == nil {
		v.Compensation = []tierflow.Compensation{}
	}
	return caseJSON{CaseView: v, Customer: c}
}

// openCase: POST /v1/cases (integration). 201 with the new case; 200 with the existing
// case when the same request was sent before; 409 when the case exists with another body.
func (s *server) openCase(w http.ResponseWriter, r *http.Request) {
	var req tierflow.OpenCaseRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := req.ValidateAt(s.Now()); err != nil {
		s.writeError(w, r, err)
		return
	}
	name := req.Policy
	if name == "" {
		name = s.DefaultPolicy
	}
	policy, ok := s.Policies.Policy(name)
	if !ok {
		s.writeError(w, r, &tierflow.Error{Code: tierflow.CodeInvalid, Message: "the open request is invalid",
			Fields: []tierflow.FieldError{{Field: "policy", Message: "is not a known policy"}}})
		return
	}
	p := principalFrom(r.Context())
	if err := mayOpenFor(p, req.Source); err != nil {
		s.writeError(w, r, err)
		return
	}
	cmd := OpenCommand{
		CaseID: tierflow.CaseID(req.Source, req.ExternalID), Request: req, Policy: policy,
		OpenedBy: p, Fingerprint: requestFingerprint(req),
	}
	if view, found := s.closedCaseRecord(r.Context(), cmd); found {
		if !sameRequest(view, req) {
			s.writeError(w, r, tierflow.Errorf(tierflow.CodeConflict,
				"case %s already exists with a different request", cmd.CaseID))
			return
		}
		writeJSON(w, http.StatusOK, presentCase(view, p, s.Now()))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*s.UpdateTimeout)
	defer cancel()
	view, created, err := s.Cases.Open(ctx, cmd)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/v1/cases/"+url.PathEscape(cmd.CaseID))
	}
	writeJSON(w, status, presentCase(view, p, s.Now()))
}

// closedCaseRecord finds a case whose workflow may be gone (closed and past Temporal's
// retention): starting a workflow for it again would open a second life of the case.
// Open cases are left to Temporal, which rejects a duplicate start itself. A failing
// Postgres read is logged and ignored: Temporal still guards cases in retention.
func (s *server) closedCaseRecord(ctx context.Context, cmd OpenCommand) (tierflow.CaseView, bool) {
	view, err := s.Records.GetCase(ctx, cmd.CaseID)
	if err != nil {
		if tierflow.ErrorCode(err) != tierflow.CodeNotFound {
			s.Logger.Warn("open case: cannot read the case record", slog.String("request_id", requestID(ctx)),
				slog.String("case_id", cmd.CaseID), slog.String("error", err.Error()))
		}
		return tierflow.CaseView{}, false
	}
	return view, view.Status == tierflow.StatusClosed
}

// sameRequest compares what the case record keeps of an open request (the exact
// fingerprint lives in the workflow's memo, which expires with its history).
func sameRequest(v tierflow.CaseView, req tierflow.OpenCaseRequest) bool {
	return v.Source == req.Source && v.ExternalID == req.ExternalID && v.Subject == req.Subject &&
		v.Priority == req.Priority && v.Category == req.Category && v.Trigger == req.Trigger &&
		v.Customer.ID == req.Customer.ID && v.OpenedAt.Equal(req.OpenedAt)
}

// requestFingerprint tells one open request from another (workflows.RequestFingerprint:
// the workflow computes the same from its input).
func requestFingerprint(req tierflow.OpenCaseRequest) string {
	return workflows.RequestFingerprint(req)
}

// getCase: GET /v1/cases/{id}: the live case from the workflow; the record once
// the workflow's history has expired, or while the workflow cannot answer (no
// worker, Temporal down), then with the header X-Tierflow-Source: record (it may
// be a transition behind).
func (s *server) getCase(w http.ResponseWriter, r *http.Request) {
	id, err := scopedCaseIDParam(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.UpdateTimeout)
	defer cancel()
	view, err := s.Cases.Get(ctx, id)
	switch tierflow.ErrorCode(err) {
	case tierflow.CodeNotFound:
		view, err = s.Records.GetCase(ctx, id)
	case tierflow.CodeUnavailable:
		rctx, rcancel := context.WithTimeout(r.Context(), s.UpdateTimeout)
		defer rcancel()
		if recorded, rerr := s.Records.GetCase(rctx, id); rerr == nil {
			view, err = recorded, nil
			w.Header().Set("X-Tierflow-Source", "record")
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, presentCase(view, principalFrom(r.Context()), s.Now()))
}

// maxListLimit caps a page of cases; defaultListLimit is used without a limit.
const (
	maxListLimit     = 200
	defaultListLimit = 50
)

// listCases: GET /v1/cases, from the Postgres projection.
func (s *server) listCases(w http.ResponseWriter, r *http.Request) {
	f, err := parseCaseFilter(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := principalFrom(r.Context())
	page := tierflow.CasePage{}
	if f, visible := scopeFilter(p, f); visible {
		if page, err = s.Records.ListCases(r.Context(), f); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	out := struct {
		Cases      []caseJSON `json:"cases"`
		NextCursor string     `json:"next_cursor,omitempty"`
	}{Cases: make([]caseJSON, 0, len(page.Cases)), NextCursor: page.NextCursor}
	for _, v := range page.Cases {
		out.Cases = append(out.Cases, presentCase(v, p, s.Now()))
	}
	writeJSON(w, http.StatusOK, out)
}

// listParams are the query parameters GET /v1/cases accepts.
var listParams = map[string]bool{"status": true, "tier": true, "priority": true, "department": true,
	"assignee": true, "breached": true, "source": true, "limit": true, "cursor": true}

func parseCaseFilter(q url.Values) (tierflow.CaseFilter, error) {
	var v tierflow.Validation
	for k, vals := range q {
		v.Check(listParams[k], k, "is not a known filter")
		v.Check(len(vals) == 1, k, "must be given once")
	}
	f := tierflow.CaseFilter{
		Status: tierflow.Status(q.Get("status")), Priority: tierflow.Priority(q.Get("priority")),
		Department: q.Get("department"), Assignee: q.Get("assignee"), Source: q.Get("source"),
		Cursor: q.Get("cursor"), Limit: defaultListLimit,
	}
	v.Check(f.Status == "" || f.Status.Valid(), "status", "must be one of open, in_progress, awaiting_customer, awaiting_approval, resolved, closed")
	v.Check(f.Priority == "" || f.Priority.Valid(), "priority", "must be one of urgent, high, normal, low")
	if s := q.Get("tier"); s != "" {
		t, err := strconv.Atoi(s)
		f.Tier = tierflow.Tier(t)
		v.Check(err == nil && f.Tier.Valid(), "tier", "must be 1, 2, 3 or 4")
	}
	if s := q.Get("breached"); s != "" {
		b, err := strconv.ParseBool(s)
		v.Check(err == nil, "breached", "must be true or false")
		f.Breached = &b
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		f.Limit = n
		v.Check(err == nil && n >= 1 && n <= maxListLimit, "limit", "must be an integer from 1 to %d", maxListLimit)
	}
	for _, k := range []string{"department", "assignee", "source", "cursor"} {
		v.Check(len(q.Get(k)) <= 512, k, "is too long")
	}
	return f, v.Err("the list filters are invalid")
}

// caseEvents: GET /v1/cases/{id}/events, the audit timeline oldest first.
//
// The bound: a transition the API answered (an open, a decision, a customer event,
// a survey answer) is on the timeline as soon as its answer returns, because every
// Update answers only once the record holds its transition. A transition nobody
// waits for (a deadline, a signal from the Temporal UI) appears once its record is
// written, in order after the ones before it: within milliseconds while the
// database is up; after an outage, once the record catches up (the workflow
// retries it every minute and never drops it).
//
// A case with nothing recorded (the store answers not found) may still exist: one
// whose open was not answered (the database or the workers were down) is
// recorded later. The workflow decides: an empty timeline while it runs, 404 when
// Temporal does not know the case either, 503 when Temporal cannot say.
func (s *server) caseEvents(w http.ResponseWriter, r *http.Request) {
	id, err := scopedCaseIDParam(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	events, err := s.Records.CaseEvents(r.Context(), id)
	if tierflow.ErrorCode(err) == tierflow.CodeNotFound {
		ctx, cancel := context.WithTimeout(r.Context(), s.UpdateTimeout)
		defer cancel()
		if _, werr := s.Cases.Get(ctx, id); tierflow.ErrorCode(werr) != tierflow.CodeNotFound {
			err = werr // nil: a live case not recorded yet
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if events == nil {
		events = []tierflow.CaseEvent{}
	}
	writeJSON(w, http.StatusOK, struct {
		Events []tierflow.CaseEvent `json:"events"`
	}{events})
}
