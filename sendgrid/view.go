package sendgrid

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tierflow/tierflow"
)

// view is what templates see: the message data plus derived phrases. Phrases meant
// to start a sentence have a Cap variant, since policy team phrases are written in
// lower case ("a customer service supervisor").
type view struct {
	tierflow.MessageData
	Kind     tierflow.MessageKind
	Audience tierflow.Audience
	// Now is the render time, for "is this deadline still ahead?".
	Now time.Time
	// EmailSubject is the rendered subject line (the HTML title), set after it is rendered.
	EmailSubject string
}

func newView(e tierflow.Email, now time.Time) view {
	return view{MessageData: e.Data, Kind: e.Kind, Audience: e.Audience, Now: now}
}

// Greeting is "Hello Ada Lovelace," or "Hello,".
func (v view) Greeting() string {
	if n := strings.TrimSpace(v.CustomerName); n != "" {
		return "Hello " + n + ","
	}
	return "Hello,"
}

// Ref is how the customer knows the case: the CRM's reference, else the case id.
func (v view) Ref() string {
	if v.Reference != "" {
		return v.Reference
	}
	return v.CaseID
}

// CaseName names the case in a sentence: `ZD-4711 (“Charged twice”)`, or the
// reference alone when the case has no subject.
func (v view) CaseName() string {
	if s := strings.TrimSpace(v.Subject); s != "" {
		return v.Ref() + " (“" + s + "”)"
	}
	return v.Ref()
}

// Who says who handles the case, without the tier: the policy's team phrase used
// as written ("our specialist team"), joined by the department at tiers 1 and 2,
// where a department is the team's expertise ("our specialist team for billing").
// It never names a person.
func (v view) Who() string {
	team := strings.TrimSpace(v.Team)
	dept := strings.TrimSpace(v.Department)
	switch {
	case team == "" && dept != "":
		return "our " + dept + " team"
	case team == "" && v.Tier.Valid():
		return "our " + v.Tier.String() + " team"
	case team == "":
		return "our support team"
	case dept != "" && v.Tier <= tierflow.TierSpecialist && !strings.Contains(strings.ToLower(team), strings.ToLower(dept)):
		return team + " for " + dept
	}
	return team
}

// Handler is Who with the tier: "a customer service supervisor (support tier 3)".
func (v view) Handler() string {
	if v.Tier.Valid() {
		return fmt.Sprintf("%s (support tier %d)", v.Who(), v.Tier)
	}
	return v.Who()
}

// HandlerCap is Handler at the start of a sentence.
func (v view) HandlerCap() string { return capitalize(v.Handler()) }

// WhoCap is Who at the start of a sentence.
func (v view) WhoCap() string { return capitalize(v.Who()) }

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// TierNo is the tier as a number (Tier prints as its name).
func (v view) TierNo() int { return int(v.Tier) }

// StaffWhere is where the case is (or was, when the message is about a tier that
// just lost it), for staff: "tier 2 (specialist), billing".
func (v view) StaffWhere() string {
	s := fmt.Sprintf("tier %d", v.Tier)
	if v.Tier.Valid() {
		s += " (" + v.Tier.String() + ")"
	}
	if v.Department != "" {
		s += ", " + v.Department
	}
	return s
}

// CaseTitle names the case for staff: its subject, else its id.
func (v view) CaseTitle() string {
	if s := strings.TrimSpace(v.Subject); s != "" {
		return s
	}
	return v.CaseID
}

// TierTag starts a staff subject: "[Tier 2] ", or nothing without a tier.
func (v view) TierTag() string {
	if v.Tier.Valid() {
		return fmt.Sprintf("[Tier %d] ", v.Tier)
	}
	return ""
}

// StaffTier is StaffWhere without the word "tier", for a "Tier:" row.
func (v view) StaffTier() string { return strings.TrimPrefix(v.StaffWhere(), "tier ") }

