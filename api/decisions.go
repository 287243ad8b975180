package main

import (
	"context"
	"net/http"

	"github.com/tierflow/tierflow"
)

// decide: POST /v1/cases/{id}/decisions. The actor is the caller. The route lets
// only deciding roles in; the workflow's validator decides the rest against the
// live case (403 for tier, department or authority; 409 for the case's state;
// 422), in the Update's one round trip: the API reads nothing first. (It once
// pre-checked tier and department with a Query: a second round trip, and a rule
// that differed from the workflow's, refusing an approval's recipient once the
// case had climbed past them.)
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
	if err == nil {
		decision, err = s.withPolicySnapshot(decision) // migrate_policy (migrate_cases.go)
	}
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
	view, err := s.Cases.Decide(ctx, id, decision)
	if err != nil {
		s.writeError(w, r, s.messageError(ctx, id, err))
		return
	}
	writeJSON(w, http.StatusOK, presentCase(view, actor, s.Now()))
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
