package activities_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
	"github.com/tierflow/tierflow/sendgrid"
)

var staff = []tierflow.StaffMember{
	{ID: "a1", Name: "Alex", Email: "alex@support.example.com", Role: tierflow.RoleAgent, Tier: 1, Departments: []string{"billing"}, Active: true},
	{ID: "s1", Name: "Sam", Email: "sam@support.example.com", Role: tierflow.RoleSpecialist, Tier: 2, Departments: []string{"billing"}, Active: true},
	{ID: "s2", Name: "Casey", Email: "casey@support.example.com", Role: tierflow.RoleSpecialist, Tier: 2, Departments: []string{"shipping"}, Active: true},
	{ID: "s3", Name: "Gone", Email: "gone@support.example.com", Role: tierflow.RoleSpecialist, Tier: 2, Departments: []string{"billing"}, Active: false},
	{ID: "m1", Name: "Morgan", Email: "morgan@support.example.com", Role: tierflow.RoleSupervisor, Tier: 3, Departments: []string{"billing"}, Active: true},
	{ID: "m2", Name: "Riley", Email: "riley@support.example.com", Role: tierflow.RoleSupervisor, Tier: 3, Departments: []string{"shipping"}, Active: true},
	{ID: "e1", Name: "Jordan", Email: "jordan@support.example.com", Role: tierflow.RoleExecutive, Tier: 4, Active: true},
}

var queues = map[tierflow.Tier]string{1: "tier1@support.example.com", 2: "tier2@support.example.com",
	3: "tier3@support.example.com", 4: "exec@support.example.com"}

func seedStaff(t *testing.T, h *harness) {
	t.Helper()
	for _, m := range staff {
		require.NoError(t, h.store.UpsertStaff(context.Background(), m))
	}
}

func TestNotifyStaffResolvesGroups(t *testing.T) {
	h := newHarness(t)
	seedStaff(t, h)
	tests := []struct {
		name     string
		groups   []string
		tier     tierflow.Tier
		assignee string
		want     []string
	}{
		{"owner", []string{activities.StaffOwner}, 2, "s1", []string{"sam@support.example.com"}},
		{"inactive owner", []string{activities.StaffOwner}, 2, "s3", nil},
		{"queue", []string{activities.StaffQueue}, 2, "", []string{"tier2@support.example.com"}},
		{"owner and supervisor, no duplicates", []string{activities.StaffOwner, activities.StaffSupervisor, activities.StaffSupervisor}, 3, "m1",
			[]string{"jordan@support.example.com", "morgan@support.example.com", "tier3@support.example.com"}},
		{"executive", []string{activities.StaffExecutive}, 3, "", []string{"exec@support.example.com", "jordan@support.example.com"}},
		{"tier", []string{activities.StaffTier}, 2, "", []string{"jordan@support.example.com", "morgan@support.example.com",
			"sam@support.example.com", "tier2@support.example.com"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(h.fake.Accepted())
			in := activities.NotifyStaffInput{Key: "zendesk-4711/40/staff_warning/" + string(rune('a'+i)), CaseID: "zendesk-4711",
				Kind: tierflow.MsgStaffWarning, Groups: tt.groups, Tier: tt.tier, Department: "billing",
				AssigneeID: tt.assignee, Queues: queues,
				Data: tierflow.MessageData{Subject: "Charged twice", Clock: tierflow.ClockResolve}}
			res, err := h.notifyStaff(in)
			require.NoError(t, err)
			accepted := h.fake.Accepted()[before:]
			if tt.want == nil {
				assert.Equal(t, activities.StateFailed, res.State)
				assert.Equal(t, activities.ReasonNoRecipients, res.Error)
				assert.Empty(t, accepted)
				rec := h.ledger(in.Key)
				assert.Equal(t, tierflow.NotificationFailed, rec.State)
				assert.Equal(t, activities.ReasonNoRecipients, rec.Error)
				return
			}
			assert.Equal(t, activities.StateSent, res.State)
			require.Len(t, accepted, 1, "one message to all recipients")
			assert.Equal(t, tt.want, accepted[0].Mail.Recipients())
			text := accepted[0].Mail.Part("text/plain")
			assert.Contains(t, text, "https://crm.example.com/tickets/zendesk-4711", "the CRM ticket")
			assert.Contains(t, text, "https://temporal.example.com/namespaces/default/workflows/case-zendesk-4711", "the case in the Temporal UI")
			assert.NotContains(t, text, "/v1/cases/", "never the raw API")
			assert.Equal(t, tierflow.NotificationSent, h.ledger(in.Key).State)
		})
	}
	assert.NotContains(t, h.logs.String(), "@support.example.com", "logs never carry addresses")
}

