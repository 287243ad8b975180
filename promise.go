package tierflow

import (
	"fmt"
	"time"
)

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
// breach (repeat >= 1): the policy's duration doubled per repeat, due no later
// than the calendar's first opening a day after now, with its warning at the
// policy's ratio. Nobody is above tier 4 to take the case, so this back-off
// bounds what an unattended case sends and records.
func (p Policy) RepeatDeadline(clock Clock, pr Priority, t Tier, repeat int, now time.Time) Deadline {
	pp := p.Priorities[pr]
	base := pp.Acknowledge.For(t)
	if clock == ClockResolve {
		base = pp.Resolve.For(t)
	}
	d := base
	for i := 0; i < repeat && d < MaxRepeatPeriod; i++ {
		d *= 2
	}
	cal := p.CalendarFor(pr)
	at := cal.Add(now, d)
	if latest := cal.NextOpen(now.Add(MaxRepeatPeriod)); at.After(latest) {
		at = latest
		d = cal.Elapsed(now, at)
	}
	warn := cal.Add(now, time.Duration(float64(d)*p.WarningRatio))
	dl := Deadline{Clock: clock, Tier: t, At: at, WarnAt: &warn, Start: now, Duration: Duration{d},
		Calendar: cal.Name, PolicyVersion: p.Version,
		Detail: fmt.Sprintf("repeat %d after a breach: the period doubles each time, at most a day", repeat)}
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
