package postgres

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// The KPI data set: cases opened in October 2026 (the window) plus two outside it
// whose events must not count. Expected figures are computed by hand in
// kpis_test.go from this table.
var (
	kpiFrom = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	kpiTo   = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
)

type money struct {
	event    tierflow.EventType // compensation_recorded, approval_requested or approved
	cents    int64
	currency string
}

type kpiCase struct {
	id          string
	category    string
	dept        string
	priority    tierflow.Priority
	startTier   tierflow.Tier
	escalatedTo []tierflow.Tier // destination tiers, in order
	breaches    []tierflow.Tier // tiers whose acknowledge clock was breached
	// tiers whose resolve clock was breached
	resolveBreaches []tierflow.Tier
	// the case's close target (its policy's) broke
	closeTargetBreached bool
	status              tierflow.Status // when not resolved
	resolvedIn          time.Duration   // 0: never resolved
	reopens             int
	surveySent          bool
	score               int // 0: no answer
	money               []money
	openedAt            time.Time
}

func inWindow(day int) time.Time { return kpiFrom.Add(time.Duration(day) * 24 * time.Hour) }

const h = time.Hour

var kpiCases = []kpiCase{
	{id: "c01", category: "billing", dept: "billing", priority: "normal", startTier: 1, resolvedIn: 2 * h, surveySent: true, score: 5},
	{id: "c02", category: "billing", dept: "billing", priority: "normal", startTier: 1, resolvedIn: 4 * h, surveySent: true, score: 4},
	{id: "c03", category: "billing", dept: "billing", priority: "high", startTier: 1, escalatedTo: []tierflow.Tier{2},
		breaches: []tierflow.Tier{1}, resolvedIn: 10 * h, surveySent: true,
		money: []money{{"compensation_recorded", 2500, "EUR"}}},
	{id: "c04", category: "billing", dept: "billing", priority: "high", startTier: 1, escalatedTo: []tierflow.Tier{2, 3},
		breaches: []tierflow.Tier{1}, resolveBreaches: []tierflow.Tier{2}, resolvedIn: 30 * h, reopens: 1, surveySent: true, score: 2,
		money: []money{{"approval_requested", 50000, "EUR"}, {"approved", 50000, "EUR"}}},
	{id: "c05", category: "billing", dept: "billing", priority: "urgent", startTier: 3, status: tierflow.StatusInProgress},
	{id: "c06", category: "delivery", dept: "shipping", priority: "normal", startTier: 1, escalatedTo: []tierflow.Tier{2},
		resolvedIn: 20 * h, surveySent: true, score: 3, money: []money{{"compensation_recorded", 1000, "USD"}}},
	{id: "c07", category: "delivery", dept: "shipping", priority: "normal", startTier: 1, escalatedTo: []tierflow.Tier{2},
		breaches: []tierflow.Tier{2}, status: tierflow.StatusInProgress},
	{id: "c08", category: "delivery", dept: "shipping", priority: "low", startTier: 1, resolvedIn: 1 * h, surveySent: true, score: 5},
	{id: "c09", category: "delivery", dept: "shipping", priority: "high", startTier: 2, escalatedTo: []tierflow.Tier{3, 4},
		breaches: []tierflow.Tier{2}, resolveBreaches: []tierflow.Tier{3}, resolvedIn: 800 * h, closeTargetBreached: true, surveySent: true, score: 1,
		money: []money{{"approval_requested", 120000, "EUR"}, {"approved", 120000, "EUR"}, {"compensation_recorded", 500, "USD"}}},
	{id: "c10", category: "login", dept: "technical", priority: "normal", startTier: 1, escalatedTo: []tierflow.Tier{2},
		resolvedIn: 6 * h, surveySent: true, score: 4},
	{id: "c11", category: "login", dept: "technical", priority: "normal", startTier: 1, resolvedIn: 3 * h, reopens: 1,
		surveySent: true, score: 3},
	{id: "c12", category: "login", dept: "technical", priority: "urgent", startTier: 3, resolvedIn: 5 * h, surveySent: true},
	{id: "c13", category: "refund", dept: "billing", priority: "normal", startTier: 1, escalatedTo: []tierflow.Tier{2},
		status: tierflow.StatusClosed},
	{id: "c14", category: "refund", dept: "billing", priority: "normal", startTier: 1, status: tierflow.StatusOpen},
	{id: "c15", category: "", dept: "technical", priority: "low", startTier: 1, escalatedTo: []tierflow.Tier{2}, resolvedIn: 12 * h},
	{id: "c16", category: "warranty", dept: "technical", priority: "normal", startTier: 1, escalatedTo: []tierflow.Tier{2, 3},
		breaches: []tierflow.Tier{2}, status: tierflow.StatusInProgress},
	{id: "c17", category: "account", dept: "technical", priority: "normal", startTier: 1, escalatedTo: []tierflow.Tier{2},
		status: tierflow.StatusAwaitingCustomer},
	{id: "c18", category: "account", dept: "billing", priority: "high", startTier: 1, resolvedIn: 8 * h, surveySent: true, score: 5},
	{id: "c19", category: "billing", dept: "billing", priority: "normal", startTier: 1, resolvedIn: 2 * h, surveySent: true},
	// c20's policy promised to close within a day: resolved in 48h, it broke that close target.
	{id: "c20", category: "delivery", dept: "shipping", priority: "normal", startTier: 4, resolvedIn: 48 * h,
		closeTargetBreached: true, surveySent: true,
		score: 4, money: []money{{"compensation_recorded", 3000, "EUR"}}},
	// Outside the window: opened an hour before it, and exactly at its end.
	{id: "x01", category: "billing", dept: "billing", priority: "normal", startTier: 1, escalatedTo: []tierflow.Tier{2},
		breaches: []tierflow.Tier{1}, resolvedIn: 2 * h, surveySent: true, score: 1,
		money: []money{{"compensation_recorded", 99999, "EUR"}}, openedAt: kpiFrom.Add(-time.Hour)},
	{id: "x02", category: "delivery", dept: "shipping", priority: "normal", startTier: 1, escalatedTo: []tierflow.Tier{2},
		status: tierflow.StatusOpen, openedAt: kpiTo},
}

