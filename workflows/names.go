package workflows

import (
	"go.temporal.io/sdk/temporal"

	"github.com/tierflow/tierflow"
)

// TaskQueue is the task queue of case workflows and their activities.
const TaskQueue = "tierflow-cases"

// WorkflowName is the registered name of the case workflow.
const WorkflowName = "CaseWorkflow"

// Message names: every decision is both an Update (validated, synchronous: the API)
// and a Signal with the same payload (fire-and-forget: the Temporal UI and CLI).
const (
	UpdateDecide        = "decide"                // tierflow.Decision -> tierflow.CaseView
	SignalDecision      = "decision"              // tierflow.Decision
	SignalCustomerEvent = "customer-event"        // tierflow.CustomerEvent
	UpdateCustomerEvent = "report-customer-event" // same payload, validated (API)
	UpdateSurvey        = "survey-response"       // tierflow.SurveyResponse -> tierflow.CaseView
	QueryCase           = "case"                  // -> tierflow.CaseView
)

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
