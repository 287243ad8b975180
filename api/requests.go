package main

import (
	"encoding/json"
	"net/http"
	"regexp"

	"github.com/tierflow/tierflow"
)

// Request bodies of the API. Each omits what the server sets from the token (the
// actor of a decision, the relaying principal of a customer event), so a body naming
// one is rejected as an unknown field. Their checks are the domain's Validate methods.

// decisionRequest is the body of POST /v1/cases/{id}/decisions: a Decision, every
// field of it by its JSON name, except its actor, which comes from the token. Actor
// shadows the Decision's so that decoding catches a body naming one, which decide
// rejects as an unknown field.
type decisionRequest struct {
	tierflow.Decision
	Actor json.RawMessage `json:"actor,omitempty"`
}

// decision returns the decision with actor as its actor; an error when the body named
// an actor.
func (d decisionRequest) decision(actor tierflow.Principal) (tierflow.Decision, error) {
	if d.Actor != nil {
		return tierflow.Decision{}, unknownField("actor")
	}
	if d.PolicySnapshot != nil { // the server attaches the named policy's content
		return tierflow.Decision{}, unknownField("policy_snapshot")
	}
	out := d.Decision
	out.Actor = actor
	return out, nil
}

// customerEventRequest is the body of POST /v1/cases/{id}/customer-events; the relaying
// principal comes from the token.
type customerEventRequest struct {
	Kind    tierflow.CustomerEventKind `json:"kind"`
	EventID string                     `json:"event_id,omitempty"`
	Message string                     `json:"message,omitempty"`
}

// caseIDPattern is the shape of every id tierflow.CaseID derives from a valid source
// and external_id (the source's "-" written "~"), so no other id can name a case.
var caseIDPattern = regexp.MustCompile(`^[A-Za-z0-9._~]{1,64}-[A-Za-z0-9._-]{1,64}$`)

// caseIDParam returns the {id} of the path: 404 for an id no case can have, before
// it reaches Temporal (which refuses over-long workflow ids as an internal error) or
// Postgres.
func caseIDParam(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if !caseIDPattern.MatchString(id) {
		return "", tierflow.Errorf(tierflow.CodeNotFound, "no such case: a case id is <source>-<external_id>")
	}
	return id, nil
}
