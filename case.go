package tierflow

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
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

// Priority is the urgency a CRM gives a case; it selects clocks and calendar.
type Priority string

// Priorities, most urgent first.
const (
	PriorityUrgent Priority = "urgent"
	PriorityHigh   Priority = "high"
	PriorityNormal Priority = "normal"
	PriorityLow    Priority = "low"
)

// Priorities lists every priority, most urgent first.
var Priorities = []Priority{PriorityUrgent, PriorityHigh, PriorityNormal, PriorityLow}

// Valid reports whether p is a known priority.
func (p Priority) Valid() bool { return oneOf(p, Priorities) }

// Trigger is why the CRM escalated the issue.
type Trigger string

// Escalation triggers.
const (
	TriggerUnresolved        Trigger = "unresolved"
	TriggerComplexity        Trigger = "complexity"
	TriggerCustomerRequest   Trigger = "customer_request"
	TriggerSLABreach         Trigger = "sla_breach"
	TriggerEmergency         Trigger = "emergency"
	TriggerExternalComplaint Trigger = "external_complaint"
)

// Triggers lists every trigger.
var Triggers = []Trigger{TriggerUnresolved, TriggerComplexity, TriggerCustomerRequest, TriggerSLABreach, TriggerEmergency, TriggerExternalComplaint}

// Valid reports whether t is a known trigger.
func (t Trigger) Valid() bool { return oneOf(t, Triggers) }

// Status is where a case stands.
type Status string

// Case statuses, in their usual order.
const (
	StatusOpen             Status = "open"
	StatusInProgress       Status = "in_progress"
	StatusAwaitingCustomer Status = "awaiting_customer"
	StatusAwaitingApproval Status = "awaiting_approval"
	StatusResolved         Status = "resolved"
	StatusClosed           Status = "closed"
)

// Statuses lists every status.
var Statuses = []Status{StatusOpen, StatusInProgress, StatusAwaitingCustomer, StatusAwaitingApproval, StatusResolved, StatusClosed}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return oneOf(s, Statuses) }

// TierClocksPaused reports whether the tier clocks stand still in this status.
func (s Status) TierClocksPaused() bool {
	return s == StatusAwaitingCustomer || s == StatusAwaitingApproval
}

// StatusAfterPause is the status a case returns to when its tier clocks run
// again: the one it paused from (pausedFrom, "" when unknown), else open, or
// in_progress once acknowledged. The case workflow and the simulator both use it.
func StatusAfterPause(pausedFrom Status, acknowledged bool) Status {
	switch {
	case pausedFrom != "":
		return pausedFrom
	case acknowledged:
		return StatusInProgress
	}
	return StatusOpen
}

// StatusTransition is one allowed change of a case's status and what causes it.
type StatusTransition struct {
	From, To Status
	By       string
}

// StatusTransitions is the case's state machine: every status change the workflow
// may make (escalation.md's diagram). The workflow moves a case only along these
// (see CanBecome); doc.go draws them (StatusDiagram, checked by a test).
var StatusTransitions = []StatusTransition{
	{StatusOpen, StatusInProgress, "acknowledge"},
	{StatusOpen, StatusOpen, "escalate, transfer, a missed clock, a customer escalation"},
	{StatusOpen, StatusAwaitingCustomer, "request_info"},
	{StatusOpen, StatusAwaitingApproval, "propose_compensation above authority"},
	{StatusOpen, StatusResolved, "resolve"},
	{StatusOpen, StatusClosed, "close, withdrawn"},
	{StatusInProgress, StatusOpen, "escalate, transfer, a missed clock, a customer escalation"},
	{StatusInProgress, StatusAwaitingCustomer, "request_info"},
	{StatusInProgress, StatusAwaitingApproval, "propose_compensation above authority"},
	{StatusInProgress, StatusResolved, "resolve"},
	{StatusInProgress, StatusClosed, "close, withdrawn"},
	{StatusAwaitingCustomer, StatusInProgress, "customer reply (acknowledged case)"},
	{StatusAwaitingCustomer, StatusOpen, "customer reply (unacknowledged case), a hand-over"},
	{StatusAwaitingCustomer, StatusResolved, "resolve, auto-resolve"},
	{StatusAwaitingCustomer, StatusClosed, "close, withdrawn"},
	{StatusAwaitingApproval, StatusInProgress, "approve, reject (acknowledged case)"},
	{StatusAwaitingApproval, StatusOpen, "approve, reject (unacknowledged case), a hand-over"},
	{StatusAwaitingApproval, StatusClosed, "close, withdrawn"},
	{StatusResolved, StatusInProgress, "reopen, customer reply, low survey score at the same tier"},
	{StatusResolved, StatusOpen, "reopen at a higher tier (low survey score, customer escalation)"},
	{StatusResolved, StatusClosed, "survey answered or expired, close, withdrawn, auto-resolve"},
}

// CanBecome reports whether the state machine lets a case in status s move to to.
func (s Status) CanBecome(to Status) bool {
	for _, tr := range StatusTransitions {
		if tr.From == s && tr.To == to {
			return true
		}
	}
	return false
}

