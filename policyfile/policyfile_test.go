package policyfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

func TestEmbeddedPoliciesParse(t *testing.T) {
	for name, data := range map[string][]byte{"default.yaml": defaultYAML, "fast.yaml": fastYAML} {
		t.Run(name, func(t *testing.T) {
			p, err := Parse(data)
			require.NoError(t, err)
			require.NoError(t, p.Validate())
			for _, pr := range tierflow.Priorities {
				assert.Contains(t, p.Priorities, pr)
			}
			assert.Len(t, p.Tiers, 4)
		})
	}
}

func TestDefaultPolicyHoldsTheDocumentedDefaults(t *testing.T) {
	p := Default()
	assert.Equal(t, "standard", p.Name)
	assert.Equal(t, "2026-11-01", p.Version)
	limits := []int64{5000, 25000, 100000}
	for i, want := range limits {
		got, unlimited := p.Authority(tierflow.Tier(i + 1))
		assert.False(t, unlimited)
		assert.Equal(t, want, got)
	}
	_, unlimited := p.Authority(tierflow.TierExecutive)
	assert.True(t, unlimited)
	assert.Equal(t, "tier1@support.example.com", p.TierPolicy(1).Queue)

	want := map[tierflow.Priority][3]time.Duration{ // acknowledge, resolve, update cadence
		tierflow.PriorityUrgent: {time.Hour, 4 * time.Hour, tierflow.Day},
		tierflow.PriorityHigh:   {4 * time.Hour, 8 * time.Hour, 2 * tierflow.Day},
		tierflow.PriorityNormal: {8 * time.Hour, 24 * time.Hour, 2 * tierflow.Day},
		tierflow.PriorityLow:    {24 * time.Hour, 72 * time.Hour, 3 * tierflow.Day},
	}
	for pr, w := range want {
		pp := p.Priorities[pr]
		assert.Equal(t, w[0], pp.Acknowledge.For(1), pr)
		assert.Equal(t, w[1], pp.Resolve.For(1), pr)
		assert.Equal(t, w[2], pp.CustomerUpdateEvery.Duration, pr)
	}
	assert.True(t, p.CalendarFor(tierflow.PriorityUrgent).AlwaysOpen)
	business := p.CalendarFor(tierflow.PriorityHigh)
	assert.Equal(t, "business", business.Name)
	assert.Equal(t, "UTC", business.TimeZone)
	assert.Contains(t, business.Holidays, "2026-12-25")

	assert.Equal(t, 0.75, p.WarningRatio)
	assert.Equal(t, 4*time.Hour, p.ApprovalTimeout.Duration)
	assert.Equal(t, 30*tierflow.Day, p.CloseTarget.After.Duration)
	assert.Equal(t, 25*tierflow.Day, p.CloseTarget.WarnAfter.Duration)
	assert.Equal(t, []tierflow.Duration{{Duration: tierflow.Day}, {Duration: 5 * tierflow.Day}}, p.AwaitingCustomer.Reminders)
	assert.Equal(t, 14*tierflow.Day, p.AwaitingCustomer.AutoResolveAfter.Duration)
	assert.Equal(t, tierflow.SurveyPolicy{Delay: tierflow.Duration{Duration: tierflow.Day},
		Reminder: tierflow.Duration{Duration: 72 * time.Hour}, Expiry: tierflow.Duration{Duration: 14 * tierflow.Day},
		ReopenAtOrBelow: 2}, p.Survey)
	assert.Equal(t, tierflow.DefaultStartTierRules(), p.StartTier)

	// A high-priority case opened Friday 15:00 must be acknowledged by Monday 11:00.
	friday := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	d := p.TierDeadline(tierflow.ClockAcknowledge, tierflow.PriorityHigh, 1, friday)
	assert.Equal(t, time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC), d.At)
	assert.Contains(t, d.Explanation, "business hours Mon-Fri 09:00-17:00 UTC")
	assert.Contains(t, d.Explanation, "policy standard version 2026-11-01")
}

func TestFastPolicyRunsInSeconds(t *testing.T) {
	p := Fast()
	assert.Equal(t, "fast", p.Name)
	for _, pr := range tierflow.Priorities {
		assert.True(t, p.CalendarFor(pr).AlwaysOpen, pr)
		assert.Equal(t, 20*time.Second, p.Priorities[pr].Acknowledge.For(2), pr)
		assert.Equal(t, 40*time.Second, p.Priorities[pr].Resolve.For(3), pr)
		assert.Equal(t, 30*time.Second, p.Priorities[pr].CustomerUpdateEvery.Duration, pr)
	}
	assert.Equal(t, 15*time.Second, p.ApprovalTimeout.Duration)
	assert.Equal(t, 10*time.Minute, p.CloseTarget.After.Duration)
	assert.Equal(t, 8*time.Minute, p.CloseTarget.WarnAfter.Duration)
	assert.Equal(t, 60*time.Second, p.AwaitingCustomer.AutoResolveAfter.Duration)
	assert.Equal(t, 5*time.Second, p.Survey.Delay.Duration)
	assert.Equal(t, 5*time.Minute, p.Survey.Expiry.Duration)

	start := time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)
	d := p.TierDeadline(tierflow.ClockAcknowledge, tierflow.PriorityLow, 1, start)
	assert.Equal(t, start.Add(20*time.Second), d.At)
	assert.Equal(t, start.Add(15*time.Second), *d.WarnAt)
}

func TestEmbeddedPoliciesAreFreshCopies(t *testing.T) {
	a := Default()
	a.Priorities[tierflow.PriorityHigh] = tierflow.PriorityPolicy{}
	a.Calendars["business"] = tierflow.Calendar{}
	b := Default()
	assert.Equal(t, 4*time.Hour, b.Priorities[tierflow.PriorityHigh].Acknowledge.For(1))
	assert.Equal(t, "09:00", b.Calendars["business"].Open)
	assert.Equal(t, defaultYAML, DefaultYAML())
}

func TestInTimeZone(t *testing.T) {
	p, err := InTimeZone(Default(), "Europe/Paris")
	require.NoError(t, err)
	assert.Equal(t, "Europe/Paris", p.Calendars["business"].TimeZone)
	assert.Equal(t, "", p.Calendars["24x7"].TimeZone)
	assert.Equal(t, "UTC", Default().Calendars["business"].TimeZone)

	_, err = InTimeZone(Default(), "Europe/Atlantis")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `calendars.business.time_zone unknown time zone "Europe/Atlantis"`)
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "acme.yaml")
	require.NoError(t, os.WriteFile(good, []byte(strings.Replace(string(defaultYAML), "name: standard", "name: acme", 1)), 0o600))
	p, err := Load(good)
	require.NoError(t, err)
	assert.Equal(t, "acme", p.Name)

	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte(strings.Replace(string(defaultYAML), "warning_ratio: 0.75", "warning_ratio: 2", 1)), 0o600))
	_, err = Load(bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "policy file "+bad+": invalid policy: warning_ratio must be between 0 and 1")
	var te *tierflow.Error
	require.True(t, errors.As(err, &te))
	assert.Equal(t, tierflow.CodeInvalid, te.Code)

	_, err = Load(filepath.Join(dir, "missing.yaml"))
	require.Error(t, err)
	assert.True(t, errors.Is(err, os.ErrNotExist))
}
