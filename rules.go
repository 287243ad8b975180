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
// first matching StartTier rule, then tier 1.
func (p Policy) StartTierFor(r OpenCaseRequest) Tier {
	if r.StartTier != nil && r.StartTier.Valid() {
		return *r.StartTier
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

// CalendarFor returns the calendar priority pr's clocks run in.
func (p Policy) CalendarFor(pr Priority) Calendar {
	return Calendar{Name: "24x7", AlwaysOpen: true}
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
	at := cal.Add(start, d)
	warn := cal.Add(start, time.Duration(float64(d)*p.WarningRatio))
	return Deadline{Clock: clock, Tier: t, At: at, WarnAt: &warn, Start: start, Duration: Duration{d},
		Calendar: cal.Name, PolicyVersion: p.Version}
}

// CustomerUpdateDeadline is when the next progress email is due after last.
func (p Policy) CustomerUpdateDeadline(pr Priority, last time.Time) Deadline {
	d := p.Priorities[pr].CustomerUpdateEvery.Duration
	cal := p.CalendarFor(pr)
	return Deadline{Clock: ClockCustomerUpdate, At: cal.Add(last, d), Start: last, Duration: Duration{d},
		Calendar: cal.Name, PolicyVersion: p.Version}
}

// ApprovalDeadline is when a pending approval request climbs one tier.
func (p Policy) ApprovalDeadline(start time.Time) Deadline {
	d := p.ApprovalTimeout.Duration
	return Deadline{Clock: ClockApproval, At: start.Add(d), Start: start, Duration: Duration{d},
		Calendar: "24x7", PolicyVersion: p.Version}
}

// CloseTargetDeadline is the close target from the CRM's opened_at, with its warning.
func (p Policy) CloseTargetDeadline(openedAt time.Time) Deadline {
	warn := openedAt.Add(p.CloseTarget.WarnAfter.Duration)
	return Deadline{Clock: ClockCloseTarget, At: openedAt.Add(p.CloseTarget.After.Duration), WarnAt: &warn,
		Start: openedAt, Duration: p.CloseTarget.After, Calendar: "24x7", PolicyVersion: p.Version}
}

// Resume moves a deadline that stood still from pausedAt to resumedAt: the working
// time that remained at pausedAt now runs from resumedAt; Paused grows by the pause.
func (p Policy) Resume(d Deadline, pausedAt, resumedAt time.Time) Deadline {
	shift := resumedAt.Sub(pausedAt)
	d.At = d.At.Add(shift)
	if d.WarnAt != nil {
		w := d.WarnAt.Add(shift)
		d.WarnAt = &w
	}
	d.Paused.Duration += shift
	return d
}

// For returns the duration for tier t (its override, or the default).
func (td TierDurations) For(t Tier) time.Duration {
	if d, ok := td.Tiers[t]; ok {
		return d.Duration
	}
	return td.Default.Duration
}

// Add returns the instant when d of working time has run from start.
func (c Calendar) Add(start time.Time, d time.Duration) time.Time {
	return start.Add(d)
}

// Elapsed returns the working time between from and to.
func (c Calendar) Elapsed(from, to time.Time) time.Duration {
	return to.Sub(from)
}
