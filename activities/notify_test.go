package activities_test

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
	"github.com/tierflow/tierflow/internal/fakesendgrid"
)

const customerEmail = "ada.lovelace@example.org"

func escalatedInput(key string) activities.NotifyCustomerInput {
	eta := time.Now().Add(4 * time.Hour).UTC()
	return activities.NotifyCustomerInput{
		Key: key, CaseID: "zendesk-4711", Kind: tierflow.MsgEscalated,
		Customer: tierflow.Customer{ID: "c-1", Name: "Ada Lovelace", Email: customerEmail},
		Data: tierflow.MessageData{Reference: "ZD-4711", Subject: "Charged twice", Tier: 2, TierName: "specialist",
			Team: "our billing team", Department: "billing", ETA: &eta},
	}
}

// applicationError extracts the activity's ApplicationError.
func applicationError(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "want an ApplicationError, got %T: %v", err, err)
	return appErr
}

func TestRetriedNotificationSendsOnce(t *testing.T) {
	h := newHarness(t)
	in := escalatedInput("zendesk-4711/3/escalated")

	first, err := h.notifyCustomer(in)
	require.NoError(t, err)
	assert.Equal(t, activities.StateSent, first.State)

	second, err := h.notifyCustomer(in)
	require.NoError(t, err)
	assert.Equal(t, activities.StateDuplicate, second.State)
	assert.Equal(t, first.ProviderMessageID, second.ProviderMessageID)

	accepted := h.fake.Accepted()
	require.Len(t, accepted, 1, "the customer gets one email")
	assert.Equal(t, first.ProviderMessageID, accepted[0].ID)
	assert.Equal(t, []string{customerEmail}, accepted[0].Mail.Recipients())
	assert.Contains(t, accepted[0].Mail.Part("text/plain"), "Hello Ada Lovelace,")
	assert.Equal(t, 1, h.fake.Requests())

	rec := h.ledger(in.Key)
	assert.Equal(t, tierflow.NotificationSent, rec.State)
	assert.Equal(t, first.ProviderMessageID, rec.ProviderMessageID)
	assert.Equal(t, 1, rec.Attempts)
	assert.Equal(t, in.CaseID, rec.CaseID)
	assert.NotContains(t, h.logs.String(), customerEmail, "logs never carry addresses")
}

func TestRateLimitWaitsAsToldThenSendsOnce(t *testing.T) {
	h := newHarness(t)
	h.fake.FailNext(1, fakesendgrid.Fault{Status: 429, RetryAfter: 17 * time.Second})
	in := escalatedInput("zendesk-4711/4/escalated")

	_, err := h.notifyCustomer(in)
	appErr := applicationError(t, err)
	assert.Equal(t, activities.ErrTypeEmailUnavailable, appErr.Type())
	assert.False(t, appErr.NonRetryable())
	assert.Equal(t, 17*time.Second, appErr.NextRetryDelay(), "the retry waits for Retry-After")
	rec := h.ledger(in.Key)
	assert.Equal(t, tierflow.NotificationNew, rec.State, "released: nothing was sent")
	assert.Contains(t, rec.Error, "429")
	assert.Empty(t, h.fake.Accepted())

	res, err := h.notifyCustomer(in)
	require.NoError(t, err)
	assert.Equal(t, activities.StateSent, res.State)
	assert.Len(t, h.fake.Accepted(), 1)
	rec = h.ledger(in.Key)
	assert.Equal(t, tierflow.NotificationSent, rec.State)
	assert.Equal(t, 2, rec.Attempts)
	assert.Equal(t, res.ProviderMessageID, rec.ProviderMessageID)
}

// A 500, 502 or 504 (or a 503 that does not say when to come back) leaves the
// outcome unknown: SendGrid, or the gateway in front of it, may have queued the
// message before failing. It is not sent again.
func TestServerErrorIsNotResent(t *testing.T) {
	for i, status := range []int{500, 502, 503, 504} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			h := newHarness(t)
			h.fake.FailNext(1, fakesendgrid.Fault{Status: status})
			in := escalatedInput(fmt.Sprintf("zendesk-4711/%d/escalated", 50+i))

			res, err := h.notifyCustomer(in)
			require.NoError(t, err, "no retry that could send it twice")
			assert.Equal(t, activities.StateUnconfirmed, res.State)
			assert.Contains(t, res.Error, fmt.Sprint(status))

			res, err = h.notifyCustomer(in)
			require.NoError(t, err)
			assert.NotEqual(t, activities.StateSent, res.State, "never sent a second time")
			assert.Equal(t, 1, h.fake.Requests(), "one request in all")
			assert.Equal(t, 1, h.ledger(in.Key).Attempts)
		})
	}
}

