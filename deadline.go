package tierflow

import (
	"fmt"
	"strings"
	"time"
)

// CalendarNamed returns the policy's calendar called name (its Name filled in from
// the key), or the 24x7 calendar when the policy has none by that name.
func (p Policy) CalendarNamed(name string) Calendar {
	if c, ok := p.Calendars[name]; ok {
		if c.Name == "" {
			c.Name = name
		}
		return c
	}
	return AlwaysOpenCalendar()
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
