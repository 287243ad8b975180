package tierflow

import "time"

// The methods in this file are the policy's rules as the workflow uses them. They are
// pure: same policy and inputs, same answer (the workflow calls them during replay).

// TierPolicy returns the policy of tier t.
func (p Policy) TierPolicy(t Tier) TierPolicy {
	for _, tp := range p.Tiers {
		if tp.Tier == t {
			return tp
		}
	}
	return TierPolicy{Tier: t, Name: t.String()}
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

// Authority returns tier t's compensation limit in minor units; unlimited is true
// when the tier has no limit.
func (p Policy) Authority(t Tier) (limitCents int64, unlimited bool) {
	tp := p.TierPolicy(t)
	if tp.AuthorityCents == nil {
		return 0, true
	}
	return *tp.AuthorityCents, false
}

// CanApprove reports whether tier t may grant amountCents.
func (p Policy) CanApprove(t Tier, amountCents int64) bool {
	limit, unlimited := p.Authority(t)
	return unlimited || amountCents <= limit
}

// LowestTierWithAuthority is the lowest tier allowed to grant amountCents.
func (p Policy) LowestTierWithAuthority(amountCents int64) Tier {
	for t := TierFrontline; t <= TierExecutive; t++ {
		if p.CanApprove(t, amountCents) {
			return t
		}
	}
	return TierExecutive
}

// CalendarFor returns the calendar priority pr's clocks run in: the policy calendar
// the priority names, or 24x7 when it names none or one the policy lacks.
func (p Policy) CalendarFor(pr Priority) Calendar {
	return p.CalendarNamed(p.Priorities[pr].Calendar)
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

// For returns the duration for tier t (its override, or the default).
func (td TierDurations) For(t Tier) time.Duration {
	if d, ok := td.Tiers[t]; ok {
		return d.Duration
	}
	return td.Default.Duration
}

// Add returns the instant when d of working time has run from start. A start outside
// working hours counts from the next opening; a deadline that ends exactly at a
// close stays at the close. d <= 0 returns start. The result is in start's location.
func (c Calendar) Add(start time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return start
	}
	b, ok := c.hours()
	if !ok {
		return start.Add(d)
	}
	at, found := b.add(start, d)
	if !found {
		return start.Add(d)
	}
	return at.In(start.Location())
}

// Elapsed returns the working time between from and to (zero when to is not after
// from).
func (c Calendar) Elapsed(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	b, ok := c.hours()
	if !ok {
		return to.Sub(from)
	}
	return b.elapsed(from, to)
}
