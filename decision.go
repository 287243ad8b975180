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
	ActionMigratePolicy       Action = "migrate_policy"
)

// Who says which actors may take an action, beyond holding a role that decides.
type Who string

// The rules of who may act.
const (
	// WhoCaseTier: an actor at the case's tier or above; an agent or specialist
	// must also serve the case's department, at any tier (a supervisor or executive
	// only at the case's own tier, when they name departments).
	WhoCaseTier Who = "the case's tier or above"
	// WhoAnyStaff: any actor whose role decides, whatever the case's tier.
	WhoAnyStaff Who = "any deciding staff"
	// WhoAuthority: an actor whose tier has the authority for the amount, whatever
	// the case's tier (whoever the approval request was sent to, or above).
	WhoAuthority Who = "an actor with the authority for the amount"
	// WhoSupervisorUp: a supervisor or above, at the case's tier or above.
	WhoSupervisorUp Who = "a supervisor or above"
)

// ActionSpec declares one decision action: what it does, the request fields it
// takes, the statuses it is allowed in, who may take it, and the statuses it leads
// to. Decision.Validate, the workflow's validation, the decide Update's
// description, the CLI's help and the API's OpenAPI enum all come from this table;
// the workflow adds the action's transition (workflows/decide.go) and, when it
// emails, its template.
type ActionSpec struct {
	Action Action
	// Doc is one line for people: the CLI's help, the Update's description.
	Doc string
	// Required fields must be present (JSON names); Optional ones may be.
	Required []string
	Optional []string
	// Statuses it is allowed in; Becomes, the statuses it may lead to.
	Statuses []Status
	Becomes  []Status
	Who      Who
	// check adds the rules beyond presence (formats, one field needing another).
	check func(d Decision, v *Validation)
}

// Allows reports whether the action may be taken in status s.
func (s ActionSpec) Allows(st Status) bool { return oneOf(st, s.Statuses) }

var (
	active       = []Status{StatusOpen, StatusInProgress, StatusAwaitingCustomer, StatusAwaitingApproval}
	working      = []Status{StatusOpen, StatusInProgress}
	notClosed    = []Status{StatusOpen, StatusInProgress, StatusAwaitingCustomer, StatusAwaitingApproval, StatusResolved}
	handedOver   = []Status{StatusOpen}
	pausedToo    = []Status{StatusOpen, StatusInProgress, StatusAwaitingCustomer}
	resumedAfter = []Status{StatusOpen, StatusInProgress}
)

// ActionSpecs is the table of decision actions (escalation.md's), in the order
// people read them.
var ActionSpecs = []ActionSpec{
	{Action: ActionAcknowledge, Doc: "take ownership: the acknowledge clock stops, the resolve clock starts",
		Statuses: []Status{StatusOpen}, Becomes: []Status{StatusInProgress}, Who: WhoCaseTier},
	{Action: ActionNote, Doc: "an internal note on the record", Required: []string{"text"},
		Statuses: notClosed, Who: WhoAnyStaff},
	{Action: ActionUpdateCustomer, Doc: "email the customer; restarts the update cadence", Required: []string{"message"},
		Statuses: active, Who: WhoCaseTier},
	{Action: ActionRequestInfo, Doc: "ask the customer; the tier clocks pause until they reply", Required: []string{"message"},
		Statuses: working, Becomes: []Status{StatusAwaitingCustomer}, Who: WhoCaseTier},
	{Action: ActionEscalate, Doc: "hand over: functional (tier 1 to a tier-2 department) or hierarchical (one tier up)",
		Required: []string{"mode", "reason", "summary"}, Optional: []string{"department"},
		Statuses: active, Becomes: handedOver, Who: WhoCaseTier, check: func(d Decision, v *Validation) {
			v.Check(d.Mode == EscalationFunctional || d.Mode == EscalationHierarchical, "mode",
				"must be functional or hierarchical")
			if d.Mode == EscalationFunctional && d.Department == "" {
				v.Add("department", "is required for a functional escalation")
			}
		}},
	{Action: ActionTransfer, Doc: "move to another department at the same tier", Required: []string{"department", "summary"},
		Optional: []string{"reason"}, Statuses: active, Becomes: handedOver, Who: WhoCaseTier},
	{Action: ActionReassign, Doc: "give the case to another owner at the same tier", Required: []string{"assignee"},
		Optional: []string{"reason"}, Statuses: active, Who: WhoCaseTier},
	{Action: ActionProposeCompensation, Doc: "offer an amount; above the actor's authority it waits for approval",
		Required: []string{"amount_cents", "currency", "description"}, Statuses: working,
		Becomes: []Status{StatusAwaitingApproval}, Who: WhoCaseTier, check: func(d Decision, v *Validation) {
			v.Check(d.AmountCents > 0, "amount_cents", "must be a positive amount in minor units, got %d", d.AmountCents)
			v.Check(currencyPattern.MatchString(d.Currency), "currency", "must be an ISO 4217 code like \"EUR\", got %q", d.Currency)
		}},
	{Action: ActionApprove, Doc: "grant the pending compensation", Required: []string{"approval_id"}, Optional: []string{"note"},
		Statuses: active, Becomes: resumedAfter, Who: WhoAuthority},
	{Action: ActionReject, Doc: "refuse the pending compensation", Required: []string{"approval_id"}, Optional: []string{"note"},
		Statuses: active, Becomes: resumedAfter, Who: WhoAuthority},
	{Action: ActionResolve, Doc: "send the resolution (with an apology and explanation at tier 3+); the survey follows",
		Required: []string{"resolution"}, Optional: []string{"explanation"}, Statuses: pausedToo,
		Becomes: []Status{StatusResolved}, Who: WhoCaseTier},
	{Action: ActionReopen, Doc: "take a resolved case up again", Required: []string{"reason"},
		Statuses: []Status{StatusResolved}, Becomes: []Status{StatusInProgress}, Who: WhoCaseTier},
	{Action: ActionClose, Doc: "close without a survey (duplicates, spam)", Required: []string{"reason"},
		Statuses: notClosed, Becomes: []Status{StatusClosed}, Who: WhoSupervisorUp},
	{Action: ActionMigratePolicy, Doc: "move the case to another loaded policy (name or name@version): deadlines recomputed, audited, the customer told of a new ETA",
		Required: []string{"policy", "reason"}, Statuses: active, Who: WhoSupervisorUp, check: checkMigratePolicy},
}

