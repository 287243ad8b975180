package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

func TestGetCaseRoundTripsTheView(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	v := testCase("zendesk-10", 4)
	v.Assignee = ptr("dev-agent")
	v.Customer = tierflow.Customer{ID: "cu-1", Name: "Ana", Email: "ana@example.com"}
	v.Breaches = []tierflow.Breach{{Clock: tierflow.ClockAcknowledge, Tier: 1, At: baseTime.Add(time.Hour)}}
	v.Deadlines.ResolveBy = ptr(baseTime.Add(8 * time.Hour))
	v.Deadlines.Explanations = []tierflow.Deadline{{Clock: tierflow.ClockResolve, Tier: 1, At: baseTime.Add(8 * time.Hour),
		Start: baseTime, Duration: tierflow.Duration{Duration: 8 * time.Hour}, Calendar: "24x7", Explanation: "8h"}}
	v.Survey = &tierflow.SurveyState{Status: "sent", Score: 0}
	record(t, s, v)

	got, err := s.GetCase(ctx, "zendesk-10")
	require.NoError(t, err)
	assert.Equal(t, v, got)

	_, err = s.GetCase(ctx, "zendesk-nope")
	requireCode(t, err, tierflow.CodeNotFound)
	_, err = s.CaseEvents(ctx, "zendesk-nope")
	requireCode(t, err, tierflow.CodeNotFound)
	events, err := s.CaseEvents(ctx, "zendesk-10")
	require.NoError(t, err)
	assert.Empty(t, events, "a known case without events is an empty timeline")
}

