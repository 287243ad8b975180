package tierflow

import "time"

// Duration is a time.Duration written as "90s", "4h", "3d" (days are 24h) in policy
// files and JSON. (Marshalling and parsing live in duration.go.)
type Duration struct{ time.Duration }

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

// Calendar says when a clock runs: always (24x7) or in business hours.
type Calendar struct {
	Name       string `json:"name"`
	AlwaysOpen bool   `json:"always_open"`
	TimeZone   string `json:"time_zone"`
	// Days are lower-case three-letter weekdays ("mon".."sun").
	Days []string `json:"days"`
	// Open and Close are "HH:MM" local times; Close after Open.
	Open  string `json:"open"`
	Close string `json:"close"`
	// Holidays are "YYYY-MM-DD" local dates on which the clock does not run.
	Holidays []string `json:"holidays"`
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

// StartTierRule starts a case at Tier when all its set conditions match.
type StartTierRule struct {
	Trigger            Trigger  `json:"trigger,omitempty"`
	Priority           Priority `json:"priority,omitempty"`
	RequiresDepartment bool     `json:"requires_department,omitempty"`
	Tier               Tier     `json:"tier"`
}
