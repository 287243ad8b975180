package sendgrid

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

var testNow = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// sample is a message with every field a kind may show.
func sample(kind tierflow.MessageKind) tierflow.Email {
	aud := tierflow.AudienceCustomer
	if strings.HasPrefix(string(kind), "staff_") {
		aud = tierflow.AudienceStaff
	}
	return tierflow.Email{
		Key: "zendesk-4711/7/" + string(kind), CaseID: "zendesk-4711", Kind: kind, Audience: aud,
		To: []tierflow.Address{{Email: "ada@example.org", Name: "Ada Lovelace"}},
		Data: tierflow.MessageData{
			CaseID: "zendesk-4711", Reference: "ZD-4711", Subject: "Double charge on invoice 2026-118",
			CustomerName: "Ada", Tier: tierflow.TierSpecialist, TierName: "specialist", Team: "our Billing team",
			Department: "billing", ETA: ptr(testNow.Add(4 * time.Hour)),
			Text:       "We checked the payment logs & found two captures.",
			Resolution: "We refunded the second charge.", Explanation: "A retry in our payment service charged you twice.",
			SurveyURL: "https://support.example.com/v1/surveys/tok", ExpiresAt: ptr(testNow.Add(14 * 24 * time.Hour)),
			Clock: tierflow.ClockAcknowledge, Deadline: ptr(testNow.Add(90 * time.Minute)), Reason: "priority is high",
			Approval: &tierflow.Approval{ID: "ap-1", AmountCents: 30000, Currency: "eur", Description: "goodwill credit",
				RequestedBy: "sam (tier 2)", RequiredTier: tierflow.TierSupervisor, ExpiresAt: testNow.Add(4 * time.Hour)},
			CRMURL:      "https://example.zendesk.com/agent/tickets/4711",
			WorkflowURL: "https://temporal.example.com/namespaces/default/workflows/case-zendesk-4711",
			ApproveURL:  "https://support.example.com/v1/approvals/approve-token",
			RejectURL:   "https://support.example.com/v1/approvals/reject-token",
		},
	}
}

func newTestRenderer(t *testing.T) *Renderer {
	t.Helper()
	r, err := NewRenderer(func() time.Time { return testNow })
	require.NoError(t, err)
	return r
}

func TestEveryKindRenders(t *testing.T) {
	r := newTestRenderer(t)
	for _, kind := range tierflow.MessageKinds {
		t.Run(string(kind), func(t *testing.T) {
			subject, text, html, err := r.Render(sample(kind))
			require.NoError(t, err)
			assert.NotEmpty(t, subject)
			assert.NotContains(t, subject, "\n")
			for name, s := range map[string]string{"subject": subject, "text": text, "html": html} {
				assert.NotContains(t, s, "<no value>", name)
				assert.NotContains(t, s, "%!", name+": no bad format verbs")
			}
			assert.Contains(t, html, "<!DOCTYPE html>")
			assert.NotContains(t, text+html, "ada@example.org", "no address in the body")
			if os.Getenv("TIERFLOW_DUMP_MAIL") != "" { // look at the messages by eye
				dir := os.Getenv("TIERFLOW_DUMP_MAIL")
				require.NoError(t, os.WriteFile(filepath.Join(dir, string(kind)+".txt"), []byte(subject+"\n\n"+text), 0o644))
				require.NoError(t, os.WriteFile(filepath.Join(dir, string(kind)+".html"), []byte(html), 0o644))
			}
		})
	}
}

func TestRenderWithSparseData(t *testing.T) {
	r := newTestRenderer(t)
	for _, kind := range tierflow.MessageKinds {
		e := tierflow.Email{Kind: kind, Data: tierflow.MessageData{CaseID: "crm-1"}}
		subject, text, html, err := r.Render(e)
		require.NoError(t, err, kind)
		assert.NotEmpty(t, subject, kind)
		assert.NotContains(t, subject+text+html, "<no value>", kind)
		assert.False(t, strings.HasSuffix(subject, ":"), "%s: subject %q is complete", kind, subject)
		for _, s := range []string{subject, text, htmlText(html)} {
			assert.Empty(t, lowerStartRE.FindAllString(s, -1), kind)
			assert.Empty(t, repeatedWord(s), kind)
		}
	}
}

