package tierflow

import (
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of request fields (in characters).
const (
	MaxSubjectLen     = 200
	MaxTextLen        = 5000  // decision texts, frontline summary, customer event messages
	MaxDescriptionLen = 20000 // the case description from the CRM
	MaxCommentLen     = 2000  // survey comment
	MaxIDLen          = 128   // customer id, decision id, event id, assignee
)

// MaxOpenedAtSkew is how far in the future a CRM's opened_at may lie (clock skew)
// before ValidateAt rejects it.
const MaxOpenedAtSkew = 15 * time.Minute

var (
	crmIDPattern    = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	tokenPattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
	localePattern   = regexp.MustCompile(`^[A-Za-z]{2,8}([_-][A-Za-z0-9]{1,8})*$`)
)

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

// isAddress reports whether s is exactly one RFC 5322 address without a display
// name.
func isAddress(s string) bool {
	// workflowcheck flags ParseAddress for a debug log that is compiled out; the
	// parse itself is pure.
	//workflowcheck:ignore
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
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

func required(v *Validation, field, s string, limit int) {
	if strings.TrimSpace(s) == "" {
		v.Add(field, "is required")
		return
	}
	maxLen(v, field, s, limit)
}

// nonBlank records a missing value (the length is checked separately).
func nonBlank(v *Validation, field, s string) {
	v.Check(strings.TrimSpace(s) != "", field, "is required")
}

func maxLen(v *Validation, field, s string, limit int) {
	if n := utf8.RuneCountInString(s); n > limit {
		v.Add(field, "must be at most %d characters, got %d", limit, n)
	}
}

func optionalToken(v *Validation, field, s string) {
	v.Check(s == "" || tokenPattern.MatchString(s), field,
		"must be a lower-case token (a-z 0-9 _ -, at most 64), got %q", s)
}

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

// Validate checks a customer event from the CRM integration.
func (e CustomerEvent) Validate() error {
	var v Validation
	v.Check(oneOf(e.Kind, CustomerEventKinds), "kind",
		"must be one of reply, requested_supervisor, external_complaint, withdrawn")
	v.Check(e.EventID == "" || clientIDPattern.MatchString(e.EventID), "event_id",
		"must be 1-128 characters of A-Z a-z 0-9 . _ : -")
	maxLen(&v, "message", e.Message, MaxTextLen)
	return v.Err("invalid customer event")
}

// Validate checks a survey answer.
func (s SurveyResponse) Validate() error {
	var v Validation
	v.Check(s.Score >= 1 && s.Score <= 5, "score", "must be 1 to 5, got %d", s.Score)
	maxLen(&v, "comment", s.Comment, MaxCommentLen)
	return v.Err("invalid survey response")
}
