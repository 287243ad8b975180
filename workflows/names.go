package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/tierflow/tierflow"
)

// TaskQueue is the task queue of case workflows and their activities.
const TaskQueue = "tierflow-cases"

// WorkflowName is the registered name of the case workflow.
const WorkflowName = "CaseWorkflow"

// Message names: every decision is both an Update (validated, synchronous: the API,
// which signs it; the worker refuses unsigned Updates, internal/updateauth) and a
// Signal with the same payload (fire-and-forget: the Temporal UI and CLI).
const (
	UpdateDecide        = "decide"                // tierflow.Decision -> tierflow.Receipt
	SignalDecision      = "decision"              // tierflow.Decision
	SignalCustomerEvent = "customer-event"        // tierflow.CustomerEvent
	UpdateCustomerEvent = "report-customer-event" // same payload, validated (API) -> tierflow.Receipt
	UpdateSurvey        = "survey-response"       // tierflow.SurveyResponse -> tierflow.Receipt
	QueryCase           = "case"                  // -> tierflow.CaseView
	// UpdateOpen comes with the start (Update-with-Start) or reaches the running
	// workflow of a repeated open: OpenRequest -> OpenAnswer (open.go).
	UpdateOpen = "open"
)

// SignalDecisionDescription is the decision Signal's description in the Temporal
// UI: what an operator must type, and what the directory check does and does not
// prove.
const SignalDecisionDescription = "An operator's decision (tierflow.Decision JSON: action, decision_id, fields, and " +
	`"actor": {"id": "<your own staff ID>", "role": "<your role>", "tier": <your tier>}); the decide update's actions, ` +
	"fire-and-forget. It is applied only if the staff directory has that ID as an active member with that role and " +
	"tier, as the directory's member, and the audit log marks it via=signal; anything else is recorded as " +
	"decision_rejected (unknown staff id, inactive, role/tier mismatch, directory unavailable: send it again). The " +
	"directory check is not authentication: Temporal's mTLS and UI SSO are what prove who sent a signal."

// WorkflowID is the case workflow's ID for a case ID: deterministic, so opening the
// same CRM issue twice finds the same workflow. It holds no personal data.
func WorkflowID(caseID string) string { return "case-" + caseID }

// CaseInput starts (or continues) a case workflow.
type CaseInput struct {
	Request tierflow.OpenCaseRequest `json:"request"`
	// Policy is the snapshot pinned for the life of the case.
	Policy tierflow.Policy `json:"policy"`
	// OpenedBy is the integration principal that opened the case.
	OpenedBy tierflow.Principal `json:"opened_by"`
	// Resume carries the full state across continue-as-new; nil on the first run.
	Resume *CaseState `json:"resume,omitempty"`
	// OpenRequestID is the ID of the API request that started the case (its open
	// Update answers Created); empty for cases started otherwise.
	OpenRequestID string `json:"open_request_id,omitempty"`
	// Code is the code level the run was started at: the run-wide changes it
	// has (codelevels.go), taken without asking Temporal for a patch marker.
	// The API sets TIERFLOW_CASE_CODE_LEVEL (CurrentCode by default);
	// continue-as-new keeps the run's own. 0 (runs started before code levels,
	// or while workers from before them roll) asks for them as patches. A
	// worker refuses a run whose level it does not know (its workflow task
	// fails until a newer worker takes it): deploy workers first.
	Code int `json:"code,omitempty"`
}

// Search attributes (register them on the namespace before starting workers).
var (
	SACaseTier            = temporal.NewSearchAttributeKeyInt64("CaseTier")
	SACaseStatus          = temporal.NewSearchAttributeKeyKeyword("CaseStatus")
	SACasePriority        = temporal.NewSearchAttributeKeyKeyword("CasePriority")
	SACaseDepartment      = temporal.NewSearchAttributeKeyKeyword("CaseDepartment")
	SACaseSource          = temporal.NewSearchAttributeKeyKeyword("CaseSource")
	SACaseCategory        = temporal.NewSearchAttributeKeyKeyword("CaseCategory")
	SACaseAssignee        = temporal.NewSearchAttributeKeyKeyword("CaseAssignee")
	SASlaBreached         = temporal.NewSearchAttributeKeyBool("SlaBreached")
	SACloseTargetBreached = temporal.NewSearchAttributeKeyBool("CloseTargetBreached")
	SACloseTargetAt       = temporal.NewSearchAttributeKeyTime("CloseTargetAt")
	SANextDeadline        = temporal.NewSearchAttributeKeyTime("NextDeadline")
)

// SearchAttributeTypes lists every custom search attribute with its Temporal type
// name, in the form `temporal server start-dev --search-attribute Name=Type` and
// `temporal operator search-attribute create` take.
var SearchAttributeTypes = [][2]string{
	{"CaseTier", "Int"},
	{"CaseStatus", "Keyword"},
	{"CasePriority", "Keyword"},
	{"CaseDepartment", "Keyword"},
	{"CaseSource", "Keyword"},
	{"CaseCategory", "Keyword"},
	{"CaseAssignee", "Keyword"},
	{"SlaBreached", "Bool"},
	{"CloseTargetBreached", "Bool"},
	{"CloseTargetAt", "Datetime"},
	{"NextDeadline", "Datetime"},
}

// RejectionTypePrefix starts the ApplicationError type of a refused message: the
// rest is the tierflow.Code ("tierflow.conflict", "tierflow.forbidden", ...).
const RejectionTypePrefix = "tierflow."

