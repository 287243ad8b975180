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
	// ClockAnswer is the customer's ETA: the tier's resolution promise.
	ClockAnswer Clock = "answer"
	// The instants of a case waiting on the customer, and of its survey.
	ClockCustomerReminder Clock = "customer_reminder"
	ClockAutoResolve      Clock = "auto_resolve"
	ClockSurveySend       Clock = "survey_send"
	ClockSurveyReminder   Clock = "survey_reminder"
	ClockSurveyExpiry     Clock = "survey_expiry"
)

// Deadlines are the case's current absolute deadlines (nil when not running).
type Deadlines struct {
	AcknowledgeBy        *time.Time `json:"acknowledge_by"`
	ResolveBy            *time.Time `json:"resolve_by"`
	NextCustomerUpdateBy *time.Time `json:"next_customer_update_by"`
	CloseTargetAt        *time.Time `json:"close_target_at"`
	ApprovalBy           *time.Time `json:"approval_by,omitempty"`
	// AnswerBy is the customer's ETA: the tier's resolution promise.
	AnswerBy *time.Time `json:"answer_by,omitempty"`
	// While waiting on the customer: the next reminder and the auto-resolution.
	CustomerReminderAt *time.Time `json:"customer_reminder_at,omitempty"`
	AutoResolveAt      *time.Time `json:"auto_resolve_at,omitempty"`
	// The survey's send (while scheduled), reminder and expiry (once sent).
	SurveySendAt     *time.Time `json:"survey_send_at,omitempty"`
	SurveyReminderAt *time.Time `json:"survey_reminder_at,omitempty"`
	SurveyExpiresAt  *time.Time `json:"survey_expires_at,omitempty"`
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
	// Detail says how Duration was made, when it is more than the policy's
	// figure ("8h to acknowledge plus 24h to resolve", "reminder 2").
	Detail string `json:"detail,omitempty"`
	// Explanation is one readable sentence, e.g. "8h of business hours (Mon-Fri
	// 09:00-17:00 Europe/Paris) from 2026-11-20T09:15Z, paused 2h, policy 2026-11-01".
	Explanation string `json:"explanation"`
}