// A 503 with Retry-After is SendGrid refusing work: nothing was accepted, so the
// retry waits as told and sends.
func TestUnavailableWithRetryAfterIsRetried(t *testing.T) {
	h := newHarness(t)
	h.fake.FailNext(1, fakesendgrid.Fault{Status: 503, RetryAfter: 11 * time.Second})
	in := escalatedInput("zendesk-4711/5/escalated")

	_, err := h.notifyCustomer(in)
	appErr := applicationError(t, err)
	assert.Equal(t, activities.ErrTypeEmailUnavailable, appErr.Type())
	assert.False(t, appErr.NonRetryable())
	assert.Equal(t, 11*time.Second, appErr.NextRetryDelay())
	assert.Equal(t, tierflow.NotificationNew, h.ledger(in.Key).State, "released: nothing was sent")

	res, err := h.notifyCustomer(in)
	require.NoError(t, err)
	assert.Equal(t, activities.StateSent, res.State)
	assert.Len(t, h.fake.Accepted(), 1)
	assert.Equal(t, 2, h.ledger(in.Key).Attempts)
}

func TestRejectedIsFinalAndNeverRetried(t *testing.T) {
	h := newHarness(t)
	h.fake.FailNext(1, fakesendgrid.Fault{Status: 400, Message: "The from address does not match a verified Sender Identity."})
	in := escalatedInput("zendesk-4711/6/escalated")

	_, err := h.notifyCustomer(in)
	appErr := applicationError(t, err)
	assert.Equal(t, activities.ErrTypeEmailRejected, appErr.Type())
	assert.True(t, appErr.NonRetryable())
	assert.Contains(t, appErr.Error(), "verified Sender Identity")
	var details activities.NotifyResult
	require.NoError(t, appErr.Details(&details))
	assert.Equal(t, activities.StateFailed, details.State)

	rec := h.ledger(in.Key)
	assert.Equal(t, tierflow.NotificationFailed, rec.State)
	assert.Contains(t, rec.Error, "verified Sender Identity")

	// Should Temporal run it again anyway, nothing more is sent.
	res, err := h.notifyCustomer(in)
	require.NoError(t, err)
	assert.Equal(t, activities.StateFailed, res.State)
	assert.Equal(t, 1, h.fake.Requests(), "one request in all")
	assert.Empty(t, h.fake.Accepted())
}

func TestAddressTheProviderRefusesIsAClearError(t *testing.T) {
	h := newHarness(t)
	in := escalatedInput("zendesk-4711/7/escalated")
	in.Customer.Email = "ada(at)example"

	_, err := h.notifyCustomer(in)
	appErr := applicationError(t, err)
	assert.Equal(t, activities.ErrTypeEmailRejected, appErr.Type())
	assert.True(t, appErr.NonRetryable())
	assert.Contains(t, appErr.Error(), "email provider refused the message (400)")
	assert.Contains(t, appErr.Error(), "valid address")

	rec := h.ledger(in.Key)
	assert.Equal(t, tierflow.NotificationFailed, rec.State)
	assert.Equal(t, 1, rec.Attempts)
	assert.Empty(t, h.fake.Accepted())
	assert.Equal(t, 1, h.fake.Requests())

	// The rest of the ledger is untouched: another message of the case still goes.
	res, err := h.notifyCustomer(escalatedInput("zendesk-4711/8/escalated"))
	require.NoError(t, err)
	assert.Equal(t, activities.StateSent, res.State)
}

func TestLostAnswerIsNotResent(t *testing.T) {
	h := newHarness(t)
	h.fake.FailNext(1, fakesendgrid.Fault{Mode: fakesendgrid.AcceptThenDrop})
	in := escalatedInput("zendesk-4711/9/escalated")

	res, err := h.notifyCustomer(in)
	require.NoError(t, err)
	assert.Equal(t, activities.StateUnconfirmed, res.State)
	assert.Contains(t, res.Error, "outcome unknown (email provider unreachable)")
	rec := h.ledger(in.Key)
	assert.Equal(t, tierflow.NotificationUnconfirmed, rec.State)
	assert.Equal(t, res.Error, rec.Error)

	res, err = h.notifyCustomer(in)
	require.NoError(t, err)
	assert.Equal(t, activities.StateUnconfirmed, res.State)
	assert.Len(t, h.fake.Accepted(), 1, "the provider got it once, and only once")
	assert.Equal(t, 1, h.fake.Requests())
}

