package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/tierflow/tierflow"
)

// decide: POST /v1/cases/{id}/decisions. The actor is the caller. The API checks what
// the caller's role and tier allow on this case (403); the workflow's validator checks
// the rest against the live state (409, 422, 403).
func (s *server) decide(w http.ResponseWriter, r *http.Request) {
	id, err := caseIDParam(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req decisionRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	actor := principalFrom(r.Context())
	decision, err := req.decision(actor)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := decision.Validate(); err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.UpdateTimeout)
	defer cancel()
	// The object-level pre-check reads the case with a Query, for at most
	// decisionPrecheckTimeout: a Query that does not answer by then (a worker busy
	// with the case, or a query task the server let expire) does not cost the
	// decision its whole time budget. The Update is then sent without it: the
	// workflow's validation of the decision checks tier, department and authority
	// itself.
	qctx, qcancel := context.WithTimeout(ctx, decisionPrecheckTimeout)
	current, err := s.Cases.Get(qctx, id)
	slowQuery := err != nil && qctx.Err() != nil && ctx.Err() == nil
	qcancel()
	switch {
	case slowQuery:
		s.Logger.Warn("decision pre-check skipped: the case's query did not answer in time",
			slog.String("case_id", id), slog.Duration("waited", decisionPrecheckTimeout))
	case err != nil:
		s.writeError(w, r, s.messageError(ctx, id, err))
		return
	default:
		if err := mayDecide(actor, req.Action, current); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	view, err := s.Cases.Decide(ctx, id, decision)
	if err != nil {
		s.writeError(w, r, s.messageError(ctx, id, err))
		return
	}
	writeJSON(w, http.StatusOK, presentCase(view, actor))
}

// decisionPrecheckTimeout bounds the Query of a decision's pre-check.
const decisionPrecheckTimeout = 1500 * time.Millisecond

// mayDecide is the object-level rule: an actor below the case's tier may only add a
// note; an agent or specialist acts only on cases of a department they serve (one
// without departments serves none); only a supervisor or above closes a case
// without survey.
func mayDecide(actor tierflow.Principal, action tierflow.Action, c tierflow.CaseView) error {
	if action == tierflow.ActionNote {
		return nil
	}
	if actor.Tier < c.Tier {
		return tierflow.Errorf(tierflow.CodeForbidden,
			"the case is at tier %d; a tier %d actor may only add a note", c.Tier, actor.Tier)
	}
	if actor.Role.RequiresDepartments() && !actor.InDepartment(c.Department) {
		return tierflow.Errorf(tierflow.CodeForbidden, "you do not serve the %s department", c.Department)
	}
	if action == tierflow.ActionClose && actor.Tier < tierflow.TierSupervisor {
		return tierflow.Errorf(tierflow.CodeForbidden, "only a supervisor or above may close a case without survey")
	}
	return nil
}

// messageError explains why a message to a case's workflow failed: a workflow that is
// gone but recorded in Postgres is a closed case (409), not a missing one (404).
func (s *server) messageError(ctx context.Context, id string, err error) error {
	if tierflow.ErrorCode(err) != tierflow.CodeNotFound {
		return err
	}
	if _, rerr := s.Records.GetCase(ctx, id); rerr == nil {
		return tierflow.Errorf(tierflow.CodeConflict, "case %s is closed", id)
	}
	return tierflow.Errorf(tierflow.CodeNotFound, "no case %s", id)
}

// customerEvent: POST /v1/cases/{id}/customer-events (integration); 202 once the
// workflow accepted the event.
func (s *server) customerEvent(w http.ResponseWriter, r *http.Request) {
	id, err := scopedCaseIDParam(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req customerEventRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	ev := tierflow.CustomerEvent{Kind: req.Kind, EventID: req.EventID, Message: req.Message,
		At: s.Now().UTC(), Source: principalFrom(r.Context())}
	if err := ev.Validate(); err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.UpdateTimeout)
	defer cancel()
	if err := s.Cases.CustomerEvent(ctx, id, ev); err != nil {
		s.writeError(w, r, s.messageError(ctx, id, err))
		return
	}
	writeJSON(w, http.StatusAccepted, struct {
		Status string `json:"status"`
		CaseID string `json:"case_id"`
	}{"accepted", id})
}
