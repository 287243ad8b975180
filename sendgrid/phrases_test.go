package sendgrid

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

func TestMoneyIsReadable(t *testing.T) {
	tests := []struct {
		cents    int64
		currency string
		want     string
	}{
		{0, "eur", "0.00 EUR"},
		{5, "eur", "0.05 EUR"},
		{50000, "eur", "500.00 EUR"},
		{100000, "gbp", "1,000.00 GBP"},
		{250000, "usd", "2,500.00 USD"},
		{123456789, "EUR", "1,234,567.89 EUR"},
		{-1999, "eur", "-19.99 EUR"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, money(tt.cents, tt.currency), tt.cents)
	}
}

func TestTimesAreWrittenOut(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	assert.Equal(t, "Tuesday 24 November 2026 at 10:00 UTC", when(testNow))
	assert.Equal(t, "Tuesday 24 November 2026 at 10:00 UTC", when(ptr(testNow.In(paris))), "always shown in UTC")
	assert.Equal(t, "", when((*time.Time)(nil)))
}

// An approval request at tier 4 never expires: it must not show a zero time.
func TestApprovalAtTheTopHasNoDeadline(t *testing.T) {
	r := newTestRenderer(t)
	e := sample(tierflow.MsgStaffApproval)
	e.Data.Approval.RequiredTier, e.Data.Approval.ExpiresAt = tierflow.TierExecutive, time.Time{}
	e.Data.Approval.RequestedAt = testNow.Add(-time.Hour)                   // the links last a week from the request
	e.Data.Reason = "300.00 EUR requested by sam (tier 2): goodwill credit" // as the workflow sets it
	subject, text, html, err := r.Render(e)
	require.NoError(t, err)
	for _, s := range []string{subject, text, html} {
		assert.NotContains(t, s, "0001")
		assert.NotContains(t, s, "moves one tier up")
	}
	assert.Contains(t, text, "no deadline")
	assert.Contains(t, text, "approve or reject the compensation with a link below.")
	assert.Contains(t, text, "The links work once, only for this request, until Tuesday 1 December 2026 at 09:00 UTC.")
	assert.NotContains(t, text, "requested by", "the reason only repeats the table: not shown")
}

// A deadline that already passed is never sent to the customer as a promise.
func TestPastETAIsNotPromised(t *testing.T) {
	r := newTestRenderer(t)
	for _, kind := range []tierflow.MessageKind{tierflow.MsgEscalated, tierflow.MsgProgressUpdate,
		tierflow.MsgETAChanged, tierflow.MsgReopened} {
		e := sample(kind)
		e.Data.Text, e.Data.Reason = "", ""
		e.Data.ETA = ptr(testNow.Add(-3 * time.Hour))
		_, text, html, err := r.Render(e)
		require.NoError(t, err, kind)
		for _, body := range []string{text, html} {
			assert.NotContains(t, body, "ago", kind)
			assert.NotContains(t, body, "24 November 2026 at 07:00", kind)
		}
	}
	e := sample(tierflow.MsgProgressUpdate)
	e.Data.ETA = ptr(testNow.Add(-3 * time.Hour))
	_, text, _, err := r.Render(e)
	require.NoError(t, err)
	assert.Contains(t, text, "taking longer than we expected, and we are sorry")
}

func TestCloseTargetWarningAndBreachDiffer(t *testing.T) {
	r := newTestRenderer(t)
	e := sample(tierflow.MsgStaffCloseTarget)
	e.Data.Clock, e.Data.Reason = tierflow.ClockCloseTarget, ""
	e.Data.Deadline = ptr(testNow.Add(5 * 24 * time.Hour))
	subject, text, _, err := r.Render(e)
	require.NoError(t, err)
	assert.Equal(t, "[30-day target] Resolve in about 5 days: Double charge on invoice 2026-118", subject)
	assert.Contains(t, text, "must be resolved by Sunday 29 November 2026 at 10:00 UTC")

	e.Data.Deadline, e.Data.Reason = ptr(testNow.Add(-time.Minute)), "close target of 30d from opening missed"
	subject, text, _, err = r.Render(e)
	require.NoError(t, err)
	assert.Equal(t, "[30-day target missed] Double charge on invoice 2026-118", subject)
	assert.Contains(t, text, "has missed its 30-day close target")
	assert.Contains(t, text, "handed to the executive office (tier 4)")
}

func TestStaffBreachSaysWhereTheCaseWent(t *testing.T) {
	r := newTestRenderer(t)
	e := sample(tierflow.MsgStaffBreach)
	e.Data.Clock = tierflow.ClockResolve
	_, text, _, err := r.Render(e)
	require.NoError(t, err)
	assert.Contains(t, text, "escalated automatically to tier 3 (supervisor)")
	assert.Contains(t, text, "What to do: tier 3, open the case and acknowledge it")

	e.Data.Tier = tierflow.TierExecutive
	_, text, _, err = r.Render(e)
	require.NoError(t, err)
	assert.Contains(t, text, "stays with the executive office")
	assert.Contains(t, text, "What to do: resolve the case")
}

// Whatever the data, messages stay grammatical: no glued articles, no sentence
// starting in lower case (policy team phrases are lower case).
func TestPhrasesStayGrammaticalForEveryTier(t *testing.T) {
	r := newTestRenderer(t)
	teams := []string{"", "our customer service team", "a customer service supervisor", "our executive office"}
	for _, kind := range tierflow.MessageKinds {
		for tier := tierflow.TierFrontline; tier <= tierflow.TierExecutive; tier++ {
			for _, team := range teams {
				e := sample(kind)
				e.Data.Tier, e.Data.Team = tier, team
				subject, text, html, err := r.Render(e)
				require.NoError(t, err)
				for name, s := range map[string]string{"subject": subject, "text": text, "html": htmlText(html)} {
					s = urlRE.ReplaceAllString(s, "URL")
					assert.Empty(t, doubledRE.FindString(s), "%s %s tier %d %q", kind, name, tier, team)
					assert.Empty(t, lowerStartRE.FindAllString(s, -1), "%s %s tier %d %q", kind, name, tier, team)
					assert.Empty(t, repeatedWord(s), "%s %s tier %d %q", kind, name, tier, team)
				}
			}
		}
	}
}
