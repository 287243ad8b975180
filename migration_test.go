package tierflow

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePolicyName(t *testing.T) {
	for in, want := range map[string]PolicyName{
		"fast":                 {Name: "fast"},
		"fast@2026-11-01-fast": {Name: "fast", Version: "2026-11-01-fast"},
	} {
		got, err := ParsePolicyName(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
		assert.Equal(t, in, got.String())
	}
	for _, in := range []string{"", "Fast", "fast@", "fast@a@b", "@v1", "fast@has space"} {
		_, err := ParsePolicyName(in)
		assert.Equal(t, CodeInvalid, ErrorCode(err), "%q", in)
	}
	p := Policy{Name: "fast", Version: "v2"}
	assert.True(t, PolicyName{Name: "fast"}.Matches(p))
	assert.True(t, PolicyName{Name: "fast", Version: "v2"}.Matches(p))
	assert.False(t, PolicyName{Name: "fast", Version: "v1"}.Matches(p))
}

// migrationPolicies are two versions of a 24x7 policy: v2 halves normal's clocks.
func migrationPolicies() (v1, v2 Policy) {
	cal := map[string]Calendar{"24x7": {Name: "24x7", AlwaysOpen: true}}
	pp := func(ack, res time.Duration) map[Priority]PriorityPolicy {
		return map[Priority]PriorityPolicy{PriorityNormal: {Calendar: "24x7", Acknowledge: TierDurations{Default: Duration{ack}},
			Resolve: TierDurations{Default: Duration{res}}, CustomerUpdateEvery: Duration{48 * time.Hour}}}
	}
	v1 = Policy{Name: "p", Version: "v1", Calendars: cal, Priorities: pp(8*time.Hour, 24*time.Hour), WarningRatio: 0.75,
		ApprovalTimeout: Duration{4 * time.Hour}, CloseTarget: CloseTargetPolicy{After: Duration{30 * Day}, WarnAfter: Duration{25 * Day}}}
	v2 = v1
	v2.Version, v2.Priorities = "v2", pp(4*time.Hour, 12*time.Hour)
	v2.CloseTarget = CloseTargetPolicy{After: Duration{20 * Day}, WarnAfter: Duration{15 * Day}}
	return v1, v2
}

// Rebase counts the working time a clock used against the new duration, keeps
// its start, and explains the change with both versions.
func TestRebase(t *testing.T) {
	v1, v2 := migrationPolicies()
	t0 := time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC)
	h := time.Hour
	ack := v1.TierDeadline(ClockAcknowledge, PriorityNormal, TierFrontline, t0)
	answer := v1.AnswerDeadline(PriorityNormal, TierFrontline, false, t0)
	acked := v1.AnswerDeadline(PriorityNormal, TierFrontline, true, t0)
	for _, c := range []struct {
		name     string
		d        Deadline
		at       time.Time
		want     time.Time
		wantWarn *time.Time
		wantDur  time.Duration
	}{
		{"acknowledge, 1h used of 4h", ack, t0.Add(h), t0.Add(4 * h), ptr(t0.Add(3 * h)), 4 * h},
		{"acknowledge, more used than the new duration: due now", ack, t0.Add(6 * h), t0.Add(6 * h), ptr(t0.Add(6 * h)), 4 * h},
		{"answer with acknowledge", answer, t0.Add(h), t0.Add(16 * h), nil, 16 * h},
		{"answer once acknowledged", acked, t0.Add(h), t0.Add(12 * h), nil, 12 * h},
		{"close target from the same start", v1.CloseTargetDeadline(t0), t0.Add(h), t0.Add(20 * Day), ptr(t0.Add(15 * Day)), 20 * Day},
		{"paused 2h then resumed: the moved instant counts", v1.Resume(ack, t0.Add(h), t0.Add(3*h)), t0.Add(4 * h),
			t0.Add(6 * h), ptr(t0.Add(5 * h)), 4 * h},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := v2.Rebase(v1, c.d, PriorityNormal, c.at)
			assert.Equal(t, c.want, got.At)
			assert.Equal(t, c.wantWarn, got.WarnAt)
			assert.Equal(t, c.wantDur, got.Duration.Duration)
			assert.Equal(t, c.d.Start, got.Start)
			assert.Equal(t, "v2", got.PolicyVersion)
			assert.Contains(t, got.Explanation, "was "+c.d.Duration.String()+" under p@v1")
			assert.Contains(t, got.Explanation, "now "+FormatDuration(c.wantDur)+" under p@v2")
		})
	}
}

func ptr(t time.Time) *time.Time { return &t }

func TestMigratePolicyDecisionShape(t *testing.T) {
	_, v2 := migrationPolicies()
	d := Decision{Action: ActionMigratePolicy, Policy: "p@v2", Reason: "faster"}
	assert.NoError(t, d.Validate(), "the API attaches the snapshot after this check")
	d.PolicySnapshot = &v2
	err := d.Validate()
	require.Error(t, err, "v2 is not a complete policy (no tiers)")
	assert.Equal(t, CodeInvalid, ErrorCode(err))
	assert.Error(t, Decision{Action: ActionMigratePolicy, Reason: "faster"}.Validate(), "policy is required")
	assert.Error(t, Decision{Action: ActionMigratePolicy, Policy: "p"}.Validate(), "reason is required")
	assert.Error(t, Decision{Action: ActionMigratePolicy, Policy: "P Q", Reason: "x"}.Validate())
}
