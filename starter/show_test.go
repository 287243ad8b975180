package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// seedCase puts a case in the middle of its life into the fake: escalated to tier 2
// after a breach, a compensation waiting for approval, deadlines relative to now.
func seedCase(api *fakeAPI) {
	now := time.Now().UTC()
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	owner, notResolved := "spec-7", false
	api.views["zendesk-48213"] = tierflow.CaseView{
		ID: "zendesk-48213", Source: "zendesk", ExternalID: "48213", Status: tierflow.StatusAwaitingApproval,
		Tier: 2, StartTier: 1, Escalations: 1, Department: "billing", Assignee: &owner,
		Priority: tierflow.PriorityHigh, Category: "billing", Subject: "Refund not received", Trigger: tierflow.TriggerUnresolved,
		Customer: tierflow.Customer{ID: "C-991", Name: "Ada Lovelace", Email: "ada@example.com", VIP: true},
		Policy:   tierflow.PolicyRef{Name: "standard", Version: "2026-11-01"},
		OpenedAt: now.Add(-26 * time.Hour),
		Deadlines: tierflow.Deadlines{
			AcknowledgeBy: at(80*time.Minute + 30*time.Second),
			CloseTargetAt: at(29*24*time.Hour - 2*time.Hour + 30*time.Second),
			Explanations: []tierflow.Deadline{
				{Clock: tierflow.ClockAcknowledge, Tier: 2, At: *at(80*time.Minute + 30*time.Second),
					Explanation: "4h of business hours (Mon-Fri 09:00-17:00 Europe/Paris) from 2026-11-21T09:00Z, policy 2026-11-01"},
				{Clock: tierflow.ClockAwaitCustomer, At: *at(5*24*time.Hour + 30*time.Second), Explanation: "reminder 5d after the request"},
			},
		},
		Breaches: []tierflow.Breach{{Clock: tierflow.ClockAcknowledge, Tier: 1, At: now.Add(-3*time.Hour - 30*time.Second)}},
		PendingApproval: &tierflow.Approval{ID: "apr-1", AmountCents: 30000, Currency: "EUR", Description: "goodwill",
			RequestedBy: "spec-7", RequiredTier: 3, ExpiresAt: now.Add(4*time.Hour + 30*time.Second)},
		Compensation: []tierflow.Compensation{{ID: "comp-1", AmountCents: 1250, Currency: "EUR", Description: "fees",
			ProposedBy: "agent-1", Status: "approved"}},
		Survey: &tierflow.SurveyState{Status: "answered", SentAt: at(-48*time.Hour + 30*time.Second), Score: 2,
			Resolved: &notResolved, Comment: "still\nwaiting"},
	}
	api.events["zendesk-48213"] = []tierflow.CaseEvent{
		{Seq: 1, Type: tierflow.EventOpened, At: time.Date(2026, 11, 20, 9, 15, 0, 0, time.UTC), Actor: tierflow.Principal{ID: "zendesk-crm"},
			Tier: 1, Reason: "unresolved", CustomerMessage: "We escalated your case."},
		{Seq: 2, Type: tierflow.EventBreach, At: time.Date(2026, 11, 20, 17, 15, 0, 0, time.UTC), Actor: tierflow.SystemActor,
			Tier: 1, Details: map[string]string{"clock": "acknowledge"}},
		{Seq: 3, Type: tierflow.EventEscalated, At: time.Date(2026, 11, 20, 17, 15, 1, 0, time.UTC), Actor: tierflow.SystemActor,
			FromTier: 1, Tier: 2, Department: "billing", Reason: "acknowledge deadline missed", Details: map[string]string{"mode": "automatic"}},
	}
}

func TestShowRendersCaseDeadlinesAndTimeline(t *testing.T) {
	api := newFakeAPI(t)
	seedCase(api)
	res := api.as("dev-agent", "show", "zendesk-48213")
	require.Equal(t, 0, res.code, res.stderr)
	out := res.stdout
	t.Log("\n" + out)

	for _, want := range []string{
		"Case zendesk-48213: Refund not received\n",
		"  status      awaiting_approval\n",
		"  tier        2 (specialist), started at 1, 1 escalation\n",
		"  owner       spec-7\n",
		"  customer    C-991 Ada Lovelace <ada@example.com> (VIP)\n",
		"  policy      standard 2026-11-01\n",
		"(1d2h ago)\n",
		// deadlines: instant, relative time, and the explanation under it
		"  acknowledge by           ",
		"Z  in 1h20m\n                             4h of business hours (Mon-Fri 09:00-17:00 Europe/Paris) from 2026-11-21T09:00Z, policy 2026-11-01\n",
		"  resolve by               -\n",
		"  30-day close target      ",
		"Z  in 28d22h\n",
		"  awaiting customer        ",
		"Z  in 5d\n                             reminder 5d after the request\n",
		"\nBreaches\n  acknowledge deadline missed at tier 1, ",
		"(3h ago)\n",
		"\nPending approval\n  apr-1: 300.00 EUR for \"goodwill\", requested by spec-7, needs tier 3 (supervisor), expires ",
		"(in 4h)\n",
		"\nCompensation\n  comp-1  12.50 EUR  approved  \"fees\", proposed by agent-1\n",
		"\nSurvey\n  answered, sent ",
		"(1d23h ago), score 2/5, resolved: no, \"still waiting\"\n",
		"\nTimeline (3 events)\n",
		"  TIME                  ACTOR        EVENT       TIER  DETAILS\n",
		"  2026-11-20 09:15:00Z  zendesk-crm  opened      1     unresolved; customer told: \"We escalated your case.\"\n",
		"  2026-11-20 17:15:00Z  tierflow     sla_breach  1     clock=acknowledge\n",
		"  2026-11-20 17:15:01Z  tierflow     escalated   1->2  department billing; acknowledge deadline missed; mode=automatic\n",
	} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "approval by", "an unset approval clock is not listed")

	res = api.as("dev-agent", "show", "zendesk-48213", "--json")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, `"case": {`)
	assert.Contains(t, res.stdout, `"type": "escalated"`)
}

func TestRelativeTimes(t *testing.T) {
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	tests := map[time.Duration]string{
		10 * time.Second:                    "now",
		-10 * time.Second:                   "now",
		45 * time.Second:                    "in 45s",
		5*time.Minute + 3*time.Second:       "in 5m3s",
		-(2*time.Hour + 5*time.Minute):      "2h5m ago",
		3 * time.Hour:                       "in 3h",
		50 * time.Hour:                      "in 2d2h",
		-(30*24*time.Hour + 59*time.Minute): "30d ago",
	}
	for d, want := range tests {
		assert.Equal(t, want, relative(now.Add(d), now), "offset %s", d)
	}
}
