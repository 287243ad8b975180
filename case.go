package tierflow

import (
	"strings"
	"time"
)

// Customer is the person the case is for. Their email and name are personal data:
// they never go into workflow IDs, search attributes or summaries.
type Customer struct {
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
	Email  string `json:"email"`
	Locale string `json:"locale,omitempty"`
	VIP    bool   `json:"vip,omitempty"`
}

// OpenCaseRequest is what a CRM sends to open (escalate) a case.
type OpenCaseRequest struct {
	Source           string    `json:"source"`
	ExternalID       string    `json:"external_id"`
	Customer         Customer  `json:"customer"`
	Subject          string    `json:"subject"`
	Description      string    `json:"description,omitempty"`
	Category         string    `json:"category,omitempty"`
	Priority         Priority  `json:"priority"`
	Channel          string    `json:"channel,omitempty"`
	OpenedAt         time.Time `json:"opened_at"`
	Trigger          Trigger   `json:"trigger"`
	Department       string    `json:"department,omitempty"`
	StartTier        *Tier     `json:"start_tier"`
	FrontlineSummary string    `json:"frontline_summary,omitempty"`
	Policy           string    `json:"policy,omitempty"`
	// CRMURL links back to the issue in the CRM (shown to operators).
	CRMURL string `json:"crm_url,omitempty"`
}

// CaseID derives the case's identity from the CRM's: "<source>-<external_id>", with
// any '-' in the source written as '~' so that the first '-' always separates the two
// and distinct pairs never share an ID. The result is URL-path safe.
func CaseID(source, externalID string) string {
	return strings.ReplaceAll(source, "-", "~") + "-" + externalID
}

// SplitCaseID is the inverse of CaseID.
func SplitCaseID(id string) (source, externalID string, ok bool) {
	s, ext, found := strings.Cut(id, "-")
	if !found || s == "" || ext == "" {
		return "", "", false
	}
	return strings.ReplaceAll(s, "~", "-"), ext, true
}

// PolicyRef names the pinned policy of a case.
type PolicyRef struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Clock names a case deadline.
type Clock string

// The case's clocks.
const (
	ClockAcknowledge    Clock = "acknowledge"
	ClockResolve        Clock = "resolve"
	ClockCustomerUpdate Clock = "customer_update"
	ClockApproval       Clock = "approval"
	ClockCloseTarget    Clock = "close_target"
	ClockAwaitCustomer  Clock = "awaiting_customer"
	ClockSurvey         Clock = "survey"
)

// Deadlines are the case's current absolute deadlines (nil when not running).
type Deadlines struct {
	AcknowledgeBy        *time.Time `json:"acknowledge_by"`
	ResolveBy            *time.Time `json:"resolve_by"`
	NextCustomerUpdateBy *time.Time `json:"next_customer_update_by"`
	CloseTargetAt        *time.Time `json:"close_target_at"`
	ApprovalBy           *time.Time `json:"approval_by,omitempty"`
	// Explanations say how each running deadline was computed.
	Explanations []Deadline `json:"explanations,omitempty"`
}

// Deadline is one computed deadline with everything needed to explain it.
type Deadline struct {
	Clock         Clock      `json:"clock"`
	Tier          Tier       `json:"tier,omitempty"`
	At            time.Time  `json:"at"`
	WarnAt        *time.Time `json:"warn_at,omitempty"`
	Start         time.Time  `json:"start"`
	Duration      Duration   `json:"duration"`
	Calendar      string     `json:"calendar"`
	PolicyVersion string     `json:"policy_version"`
	// Paused is the total wall-clock time the clock stood still so far.
	Paused Duration `json:"paused,omitempty"`
	// Explanation is one readable sentence, e.g. "8h of business hours (Mon-Fri
	// 09:00-17:00 Europe/Paris) from 2026-11-20T09:15Z, paused 2h, policy 2026-11-01".
	Explanation string `json:"explanation"`
}

// Breach is one missed deadline.
type Breach struct {
	Clock Clock     `json:"clock"`
	Tier  Tier      `json:"tier"`
	At    time.Time `json:"at"`
}

// Compensation is an amount of money offered to the customer.
type Compensation struct {
	ID          string     `json:"id"`
	AmountCents int64      `json:"amount_cents"`
	Currency    string     `json:"currency"`
	Description string     `json:"description"`
	ProposedBy  string     `json:"proposed_by"`
	ApprovedBy  string     `json:"approved_by,omitempty"`
	Status      string     `json:"status"` // approved, pending, rejected
	At          time.Time  `json:"at"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
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

// SurveyState is the customer satisfaction survey of a resolved case.
type SurveyState struct {
	Status     string     `json:"status"` // scheduled, sent, answered, expired, cancelled
	SendAt     *time.Time `json:"send_at,omitempty"`
	SentAt     *time.Time `json:"sent_at,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	Score      int        `json:"score,omitempty"`
	Resolved   *bool      `json:"resolved,omitempty"`
	Comment    string     `json:"comment,omitempty"`
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
}

// WorkflowRef locates the case's workflow in Temporal.
type WorkflowRef struct {
	ID    string `json:"id"`
	RunID string `json:"run_id,omitempty"`
}

// CaseView is the case as the API returns it, the workflow's query answers it and
// the Postgres projection stores it.
type CaseView struct {
	ID                  string         `json:"id"`
	Source              string         `json:"source"`
	ExternalID          string         `json:"external_id"`
	Status              Status         `json:"status"`
	Tier                Tier           `json:"tier"`
	Department          string         `json:"department"`
	Assignee            *string        `json:"assignee"`
	Priority            Priority       `json:"priority"`
	Category            string         `json:"category"`
	Subject             string         `json:"subject"`
	Trigger             Trigger        `json:"trigger"`
	Channel             string         `json:"channel,omitempty"`
	Customer            Customer       `json:"customer"`
	Policy              PolicyRef      `json:"policy"`
	OpenedAt            time.Time      `json:"opened_at"`
	EscalatedAt         time.Time      `json:"escalated_at"`
	ResolvedAt          *time.Time     `json:"resolved_at"`
	ClosedAt            *time.Time     `json:"closed_at"`
	Deadlines           Deadlines      `json:"deadlines"`
	Breaches            []Breach       `json:"breaches"`
	CloseTargetBreached bool           `json:"close_target_breached"`
	PendingApproval     *Approval      `json:"pending_approval"`
	Compensation        []Compensation `json:"compensation"`
	Survey              *SurveyState   `json:"survey"`
	Workflow            WorkflowRef    `json:"workflow"`
	// StartTier is the tier the case started at; Escalations counts tier changes up.
	StartTier   Tier `json:"start_tier"`
	Escalations int  `json:"escalations"`
	Reopens     int  `json:"reopens"`
	// Resolution is the last resolution text, if any.
	Resolution string `json:"resolution,omitempty"`
	// LastDecision describes the last applied decision ("escalate by sup-1").
	LastDecision string `json:"last_decision,omitempty"`
	// Seq is the sequence number of the last recorded event; projections only move forward.
	Seq int64 `json:"seq"`
}