// NextTier is the tier an automatic escalation moves the case to; 0 at the top.
func (v view) NextTier() int {
	if v.Tier.Valid() && v.Tier < tierflow.TierExecutive {
		return int(v.Tier) + 1
	}
	return 0
}

// NextTierName names NextTier ("supervisor").
func (v view) NextTierName() string {
	if n := v.NextTier(); n > 0 {
		return tierflow.Tier(n).String()
	}
	return ""
}

// Offered lists the compensation the customer is actually offered: approved ones
// (or ones without a status), never pending or rejected proposals.
func (v view) Offered() []tierflow.Compensation {
	var out []tierflow.Compensation
	for _, c := range v.Compensation {
		if c.Status == "" || c.Status == tierflow.CompensationApproved {
			out = append(out, c)
		}
	}
	return out
}

// ApologyRequired is true at tier 3 and above, or when the workflow asks for one.
func (v view) ApologyRequired() bool { return v.Apology || v.Tier >= tierflow.TierSupervisor }

// ETAAhead reports whether there is an ETA still in the future: a promise that has
// already passed is never repeated to the customer as if it were news.
func (v view) ETAAhead() bool { return v.ETA != nil && v.ETA.After(v.Now) }

// ETAPassed reports whether the ETA is set and already past.
func (v view) ETAPassed() bool { return v.ETA != nil && !v.ETA.After(v.Now) }

// DeadlinePassed reports whether the staff deadline is set and already past.
func (v view) DeadlinePassed() bool { return v.Deadline != nil && !v.Deadline.After(v.Now) }

// DueBy is the deadline staff work against: Deadline, else the case's current
// tier deadline (the ETA the customer was given).
func (v view) DueBy() *time.Time {
	if v.Deadline != nil {
		return v.Deadline
	}
	return v.ETA
}

// ApprovalExpires is when the approval request climbs a tier; nil at the top of
// the ladder, where it never expires.
func (v view) ApprovalExpires() *time.Time {
	if v.Approval == nil || v.Approval.ExpiresAt.IsZero() {
		return nil
	}
	t := v.Approval.ExpiresAt
	return &t
}

// ApprovalLinksExpire is when the approval links stop working: with the approval
// clock, or a week after the request at the top of the ladder
// (tierflow.ApprovalLinkExpiry); nil without an approval.
func (v view) ApprovalLinksExpire() *time.Time {
	if v.Approval == nil || (v.Approval.ExpiresAt.IsZero() && v.Approval.RequestedAt.IsZero()) {
		return nil
	}
	t := tierflow.ApprovalLinkExpiry(*v.Approval)
	return &t
}

// WithoutReason is v without Reason, for blocks where the reason would only repeat
// what the message already shows (an approval request's amount and requester).
func (v view) WithoutReason() view {
	v.Reason = ""
	return v
}

// ClockName names a clock for staff ("acknowledge", "30-day close target").
func (v view) ClockName() string {
	switch v.Clock {
	case tierflow.ClockAcknowledge:
		return "acknowledge"
	case tierflow.ClockResolve:
		return "resolve"
	case tierflow.ClockApproval:
		return "approval"
	case tierflow.ClockCloseTarget:
		return "30-day close target"
	case tierflow.ClockCustomerUpdate:
		return "customer update"
	case "":
		return "case"
	}
	return strings.ReplaceAll(string(v.Clock), "_", " ")
}

// ClockTask says what a staff member must do to meet the clock, as an imperative
// that completes "What to do: ...".
func (v view) ClockTask() string {
	switch v.Clock {
	case tierflow.ClockAcknowledge:
		return "open the case and acknowledge it to take ownership"
	case tierflow.ClockResolve:
		return "resolve the case, or escalate it with a hand-off summary if your tier cannot"
	case tierflow.ClockApproval:
		return "approve or reject the pending compensation on the case"
	case tierflow.ClockCloseTarget:
		return "resolve the case, or make sure its owner can, before the target"
	}
	return "open the case and move it forward"
}
