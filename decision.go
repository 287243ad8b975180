package tierflow

import (
	"fmt"
	"regexp"
	"time"
)

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

var currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)

// Validate checks the decision's shape for its action: the fields the action needs
// and their limits. Whether the action is allowed for the case's state and the actor
// (tier, status, authority, an explanation at tier 3+) is the workflow's decision.
func (d Decision) Validate() error {
	var v Validation
	if !d.Action.Valid() {
		v.Add("action", "unknown action %q", d.Action)
		return v.Err("invalid decision")
	}
	v.Check(d.DecisionID == "" || clientIDPattern.MatchString(d.DecisionID), "decision_id",
		"must be 1-128 characters of A-Z a-z 0-9 . _ : -")
	for _, f := range []struct{ name, value string }{
		{"text", d.Text}, {"message", d.Message}, {"reason", d.Reason}, {"summary", d.Summary},
		{"description", d.Description}, {"note", d.Note}, {"resolution", d.Resolution}, {"explanation", d.Explanation},
	} {
		maxLen(&v, f.name, f.value, MaxTextLen)
	}
	maxLen(&v, "assignee", d.Assignee, MaxIDLen)
	maxLen(&v, "approval_id", d.ApprovalID, MaxIDLen)
	optionalToken(&v, "department", d.Department)
	switch d.Action {
	case ActionNote:
		nonBlank(&v, "text", d.Text)
	case ActionUpdateCustomer, ActionRequestInfo:
		nonBlank(&v, "message", d.Message)
	case ActionEscalate:
		v.Check(d.Mode == EscalationFunctional || d.Mode == EscalationHierarchical, "mode",
			"must be functional or hierarchical")
		if d.Mode == EscalationFunctional && d.Department == "" {
			v.Add("department", "is required for a functional escalation")
		}
		nonBlank(&v, "reason", d.Reason)
		nonBlank(&v, "summary", d.Summary)
	case ActionTransfer:
		v.Check(d.Department != "", "department", "is required")
		nonBlank(&v, "summary", d.Summary)
	case ActionReassign:
		nonBlank(&v, "assignee", d.Assignee)
	case ActionProposeCompensation:
		v.Check(d.AmountCents > 0, "amount_cents", "must be a positive amount in minor units, got %d", d.AmountCents)
		v.Check(currencyPattern.MatchString(d.Currency), "currency", "must be an ISO 4217 code like \"EUR\", got %q", d.Currency)
		nonBlank(&v, "description", d.Description)
	case ActionApprove, ActionReject:
		nonBlank(&v, "approval_id", d.ApprovalID)
	case ActionResolve:
		nonBlank(&v, "resolution", d.Resolution)
	case ActionReopen, ActionClose:
		nonBlank(&v, "reason", d.Reason)
	}
	return v.Err(fmt.Sprintf("invalid %s decision", d.Action))
}

// CompensationStatus is where a compensation proposal stands.
type CompensationStatus string

// Compensation statuses.
const (
	CompensationApproved CompensationStatus = "approved" // within the proposer's authority, or approved
	CompensationPending  CompensationStatus = "pending"  // waiting for a tier with the authority
	CompensationRejected CompensationStatus = "rejected"
)

// CompensationStatuses lists every compensation status.
var CompensationStatuses = []CompensationStatus{CompensationApproved, CompensationPending, CompensationRejected}

// Valid reports whether s is a known compensation status.
func (s CompensationStatus) Valid() bool { return oneOf(s, CompensationStatuses) }

// Compensation is an amount of money offered to the customer.
type Compensation struct {
	ID          string             `json:"id"`
	AmountCents int64              `json:"amount_cents"`
	Currency    string             `json:"currency"`
	Description string             `json:"description"`
	ProposedBy  string             `json:"proposed_by"`
	ApprovedBy  string             `json:"approved_by,omitempty"`
	Status      CompensationStatus `json:"status"`
	At          time.Time          `json:"at"`
	DecidedAt   *time.Time         `json:"decided_at,omitempty"`
}

// Approval is a compensation waiting for an actor with the authority.
type Approval struct {
	ID           string    `json:"id"`
	Compensation string    `json:"compensation_id"`
	AmountCents  int64     `json:"amount_cents"`
	Currency     string    `json:"currency"`
	Description  string    `json:"description"`
	RequestedBy  string    `json:"requested_by"`
	RequiredTier Tier      `json:"required_tier"`
	RequestedAt  time.Time `json:"requested_at"`
	ExpiresAt    time.Time `json:"expires_at"`
}