func TestNoCustomerAddressIsRecordedWithoutError(t *testing.T) {
	h := newHarness(t)
	in := escalatedInput("zendesk-4711/10/escalated")
	in.Customer.Email = ""
	res, err := h.notifyCustomer(in)
	require.NoError(t, err)
	assert.Equal(t, activities.StateFailed, res.State)
	assert.Equal(t, activities.ReasonNoRecipients, res.Error)
	rec := h.ledger(in.Key)
	assert.Equal(t, tierflow.NotificationFailed, rec.State)
	assert.Equal(t, activities.ReasonNoRecipients, rec.Error)
	assert.Zero(t, h.fake.Requests())
}

func TestSurveyLinkIsSignedAndStable(t *testing.T) {
	h := newHarness(t)
	expires := time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC)
	in := activities.NotifyCustomerInput{Key: "zendesk-4711/20/survey", CaseID: "zendesk-4711", Kind: tierflow.MsgSurvey,
		Customer: tierflow.Customer{Name: "Ada", Email: customerEmail},
		Data:     tierflow.MessageData{Subject: "Charged twice", ExpiresAt: &expires, SurveyRound: 2}}

	res, err := h.notifyCustomer(in)
	require.NoError(t, err)
	require.Equal(t, activities.StateSent, res.State)
	want := tierflow.SurveyLink{CaseID: "zendesk-4711", Round: 2, Expires: expires}
	token := tierflow.SignSurveyToken(surveyKey, want)
	link := "https://support.example.com/v1/surveys/" + token
	text := h.fake.Accepted()[0].Mail.Part("text/plain")
	assert.Contains(t, text, link)

	u, err := url.Parse(link)
	require.NoError(t, err)
	sent := strings.TrimPrefix(u.Path, "/v1/surveys/")
	got, err := tierflow.VerifySurveyToken([][]byte{surveyKey}, sent, expires.Add(-time.Hour))
	require.NoError(t, err, "the newest key signs")
	assert.Equal(t, want, got, "the link names the case and its survey round")
	_, err = tierflow.VerifySurveyToken([][]byte{previousSurveyKey}, sent, expires.Add(-time.Hour))
	assert.Equal(t, tierflow.CodeNotFound, tierflow.ErrorCode(err), "an older key of the list never signs")

	in.Key, in.Kind = "zendesk-4711/21/survey_reminder", tierflow.MsgSurveyReminder
	_, err = h.notifyCustomer(in)
	require.NoError(t, err)
	assert.Contains(t, h.fake.Accepted()[1].Mail.Part("text/plain"), link, "the reminder carries the same link")

	// A survey email scheduled before rounds names none: its survey is round 1.
	in.Key, in.Kind, in.Data.SurveyRound = "zendesk-4711/22/survey_reminder", tierflow.MsgSurveyReminder, 0
	_, err = h.notifyCustomer(in)
	require.NoError(t, err)
	legacy := tierflow.SignSurveyToken(surveyKey, tierflow.SurveyLink{CaseID: "zendesk-4711", Round: tierflow.LegacySurveyRound, Expires: expires})
	assert.Contains(t, h.fake.Accepted()[2].Mail.Part("text/plain"), "/v1/surveys/"+legacy)

	in.Key, in.Data.ExpiresAt = "zendesk-4711/23/survey", nil
	_, err = h.notifyCustomer(in)
	appErr := applicationError(t, err)
	assert.Equal(t, activities.ErrTypeInvalidInput, appErr.Type())
	assert.True(t, appErr.NonRetryable())
}

func TestMissingKeyIsInvalidInput(t *testing.T) {
	h := newHarness(t)
	in := escalatedInput("")
	_, err := h.notifyCustomer(in)
	appErr := applicationError(t, err)
	assert.Equal(t, activities.ErrTypeInvalidInput, appErr.Type())
	assert.True(t, appErr.NonRetryable())
	assert.Zero(t, h.fake.Requests())
}
