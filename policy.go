package tierflow

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Policy is the escalation policy: authority, clocks, calendars and rules. Every
// number in escalation.md is a default of a Policy, never a constant in code. A case
// pins a snapshot of its policy at start.
type Policy struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Calendars by name; a priority names the one it uses.
	Calendars map[string]Calendar `json:"calendars"`
	// Tiers holds exactly four entries, tiers 1 to 4 in order.
	Tiers []TierPolicy `json:"tiers"`
	// Priorities holds one entry per priority.
	Priorities map[Priority]PriorityPolicy `json:"priorities"`
	// WarningRatio is the share of a tier clock after which a warning goes out (0.75).
	WarningRatio     float64                `json:"warning_ratio"`
	ApprovalTimeout  Duration               `json:"approval_timeout"`
	CloseTarget      CloseTargetPolicy      `json:"close_target"`
	AwaitingCustomer AwaitingCustomerPolicy `json:"awaiting_customer"`
	Survey           SurveyPolicy           `json:"survey"`
	// StartTier rules are tried in order; the first match wins; no match means tier 1.
	// An explicit start_tier in the request wins over all rules.
	StartTier []StartTierRule `json:"start_tier"`
}

// TierPolicy is one tier's name, authority and queue.
type TierPolicy struct {
	Tier Tier   `json:"tier"`
	Name string `json:"name"`
	// AuthorityCents is the compensation limit in minor units; nil is unlimited.
	AuthorityCents *int64 `json:"authority_cents"`
	// Queue is the tier's shared address (fallback owner, warnings).
	Queue string `json:"queue"`
	// Team is how the customer is told who handles the case ("our billing specialists").
	Team string `json:"team"`
}

// PriorityPolicy is the clocks of one priority.
type PriorityPolicy struct {
	Calendar            string        `json:"calendar"`
	Acknowledge         TierDurations `json:"acknowledge"`
	Resolve             TierDurations `json:"resolve"`
	CustomerUpdateEvery Duration      `json:"customer_update_every"`
}

// TierDurations is a duration with optional per-tier overrides.
type TierDurations struct {
	Default Duration          `json:"default"`
	Tiers   map[Tier]Duration `json:"tiers,omitempty"`
}

// CloseTargetPolicy is the promise to close every case within After of opened_at.
type CloseTargetPolicy struct {
	After     Duration `json:"after"`      // 30d
	WarnAfter Duration `json:"warn_after"` // 25d
}

// AwaitingCustomerPolicy is what happens while we wait on the customer.
type AwaitingCustomerPolicy struct {
	Reminders        []Duration `json:"reminders"`          // 24h, 5d after the request
	AutoResolveAfter Duration   `json:"auto_resolve_after"` // 14d
}

// SurveyPolicy times the satisfaction survey.
type SurveyPolicy struct {
	Delay    Duration `json:"delay"`    // 24h after resolution
	Reminder Duration `json:"reminder"` // 72h after sending
	Expiry   Duration `json:"expiry"`   // 14d after sending
	// ReopenAtOrBelow: a score at or below it reopens the case (2).
	ReopenAtOrBelow int `json:"reopen_at_or_below"`
}

// The methods below are the policy's rules as the workflow uses them. They are
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

// For returns the duration for tier t (its override, or the default).
func (td TierDurations) For(t Tier) time.Duration {
	if d, ok := td.Tiers[t]; ok {
		return d.Duration
	}
	return td.Default.Duration
}

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

// Duration is a time.Duration written as "90s", "4h", "3d" (days are 24h) in policy
// files and JSON.
type Duration struct{ time.Duration }

// Day is the "d" unit of policy durations: always 24 hours of clock time, whatever
// the calendar says about working hours.
const Day = 24 * time.Hour

