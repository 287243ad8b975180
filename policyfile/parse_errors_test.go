package policyfile

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// edit returns default.yaml with old replaced by new (old must occur).
func edit(t *testing.T, old, new string) []byte {
	t.Helper()
	s := string(defaultYAML)
	require.Contains(t, s, old)
	return []byte(strings.Replace(s, old, new, 1))
}

func TestParseReportsFieldErrors(t *testing.T) {
	tests := []struct {
		name    string
		old     string
		new     string
		field   string
		message string
	}{
		{"unknown top-level field", "warning_ratio: 0.75", "warning_ratio: 0.75\ncolour: blue", "colour", "unknown field"},
		{"misspelt field", "acknowledge: {default: 4h}", "acknowlege: {default: 4h}",
			"priorities.high.acknowlege", `unknown field (did you mean "acknowledge"?)`},
		{"unknown calendar field", "    open: \"09:00\"", "    opens: \"09:00\"", "calendars.business.opens", `did you mean "open"?`},
		{"bad duration", "acknowledge: {default: 4h}", "acknowledge: {default: 4 hours}",
			"priorities.high.acknowledge.default", `invalid duration "4 hours": write it without spaces`},
		{"zero duration", "resolve: {default: 72h}", "resolve: {default: 0s}",
			"priorities.low.resolve.default", "must be a positive duration"},
		{"tier override key", "resolve: {default: 8h}", "resolve: {default: 8h, tiers: {four: 16h}}",
			"priorities.high.resolve.tiers.four", "key must be a number"},
		{"tier override out of range", "resolve: {default: 8h}", "resolve: {default: 8h, tiers: {5: 16h}}",
			"priorities.high.resolve.tiers.5", "unknown tier"},
		{"opening time", `open: "09:00"`, `open: "9am"`, "calendars.business.open", `must be a local time "HH:MM"`},
		{"time zone", "time_zone: UTC", "time_zone: Mars/Base", "calendars.business.time_zone", `unknown time zone "Mars/Base"`},
		{"weekday", "days: [mon, tue, wed, thu, fri]", "days: [mon, tue, wed, thu, friday]",
			"calendars.business.days[4]", `unknown day "friday"`},
		{"holiday", `- "2026-12-26"`, `- "26/12/2026"`, "calendars.business.holidays[1]", `must be a date "YYYY-MM-DD"`},
		{"authority not a number", "authority_cents: 5000 ", "authority_cents: fifty ",
			"tiers[0].authority_cents", "must be a whole number"},
		{"authority decreases", "authority_cents: 100000", "authority_cents: 100",
			"tiers[2].authority_cents", "must be at least the tier below it (25000)"},
		{"queue", "queue: tier2@support.example.com", "queue: tier two", "tiers[1].queue", "must be an email address"},
		{"tier number as text", "- tier: 1\n", "- tier: one\n", "tiers[0].tier", "must be a whole number"},
		{"missing priority", "  low:\n    calendar: business\n", "  lowest:\n    calendar: business\n",
			"priorities.lowest", "unknown priority"},
		{"undefined calendar", "    calendar: 24x7\n", "    calendar: always\n", "priorities.urgent.calendar", "names no calendar"},
		{"warning ratio", "warning_ratio: 0.75", "warning_ratio: 1.5", "warning_ratio", "between 0 and 1"},
		{"warning ratio as text", "warning_ratio: 0.75", "warning_ratio: most", "warning_ratio", "must be a number"},
		{"close target warning after target", "warn_after: 25d", "warn_after: 31d", "close_target.warn_after", "must be before"},
		{"reminders", "reminders: [24h, 5d]", "reminders: [5d, 24h]", "awaiting_customer.reminders[1]", "must come after"},
		{"reminders not a list", "reminders: [24h, 5d]", "reminders: 24h", "awaiting_customer.reminders", "must be a list"},
		{"survey score", "reopen_at_or_below: 2", "reopen_at_or_below: 5", "survey.reopen_at_or_below", "must be 0 (never reopen) to 4"},
		{"start tier rule", "{priority: urgent, tier: 3}", "{priority: urgent, tier: 7}", "start_tier[1].tier", "must be 1-4"},
		{"start tier trigger", "{trigger: emergency, tier: 3}", "{trigger: fire, tier: 3}", "start_tier[2].trigger", `unknown trigger "fire"`},
		{"requires_department as text", "requires_department: true", "requires_department: maybe",
			"start_tier[4].requires_department", "must be true or false"},
		{"name", "name: standard", "name: Standard Policy", "name", "lower-case"},
		{"days as text", "days: [mon, tue, wed, thu, fri]", "days: weekdays", "calendars.business.days", "must be a list"},
		{"calendar as a list", "  24x7:\n    always_open: true", "  24x7:\n    - always_open", "calendars.24x7", "must be a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(edit(t, tt.old, tt.new))
			require.Error(t, err)
			var te *tierflow.Error
			require.True(t, errors.As(err, &te), "want *tierflow.Error, got %T %v", err, err)
			assert.Equal(t, tierflow.CodeInvalid, te.Code)
			var found bool
			for _, f := range te.Fields {
				if f.Field == tt.field {
					found = true
					assert.Contains(t, f.Message, tt.message)
				}
			}
			assert.True(t, found, "no error for field %s in: %v", tt.field, err)
		})
	}
}