// seedKPICases records every case as two transitions: opened, then its history.
func seedKPICases(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	for i, kc := range kpiCases {
		opened := kc.openedAt
		if opened.IsZero() {
			opened = inWindow(i).Add(9 * time.Hour)
		}
		id := "zendesk-" + kc.id
		view := tierflow.CaseView{
			ID: id, Source: "zendesk", ExternalID: kc.id, Status: tierflow.StatusOpen,
			Tier: kc.startTier, StartTier: kc.startTier, Priority: kc.priority, Category: kc.category,
			Department: kc.dept, Subject: "case " + kc.id, Trigger: tierflow.TriggerUnresolved,
			OpenedAt: opened, EscalatedAt: opened, Seq: 1,
		}
		ev := func(seq int64, typ tierflow.EventType, tier tierflow.Tier) tierflow.CaseEvent {
			return tierflow.CaseEvent{CaseID: id, Seq: seq, Type: typ, At: opened.Add(time.Duration(seq) * time.Minute),
				Actor: tierflow.SystemActor, Tier: tier, Status: tierflow.StatusInProgress}
		}
		require.NoError(t, s.RecordTransition(ctx, tierflow.Transition{CaseID: id, View: view,
			Events: []tierflow.CaseEvent{ev(1, tierflow.EventOpened, kc.startTier)}}))

		var events []tierflow.CaseEvent
		seq := int64(1)
		next := func(typ tierflow.EventType, tier tierflow.Tier) *tierflow.CaseEvent {
			seq++
			events = append(events, ev(seq, typ, tier))
			return &events[len(events)-1]
		}
		tier := kc.startTier
		next(tierflow.EventAcknowledged, tier)
		for _, b := range kc.breaches {
			next(tierflow.EventBreach, b).Details = map[string]string{"clock": "acknowledge"}
		}
		for _, b := range kc.resolveBreaches {
			next(tierflow.EventBreach, b).Details = map[string]string{"clock": "resolve"}
		}
		for _, to := range kc.escalatedTo {
			e := next(tierflow.EventEscalated, to)
			e.FromTier, e.Details = tier, map[string]string{"mode": "hierarchical"}
			tier = to
		}
		for _, m := range kc.money {
			next(m.event, tier).Details = map[string]string{
				"amount_cents": strconv.FormatInt(m.cents, 10), "currency": m.currency}
		}
		view.Tier, view.Escalations, view.Reopens, view.Status = tier, len(kc.escalatedTo), kc.reopens, kc.status
		for range kc.reopens {
			next(tierflow.EventResolved, tier)
			next(tierflow.EventReopened, tier)
		}
		if kc.closeTargetBreached {
			next(tierflow.EventCloseTargetBreach, tier).Details = map[string]string{"clock": "close_target"}
			view.CloseTargetBreached = true
		}
		if kc.resolvedIn > 0 {
			resolvedAt := opened.Add(kc.resolvedIn)
			view.ResolvedAt, view.Status = &resolvedAt, tierflow.StatusResolved
			next(tierflow.EventResolved, tier).Status = tierflow.StatusResolved
		}
		if kc.surveySent {
			next(tierflow.EventSurveySent, tier).Status = tierflow.StatusResolved
		}
		if kc.score > 0 {
			e := next(tierflow.EventSurveyAnswered, tier)
			e.Status, e.Details = tierflow.StatusClosed, map[string]string{"score": strconv.Itoa(kc.score), "resolved": "true"}
		}
		view.Seq = seq
		require.NoError(t, s.RecordTransition(ctx, tierflow.Transition{CaseID: id, View: view, Events: events}))
	}
}