// ParseDuration parses a policy duration: a sequence of decimal numbers with units,
// as time.ParseDuration accepts ("90s", "1h30m", "500ms"), plus "d" for days of 24h
// ("3d", "1d12h"). A bare "0" is zero.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	if s == "" {
		return 0, fmt.Errorf("empty duration (write e.g. \"90s\", \"4h\" or \"3d\")")
	}
	if strings.ContainsAny(s, " \t\n") {
		return 0, fmt.Errorf("invalid duration %q: write it without spaces, e.g. \"4h\" or \"1d12h\"", orig)
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "0" {
		return 0, nil
	}
	var total uint64 // magnitude; 1<<63 is allowed only for a negative duration
	for s != "" {
		num, unit, rest, err := nextSegment(s)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q: %w", orig, err)
		}
		part, err := segmentValue(num, unit)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q: %w", orig, err)
		}
		total += uint64(part)
		if total > 1<<63 || !neg && total > math.MaxInt64 {
			return 0, fmt.Errorf("invalid duration %q: too long", orig)
		}
		s = rest
	}
	if neg {
		return time.Duration(-int64(total)), nil
	}
	return time.Duration(total), nil
}

// nextSegment splits "12.5h30m" into "12.5", "h" and "30m".
func nextSegment(s string) (num, unit, rest string, err error) {
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	if i == 0 {
		return "", "", "", fmt.Errorf("expected a number at %q", s)
	}
	j := i
	for j < len(s) && !(s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
		j++
	}
	if j == i {
		return "", "", "", fmt.Errorf("missing unit after %q (use s, m, h or d)", s[:i])
	}
	return s[:i], s[i:j], s[j:], nil
}

func segmentValue(num, unit string) (time.Duration, error) {
	switch unit {
	case "ns", "us", "µs", "ms", "s", "m", "h":
		d, err := time.ParseDuration(num + unit)
		if err != nil {
			return 0, fmt.Errorf("bad number or too long: %q", num+unit)
		}
		return d, nil
	case "d":
		h, err := time.ParseDuration(num + "h")
		if err != nil {
			return 0, fmt.Errorf("bad number or too long: %q", num+unit)
		}
		if h > math.MaxInt64/24 {
			return 0, fmt.Errorf("too long")
		}
		return h * 24, nil
	}
	return 0, fmt.Errorf("unknown unit %q (use s, m, h or d)", unit)
}

// FormatDuration writes d compactly in the policy syntax: "90s" becomes "1m30s",
// 36h becomes "1d12h", zero is "0s". ParseDuration(FormatDuration(d)) == d.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	u := uint64(d)
	if d < 0 {
		b.WriteByte('-')
		u = -u // two's complement: also right for math.MinInt64
	}
	units := []struct {
		name string
		size uint64
	}{
		{"d", uint64(Day)}, {"h", uint64(time.Hour)}, {"m", uint64(time.Minute)}, {"s", uint64(time.Second)},
		{"ms", uint64(time.Millisecond)}, {"us", uint64(time.Microsecond)}, {"ns", 1},
	}
	for _, un := range units {
		if n := u / un.size; n > 0 {
			b.WriteString(strconv.FormatUint(n, 10))
			b.WriteString(un.name)
			u -= n * un.size
		}
	}
	return b.String()
}

// String is the compact policy form ("4h", "1d12h").
func (d Duration) String() string { return FormatDuration(d.Duration) }

// MarshalJSON writes the compact string form.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(FormatDuration(d.Duration))
}

// UnmarshalJSON reads a duration string ("90s", "4h", "3d", "1d12h") or a number of
// seconds (90, 0.5). null leaves the value unchanged.
func (d *Duration) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if bytes.Equal(data, []byte("null")) {
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return fmt.Errorf("invalid duration: %w", err)
		}
		v, err := ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		d.Duration = v
		return nil
	}
	var secs float64
	if err := json.Unmarshal(data, &secs); err != nil {
		return fmt.Errorf("invalid duration %s: want a string like \"90s\", \"4h\", \"3d\" or a number of seconds", data)
	}
	ns := math.Round(secs * float64(time.Second))
	if math.IsNaN(ns) || ns >= math.MaxInt64 || ns < math.MinInt64 {
		return fmt.Errorf("invalid duration %s: out of range", data)
	}
	d.Duration = time.Duration(ns)
	return nil
}
