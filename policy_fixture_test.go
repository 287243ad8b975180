package tierflow

import "time"

func cents(v int64) *int64 { return &v }

func dur(d time.Duration) Duration { return Duration{d} }

// testPolicy is escalation.md's defaults with business hours in zone.
func testPolicy(zone string) Policy {
	week := []string{"mon", "tue", "wed", "thu", "fri"}
	return Policy{
		Name:    "standard",
		Version: "2026-11-01",
		Calendars: map[string]Calendar{
			"24x7":     {AlwaysOpen: true},
			"business": {TimeZone: zone, Days: week, Open: "09:00", Close: "17:00", Holidays: []string{"2026-12-25"}},
		},
		Tiers: []TierPolicy{
			{Tier: 1, Name: "frontline", AuthorityCents: cents(5000), Queue: "tier1@support.example.com", Team: "our customer service team"},
			{Tier: 2, Name: "specialist", AuthorityCents: cents(25000), Queue: "tier2@support.example.com", Team: "our specialists"},
			{Tier: 3, Name: "supervisor", AuthorityCents: cents(100000), Queue: "tier3@support.example.com", Team: "a customer service supervisor"},
			{Tier: 4, Name: "executive", Queue: "tier4@support.example.com", Team: "our executive office"},
		},
		Priorities: map[Priority]PriorityPolicy{
			PriorityUrgent: {Calendar: "24x7", Acknowledge: TierDurations{Default: dur(time.Hour)},
				Resolve: TierDurations{Default: dur(4 * time.Hour)}, CustomerUpdateEvery: dur(Day)},
			PriorityHigh: {Calendar: "business", Acknowledge: TierDurations{Default: dur(4 * time.Hour)},
				Resolve:             TierDurations{Default: dur(8 * time.Hour), Tiers: map[Tier]Duration{4: dur(16 * time.Hour)}},
				CustomerUpdateEvery: dur(2 * Day)},
			PriorityNormal: {Calendar: "business", Acknowledge: TierDurations{Default: dur(8 * time.Hour)},
				Resolve: TierDurations{Default: dur(24 * time.Hour)}, CustomerUpdateEvery: dur(2 * Day)},
			PriorityLow: {Calendar: "business", Acknowledge: TierDurations{Default: dur(24 * time.Hour)},
				Resolve: TierDurations{Default: dur(72 * time.Hour)}, CustomerUpdateEvery: dur(3 * Day)},
		},
		WarningRatio:     0.75,
		ApprovalTimeout:  dur(4 * time.Hour),
		CloseTarget:      CloseTargetPolicy{After: dur(30 * Day), WarnAfter: dur(25 * Day)},
		AwaitingCustomer: AwaitingCustomerPolicy{Reminders: []Duration{dur(Day), dur(5 * Day)}, AutoResolveAfter: dur(14 * Day)},
		Survey:           SurveyPolicy{Delay: dur(Day), Reminder: dur(72 * time.Hour), Expiry: dur(14 * Day), ReopenAtOrBelow: 2},
		StartTier:        DefaultStartTierRules(),
	}
}
