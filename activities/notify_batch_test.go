package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
	"github.com/tierflow/tierflow/internal/fakesendgrid"
)

// escalationBatch is an escalation's emails as the workflow batches them: the
// customer's and the tier queue's, each without what the batch names once (the
// case ID, the customer's name and locale in the data).
func escalationBatch(seq string) activities.NotifyInput {
	customer := escalatedInput("zendesk-4711/" + seq + "/escalated")
	customer.CaseID, customer.Data.CustomerName = "", ""
	return activities.NotifyInput{CaseID: "zendesk-4711", Messages: []activities.NotifyMessage{
		{Customer: &customer},
		{Staff: &activities.NotifyStaffInput{Key: "zendesk-4711/" + seq + "/staff_assignment", Kind: tierflow.MsgStaffAssignment,
			Groups: []string{activities.StaffQueue}, Tier: 2, Department: "billing",
			Queues: map[tierflow.Tier]string{2: "tier2@support.example.com"},
			Data:   tierflow.MessageData{Subject: "Charged twice", Reason: "escalated from tier 1"}}},
	}}
}

func (h *harness) notifyBatch(in activities.NotifyInput) (activities.NotifyBatchResult, error) {
	h.t.Helper()
	return run[activities.NotifyBatchResult](h.t, h.env, h.acts.Notify, in)
}

// One activity sends a transition's emails, each once per its key: run again (a
// retry), it sends nothing more, message by message, as separate activities did.
func TestNotifyBatchSendsEachMessageOnce(t *testing.T) {
	h := newHarness(t)
	in := escalationBatch("5")

	first, err := h.notifyBatch(in)
	require.NoError(t, err)
	require.Len(t, first.Outcomes, 2)
	assert.Equal(t, activities.NotifyOutcome{Key: "zendesk-4711/5/escalated", Kind: tierflow.MsgEscalated,
		State: activities.StateSent}, first.Outcomes[0])
	assert.Equal(t, activities.StateSent, first.Outcomes[1].State)

	second, err := h.notifyBatch(in)
	require.NoError(t, err)
	for _, o := range second.Outcomes {
		assert.Equal(t, activities.StateDuplicate, o.State, o.Key)
	}
	accepted := h.fake.Accepted()
	require.Len(t, accepted, 2, "two emails in all")
	assert.Equal(t, []string{customerEmail}, accepted[0].Mail.Recipients())
	assert.Contains(t, accepted[0].Mail.Part("text/plain"), "Hello Ada Lovelace,", "the name comes from the batch's customer")
	assert.Equal(t, []string{"tier2@support.example.com"}, accepted[1].Mail.Recipients())
	for _, m := range in.Messages {
		key := m.Staff
		if key == nil {
			assert.Equal(t, "zendesk-4711", h.ledger(m.Customer.Key).CaseID, "the batch names the case")
			continue
		}
		rec := h.ledger(key.Key)
		assert.Equal(t, tierflow.NotificationSent, rec.State)
		assert.Equal(t, "zendesk-4711", rec.CaseID)
	}
}

// A message the provider refuses is an outcome that never stops the others; an
// unavailable provider fails the batch for a retry after its Retry-After, and on
// that retry the refusal reads the same from the ledger while the released
// message goes out: each key keeps its own fate.
func TestNotifyBatchRefusalAndRetryKeepEachMessagesFate(t *testing.T) {
	h := newHarness(t)
	h.fake.FailNext(1, fakesendgrid.Fault{Status: 400, Message: "The from address does not match a verified Sender Identity."})
	h.fake.FailNext(1, fakesendgrid.Fault{Status: 429, RetryAfter: 9 * time.Second})
	in := escalationBatch("6")

	_, err := h.notifyBatch(in)
	appErr := applicationError(t, err)
	assert.Equal(t, activities.ErrTypeEmailUnavailable, appErr.Type())
	assert.False(t, appErr.NonRetryable())
	assert.Equal(t, 9*time.Second, appErr.NextRetryDelay(), "the batch waits as the provider asked")
	assert.Equal(t, tierflow.NotificationFailed, h.ledger("zendesk-4711/6/escalated").State)
	assert.Equal(t, tierflow.NotificationNew, h.ledger("zendesk-4711/6/staff_assignment").State, "released: nothing was sent")

	retried, err := h.notifyBatch(in)
	require.NoError(t, err)
	require.Len(t, retried.Outcomes, 2)
	refused := retried.Outcomes[0]
	assert.Equal(t, activities.StateRefused, refused.State, "still refused, not sent again")
	assert.Equal(t, "email rejected: email provider refused the message (400): The from address does not match a verified Sender Identity.",
		refused.Error)
	assert.Equal(t, activities.StateSent, retried.Outcomes[1].State)
	assert.Equal(t, 3, h.fake.Requests(), "the refused message was asked once")
	require.Len(t, h.fake.Accepted(), 1)
	assert.Equal(t, []string{"tier2@support.example.com"}, h.fake.Accepted()[0].Mail.Recipients())
}

// A message an earlier attempt claimed and never settled (the worker died while
// the provider had it) is not sent again: unconfirmed, while the rest of the
// batch goes out.
func TestNotifyBatchDoesNotResendAClaimLeftSending(t *testing.T) {
	h := newHarness(t)
	in := escalationBatch("7")
	_, err := h.store.ClaimNotification(context.Background(), tierflow.NotificationClaim{Key: "zendesk-4711/7/escalated",
		CaseID: "zendesk-4711", Kind: tierflow.MsgEscalated, Audience: tierflow.AudienceCustomer, Recipients: 1})
	require.NoError(t, err)

	res, err := h.notifyBatch(in)
	require.NoError(t, err)
	assert.Equal(t, activities.StateUnconfirmed, res.Outcomes[0].State)
	assert.Equal(t, activities.ReasonCrashedWhileSending, res.Outcomes[0].Error)
	assert.Equal(t, activities.StateSent, res.Outcomes[1].State)
	assert.Len(t, h.fake.Accepted(), 1, "only the staff message")
	assert.Equal(t, tierflow.NotificationUnconfirmed, h.ledger("zendesk-4711/7/escalated").State)
}

// A batch that is not one case's messages is refused before anything is claimed.
func TestNotifyBatchOfAnotherCaseIsInvalid(t *testing.T) {
	h := newHarness(t)
	in := escalationBatch("8")
	in.Messages[1].Staff.CaseID = "zendesk-9999"

	_, err := h.notifyBatch(in)
	appErr := applicationError(t, err)
	assert.Equal(t, activities.ErrTypeInvalidInput, appErr.Type())
	assert.True(t, appErr.NonRetryable())
	_, err = h.notifyBatch(activities.NotifyInput{CaseID: "zendesk-4711"})
	assert.Equal(t, activities.ErrTypeInvalidInput, applicationError(t, err).Type())
	assert.Zero(t, h.fake.Requests())
}
