package simulate

import (
	"fmt"
	"strconv"

	"github.com/tierflow/tierflow"
)

// PlanChange is one setting a candidate policy file changes relative to the
// current policy of its name, clock by clock, like a "plan" step.
type PlanChange struct {
	Setting   string `json:"setting"`
	Current   string `json:"current"`
	Candidate string `json:"candidate"`
}

// Plan lists what candidate would change relative to current: each priority's
// calendar, its acknowledge and resolve clock at every tier and its update
// cadence, the warning ratio, approval timeout, close target, waiting and survey
// timings. An empty list means the candidate changes no clock.
func Plan(current, candidate tierflow.Policy) []PlanChange {
	var out []PlanChange
	diff := func(setting, a, b string) {
		if a != b {
			out = append(out, PlanChange{Setting: setting, Current: a, Candidate: b})
		}
	}
	for _, pr := range tierflow.Priorities {
		a, b := current.Priorities[pr], candidate.Priorities[pr]
		f := "priorities." + string(pr) + "."
		diff(f+"calendar", current.CalendarFor(pr).Describe(), candidate.CalendarFor(pr).Describe())
		for t := tierflow.TierFrontline; t <= tierflow.TierExecutive; t++ {
			diff(fmt.Sprintf("%sacknowledge.tier_%d", f, int(t)), tierflow.FormatDuration(a.Acknowledge.For(t)), tierflow.FormatDuration(b.Acknowledge.For(t)))
			diff(fmt.Sprintf("%sresolve.tier_%d", f, int(t)), tierflow.FormatDuration(a.Resolve.For(t)), tierflow.FormatDuration(b.Resolve.For(t)))
		}
		diff(f+"customer_update_every", a.CustomerUpdateEvery.String(), b.CustomerUpdateEvery.String())
	}
	diff("warning_ratio", ratio(current.WarningRatio), ratio(candidate.WarningRatio))
	diff("approval_timeout", current.ApprovalTimeout.String(), candidate.ApprovalTimeout.String())
	diff("close_target.after", current.CloseTarget.After.String(), candidate.CloseTarget.After.String())
	diff("close_target.warn_after", current.CloseTarget.WarnAfter.String(), candidate.CloseTarget.WarnAfter.String())
	diff("awaiting_customer.reminders", durations(current.AwaitingCustomer.Reminders), durations(candidate.AwaitingCustomer.Reminders))
	diff("awaiting_customer.auto_resolve_after", current.AwaitingCustomer.AutoResolveAfter.String(),
		candidate.AwaitingCustomer.AutoResolveAfter.String())
	diff("survey.delay", current.Survey.Delay.String(), candidate.Survey.Delay.String())
	diff("survey.reminder", current.Survey.Reminder.String(), candidate.Survey.Reminder.String())
	diff("survey.expiry", current.Survey.Expiry.String(), candidate.Survey.Expiry.String())
	diff("survey.reopen_at_or_below", strconv.Itoa(current.Survey.ReopenAtOrBelow), strconv.Itoa(candidate.Survey.ReopenAtOrBelow))
	return out
}

func ratio(r float64) string { return strconv.FormatFloat(r, 'g', -1, 64) }

func durations(ds []tierflow.Duration) string {
	s := "["
	for i, d := range ds {
		if i > 0 {
			s += ", "
		}
		s += d.String()
	}
	return s + "]"
}