func TestNotifyStaffUnknownGroupIsInvalid(t *testing.T) {
	h := newHarness(t)
	_, err := h.notifyStaff(activities.NotifyStaffInput{Key: "k/1/staff_breach", CaseID: "k", Kind: tierflow.MsgStaffBreach,
		Groups: []string{"everyone"}, Tier: 1})
	appErr := applicationError(t, err)
	assert.Equal(t, activities.ErrTypeInvalidInput, appErr.Type())
	assert.Zero(t, h.fake.Requests())
}

func TestAssignOwner(t *testing.T) {
	h := newHarness(t)
	seedStaff(t, h)

	res, err := run[activities.AssignOwnerResult](t, h.env, h.acts.AssignOwner,
		activities.AssignOwnerInput{CaseID: "zendesk-4711", Tier: 2, Department: "billing", QueueAddress: "tier2@support.example.com"})
	require.NoError(t, err)
	assert.Equal(t, activities.AssignOwnerResult{AssigneeID: "s1", AssigneeName: "Sam"}, res)

	res, err = run[activities.AssignOwnerResult](t, h.env, h.acts.AssignOwner,
		activities.AssignOwnerInput{CaseID: "zendesk-4711", Tier: 2, Department: "legal", QueueAddress: "tier2@support.example.com"})
	require.NoError(t, err)
	assert.Equal(t, activities.AssignOwnerResult{Queue: "tier2@support.example.com"}, res, "nobody serves legal: the queue")

	_, err = run[activities.AssignOwnerResult](t, h.env, h.acts.AssignOwner, activities.AssignOwnerInput{CaseID: "x", Tier: 9})
	assert.Equal(t, activities.ErrTypeInvalidInput, applicationError(t, err).Type())
}

func TestRecordTransition(t *testing.T) {
	h := newHarness(t)
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	view := tierflow.CaseView{ID: "zendesk-4711", Source: "zendesk", ExternalID: "4711", Seq: 1,
		Status: tierflow.StatusOpen, Tier: 1, StartTier: 1, Priority: tierflow.PriorityNormal, Category: "billing",
		Subject: "Charged twice", Trigger: tierflow.TriggerUnresolved, OpenedAt: at, EscalatedAt: at}
	in := activities.RecordTransitionInput{Transition: tierflow.Transition{CaseID: view.ID, View: view,
		Events: []tierflow.CaseEvent{{CaseID: view.ID, Seq: 1, Type: tierflow.EventOpened, At: at,
			Actor: tierflow.SystemActor, Tier: 1, Status: tierflow.StatusOpen}}}}

	for range 2 { // a retry is harmless
		_, err := h.env.ExecuteActivity(h.acts.RecordTransition, in)
		require.NoError(t, err)
	}
	events, err := h.store.CaseEvents(context.Background(), view.ID)
	require.NoError(t, err)
	assert.Len(t, events, 1)

	bad := in
	bad.Events = []tierflow.CaseEvent{{CaseID: "another-case", Seq: 2, Type: tierflow.EventNote, At: at}}
	_, err = h.env.ExecuteActivity(h.acts.RecordTransition, bad)
	appErr := applicationError(t, err)
	assert.Equal(t, activities.ErrTypeInvalidInput, appErr.Type())
	assert.True(t, appErr.NonRetryable())
}

func TestDevMailboxKeepsEveryMessageOnce(t *testing.T) {
	h := newHarness(t)
	dev, err := sendgrid.NewDevMailbox(h.store)
	require.NoError(t, err)
	acts := *h.acts
	acts.Mailer = dev
	env := newActivityEnv(&acts, h.logs)

	in := escalatedInput("zendesk-4711/50/escalated")
	first, err := run[activities.NotifyResult](t, env, acts.NotifyCustomer, in)
	require.NoError(t, err)
	assert.Equal(t, activities.StateSent, first.State)
	assert.True(t, strings.HasPrefix(first.ProviderMessageID, "mailbox-"), first.ProviderMessageID)
	second, err := run[activities.NotifyResult](t, env, acts.NotifyCustomer, in)
	require.NoError(t, err)
	assert.Equal(t, activities.StateDuplicate, second.State)

	msgs, err := h.store.ListMail(context.Background(), "zendesk-4711", 10)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	assert.Equal(t, []string{customerEmail}, msgs[0].To)
	assert.Contains(t, msgs[0].Subject, "our billing team")
	assert.Equal(t, tierflow.NotificationSent, h.ledger(in.Key).State)
	assert.Zero(t, h.fake.Requests(), "nothing went to the provider")

	srv := httptest.NewServer(http.StripPrefix("/dev/mailbox", sendgrid.MailboxHandler(h.store)))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/dev/mailbox/?case=zendesk-4711")
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	page, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	assert.Contains(t, string(page), msgs[0].Subject)
}