// StatusDiagram draws StatusTransitions, one "from -> to: by" line each.
func StatusDiagram() string {
	var b strings.Builder
	for _, tr := range StatusTransitions {
		fmt.Fprintf(&b, "%s -> %s: %s\n", tr.From, tr.To, tr.By)
	}
	return b.String()
}

// PolicyRef names the pinned policy of a case.
type PolicyRef struct {
	Name    string `json:"name"`
	Version string `json:"version"`
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

// AsOf is the case as it stands at now, for showing it from a record or a
// query taken earlier: a survey whose send time has passed is shown sent
// (SurveyState.AsOf), and its send, passed, is no longer among the deadlines
// (SurveySendAt and its explanation). Pure: v is not changed.
func (v CaseView) AsOf(now time.Time) CaseView {
	if v.Survey != nil {
		sv := v.Survey.AsOf(now)
		v.Survey = &sv
	}
	if send := v.Deadlines.SurveySendAt; send != nil && !now.Before(*send) {
		v.Deadlines.SurveySendAt = nil
		v.Deadlines.Explanations = slices.DeleteFunc(slices.Clone(v.Deadlines.Explanations),
			func(d Deadline) bool { return d.Clock == ClockSurveySend })
	}
	return v
}

// MaxOpenedAtSkew is how far in the future a CRM's opened_at may lie (clock skew)
// before ValidateAt rejects it.
const MaxOpenedAtSkew = 15 * time.Minute

var (
	crmIDPattern  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	localePattern = regexp.MustCompile(`^[A-Za-z]{2,8}([_-][A-Za-z0-9]{1,8})*$`)
)

// ValidSource reports whether s is a CRM source name (api.md): 1-64 characters of
// A-Z a-z 0-9 . _ -.
func ValidSource(s string) bool { return crmIDPattern.MatchString(s) }

// Validate checks the request's own fields (no clock: see ValidateAt).
func (r OpenCaseRequest) Validate() error {
	var v Validation
	r.validate(&v)
	return v.Err("invalid case")
}

// ValidateAt is Validate plus the check that opened_at is not in the future of now
// (beyond MaxOpenedAtSkew).
func (r OpenCaseRequest) ValidateAt(now time.Time) error {
	var v Validation
	r.validate(&v)
	if !r.OpenedAt.IsZero() && r.OpenedAt.After(now.Add(MaxOpenedAtSkew)) {
		v.Add("opened_at", "is in the future (%s)", r.OpenedAt.UTC().Format(time.RFC3339))
	}
	return v.Err("invalid case")
}

func (r OpenCaseRequest) validate(v *Validation) {
	v.Check(crmIDPattern.MatchString(r.Source), "source", "must be 1-64 characters of A-Z a-z 0-9 . _ -")
	v.Check(crmIDPattern.MatchString(r.ExternalID), "external_id", "must be 1-64 characters of A-Z a-z 0-9 . _ -")
	required(v, "customer.id", r.Customer.ID, MaxIDLen)
	switch email := r.Customer.Email; {
	case strings.TrimSpace(email) == "":
		v.Add("customer.email", "is required")
	case !isBareEmail(email):
		v.Add("customer.email", "must be an email address like name@example.com")
	}
	maxLen(v, "customer.name", r.Customer.Name, MaxSubjectLen)
	v.Check(r.Customer.Locale == "" || localePattern.MatchString(r.Customer.Locale), "customer.locale",
		"must be a language tag like \"en\" or \"fr-CA\"")
	required(v, "subject", r.Subject, MaxSubjectLen)
	maxLen(v, "description", r.Description, MaxDescriptionLen)
	maxLen(v, "frontline_summary", r.FrontlineSummary, MaxTextLen)
	v.Check(r.Priority.Valid(), "priority", "must be one of urgent, high, normal, low")
	v.Check(r.Trigger.Valid(), "trigger",
		"must be one of unresolved, complexity, customer_request, sla_breach, emergency, external_complaint")
	v.Check(!r.OpenedAt.IsZero(), "opened_at", "is required (RFC 3339, when the CRM opened the issue)")
	v.Check(r.StartTier == nil || r.StartTier.Valid(), "start_tier", "must be 1-4 or null")
	optionalToken(v, "category", r.Category)
	optionalToken(v, "department", r.Department)
	optionalToken(v, "channel", r.Channel)
	v.Check(r.Policy == "" || policyNamePattern.MatchString(r.Policy), "policy", "must be a policy name like \"standard\"")
	if r.CRMURL != "" {
		u, err := url.Parse(r.CRMURL)
		v.Check(err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && len(r.CRMURL) <= 2048,
			"crm_url", "must be an absolute http(s) URL")
	}
}

// isBareEmail reports whether s is exactly one address (no display name, no
// surrounding spaces) with a dotted domain, as mail can be delivered to.
func isBareEmail(s string) bool {
	if !isAddress(s) || len(s) > 254 {
		return false
	}
	domain := s[strings.LastIndexByte(s, '@')+1:]
	return strings.Contains(domain, ".") && !strings.HasSuffix(domain, ".")
}