func TestCustomerTemplatesSayWhoAndWhen(t *testing.T) {
	r := newTestRenderer(t)
	subject, text, html, err := r.Render(sample(tierflow.MsgEscalated))
	require.NoError(t, err)
	assert.Equal(t, "Your case ZD-4711 has been escalated to our Billing team", subject)
	assert.Contains(t, text, "Hello Ada,")
	assert.Contains(t, text, "It is now handled by our Billing team (support tier 2).")
	assert.Contains(t, text, "Tuesday 24 November 2026 at 14:00 UTC (in about 4 hours)")
	assert.Contains(t, html, "two captures", "the human's message is shown")
	assert.Contains(t, html, "&amp; found", "html is escaped")
	assert.NotContains(t, html, "& found")
}

func TestResolutionApology(t *testing.T) {
	r := newTestRenderer(t)
	tests := []struct {
		tier        tierflow.Tier
		explanation string
		wantApology bool
	}{
		{tierflow.TierFrontline, "", false},
		{tierflow.TierSpecialist, "The bank retried the payment.", false},
		{tierflow.TierSupervisor, "A retry in our payment service charged you twice.", true},
		{tierflow.TierExecutive, "A retry in our payment service charged you twice.", true},
	}
	for _, tt := range tests {
		e := sample(tierflow.MsgResolution)
		e.Data.Tier, e.Data.Explanation = tt.tier, tt.explanation
		e.Data.Compensation = []tierflow.Compensation{
			{AmountCents: 12050, Currency: "eur", Description: "refund of the second charge", Status: "approved"},
			{AmountCents: 99900, Currency: "eur", Description: "pending proposal", Status: "pending"},
		}
		subject, text, html, err := r.Render(e)
		require.NoError(t, err)
		assert.Equal(t, tt.wantApology, strings.Contains(subject, "Our apologies"), "tier %d subject", tt.tier)
		for _, body := range []string{text, html} {
			assert.Equal(t, tt.wantApology, strings.Contains(body, "sincerely sorry"), "tier %d apology", tt.tier)
			assert.Equal(t, tt.explanation != "", strings.Contains(body, "What happened"), "tier %d explanation", tt.tier)
			if tt.explanation != "" {
				assert.Contains(t, body, tt.explanation)
			}
			if tt.wantApology {
				assert.Contains(t, body, "has reviewed your case personally", "the senior tier says it looked at the case")
			}
			assert.Contains(t, body, "We refunded the second charge.")
			assert.Contains(t, body, "120.50 EUR")
			assert.NotContains(t, body, "999.00 EUR", "pending compensation is not offered")
		}
	}
}

func TestStaffApprovalShowsAmountRequesterAndLink(t *testing.T) {
	r := newTestRenderer(t)
	subject, text, html, err := r.Render(sample(tierflow.MsgStaffApproval))
	require.NoError(t, err)
	assert.Contains(t, subject, "300.00 EUR")
	for _, body := range []string{text, html} {
		assert.Contains(t, body, "300.00 EUR")
		assert.Contains(t, body, "sam (tier 2)")
		assert.Contains(t, body, "tier 3 (supervisor) or above")
		assert.Contains(t, body, "https://support.example.com/v1/approvals/approve-token")
		assert.Contains(t, body, "https://support.example.com/v1/approvals/reject-token")
		assert.Contains(t, body, "https://example.zendesk.com/agent/tickets/4711")
	}
}

func TestSurveyHasLinkAndExpiry(t *testing.T) {
	r := newTestRenderer(t)
	for _, kind := range []tierflow.MessageKind{tierflow.MsgSurvey, tierflow.MsgSurveyReminder} {
		_, text, html, err := r.Render(sample(kind))
		require.NoError(t, err)
		assert.Contains(t, text, "https://support.example.com/v1/surveys/tok")
		assert.Contains(t, html, `href="https://support.example.com/v1/surveys/tok"`)
		assert.Contains(t, text, "Tuesday 8 December 2026 at 10:00 UTC")
	}
}

func TestStaffWarningNamesClockAndDeadline(t *testing.T) {
	r := newTestRenderer(t)
	subject, text, _, err := r.Render(sample(tierflow.MsgStaffWarning))
	require.NoError(t, err)
	assert.Equal(t, "[Tier 2] Acknowledge deadline in about 2 hours: Double charge on invoice 2026-118", subject)
	assert.Contains(t, text, "Tuesday 24 November 2026 at 11:30 UTC (in about 2 hours)")
	assert.Contains(t, text, "What to do: open the case and acknowledge it to take ownership before then.")
	assert.Contains(t, text, "escalated automatically to tier 3 (supervisor)")
	assert.Contains(t, text, "Ticket in the CRM:     https://example.zendesk.com/agent/tickets/4711")
}