// Actions lists every decision action, in ActionSpecs' order.
var Actions = func() []Action {
	out := make([]Action, len(ActionSpecs))
	for i, s := range ActionSpecs {
		out[i] = s.Action
	}
	return out
}()

// SpecOf returns the declaration of action a.
func SpecOf(a Action) (ActionSpec, bool) {
	for _, s := range ActionSpecs {
		if s.Action == a {
			return s, true
		}
	}
	return ActionSpec{}, false
}

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

// decisionText reads a decision's free-text fields by their JSON names (mode and
// amount_cents have rules of their own in their action's check).
var decisionText = map[string]func(Decision) string{
	"text": func(d Decision) string { return d.Text }, "message": func(d Decision) string { return d.Message },
	"department": func(d Decision) string { return d.Department },
	"reason":     func(d Decision) string { return d.Reason }, "summary": func(d Decision) string { return d.Summary },
	"assignee": func(d Decision) string { return d.Assignee }, "currency": func(d Decision) string { return d.Currency },
	"description": func(d Decision) string { return d.Description }, "approval_id": func(d Decision) string { return d.ApprovalID },
	"note": func(d Decision) string { return d.Note }, "resolution": func(d Decision) string { return d.Resolution },
	"explanation": func(d Decision) string { return d.Explanation },
	"policy":      func(d Decision) string { return d.Policy },
}

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
	// Policy names the policy a migrate_policy decision moves the case to:
	// "name" or "name@version" of a loaded policy.
	Policy string `json:"policy,omitempty"`
	// PolicySnapshot is that policy's content, set by the API from its registry
	// (never from a request body): the workflow cannot read files, so the policy
	// travels in the Update's arguments and the workflow validates it.
	PolicySnapshot *Policy `json:"policy_snapshot,omitempty"`
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
	maxLen(&v, "policy", d.Policy, MaxIDLen)
	optionalToken(&v, "department", d.Department)
	spec, _ := SpecOf(d.Action)
	for _, field := range spec.Required {
		if get, ok := decisionText[field]; ok {
			nonBlank(&v, field, get(d))
		}
	}
	if spec.check != nil {
		spec.check(d, &v)
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
	// CompensationWithdrawn: the case ended while the amount waited for approval.
	CompensationWithdrawn CompensationStatus = "withdrawn"
)

// CompensationStatuses lists every compensation status.
var CompensationStatuses = []CompensationStatus{CompensationApproved, CompensationPending, CompensationRejected, CompensationWithdrawn}

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
