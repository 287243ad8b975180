package tierflow

import (
	"fmt"
	"strings"
	"time"
)

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

// TierDeadline computes the acknowledge or resolve deadline of tier t for a case
// of priority pr whose clock starts at start, with its warning instant
// (WarningRatio of the working duration) and explanation.
func (p Policy) TierDeadline(clock Clock, pr Priority, t Tier, start time.Time) Deadline {
	pp := p.Priorities[pr]
	d := pp.Acknowledge.For(t)
	if clock == ClockResolve {
		d = pp.Resolve.For(t)
	}
	cal := p.CalendarFor(pr)
	warn := cal.Add(start, time.Duration(float64(d)*p.WarningRatio))
	dl := Deadline{Clock: clock, Tier: t, At: cal.Add(start, d), WarnAt: &warn, Start: start,
		Duration: Duration{d}, Calendar: cal.Name, PolicyVersion: p.Version}
	dl.Explanation = p.explain(dl, cal)
	return dl
}

// CustomerUpdateDeadline is when the next progress email is due after last: the
// cadence counts wall-clock days (customers count days, not working hours), and the
// email waits for the next opening of the priority's calendar.
func (p Policy) CustomerUpdateDeadline(pr Priority, last time.Time) Deadline {
	d := p.Priorities[pr].CustomerUpdateEvery.Duration
	cal := p.CalendarFor(pr)
	dl := Deadline{Clock: ClockCustomerUpdate, At: cal.NextOpen(last.Add(d)), Start: last, Duration: Duration{d},
		Calendar: cal.Name, PolicyVersion: p.Version}
	dl.Explanation = p.explain(dl, cal)
	return dl
}

// ApprovalDeadline is when a pending approval request climbs one tier (24x7).
func (p Policy) ApprovalDeadline(start time.Time) Deadline {
	d := p.ApprovalTimeout.Duration
	cal := AlwaysOpenCalendar()
	dl := Deadline{Clock: ClockApproval, At: start.Add(d), Start: start, Duration: Duration{d},
		Calendar: cal.Name, PolicyVersion: p.Version}
	dl.Explanation = p.explain(dl, cal)
	return dl
}

// CloseTargetDeadline is the close target from the CRM's opened_at, with its warning
// (24x7; it never pauses: it is the customer's promise).
func (p Policy) CloseTargetDeadline(openedAt time.Time) Deadline {
	warn := openedAt.Add(p.CloseTarget.WarnAfter.Duration)
	cal := AlwaysOpenCalendar()
	dl := Deadline{Clock: ClockCloseTarget, At: openedAt.Add(p.CloseTarget.After.Duration), WarnAt: &warn,
		Start: openedAt, Duration: p.CloseTarget.After, Calendar: cal.Name, PolicyVersion: p.Version}
	dl.Explanation = p.explain(dl, cal)
	return dl
}

// Resume moves a deadline that stood still from pausedAt to resumedAt: the working
// time that remained at pausedAt (in the deadline's calendar) now runs from
// resumedAt, and so does the warning's; Paused grows by the wall-clock pause. An
// instant already reached at pausedAt (a warning already sent, a deadline already
// due) is left where it was. resumedAt not after pausedAt changes nothing.
func (p Policy) Resume(d Deadline, pausedAt, resumedAt time.Time) Deadline {
	if !resumedAt.After(pausedAt) {
		return d
	}
	cal := p.CalendarNamed(d.Calendar)
	d.At = resumeInstant(cal, d.At, pausedAt, resumedAt)
	if d.WarnAt != nil {
		w := resumeInstant(cal, *d.WarnAt, pausedAt, resumedAt)
		d.WarnAt = &w
	}
	d.Paused.Duration += resumedAt.Sub(pausedAt)
	d.Explanation = p.explain(d, cal)
	return d
}

// resumeInstant moves at, which stood still from pausedAt to resumedAt, so that the
// working time that remained at pausedAt runs from resumedAt.
func resumeInstant(cal Calendar, at, pausedAt, resumedAt time.Time) time.Time {
	if !at.After(pausedAt) {
		return at
	}
	return cal.Add(resumedAt, cal.Elapsed(pausedAt, at))
}