func TestParseRejectsMalformedInput(t *testing.T) {
	tests := []struct {
		name, yaml string
		code       tierflow.Code
		message    string
	}{
		{"empty", "  \n", tierflow.CodeInvalid, "empty policy"},
		{"not YAML", "name: [standard\n", tierflow.CodeMalformed, "not valid YAML"},
		{"duplicate key", "name: a\nname: b\n", tierflow.CodeMalformed, "already set"},
		{"a list", "- name: standard\n", tierflow.CodeInvalid, "a policy is a mapping"},
		{"a scalar", "standard\n", tierflow.CodeInvalid, "a policy is a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			require.Error(t, err)
			assert.Equal(t, tt.code, tierflow.ErrorCode(err))
			assert.Contains(t, err.Error(), tt.message)
		})
	}
}

// Every unknown field is reported, not just the first.
func TestParseReportsEveryUnknownField(t *testing.T) {
	data := edit(t, "approval_timeout: 4h", "approval_timeout: 4h\napproval_timout: 5h\nsurvey_delay: 1h")
	_, err := Parse(data)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "approval_timout unknown field")
	assert.Contains(t, err.Error(), "survey_delay unknown field")
}

// Operators write dates and times without quotes; YAML must not turn them into
// something else.
func TestParseAcceptsUnquotedDatesAndNumbersOfSeconds(t *testing.T) {
	data := edit(t, `- "2026-12-25"`, `- 2026-12-25`)
	data = []byte(strings.Replace(string(data), `open: "09:00"`, `open: 09:00`, 1))
	data = []byte(strings.Replace(string(data), "approval_timeout: 4h", "approval_timeout: 14400", 1))
	p, err := Parse(data)
	require.NoError(t, err)
	assert.Equal(t, "2026-12-25", p.Calendars["business"].Holidays[0])
	assert.Equal(t, "09:00", p.Calendars["business"].Open)
	assert.Equal(t, Default().ApprovalTimeout, p.ApprovalTimeout)
}

func TestParseAcceptsJSON(t *testing.T) {
	p := Default()
	data := mustJSON(t, p)
	back, err := Parse(data)
	require.NoError(t, err)
	assert.Equal(t, p, back)
}

func TestParseTierOverrides(t *testing.T) {
	p, err := Parse(edit(t, "resolve: {default: 8h}", "resolve: {default: 8h, tiers: {4: 16h, 3: 12h}}"))
	require.NoError(t, err)
	resolve := p.Priorities[tierflow.PriorityHigh].Resolve
	assert.Equal(t, 8*time.Hour, resolve.For(1))
	assert.Equal(t, 12*time.Hour, resolve.For(3))
	assert.Equal(t, 16*time.Hour, resolve.For(4))
}