// rejection turns a domain error into the non-retryable ApplicationError an Update
// validator or handler returns; AsCaseError undoes it on the client side.
func rejection(err error) error {
	if err == nil {
		return nil
	}
	var e *tierflow.Error
	if !errors.As(err, &e) {
		e = &tierflow.Error{Code: tierflow.CodeInvalid, Message: err.Error()}
	}
	return temporal.NewApplicationErrorWithOptions(e.Error(), RejectionTypePrefix+string(e.Code),
		temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{e.Message, e.Fields}})
}

// AsCaseError recovers the *tierflow.Error (code, message, field errors) from an
// error returned by one of this workflow's Updates; ok is false for any other error
// (no worker, timeout, workflow gone...).
func AsCaseError(err error) (*tierflow.Error, bool) {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !strings.HasPrefix(appErr.Type(), RejectionTypePrefix) {
		return nil, false
	}
	e := &tierflow.Error{Code: tierflow.Code(strings.TrimPrefix(appErr.Type(), RejectionTypePrefix)), Message: appErr.Message()}
	var msg string
	var fields []tierflow.FieldError
	if appErr.HasDetails() && appErr.Details(&msg, &fields) == nil {
		e.Message, e.Fields = msg, fields
	}
	return e, true
}

// StartOptions are the options to start the case workflow of caseID: its ID and
// task queue, the one-line static summary (CRM id, subject, priority) and static
// details (customer reference, CRM link) the Temporal UI shows, the initial search
// attributes and a small memo. No customer name or email goes into any of them.
// The caller chooses the ID conflict and reuse policies.
func StartOptions(caseID string, req tierflow.OpenCaseRequest, policy tierflow.Policy) client.StartWorkflowOptions {
	start := policy.StartTierFor(req)
	sa := []temporal.SearchAttributeUpdate{
		SACaseTier.ValueSet(int64(start)), SACaseStatus.ValueSet(string(tierflow.StatusOpen)),
		SACasePriority.ValueSet(string(req.Priority)), SACaseSource.ValueSet(req.Source),
		SASlaBreached.ValueSet(false), SACloseTargetBreached.ValueSet(false),
	}
	if req.Department != "" {
		sa = append(sa, SACaseDepartment.ValueSet(req.Department))
	}
	if req.Category != "" {
		sa = append(sa, SACaseCategory.ValueSet(req.Category))
	}
	if !req.OpenedAt.IsZero() {
		sa = append(sa, SACloseTargetAt.ValueSet(policy.CloseTargetDeadline(req.OpenedAt).At))
	}
	return client.StartWorkflowOptions{
		ID:                    WorkflowID(caseID),
		TaskQueue:             TaskQueue,
		StaticSummary:         StaticSummary(req),
		StaticDetails:         StaticDetails(caseID, req, policy),
		TypedSearchAttributes: temporal.NewSearchAttributes(sa...),
		Memo: map[string]any{"case_id": caseID, "summary": StaticSummary(req), "policy": policy.Name + "@" + policy.Version,
			"crm_url": req.CRMURL},
	}
}

// StaticSummary is the case's one line in Temporal's workflow list:
// "zendesk #48213 · high · Refund not received" (at most 200 bytes).
func StaticSummary(req tierflow.OpenCaseRequest) string {
	subject := strings.Join(strings.Fields(req.Subject), " ")
	return truncate(fmt.Sprintf("%s #%s · %s · %s", req.Source, req.ExternalID, req.Priority, subject), 200)
}

// StaticDetails is the markdown of the case's workflow page: references only.
func StaticDetails(caseID string, req tierflow.OpenCaseRequest, policy tierflow.Policy) string {
	var b strings.Builder
	b.WriteString(fmt.Sprintf("**Case %s** (%s #%s)\n\n", caseID, req.Source, req.ExternalID))
	b.WriteString(fmt.Sprintf("- Customer reference: %s\n", req.Customer.ID))
	if req.CRMURL != "" {
		b.WriteString(fmt.Sprintf("- CRM: [%s](%s)\n", req.ExternalID, req.CRMURL))
	}
	b.WriteString(fmt.Sprintf("- Priority %s · trigger %s", req.Priority, req.Trigger))
	if req.Category != "" {
		b.WriteString(fmt.Sprintf(" · category %s", req.Category))
	}
	if req.Channel != "" {
		b.WriteString(fmt.Sprintf(" · channel %s", req.Channel))
	}
	b.WriteString(fmt.Sprintf("\n- Start tier %d · policy %s@%s\n", policy.StartTierFor(req), policy.Name, policy.Version))
	if !req.OpenedAt.IsZero() {
		b.WriteString(fmt.Sprintf("- Opened in the CRM %s\n", req.OpenedAt.UTC().Format(time.RFC3339)))
	}
	return truncate(b.String(), 20000)
}

// decideDescription is DecideDescription, made once: every case registers the
// decide Update with it, and a copy per case held about 2 KB of each cached
// workflow (issue 10's burst: 9.5 MB of a worker caching 5,000 cases).
var decideDescription = DecideDescription()

// DecideDescription is the decide Update's description in the Temporal UI: every
// action of tierflow.ActionSpecs with its one line.
func DecideDescription() string {
	var b strings.Builder
	b.WriteString("Apply one human decision (tierflow.Decision JSON); returns the case's receipt (tierflow.Receipt). Only the Tierflow " +
		"API can send it (the worker refuses Updates it did not sign); operators send the decision Signal. Actions:")
	for i, s := range tierflow.ActionSpecs {
		sep := ";"
		if i == len(tierflow.ActionSpecs)-1 {
			sep = "."
		}
		b.WriteString(" " + string(s.Action) + ": " + s.Doc + sep)
	}
	return b.String()
}
