package tierflow

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"time"
)

// policyNamePattern is what a policy or calendar name may look like.
var policyNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Validate checks the whole policy and returns an invalid *Error with one field
// error per problem, fields named like JSON paths ("priorities.high.acknowledge.default",
// "calendars.business.open"), or nil.
func (p Policy) Validate() error {
	var v Validation
	v.Check(policyNamePattern.MatchString(p.Name), "name",
		"must be 1-64 lower-case letters, digits, '.', '_' or '-', got %q", p.Name)
	v.Check(p.Version != "" && len(p.Version) <= 64, "version", "is required (at most 64 characters)")
	p.validateTiers(&v)
	p.validateCalendars(&v)
	p.validatePriorities(&v)
	v.Check(p.WarningRatio > 0 && p.WarningRatio < 1, "warning_ratio",
		"must be between 0 and 1 exclusive (e.g. 0.75), got %v", p.WarningRatio)
	positive(&v, "approval_timeout", p.ApprovalTimeout)
	p.validateTimings(&v)
	for i, r := range p.StartTier {
		f := fmt.Sprintf("start_tier[%d].", i)
		v.Check(r.Tier.Valid(), f+"tier", "must be 1-4, got %d", int(r.Tier))
		v.Check(r.Trigger == "" || r.Trigger.Valid(), f+"trigger", "unknown trigger %q", r.Trigger)
		v.Check(r.Priority == "" || r.Priority.Valid(), f+"priority", "unknown priority %q", r.Priority)
	}
	return v.Err("invalid policy")
}

func positive(v *Validation, field string, d Duration) {
	v.Check(d.Duration > 0, field, "must be a positive duration (e.g. \"90s\", \"4h\", \"3d\"), got %s", d)
}

func (p Policy) validateTiers(v *Validation) {
	if len(p.Tiers) != 4 {
		v.Add("tiers", "must list exactly 4 tiers (1 to 4 in order), got %d", len(p.Tiers))
	}
	var prev *int64
	for i, t := range p.Tiers {
		f := fmt.Sprintf("tiers[%d].", i)
		v.Check(t.Tier == Tier(i+1), f+"tier", "must be %d (tiers are listed 1 to 4 in order), got %d", i+1, int(t.Tier))
		v.Check(t.Name != "", f+"name", "is required")
		v.Check(t.Team != "", f+"team", "is required (how the customer is told who handles the case)")
		if !isAddress(t.Queue) {
			v.Add(f+"queue", "must be an email address, got %q", t.Queue)
		}
		switch {
		case t.AuthorityCents != nil && *t.AuthorityCents < 0:
			v.Add(f+"authority_cents", "must not be negative, got %d", *t.AuthorityCents)
		case i > 0 && prev == nil && t.AuthorityCents != nil:
			v.Add(f+"authority_cents", "must be unlimited (null) like the tier below it")
		case prev != nil && t.AuthorityCents != nil && *t.AuthorityCents < *prev:
			v.Add(f+"authority_cents", "must be at least the tier below it (%d), got %d", *prev, *t.AuthorityCents)
		}
		prev = t.AuthorityCents
	}
}

// sortedKeys returns a map's keys in order, so that validation reports problems in
// a stable order.
func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	// The order of a map is random; the keys are sorted below.
	//workflowcheck:ignore
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (p Policy) validateCalendars(v *Validation) {
	for _, name := range sortedKeys(p.Calendars) {
		c := p.Calendars[name]
		f := "calendars." + name + "."
		if !policyNamePattern.MatchString(name) {
			v.Add("calendars."+name, "calendar names are 1-64 lower-case letters, digits, '.', '_' or '-'")
		}
		v.Check(c.Name == "" || c.Name == name, f+"name", "must match the calendar's key %q, got %q", name, c.Name)
		if c.AlwaysOpen {
			v.Check(len(c.Days) == 0 && c.Open == "" && c.Close == "" && len(c.Holidays) == 0, f+"always_open",
				"an always-open calendar takes no days, open, close or holidays")
			continue
		}
		c.compile(v, f)
	}
}

func (p Policy) validatePriorities(v *Validation) {
	for _, pr := range Priorities {
		if _, ok := p.Priorities[pr]; !ok {
			v.Add("priorities."+string(pr), "is missing (every priority needs its clocks)")
		}
	}
	for _, pr := range sortedKeys(p.Priorities) {
		pp := p.Priorities[pr]
		f := "priorities." + string(pr) + "."
		if !pr.Valid() {
			v.Add("priorities."+string(pr), "unknown priority (use urgent, high, normal, low)")
			continue
		}
		_, defined := p.Calendars[pp.Calendar]
		v.Check(defined || pp.Calendar == CalendarAlwaysOpenName, f+"calendar",
			"names no calendar of this policy (%q); define it under calendars or use %q", pp.Calendar, CalendarAlwaysOpenName)
		validateTierDurations(v, f+"acknowledge.", pp.Acknowledge)
		validateTierDurations(v, f+"resolve.", pp.Resolve)
		positive(v, f+"customer_update_every", pp.CustomerUpdateEvery)
	}
}

func validateTierDurations(v *Validation, prefix string, td TierDurations) {
	positive(v, prefix+"default", td.Default)
	for _, t := range sortedKeys(td.Tiers) {
		f := fmt.Sprintf("%stiers.%d", prefix, int(t))
		if !t.Valid() {
			v.Add(f, "unknown tier (use 1-4)")
			continue
		}
		positive(v, f, td.Tiers[t])
	}
}

func (p Policy) validateTimings(v *Validation) {
	ct := p.CloseTarget
	positive(v, "close_target.after", ct.After)
	positive(v, "close_target.warn_after", ct.WarnAfter)
	if ct.WarnAfter.Duration > 0 && ct.WarnAfter.Duration >= ct.After.Duration {
		v.Add("close_target.warn_after", "must be before close_target.after (%s), got %s", ct.After, ct.WarnAfter)
	}

	ac := p.AwaitingCustomer
	positive(v, "awaiting_customer.auto_resolve_after", ac.AutoResolveAfter)
	var last time.Duration
	for i, r := range ac.Reminders {
		f := fmt.Sprintf("awaiting_customer.reminders[%d]", i)
		switch {
		case r.Duration <= 0:
			positive(v, f, r)
		case r.Duration <= last:
			v.Add(f, "must come after the previous reminder (%s), got %s", FormatDuration(last), r)
		case ac.AutoResolveAfter.Duration > 0 && r.Duration >= ac.AutoResolveAfter.Duration:
			v.Add(f, "must come before auto_resolve_after (%s), got %s", ac.AutoResolveAfter, r)
		}
		last = r.Duration
	}

	s := p.Survey
	v.Check(s.Delay.Duration >= 0, "survey.delay", "must not be negative, got %s", s.Delay)
	positive(v, "survey.reminder", s.Reminder)
	positive(v, "survey.expiry", s.Expiry)
	if s.Reminder.Duration > 0 && s.Reminder.Duration >= s.Expiry.Duration {
		v.Add("survey.reminder", "must come before survey.expiry (%s), got %s", s.Expiry, s.Reminder)
	}
	v.Check(s.ReopenAtOrBelow >= 0 && s.ReopenAtOrBelow <= 4, "survey.reopen_at_or_below",
		"must be 0 (never reopen) to 4, got %d", s.ReopenAtOrBelow)
}