// Breach is one missed deadline. A tier-4 clock missed again and again keeps
// one entry: Repeats counts the misses after the first, LastAt is the latest.
type Breach struct {
	Clock   Clock      `json:"clock"`
	Tier    Tier       `json:"tier"`
	At      time.Time  `json:"at"`
	Repeats int        `json:"repeats,omitempty"`
	LastAt  *time.Time `json:"last_at,omitempty"`
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

// ResumeAfterPause is Resume for a case whose tier clocks stood still from
// pausedAt: a deadline set during the pause (its Start after pausedAt) stood
// still only from its Start. The case workflow and the simulator both resume
// their clocks with it.
func (p Policy) ResumeAfterPause(d Deadline, pausedAt, resumedAt time.Time) Deadline {
	if d.Start.After(pausedAt) {
		pausedAt = d.Start
	}
	return p.Resume(d, pausedAt, resumedAt)
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
	ClockAcknowledge:      "acknowledge deadline",
	ClockResolve:          "resolve deadline",
	ClockCustomerUpdate:   "next customer update",
	ClockApproval:         "approval deadline",
	ClockCloseTarget:      "close target",
	ClockAwaitCustomer:    "waiting-on-customer deadline",
	ClockSurvey:           "survey deadline",
	ClockAnswer:           "answer promise",
	ClockCustomerReminder: "customer reminder",
	ClockAutoResolve:      "auto-resolution without a customer reply",
	ClockSurveySend:       "survey send",
	ClockSurveyReminder:   "survey reminder",
	ClockSurveyExpiry:     "survey expiry",
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
	if d.Detail != "" {
		parts = append(parts, d.Detail)
	}
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

// AnswerDeadline is the resolution promise the policy makes to the customer for
// tier t from start (a hand-over): the tier's acknowledge time, unless the case is
// already acknowledged, plus its resolve time, in the priority's calendar. It is
// the "expect an answer by" of every customer email.
func (p Policy) AnswerDeadline(pr Priority, t Tier, acknowledged bool, start time.Time) Deadline {
	pp := p.Priorities[pr]
	d := pp.Resolve.For(t)
	if !acknowledged {
		d += pp.Acknowledge.For(t)
	}
	cal := p.CalendarFor(pr)
	dl := Deadline{Clock: ClockAnswer, Tier: t, At: cal.Add(start, d), Start: start, Duration: Duration{d},
		Calendar: cal.Name, PolicyVersion: p.Version}
	if !acknowledged {
		dl.Detail = fmt.Sprintf("%s to acknowledge plus %s to resolve", FormatDuration(pp.Acknowledge.For(t)), FormatDuration(pp.Resolve.For(t)))
	}
	dl.Explanation = p.explain(dl, cal)
	return dl
}

// MaxRepeatPeriod caps the period of a repeated tier-4 clock: however long a case
// goes unattended at the top, the executives hear of it at least daily and at
// most a few times more.
const MaxRepeatPeriod = 24 * time.Hour

// RepeatDeadline is tier t's clock started again at now after its repeat-th
// breach (repeat >= 1): the policy's duration doubled per repeat, but no longer
// than a day of the calendar (the working time until its first opening a day
// after now) and never shorter than the policy's duration, with its warning at
// the policy's ratio. Nobody is above tier 4 to take the case, so this back-off
// bounds what an unattended case sends and records.
func (p Policy) RepeatDeadline(clock Clock, pr Priority, t Tier, repeat int, now time.Time) Deadline {
	pp := p.Priorities[pr]
	base := pp.Acknowledge.For(t)
	if clock == ClockResolve {
		base = pp.Resolve.For(t)
	}
	cal := p.CalendarFor(pr)
	limit := max(base, cal.Elapsed(now, cal.NextOpen(now.Add(MaxRepeatPeriod))))
	d := base
	for i := 0; i < repeat && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	warn := cal.Add(now, time.Duration(float64(d)*p.WarningRatio))
	dl := Deadline{Clock: clock, Tier: t, At: cal.Add(now, d), WarnAt: &warn, Start: now, Duration: Duration{d},
		Calendar: cal.Name, PolicyVersion: p.Version,
		Detail: fmt.Sprintf("repeat %d after a breach: the period doubles each time, up to a day", repeat)}
	dl.Explanation = p.explain(dl, cal)
	return dl
}

// WaitingDeadline is an instant d after start in wall-clock time: the reminders
// (the n-th, from 1) and the auto-resolution of a case waiting on the customer,
// the survey's send, reminder and expiry. Customers count days, not working
// hours, so these run 24x7.
func (p Policy) WaitingDeadline(clock Clock, n int, start time.Time, d time.Duration) Deadline {
	cal := AlwaysOpenCalendar()
	dl := Deadline{Clock: clock, At: start.Add(d), Start: start, Duration: Duration{d}, Calendar: cal.Name,
		PolicyVersion: p.Version}
	if n > 0 {
		dl.Detail = fmt.Sprintf("reminder %d", n)
	}
	dl.Explanation = p.explain(dl, cal)
	return dl
}

// Explain rewrites d's explanation (after its clock or instant changed).
func (p Policy) Explain(d Deadline) string { return p.explain(d, p.CalendarNamed(d.Calendar)) }

// RemainingSpan says how much of the promise d is left at at, in d's calendar,
// for a customer ("32 hours", "3 days", "6 business hours"), rounded up; empty
// when nothing is left.
func (p Policy) RemainingSpan(d Deadline, at time.Time) string {
	cal := p.CalendarNamed(d.Calendar)
	left := cal.Elapsed(at, d.At)
	if left <= 0 {
		return ""
	}
	unit := "hour"
	if !cal.AlwaysOpen {
		unit = "business hour"
	}
	ceil := func(step time.Duration) int { return int((left + step - 1) / step) }
	switch {
	case cal.AlwaysOpen && left > 48*time.Hour:
		return plural(ceil(24*time.Hour), "day")
	case left > 2*time.Hour:
		return plural(ceil(time.Hour), unit)
	}
	return plural(ceil(time.Minute), "minute")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