func TestUnknownKindIsInvalid(t *testing.T) {
	_, _, _, err := Render(tierflow.Email{Kind: "nope"})
	assert.Equal(t, tierflow.CodeInvalid, tierflow.ErrorCode(err))
}

func TestRelativePhrases(t *testing.T) {
	r := newTestRenderer(t)
	tests := map[time.Duration]string{
		30 * time.Second:    "now",
		-20 * time.Minute:   "20 minutes ago",
		time.Minute:         "in 1 minute",
		3 * time.Hour:       "in about 3 hours",
		-72 * time.Hour:     "about 3 days ago",
		14 * 24 * time.Hour: "in about 14 days",
	}
	for d, want := range tests {
		assert.Equal(t, want, r.relative(testNow.Add(d)), d)
	}
}

// Every message kind has its text and HTML template, and every template is of a
// declared kind.
func TestTemplatesMatchMessageKinds(t *testing.T) {
	for _, ext := range []string{".txt", ".html"} {
		files, err := fs.Glob(templateFS, "templates/*"+ext)
		require.NoError(t, err)
		var kinds []tierflow.MessageKind
		for _, f := range files {
			name := strings.TrimSuffix(path.Base(f), ext)
			if name == "common" || name == "layout" {
				continue
			}
			kinds = append(kinds, tierflow.MessageKind(name))
		}
		assert.ElementsMatch(t, tierflow.MessageKinds, kinds, ext)
	}
}

// The policy's team phrase is used as written, never wrapped a second time.
func TestHandlerUsesThePolicyPhrase(t *testing.T) {
	cases := []struct {
		data tierflow.MessageData
		want string
	}{
		{tierflow.MessageData{Tier: 3, TierName: "supervisor", Team: "a customer service supervisor"}, "a customer service supervisor (support tier 3)"},
		{tierflow.MessageData{Tier: 3, Team: "a customer service supervisor", Department: "billing"}, "a customer service supervisor (support tier 3)"},
		{tierflow.MessageData{Tier: 2, Team: "our specialist team", Department: "billing"}, "our specialist team for billing (support tier 2)"},
		{tierflow.MessageData{Tier: 2, Team: "our billing specialists", Department: "billing"}, "our billing specialists (support tier 2)"},
		{tierflow.MessageData{Tier: 2, Department: "billing"}, "our billing team (support tier 2)"},
		{tierflow.MessageData{Tier: 1}, "our frontline team (support tier 1)"},
		{tierflow.MessageData{}, "our support team"},
	}
	for _, c := range cases {
		v := view{MessageData: c.data}
		assert.Equal(t, c.want, v.Handler())
		assert.Equal(t, strings.ToUpper(c.want[:1])+c.want[1:], v.HandlerCap(), "a sentence may start with it")
	}
}

// A paused case tells no ETA: the progress email and the new-ETA email say how
// long the answer will take once the wait ends, and never apologise for a
// lateness that is not one.
func TestPausedCaseEmailsSayHowLongOnceTheWaitEnds(t *testing.T) {
	r := newTestRenderer(t)
	for _, tc := range []struct {
		kind       tierflow.MessageKind
		waitingFor string
		want       string
	}{
		{tierflow.MsgProgressUpdate, "approval", "Once the internal approval is decided, we will give you our answer within 32 hours."},
		{tierflow.MsgProgressUpdate, "customer", "Once we hear back from you, we will give you our answer within 32 hours."},
		{tierflow.MsgETAChanged, "approval", "Once the internal approval is decided, we will give you our answer within 32 hours."},
	} {
		t.Run(string(tc.kind)+"/"+tc.waitingFor, func(t *testing.T) {
			e := sample(tc.kind)
			e.Data.ETA, e.Data.Text, e.Data.Reason = nil, "", ""
			e.Data.AnswerWithin, e.Data.WaitingFor = "32 hours", tc.waitingFor
			_, text, html, err := r.Render(e)
			require.NoError(t, err)
			assert.Contains(t, text, tc.want)
			assert.Contains(t, html, tc.want)
			assert.NotContains(t, text, "sorry")
			assert.NotContains(t, text, "longer than we expected")
		})
	}
}
