package tierflow

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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

func TestLowestTierWithAuthority(t *testing.T) {
	p := testPolicy("UTC")
	tests := []struct {
		cents int64
		want  Tier
	}{
		{4000, TierFrontline}, {5000, TierFrontline}, {5001, TierSpecialist}, {20000, TierSpecialist},
		{90000, TierSupervisor}, {100000, TierSupervisor}, {500000, TierExecutive}, {1 << 40, TierExecutive},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, p.LowestTierWithAuthority(tt.cents), "%d cents", tt.cents)
	}
	assert.True(t, p.CanApprove(TierExecutive, 1<<50))
	assert.False(t, p.CanApprove(TierSpecialist, 25001))
}

func TestTierDurationsFor(t *testing.T) {
	td := TierDurations{Default: dur(time.Hour), Tiers: map[Tier]Duration{3: dur(2 * time.Hour)}}
	assert.Equal(t, time.Hour, td.For(1))
	assert.Equal(t, 2*time.Hour, td.For(3))
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"90s", 90 * time.Second},
		{"15m", 15 * time.Minute},
		{"4h", 4 * time.Hour},
		{"3d", 72 * time.Hour},
		{"1d12h", 36 * time.Hour},
		{"1.5d", 36 * time.Hour},
		{"1h30m", 90 * time.Minute},
		{"500ms", 500 * time.Millisecond},
		{"0", 0},
		{"0s", 0},
		{"-2h", -2 * time.Hour},
		{"14d", 14 * Day},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

func TestParseDurationErrors(t *testing.T) {
	tests := []struct{ in, wantErr string }{
		{"", "empty duration"},
		{"4", "missing unit"},
		{"4x", "unknown unit \"x\""},
		{"h", "expected a number"},
		{"1..5h", "bad number"},
		{"4 h", "without spaces"},
		{"200000000d", "too long"},
	}
	for _, tt := range tests {
		_, err := ParseDuration(tt.in)
		require.Error(t, err, tt.in)
		assert.Contains(t, err.Error(), tt.wantErr, tt.in)
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{90 * time.Second, "1m30s"},
		{4 * time.Hour, "4h"},
		{36 * time.Hour, "1d12h"},
		{30 * Day, "30d"},
		{1500 * time.Millisecond, "1s500ms"},
		{time.Microsecond + time.Nanosecond, "1us1ns"},
		{-2 * time.Hour, "-2h"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, FormatDuration(tt.in))
		back, err := ParseDuration(tt.want)
		require.NoError(t, err)
		assert.Equal(t, tt.in, back, "round trip of %s", tt.want)
	}
	for _, d := range []time.Duration{math.MaxInt64, math.MinInt64, 1} {
		back, err := ParseDuration(FormatDuration(d))
		require.NoError(t, err, FormatDuration(d))
		assert.Equal(t, d, back)
	}
	assert.Equal(t, "1d12h", Duration{36 * time.Hour}.String())
}

func TestDurationJSON(t *testing.T) {
	var v struct {
		A Duration  `json:"a"`
		B Duration  `json:"b"`
		C *Duration `json:"c"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"a": "1d12h", "b": 90, "c": null}`), &v))
	assert.Equal(t, 36*time.Hour, v.A.Duration)
	assert.Equal(t, 90*time.Second, v.B.Duration)
	assert.Nil(t, v.C)

	out, err := json.Marshal(v)
	require.NoError(t, err)
	assert.JSONEq(t, `{"a": "1d12h", "b": "1m30s", "c": null}`, string(out))

	for _, bad := range []string{`{"a": "3 days"}`, `{"a": true}`, `{"a": 1e300}`, `{"a": [1]}`} {
		err := json.Unmarshal([]byte(bad), &v)
		assert.Error(t, err, bad)
	}
	err = json.Unmarshal([]byte(`{"a": "3y"}`), &v)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `invalid duration "3y": unknown unit "y"`)
}
