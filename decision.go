package tierflow

import "time"

// Action is what a decision does to a case (the table in escalation.md).
type Action string

// Decision actions.
const (
	ActionAcknowledge         Action = "acknowledge"
	ActionNote                Action = "note"
	ActionUpdateCustomer      Action = "update_customer"
	ActionRequestInfo         Action = "request_info"
	ActionEscalate            Action = "escalate"
	ActionTransfer            Action = "transfer"
	ActionReassign            Action = "reassign"
	ActionProposeCompensation Action = "propose_compensation"
	ActionApprove             Action = "approve"
	ActionReject              Action = "reject"
	ActionResolve             Action = "resolve"
	ActionReopen              Action = "reopen"
	ActionClose               Action = "close"
)

// Actions lists every decision action.
var Actions = []Action{ActionAcknowledge, ActionNote, ActionUpdateCustomer, ActionRequestInfo, ActionEscalate,
	ActionTransfer, ActionReassign, ActionProposeCompensation, ActionApprove, ActionReject, ActionResolve,
	ActionReopen, ActionClose}

// Valid reports whether a is a known action.
func (a Action) Valid() bool { return oneOf(a, Actions) }

// EscalationMode is functional (to a department's expertise) or hierarchical (one
// tier up, to more authority).
type EscalationMode string

// Escalation modes.
const (
	EscalationFunctional   EscalationMode = "functional"
	EscalationHierarchical EscalationMode = "hierarchical"
)

// Decision is one human decision on a case. The same payload arrives as an Update
// (through the API) or a Signal (from the Temporal UI); Actor is set by the API from
// the authenticated caller.
type Decision struct {
	Action     Action    `json:"action"`
	DecisionID string    `json:"decision_id,omitempty"`
	Actor      Principal `json:"actor"`

	Text        string         `json:"text,omitempty"`    // note
	Message     string         `json:"message,omitempty"` // update_customer, request_info
	Mode        EscalationMode `json:"mode,omitempty"`    // escalate
	Department  string         `json:"department,omitempty"`
	Reason      string         `json:"reason,omitempty"`
	Summary     string         `json:"summary,omitempty"`
	Assignee    string         `json:"assignee,omitempty"` // reassign
	AmountCents int64          `json:"amount_cents,omitempty"`
	Currency    string         `json:"currency,omitempty"`
	Description string         `json:"description,omitempty"`
	ApprovalID  string         `json:"approval_id,omitempty"`
	Note        string         `json:"note,omitempty"` // approve, reject
	Resolution  string         `json:"resolution,omitempty"`
	Explanation string         `json:"explanation,omitempty"`
}

// CustomerEventKind is something the customer did, reported by the CRM.
type CustomerEventKind string

// Customer event kinds.
const (
	CustomerReply               CustomerEventKind = "reply"
	CustomerRequestedSupervisor CustomerEventKind = "requested_supervisor"
	CustomerExternalComplaint   CustomerEventKind = "external_complaint"
	CustomerWithdrawn           CustomerEventKind = "withdrawn"
)

// CustomerEventKinds lists every customer event kind.
var CustomerEventKinds = []CustomerEventKind{CustomerReply, CustomerRequestedSupervisor, CustomerExternalComplaint, CustomerWithdrawn}

// CustomerEvent is a customer event as the CRM integration reports it.
type CustomerEvent struct {
	Kind    CustomerEventKind `json:"kind"`
	EventID string            `json:"event_id,omitempty"`
	Message string            `json:"message,omitempty"`
	At      time.Time         `json:"at,omitempty"`
	// Source is the principal that relayed the event (an integration).
	Source Principal `json:"source,omitempty"`
}

// SurveyResponse is the customer's answer from the signed survey link.
type SurveyResponse struct {
	Score    int    `json:"score"`
	Resolved bool   `json:"resolved"`
	Comment  string `json:"comment,omitempty"`
}
