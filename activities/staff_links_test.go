package activities_test

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// fakeStaffLinks is a hand-written activities.StaffLinks: the CRM link of a case
// is https://crm.example.com/tickets/<case id>, unless failing.
type fakeStaffLinks struct{ failCRM bool }

func (f *fakeStaffLinks) WorkflowURL(caseID string) string {
	return "https://temporal.example.com/namespaces/default/workflows/case-" + caseID
}

func (f *fakeStaffLinks) CRMURL(_ context.Context, caseID string) (string, error) {
	if f.failCRM {
		return "", errors.New("temporal: describe failed")
	}
	return "https://crm.example.com/tickets/" + caseID, nil
}

var approvalLinkPattern = regexp.MustCompile(`https://support\.example\.com/v1/approvals/[A-Za-z0-9_.-]+`)

func TestNotifyStaffApprovalCarriesSignedLinks(t *testing.T) {
	h := newHarness(t)
	seedStaff(t, h)
	expires := time.Now().Add(4 * time.Hour).Truncate(time.Second).UTC()
	ap := &tierflow.Approval{ID: "apr-9", Compensation: "comp-9", AmountCents: 40000, Currency: "EUR", Description: "refund",
		RequestedBy: "s1", RequiredTier: tierflow.TierSupervisor, RequestedAt: time.Now(), ExpiresAt: expires}
	in := activities.NotifyStaffInput{Key: "zendesk-9/12/staff_approval", CaseID: "zendesk-9", Kind: tierflow.MsgStaffApproval,
		Groups: []string{activities.StaffTier}, Tier: tierflow.TierSupervisor, Department: "billing", Queues: queues,
		Data: tierflow.MessageData{Subject: "Charged twice", Approval: ap}}
	res, err := h.notifyStaff(in)
	require.NoError(t, err)
	require.Equal(t, activities.StateSent, res.State)
	accepted := h.fake.Accepted()
	require.Len(t, accepted, 1)
	text := accepted[0].Mail.Part("text/plain")
	links := approvalLinkPattern.FindAllString(text, -1)
	require.Len(t, links, 2, "an approve and a reject link: %s", text)
	want := map[tierflow.Action]bool{tierflow.ActionApprove: true, tierflow.ActionReject: true}
	for _, l := range links {
		u, err := url.Parse(l)
		require.NoError(t, err)
		token := strings.TrimPrefix(u.Path, "/v1/approvals/")
		// The API verifies with every configured key; the newest signed.
		link, err := tierflow.VerifyApprovalToken([][]byte{surveyKey}, token, time.Now())
		require.NoError(t, err)
		assert.Equal(t, "zendesk-9", link.CaseID)
		assert.Equal(t, "apr-9", link.ApprovalID)
		assert.Equal(t, tierflow.TierSupervisor, link.Tier, "bound to the tier the request went to")
		assert.Equal(t, "billing", link.Department, "bound to the department whose staff got the email")
		assert.True(t, link.Expires.Equal(expires), "expires with the approval clock")
		assert.True(t, want[link.Decision], "decision %s", link.Decision)
		delete(want, link.Decision)
		_, err = tierflow.VerifyApprovalToken([][]byte{previousSurveyKey}, token, time.Now())
		assert.Equal(t, tierflow.CodeNotFound, tierflow.ErrorCode(err), "signed with the newest key only")
	}
	assert.Empty(t, want)
}

func TestNotifyStaffWithoutTheCRMLinkWhenItsLookupFails(t *testing.T) {
	h := newHarness(t)
	seedStaff(t, h)
	h.acts.StaffLinks = &fakeStaffLinks{failCRM: true}
	h.env = newActivityEnv(h.acts, h.logs)
	res, err := h.notifyStaff(activities.NotifyStaffInput{Key: "zendesk-3/4/staff_breach", CaseID: "zendesk-3",
		Kind: tierflow.MsgStaffBreach, Groups: []string{activities.StaffQueue}, Tier: 2, Queues: queues,
		Data: tierflow.MessageData{Subject: "Late parcel", Clock: tierflow.ClockAcknowledge}})
	require.NoError(t, err)
	assert.Equal(t, activities.StateSent, res.State, "a link is never worth an email")
	text := h.fake.Accepted()[0].Mail.Part("text/plain")
	assert.NotContains(t, text, "crm.example.com")
	assert.Contains(t, text, "https://temporal.example.com/namespaces/default/workflows/case-zendesk-3")
	assert.Contains(t, h.logs.String(), "without its CRM link")
}

func TestNotifyStaffApprovalWithoutTheApprovalIsInvalid(t *testing.T) {
	h := newHarness(t)
	_, err := h.notifyStaff(activities.NotifyStaffInput{Key: "k/1/staff_approval", CaseID: "k", Kind: tierflow.MsgStaffApproval,
		Groups: []string{activities.StaffQueue}, Tier: 3, Queues: queues})
	appErr := applicationError(t, err)
	assert.Equal(t, activities.ErrTypeInvalidInput, appErr.Type())
	assert.Zero(t, h.fake.Requests())
}