func TestListCasesFiltersAndPages(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	type spec struct {
		id       string
		hoursAgo int
		status   tierflow.Status
		tier     tierflow.Tier
		priority tierflow.Priority
		dept     string
		assignee string
		source   string
		breached bool
	}
	specs := []spec{
		{"zendesk-1", 10, tierflow.StatusOpen, 1, tierflow.PriorityNormal, "billing", "", "zendesk", false},
		{"zendesk-2", 9, tierflow.StatusInProgress, 2, tierflow.PriorityHigh, "technical", "dev-specialist", "zendesk", true},
		{"zendesk-3", 8, tierflow.StatusInProgress, 2, tierflow.PriorityHigh, "billing", "dev-specialist", "zendesk", false},
		{"hubspot-1", 8, tierflow.StatusResolved, 3, tierflow.PriorityUrgent, "billing", "dev-supervisor", "hubspot", true},
		{"hubspot-2", 8, tierflow.StatusOpen, 1, tierflow.PriorityLow, "shipping", "", "hubspot", false},
		{"hubspot-3", 2, tierflow.StatusClosed, 4, tierflow.PriorityUrgent, "billing", "dev-executive", "hubspot", true},
		{"zendesk-4", 1, tierflow.StatusOpen, 1, tierflow.PriorityNormal, "billing", "", "zendesk", false},
	}
	now := baseTime.Add(24 * time.Hour)
	for _, sp := range specs {
		v := testCase(sp.id, 1)
		v.OpenedAt = now.Add(-time.Duration(sp.hoursAgo) * time.Hour)
		v.Status, v.Tier, v.Priority, v.Department, v.Source = sp.status, sp.tier, sp.priority, sp.dept, sp.source
		if sp.assignee != "" {
			v.Assignee = ptr(sp.assignee)
		}
		if sp.breached {
			v.Breaches = []tierflow.Breach{{Clock: tierflow.ClockResolve, Tier: sp.tier, At: now}}
		}
		record(t, s, v)
	}

	ids := func(f tierflow.CaseFilter) []string {
		t.Helper()
		page, err := s.ListCases(ctx, f)
		require.NoError(t, err)
		out := []string{}
		for _, c := range page.Cases {
			out = append(out, c.ID)
		}
		return out
	}
	tests := []struct {
		name   string
		filter tierflow.CaseFilter
		want   []string
	}{
		{"all, newest first, ties by id descending", tierflow.CaseFilter{},
			[]string{"zendesk-4", "hubspot-3", "zendesk-3", "hubspot-2", "hubspot-1", "zendesk-2", "zendesk-1"}},
		{"status", tierflow.CaseFilter{Status: tierflow.StatusOpen}, []string{"zendesk-4", "hubspot-2", "zendesk-1"}},
		{"tier", tierflow.CaseFilter{Tier: 2}, []string{"zendesk-3", "zendesk-2"}},
		{"priority", tierflow.CaseFilter{Priority: tierflow.PriorityUrgent}, []string{"hubspot-3", "hubspot-1"}},
		{"department", tierflow.CaseFilter{Department: "shipping"}, []string{"hubspot-2"}},
		{"assignee", tierflow.CaseFilter{Assignee: "dev-specialist"}, []string{"zendesk-3", "zendesk-2"}},
		{"source", tierflow.CaseFilter{Source: "hubspot"}, []string{"hubspot-3", "hubspot-2", "hubspot-1"}},
		{"a scoped integration's sources", tierflow.CaseFilter{Sources: []string{"hubspot", "freshdesk"}}, []string{"hubspot-3", "hubspot-2", "hubspot-1"}},
		{"sources and source", tierflow.CaseFilter{Sources: []string{"hubspot"}, Source: "zendesk"}, []string{}},
		{"breached", tierflow.CaseFilter{Breached: ptr(true)}, []string{"hubspot-3", "hubspot-1", "zendesk-2"}},
		{"not breached", tierflow.CaseFilter{Breached: ptr(false)}, []string{"zendesk-4", "zendesk-3", "hubspot-2", "zendesk-1"}},
		{"combined", tierflow.CaseFilter{Department: "billing", Breached: ptr(false), Status: tierflow.StatusOpen}, []string{"zendesk-4", "zendesk-1"}},
		{"nothing", tierflow.CaseFilter{Tier: 4, Status: tierflow.StatusOpen}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, ids(tt.filter)) })
	}

	t.Run("cursor pages through everything once", func(t *testing.T) {
		var got []string
		var pages int
		f := tierflow.CaseFilter{Limit: 3}
		for {
			page, err := s.ListCases(ctx, f)
			require.NoError(t, err)
			pages++
			for _, c := range page.Cases {
				got = append(got, c.ID)
			}
			if page.NextCursor == "" {
				break
			}
			require.Len(t, page.Cases, 3)
			f.Cursor = page.NextCursor
		}
		assert.Equal(t, 3, pages)
		assert.Equal(t, ids(tierflow.CaseFilter{}), got)
	})

	t.Run("an exact last page has no next cursor", func(t *testing.T) {
		page, err := s.ListCases(ctx, tierflow.CaseFilter{Source: "hubspot", Limit: 3})
		require.NoError(t, err)
		assert.Len(t, page.Cases, 3)
		assert.Empty(t, page.NextCursor)
	})

	t.Run("invalid filters", func(t *testing.T) {
		for _, f := range []tierflow.CaseFilter{
			{Cursor: "not a cursor"}, {Cursor: "eyJ4IjoxfQ"}, {Tier: 9}, {Status: "lost"}, {Priority: "asap"}, {Limit: -1},
		} {
			_, err := s.ListCases(ctx, f)
			requireCode(t, err, tierflow.CodeInvalid)
		}
	})

	t.Run("limit is capped", func(t *testing.T) {
		page, err := s.ListCases(ctx, tierflow.CaseFilter{Limit: 5000})
		require.NoError(t, err)
		assert.Len(t, page.Cases, len(specs))
	})
}

func TestMailbox(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	msg := tierflow.MailboxMessage{Key: "zendesk-1/2/escalated", CaseID: "zendesk-1", Kind: tierflow.MsgEscalated,
		To: []string{"ana@example.com"}, Subject: "Your case was escalated", Text: "Hello", HTML: "<p>Hello</p>",
		CreatedAt: baseTime}
	id, err := s.SaveMail(ctx, msg)
	require.NoError(t, err)
	again, err := s.SaveMail(ctx, msg)
	require.NoError(t, err)
	assert.Equal(t, id, again, "saving the same key twice keeps one message")

	other := msg
	other.Key, other.CaseID, other.To = "zendesk-2/1/survey", "zendesk-2", nil
	otherID, err := s.SaveMail(ctx, other)
	require.NoError(t, err)
	assert.Greater(t, otherID, id)

	got, err := s.GetMail(ctx, id)
	require.NoError(t, err)
	msg.ID = id
	assert.Equal(t, msg, got)

	list, err := s.ListMail(ctx, "", 0)
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, otherID, list[0].ID, "newest first")
	assert.Equal(t, []string{}, list[0].To)
	list, err = s.ListMail(ctx, "zendesk-1", 10)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, id, list[0].ID)

	_, err = s.GetMail(ctx, 999)
	requireCode(t, err, tierflow.CodeNotFound)
	_, err = s.SaveMail(ctx, tierflow.MailboxMessage{})
	requireCode(t, err, tierflow.CodeInvalid)
}
