package tierflow

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fieldsOf returns the field names of an invalid *Error.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	var e *Error
	require.True(t, errors.As(err, &e), "want *Error, got %v", err)
	assert.Equal(t, CodeInvalid, e.Code)
	var names []string
	for _, f := range e.Fields {
		names = append(names, f.Field)
	}
	return names
}

func TestPolicyValidateAcceptsDefaults(t *testing.T) {
	require.NoError(t, testPolicy("Europe/Paris").Validate())
	p := testPolicy("UTC")
	p.StartTier = nil
	p.Calendars = map[string]Calendar{"business": p.Calendars["business"]} // "24x7" is built in
	require.NoError(t, p.Validate())
}

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(p *Policy)
		fields []string
	}{
		{"name", func(p *Policy) { p.Name = "Standard Policy" }, []string{"name"}},
		{"version", func(p *Policy) { p.Version = "" }, []string{"version"}},
		{"three tiers", func(p *Policy) { p.Tiers = p.Tiers[:3] }, []string{"tiers"}},
		{"tiers out of order", func(p *Policy) { p.Tiers[1], p.Tiers[2] = p.Tiers[2], p.Tiers[1] },
			[]string{"tiers[1].tier", "tiers[2].tier", "tiers[2].authority_cents"}},
		{"authority decreases", func(p *Policy) { p.Tiers[2].AuthorityCents = cents(100) }, []string{"tiers[2].authority_cents"}},
		{"limit above unlimited", func(p *Policy) { p.Tiers[2].AuthorityCents = nil; p.Tiers[3].AuthorityCents = cents(1) },
			[]string{"tiers[3].authority_cents"}},
		{"negative authority", func(p *Policy) { p.Tiers[0].AuthorityCents = cents(-1) }, []string{"tiers[0].authority_cents"}},
		{"queue not an address", func(p *Policy) { p.Tiers[0].Queue = "tier one" }, []string{"tiers[0].queue"}},
		{"tier without name and team", func(p *Policy) { p.Tiers[3].Name, p.Tiers[3].Team = "", "" },
			[]string{"tiers[3].name", "tiers[3].team"}},
		{"missing priority", func(p *Policy) { delete(p.Priorities, PriorityLow) }, []string{"priorities.low"}},
		{"unknown priority", func(p *Policy) { p.Priorities["critical"] = p.Priorities[PriorityUrgent] }, []string{"priorities.critical"}},
		{"zero acknowledge", func(p *Policy) {
			pp := p.Priorities[PriorityHigh]
			pp.Acknowledge.Default = Duration{}
			p.Priorities[PriorityHigh] = pp
		}, []string{"priorities.high.acknowledge.default"}},
		{"bad tier override", func(p *Policy) {
			pp := p.Priorities[PriorityNormal]
			pp.Resolve.Tiers = map[Tier]Duration{7: dur(time.Hour), 2: dur(-time.Hour)}
			p.Priorities[PriorityNormal] = pp
		}, []string{"priorities.normal.resolve.tiers.2", "priorities.normal.resolve.tiers.7"}},
		{"no update cadence", func(p *Policy) {
			pp := p.Priorities[PriorityUrgent]
			pp.CustomerUpdateEvery = Duration{}
			p.Priorities[PriorityUrgent] = pp
		}, []string{"priorities.urgent.customer_update_every"}},
		{"undefined calendar", func(p *Policy) {
			pp := p.Priorities[PriorityLow]
			pp.Calendar = "weekends"
			p.Priorities[PriorityLow] = pp
		}, []string{"priorities.low.calendar"}},
		{"broken calendar", func(p *Policy) {
			p.Calendars["business"] = Calendar{TimeZone: "Europe/Atlantis", Days: []string{"mon", "funday", "mon"},
				Open: "9:00", Close: "25:00", Holidays: []string{"2026-02-30", "2026-12-25", "2026-12-25"}}
		}, []string{"calendars.business.time_zone", "calendars.business.days[1]", "calendars.business.days[2]",
			"calendars.business.open", "calendars.business.close", "calendars.business.holidays[0]", "calendars.business.holidays[2]"}},
		{"close before open", func(p *Policy) {
			c := p.Calendars["business"]
			c.Open, c.Close = "17:00", "09:00"
			p.Calendars["business"] = c
		}, []string{"calendars.business.close"}},
		{"calendar without days or zone", func(p *Policy) {
			p.Calendars["business"] = Calendar{Open: "09:00", Close: "17:00"}
		}, []string{"calendars.business.time_zone", "calendars.business.days"}},
		{"always open with hours", func(p *Policy) { p.Calendars["24x7"] = Calendar{AlwaysOpen: true, Open: "09:00"} },
			[]string{"calendars.24x7.always_open"}},
		{"calendar name mismatch", func(p *Policy) {
			c := p.Calendars["business"]
			c.Name = "office"
			p.Calendars["business"] = c
		}, []string{"calendars.business.name"}},
		{"warning ratio", func(p *Policy) { p.WarningRatio = 1 }, []string{"warning_ratio"}},
		{"approval timeout", func(p *Policy) { p.ApprovalTimeout = Duration{} }, []string{"approval_timeout"}},
		{"warning after target", func(p *Policy) { p.CloseTarget.WarnAfter = dur(31 * Day) }, []string{"close_target.warn_after"}},
		{"reminders out of order", func(p *Policy) {
			p.AwaitingCustomer.Reminders = []Duration{dur(5 * Day), dur(Day), dur(20 * Day), {}}
		}, []string{"awaiting_customer.reminders[1]", "awaiting_customer.reminders[2]", "awaiting_customer.reminders[3]"}},
		{"no auto-resolve", func(p *Policy) { p.AwaitingCustomer.AutoResolveAfter = Duration{} },
			[]string{"awaiting_customer.auto_resolve_after"}},
		{"survey", func(p *Policy) {
			p.Survey = SurveyPolicy{Delay: dur(-time.Hour), Reminder: dur(20 * Day), Expiry: dur(14 * Day), ReopenAtOrBelow: 5}
		}, []string{"survey.delay", "survey.reminder", "survey.reopen_at_or_below"}},
		{"start tier rules", func(p *Policy) {
			p.StartTier = []StartTierRule{{Trigger: "angry", Tier: 3}, {Priority: "asap", Tier: 0}}
		}, []string{"start_tier[0].trigger", "start_tier[1].tier", "start_tier[1].priority"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPolicy("UTC")
			tt.break_(&p)
			err := p.Validate()
			require.Error(t, err)
			assert.ElementsMatch(t, tt.fields, fieldsOf(t, err), "error: %v", err)
			assert.Contains(t, err.Error(), "invalid policy: ")
		})
	}
}

func TestPolicyValidateMessages(t *testing.T) {
	p := testPolicy("UTC")
	pp := p.Priorities[PriorityHigh]
	pp.Acknowledge.Default = Duration{}
	p.Priorities[PriorityHigh] = pp
	p.WarningRatio = 1.5
	err := p.Validate()
	require.Error(t, err)
	assert.Equal(t, `invalid policy: priorities.high.acknowledge.default must be a positive duration (e.g. "90s", "4h", "3d"), got 0s; `+
		`warning_ratio must be between 0 and 1 exclusive (e.g. 0.75), got 1.5`, err.Error())
}
