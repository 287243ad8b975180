package tierflow

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func validOpenCase() OpenCaseRequest {
	return OpenCaseRequest{
		Source: "zendesk", ExternalID: "48213",
		Customer: Customer{ID: "C-991", Name: "Ada Lovelace", Email: "ada@example.com", Locale: "en"},
		Subject:  "Refund not received", Category: "billing", Priority: PriorityHigh, Channel: "phone",
		OpenedAt: time.Date(2026, 11, 20, 9, 15, 0, 0, time.UTC), Trigger: TriggerUnresolved, Department: "billing",
		Policy: "standard", CRMURL: "https://example.zendesk.com/agent/tickets/48213",
	}
}

func TestOpenCaseRequestValidate(t *testing.T) {
	tier := func(t Tier) *Tier { return &t }
	tests := []struct {
		name   string
		edit   func(r *OpenCaseRequest)
		fields []string
	}{
		{"valid", func(r *OpenCaseRequest) {}, nil},
		{"valid start tier", func(r *OpenCaseRequest) { r.StartTier = tier(4) }, nil},
		{"source characters", func(r *OpenCaseRequest) { r.Source = "zen desk" }, []string{"source"}},
		{"source too long", func(r *OpenCaseRequest) { r.Source = strings.Repeat("a", 65) }, []string{"source"}},
		{"external id empty", func(r *OpenCaseRequest) { r.ExternalID = "" }, []string{"external_id"}},
		{"external id with slash", func(r *OpenCaseRequest) { r.ExternalID = "a/b" }, []string{"external_id"}},
		{"customer id and email missing", func(r *OpenCaseRequest) { r.Customer = Customer{} },
			[]string{"customer.id", "customer.email"}},
		{"email with display name", func(r *OpenCaseRequest) { r.Customer.Email = "Ada <ada@example.com>" }, []string{"customer.email"}},
		{"email without domain dot", func(r *OpenCaseRequest) { r.Customer.Email = "ada@example" }, []string{"customer.email"}},
		{"email garbage", func(r *OpenCaseRequest) { r.Customer.Email = "not an email" }, []string{"customer.email"}},
		{"locale", func(r *OpenCaseRequest) { r.Customer.Locale = "english please" }, []string{"customer.locale"}},
		{"subject blank", func(r *OpenCaseRequest) { r.Subject = "   " }, []string{"subject"}},
		{"subject too long", func(r *OpenCaseRequest) { r.Subject = strings.Repeat("é", 201) }, []string{"subject"}},
		{"subject at the limit", func(r *OpenCaseRequest) { r.Subject = strings.Repeat("é", 200) }, nil},
		{"priority and trigger", func(r *OpenCaseRequest) { r.Priority, r.Trigger = "asap", "" }, []string{"priority", "trigger"}},
		{"opened_at missing", func(r *OpenCaseRequest) { r.OpenedAt = time.Time{} }, []string{"opened_at"}},
		{"start tier out of range", func(r *OpenCaseRequest) { r.StartTier = tier(5) }, []string{"start_tier"}},
		{"tokens", func(r *OpenCaseRequest) { r.Category, r.Department, r.Channel = "Billing", "tech support", "-x" },
			[]string{"category", "department", "channel"}},
		{"policy name", func(r *OpenCaseRequest) { r.Policy = "My Policy" }, []string{"policy"}},
		{"crm url", func(r *OpenCaseRequest) { r.CRMURL = "javascript:alert(1)" }, []string{"crm_url"}},
		{"long summary", func(r *OpenCaseRequest) { r.FrontlineSummary = strings.Repeat("x", MaxTextLen+1) }, []string{"frontline_summary"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validOpenCase()
			tt.edit(&r)
			err := r.Validate()
			if tt.fields == nil {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ElementsMatch(t, tt.fields, fieldsOf(t, err), "error: %v", err)
		})
	}
}

func TestOpenCaseRequestValidateAt(t *testing.T) {
	r := validOpenCase()
	assert.NoError(t, r.ValidateAt(r.OpenedAt))
	assert.NoError(t, r.ValidateAt(r.OpenedAt.Add(-MaxOpenedAtSkew)), "a little clock skew is fine")
	err := r.ValidateAt(r.OpenedAt.Add(-time.Hour))
	require.Error(t, err)
	assert.Equal(t, []string{"opened_at"}, fieldsOf(t, err))
	assert.Contains(t, err.Error(), "opened_at is in the future")

	r.Subject = ""
	assert.ElementsMatch(t, []string{"subject"}, fieldsOf(t, r.ValidateAt(r.OpenedAt)))
}

// A paused case returns to the status it paused from; when none is known, to
// open, or to in_progress once acknowledged.
func TestStatusAfterPause(t *testing.T) {
	assert.Equal(t, StatusInProgress, StatusAfterPause(StatusInProgress, false))
	assert.Equal(t, StatusOpen, StatusAfterPause(StatusOpen, true))
	assert.Equal(t, StatusOpen, StatusAfterPause("", false))
	assert.Equal(t, StatusInProgress, StatusAfterPause("", true))
}

// A view read before the survey's send time (the record, a query) is shown as of
// now: once the send time has passed the survey is sent and its send is no longer
// a deadline; before it, nothing changes. The view itself is not changed.
func TestCaseViewAsOf(t *testing.T) {
	sendAt := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	expires := sendAt.Add(7 * 24 * time.Hour)
	scheduled := func() CaseView {
		send, exp := sendAt, expires
		return CaseView{
			Status: StatusResolved,
			Survey: &SurveyState{Status: SurveyScheduled, Round: 1, SendAt: &send, ExpiresAt: &exp},
			Deadlines: Deadlines{SurveySendAt: &send, SurveyExpiresAt: &exp, Explanations: []Deadline{
				{Clock: ClockSurveySend, At: sendAt}, {Clock: ClockSurveyExpiry, At: expires},
			}},
		}
	}

	before := scheduled().AsOf(sendAt.Add(-time.Second))
	assert.Equal(t, scheduled(), before, "before its send time the view is as recorded")

	v := scheduled()
	after := v.AsOf(sendAt)
	require.NotNil(t, after.Survey)
	assert.Equal(t, SurveySent, after.Survey.Status)
	require.NotNil(t, after.Survey.SentAt)
	assert.Equal(t, sendAt, *after.Survey.SentAt)
	assert.Nil(t, after.Deadlines.SurveySendAt, "the send has passed")
	require.NotNil(t, after.Deadlines.SurveyExpiresAt)
	assert.Equal(t, []Deadline{{Clock: ClockSurveyExpiry, At: expires}}, after.Deadlines.Explanations)
	assert.Equal(t, scheduled(), v, "the view it was taken from is not changed")

	none := CaseView{Status: StatusInProgress}
	assert.Equal(t, none, none.AsOf(sendAt), "a case without a survey")
}
