package main

import (
	"net/http"
	"regexp"

	"github.com/tierflow/tierflow"
)

// Request bodies of the API. Each omits what the server sets from the token (the
// actor of a decision, the relaying principal of a customer event), so a body naming
// one is rejected as an unknown field. Their checks are the domain's Validate methods.

// decisionRequest is the body of POST /v1/cases/{id}/decisions: a Decision without
// its actor, which comes from the token (a body naming an actor is rejected as an
// unknown field).
type decisionRequest struct {
	Action      tierflow.Action         `json:"action"`
	DecisionID  string                  `json:"decision_id,omitempty"`
	Text        string                  `json:"text,omitempty"`
	Message     string                  `json:"message,omitempty"`
	Mode        tierflow.EscalationMode `json:"mode,omitempty"`
	Department  string                  `json:"department,omitempty"`
	Reason      string                  `json:"reason,omitempty"`
	Summary     string                  `json:"summary,omitempty"`
	Assignee    string                  `json:"assignee,omitempty"`
	AmountCents int64                   `json:"amount_cents,omitempty"`
	Currency    string                  `json:"currency,omitempty"`
	Description string                  `json:"description,omitempty"`
	ApprovalID  string                  `json:"approval_id,omitempty"`
	Note        string                  `json:"note,omitempty"`
	Resolution  string                  `json:"resolution,omitempty"`
	Explanation string                  `json:"explanation,omitempty"`
}

func (d decisionRequest) decision(actor tierflow.Principal) tierflow.Decision {
	return tierflow.Decision{
		Action: d.Action, DecisionID: d.DecisionID, Actor: actor,
		Text: d.Text, Message: d.Message, Mode: d.Mode, Department: d.Department, Reason: d.Reason,
		Summary: d.Summary, Assignee: d.Assignee, AmountCents: d.AmountCents, Currency: d.Currency,
		Description: d.Description, ApprovalID: d.ApprovalID, Note: d.Note, Resolution: d.Resolution,
		Explanation: d.Explanation,
	}
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