// clockLabels name the clocks in explanations.
var clockLabels = map[Clock]string{
	ClockAcknowledge:    "acknowledge deadline",
	ClockResolve:        "resolve deadline",
	ClockCustomerUpdate: "next customer update",
	ClockApproval:       "approval deadline",
	ClockCloseTarget:    "close target",
	ClockAwaitCustomer:  "waiting-on-customer deadline",
	ClockSurvey:         "survey deadline",
}

// explain writes the deadline's one-sentence explanation, e.g. "Tier 2 (specialist)
// acknowledge deadline: 4h of business hours Mon-Fri 09:00-17:00 Europe/Paris from
// Fri 2026-11-20 15:00 CET, paused 2h, warning at ..., due Mon 2026-11-23 11:00
// CET (policy standard version 2026-11-01)."
func (p Policy) explain(d Deadline, cal Calendar) string {
	label := clockLabels[d.Clock]
	if label == "" {
		label = string(d.Clock) + " deadline"
	}
	head := strings.ToUpper(label[:1]) + label[1:]
	if d.Tier.Valid() {
		head = fmt.Sprintf("Tier %d (%s) %s", int(d.Tier), p.TierPolicy(d.Tier).Name, label)
	}
	var parts []string
	if d.Clock == ClockCustomerUpdate && !cal.AlwaysOpen {
		parts = append(parts, d.Duration.String()+" of wall-clock time from "+cal.formatInstant(d.Start),
			"moved into "+cal.Describe())
	} else {
		parts = append(parts, d.Duration.String()+" of "+cal.Describe()+" from "+cal.formatInstant(d.Start))
	}
	if d.Paused.Duration > 0 {
		parts = append(parts, "paused "+d.Paused.String()+" so far")
	}
	if d.WarnAt != nil {
		parts = append(parts, "warning at "+cal.formatInstant(*d.WarnAt))
	}
	parts = append(parts, fmt.Sprintf("due %s (policy %s version %s)", cal.formatInstant(d.At), p.Name, p.Version))
	return head + ": " + strings.Join(parts, ", ") + "."
}

// StartTierRule starts a case at Tier when all its set conditions match.
type StartTierRule struct {
	Trigger            Trigger  `json:"trigger,omitempty"`
	Priority           Priority `json:"priority,omitempty"`
	RequiresDepartment bool     `json:"requires_department,omitempty"`
	Tier               Tier     `json:"tier"`
}

// DefaultStartTierRules are escalation.md's start-tier rules, used by a policy that
// lists none: an external complaint starts at tier 4; urgent priority, an emergency
// or a customer who asked for a supervisor at tier 3; a complex issue with a
// department at tier 2. No match means tier 1.
func DefaultStartTierRules() []StartTierRule {
	return []StartTierRule{
		{Trigger: TriggerExternalComplaint, Tier: TierExecutive},
		{Priority: PriorityUrgent, Tier: TierSupervisor},
		{Trigger: TriggerEmergency, Tier: TierSupervisor},
		{Trigger: TriggerCustomerRequest, Tier: TierSupervisor},
		{Trigger: TriggerComplexity, RequiresDepartment: true, Tier: TierSpecialist},
	}
}

// Matches reports whether every condition the rule sets holds for r (a rule with no
// conditions matches every case).
func (rule StartTierRule) Matches(r OpenCaseRequest) bool {
	if rule.Trigger != "" && rule.Trigger != r.Trigger {
		return false
	}
	if rule.Priority != "" && rule.Priority != r.Priority {
		return false
	}
	if rule.RequiresDepartment && strings.TrimSpace(r.Department) == "" {
		return false
	}
	return true
}

// StartTierFor is the tier a new case starts at: an explicit StartTier wins, then the
// first matching StartTier rule (DefaultStartTierRules when the policy has none),
// then tier 1.
func (p Policy) StartTierFor(r OpenCaseRequest) Tier {
	if r.StartTier != nil && r.StartTier.Valid() {
		return *r.StartTier
	}
	rules := p.StartTier
	if len(rules) == 0 {
		rules = DefaultStartTierRules()
	}
	for _, rule := range rules {
		if rule.Matches(r) && rule.Tier.Valid() {
			return rule.Tier
		}
	}
	return TierFrontline
}
